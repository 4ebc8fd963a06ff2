//! The users part of the admin API (`/admin/api/v1/users…`): scopes, creation, the password never
//! shown, disable ending sessions, password changes, consents listed and withdrawn, deletion.

use crate::helpers::{TestApp, spawn_app};
use crate::people::{
    PASSWORD, REDIRECT, UserAgent, code_client, code_flow, create_user, exchange, pkce,
};
use serde_json::{Value, json};

pub async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .http
        .request(method, app.url(&format!("/admin/api/v1{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn create_read_change_and_delete_users() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (status, created) = call(&app, &token, reqwest::Method::POST, "/users", Some(json!({ "username": "Nina", "password": "a long password", "email": "nina@example.com", "display_name": "Nina N" }))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["username"], "nina");
    assert!(created["id"].as_str().unwrap().starts_with("usr_"));
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    let (status, _) = call(
        &app,
        &token,
        reqwest::Method::POST,
        "/users",
        Some(json!({ "username": "nina" })),
    )
    .await;
    assert_eq!(status, 409);
    let (status, e) = call(
        &app,
        &token,
        reqwest::Method::POST,
        "/users",
        Some(json!({ "username": "x", "password": "short" })),
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, e) = call(
        &app,
        &token,
        reqwest::Method::POST,
        "/users",
        Some(json!({ "username": "bad name" })),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    let (_, list) = call(&app, &token, reqwest::Method::GET, "/users", None).await;
    assert_eq!(list["users"].as_array().unwrap().len(), 1);
    let (status, shown) = call(&app, &token, reqwest::Method::GET, "/users/nina", None).await;
    assert_eq!(status, 200);
    let id = shown["id"].as_str().unwrap().to_owned();
    let (_, by_id) = call(
        &app,
        &token,
        reqwest::Method::GET,
        &format!("/users/{id}"),
        None,
    )
    .await;
    assert_eq!(by_id["username"], "nina");
    let (status, patched) = call(
        &app,
        &token,
        reqwest::Method::PATCH,
        "/users/nina",
        Some(json!({ "display_name": "Nina Q", "email_verified": true })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["display_name"], "Nina Q");
    // The new password works on the sign-in page, the old one does not.
    let (status, _) = call(
        &app,
        &token,
        reqwest::Method::POST,
        "/users/nina/password",
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204);
    let mut ua = UserAgent::new(&app);
    assert!(
        ua.sign_in("nina")
            .await
            .body
            .contains("You are signed in as Nina Q")
    );
    // Disabling ends the session.
    let (status, disabled) = call(
        &app,
        &token,
        reqwest::Method::POST,
        "/users/nina/disable",
        None,
    )
    .await;
    assert_eq!((status, disabled["enabled"].as_bool()), (200, Some(false)));
    assert!(
        ua.visit("/logout")
            .await
            .body
            .contains("You are signed out")
    );
    let login = ua.visit("/login").await;
    assert_eq!(ua.submit_login(&login, "nina", PASSWORD).await.status, 401);
    call(
        &app,
        &token,
        reqwest::Method::POST,
        "/users/nina/enable",
        None,
    )
    .await;
    let (status, _) = call(&app, &token, reqwest::Method::DELETE, "/users/nina", None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, &token, reqwest::Method::GET, "/users/nina", None).await;
    assert_eq!(status, 404);
    // The audit log names each change.
    let (_, audit) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/audit?action=user.",
        None,
    )
    .await;
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "user.create",
        "user.update",
        "user.set_password",
        "user.disable",
        "user.enable",
        "user.delete",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(!audit.to_string().contains(PASSWORD) && !audit.to_string().contains("argon2"));
}

#[tokio::test]
async fn consents_are_listed_and_withdrawn() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    create_user(&app, "otto").await;
    code_client(&app, "spa", true).await;
    let (verifier, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    let q = code_flow(
        &mut ua,
        "otto",
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("scope", "core.accounting.read"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (_, t) = exchange(&app, "spa", None, &q["code"], &verifier).await;
    let (_, list) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/users/otto/consents",
        None,
    )
    .await;
    assert_eq!(list["consents"][0]["client_id"], "spa");
    assert_eq!(list["consents"][0]["scope"], "core.accounting.read");
    let (status, r) = call(
        &app,
        &token,
        reqwest::Method::DELETE,
        "/users/otto/consents/spa",
        None,
    )
    .await;
    assert_eq!((status, r["revoked"].as_u64()), (200, Some(1)));
    let (_, list) = call(
        &app,
        &token,
        reqwest::Method::GET,
        "/users/otto/consents",
        None,
    )
    .await;
    assert!(list["consents"].as_array().unwrap().is_empty());
    // The refresh token the consent allowed is revoked, and the next request asks again.
    let r = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
                ("client_id", "spa"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 400);
    let (_, challenge) = pkce();
    let p = ua
        .visit(&crate::people::authorize_url(&[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("scope", "core.accounting.read"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]))
        .await;
    assert!(p.body.contains("name=\"decision\""), "consent asked again");
}

#[tokio::test]
async fn users_need_the_users_scopes() {
    let app = spawn_app().await;
    let secret = app
        .register_client(
            crate::helpers::ClientSpec::new("reader")
                .scopes(&["tessera.clients.read"], &["tessera.clients.read"])
                .audiences(&["urn:tessera:admin"]),
        )
        .await;
    let t = app.cc_token("reader", &secret, &[]).await;
    let token = t["access_token"].as_str().unwrap();
    let (status, e) = call(&app, token, reqwest::Method::GET, "/users", None).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let (status, _) = call(&app, "nonsense", reqwest::Method::GET, "/users", None).await;
    assert_eq!(status, 401);
}
