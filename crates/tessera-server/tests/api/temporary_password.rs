//! Temporary passwords: one set by an administrator with `temporary` (admin API, CLI, console)
//! lets its user in only through the sign-in page, which first asks for a password of their own;
//! the password grant refuses it meanwhile.

use crate::helpers::{ClientSpec, TestApp, spawn_app};
use crate::people::{Page, UserAgent};
use crate::users_admin::call;
use reqwest::Method;
use serde_json::json;
use tessera_proto::GrantType;
use tessera_server::store::AuditQuery;
use tessera_server::users::password;

const GIVEN: &str = "given by the admin";
const OWN: &str = "my very own passphrase";

/// Creates `name` through the admin API with the temporary password [`GIVEN`].
async fn create_with_temporary(app: &TestApp, name: &str) {
    let token = app.admin_token().await;
    let (status, created) = call(
        app,
        &token,
        Method::POST,
        "/users",
        Some(json!({ "username": name, "password": GIVEN, "password_temporary": true })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["password_temporary"], true, "{created}");
}

async fn stored(app: &TestApp, name: &str) -> tessera_server::users::User {
    app.state
        .store
        .get_user_by_username(name)
        .await
        .unwrap()
        .unwrap()
}

/// The new-password form's fields after a sign-in with the temporary password.
fn new_password_form(p: &Page) -> Vec<(String, String)> {
    assert!(
        p.body.contains("action=\"/login/password\""),
        "not the new-password form: {}",
        p.body
    );
    ["csrf", "return_to", "user", "ticket"]
        .iter()
        .map(|n| ((*n).to_owned(), p.input(n).unwrap_or_default()))
        .collect()
}

async fn post_new_password(
    ua: &mut UserAgent,
    hidden: &[(String, String)],
    password: &str,
    again: &str,
) -> Page {
    let mut form: Vec<(&str, &str)> = hidden
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form.push(("password", password));
    form.push(("password_again", again));
    ua.post("/login/password", &form).await
}

#[tokio::test]
async fn a_temporary_password_is_replaced_at_the_first_sign_in() {
    let app = spawn_app().await;
    create_with_temporary(&app, "tina").await;
    let mut ua = UserAgent::new(&app);
    let form = ua.get("/login").await;
    let p = ua.submit_login(&form, "tina", GIVEN).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(!p.body.contains("You are signed in"), "{}", p.body);
    assert!(p.body.contains("Choose a new password"), "{}", p.body);
    let hidden = new_password_form(&p);

    // Refused, each with its reason, the form again and nothing changed.
    for (password, again, why) in [
        (OWN, "my very own passphrasE", "The two passwords differ."),
        ("short", "short", "at least 8 characters"),
        (GIVEN, GIVEN, "other than the one you were given"),
    ] {
        let p = post_new_password(&mut ua, &hidden, password, again).await;
        assert_eq!(p.status, 400, "{}", p.body);
        assert!(p.body.contains(why), "{why}: {}", p.body);
        assert!(
            !p.body.contains(password) || password == "short",
            "{}",
            p.body
        );
        new_password_form(&p);
    }
    // A ticket that is not this user's, or altered, is not taken.
    let mut forged = hidden.clone();
    for (k, v) in &mut forged {
        if k == "ticket" {
            let other = if v.ends_with("AA") { "BB" } else { "AA" };
            v.replace_range(v.len() - 2.., other);
        }
    }
    let p = post_new_password(&mut ua, &forged, OWN, OWN).await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("expired or was already used"), "{}", p.body);
    let tina = stored(&app, "tina").await;
    assert!(tina.password_temporary);
    assert!(password::verify(GIVEN, tina.password_hash.as_deref()).await);

    // Her own: saved, no longer temporary, and she is signed in.
    let p = post_new_password(&mut ua, &hidden, OWN, OWN).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("You are signed in"), "{}", p.body);
    let tina = stored(&app, "tina").await;
    assert!(!tina.password_temporary);
    assert!(password::verify(OWN, tina.password_hash.as_deref()).await);
    let set = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("user.set_password".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].actor, "user:tina");
    // The form works once.
    let p = post_new_password(&mut ua, &hidden, "another passphrase", "another passphrase").await;
    assert_eq!(p.status, 400, "{}", p.body);
    // From then on the sign-in is the usual one, with her password; the given one is gone.
    let mut other = UserAgent::new(&app);
    let form = other.get("/login").await;
    assert_eq!(other.submit_login(&form, "tina", GIVEN).await.status, 401);
    let form = other.get("/login").await;
    let p = other.submit_login(&form, "tina", OWN).await;
    assert!(p.body.contains("You are signed in"), "{}", p.body);
}

#[tokio::test]
async fn the_password_grant_refuses_a_temporary_password_until_it_is_replaced() {
    let app = spawn_app().await;
    create_with_temporary(&app, "tom").await;
    let mut spec = ClientSpec::new("legacy");
    spec.grant_types = vec![GrantType::Password];
    let secret = app.register_client(spec).await;
    let grant = |password: &'static str| {
        app.http
            .post(app.token_url())
            .header(
                "authorization",
                tessera_proto::basic::encode("legacy", &secret),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(tessera_proto::form::encode([
                ("grant_type", "password"),
                ("username", "tom"),
                ("password", password),
            ]))
            .send()
    };
    let r = grant(GIVEN).await.unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("temporary"),
        "{body}"
    );
    // The administrator sets a password that is not temporary: the grant works.
    let token = app.admin_token().await;
    let (status, _) = call(
        &app,
        &token,
        Method::POST,
        "/users/tom/password",
        Some(json!({ "password": OWN })),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(grant(OWN).await.unwrap().status(), 200);
    // And one that is, through the same call: refused again.
    let (status, _) = call(
        &app,
        &token,
        Method::POST,
        "/users/tom/password",
        Some(json!({ "password": GIVEN, "temporary": true })),
    )
    .await;
    assert_eq!(status, 204);
    let (_, shown) = call(&app, &token, Method::GET, "/users/tom", None).await;
    assert_eq!(shown["password_temporary"], true, "{shown}");
    assert_eq!(grant(GIVEN).await.unwrap().status(), 400);
}

/// In Chromium: the sign-in with a temporary password leads to the new-password page (checked
/// with axe-core), a refusal keeps the page usable, and the new password signs in.
#[tokio::test]
async fn choosing_a_new_password_in_chromium() {
    use crate::browser::Browser;
    use crate::console_browser::assert_accessible;
    let app = spawn_app().await;
    create_with_temporary(&app, "tess").await;
    let b = Browser::start(1280, 900).await;
    b.client.goto(&app.url("/login")).await.unwrap();
    b.fill("username", "tess").await;
    b.fill("password", GIVEN).await;
    b.click("button[type=submit]").await;
    b.text_containing("Choose a new password").await;
    assert_accessible(&b, "new password").await;
    b.fill("password", OWN).await;
    b.fill("password_again", "something else entirely").await;
    b.click("button[type=submit]").await;
    b.text_containing("The two passwords differ.").await;
    assert_accessible(&b, "new password refused").await;
    b.fill("password", OWN).await;
    b.fill("password_again", OWN).await;
    b.click("button[type=submit]").await;
    b.text_containing("You are signed in").await;
    b.close().await;
}
