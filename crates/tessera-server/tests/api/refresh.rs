//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2): rotation at every use, reuse detection that
//! revokes the family and its access tokens, idle and absolute lifetimes, narrower scopes, and
//! the end of the grant when the user is disabled or the consent withdrawn.

use crate::helpers::{TestApp, assert_oauth_error, spawn_app, spawn_app_with};
use crate::people::{
    REDIRECT, UserAgent, code_client, code_flow, create_user, exchange, is_active, pkce,
    resource_server,
};
use serde_json::Value;
use tessera_server::users::{UserPatch, ops};

/// Runs the code flow for `user` and returns the token response.
pub async fn tokens(app: &TestApp, user: &str, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let mut ua = UserAgent::new(app);
    let q = code_flow(
        &mut ua,
        user,
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (status, body) = exchange(app, "spa", None, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The refresh token grant for the public client `spa`.
pub async fn refresh(app: &TestApp, token: &str, scope: Option<&str>) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", "spa"),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    app.token(&form, None).await
}

#[tokio::test]
async fn rotation_and_reuse_detection() {
    let app = spawn_app().await;
    let rs = resource_server(&app).await;
    create_user(&app, "rita").await;
    code_client(&app, "spa", true).await;
    let first = tokens(&app, "rita", "core.accounting.read").await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();
    let r = refresh(&app, &rt1, None).await;
    assert_eq!(r.status(), 200);
    let second: Value = r.json().await.unwrap();
    let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2, "the refresh token rotates");
    assert_eq!(second["scope"], "core.accounting.read");
    let at2 = second["access_token"].as_str().unwrap().to_owned();
    assert!(is_active(&app, &rs, &at2).await);
    // The spent token again: refused, and the whole family with its access tokens revoked.
    assert_oauth_error(refresh(&app, &rt1, None).await, 400, "invalid_grant").await;
    assert_oauth_error(refresh(&app, &rt2, None).await, 400, "invalid_grant").await;
    assert!(!is_active(&app, &rs, &at2).await);
    assert!(!is_active(&app, &rs, first["access_token"].as_str().unwrap()).await);
}

#[tokio::test]
async fn scopes_can_narrow_never_widen_and_other_clients_cannot_use_the_token() {
    let app = spawn_app().await;
    create_user(&app, "sam").await;
    code_client(&app, "spa", true).await;
    code_client(&app, "thief", true).await;
    let t = tokens(&app, "sam", "core.accounting.read openid offline_access").await;
    assert!(t["id_token"].is_string());
    let rt = t["refresh_token"].as_str().unwrap();
    let r = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("client_id", "thief"),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    assert_oauth_error(
        refresh(&app, rt, Some("core.accounting.read email")).await,
        400,
        "invalid_scope",
    )
    .await;
    let r = refresh(&app, rt, Some("core.accounting.read")).await;
    assert_eq!(
        r.status(),
        200,
        "the token still works after the other client's attempt"
    );
    let narrowed: Value = r.json().await.unwrap();
    assert_eq!(narrowed["scope"], "core.accounting.read");
    // The family keeps the original grant: a later refresh may ask for all of it again.
    let r = refresh(&app, narrowed["refresh_token"].as_str().unwrap(), None).await;
    let full: Value = r.json().await.unwrap();
    assert_eq!(full["scope"], "core.accounting.read offline_access openid");
}

#[tokio::test]
async fn openid_without_offline_access_gets_no_refresh_token() {
    let app = spawn_app().await;
    create_user(&app, "tia").await;
    code_client(&app, "spa", true).await;
    let t = tokens(&app, "tia", "openid").await;
    assert!(t["id_token"].is_string());
    assert!(t.get("refresh_token").is_none());
}

#[tokio::test]
async fn idle_and_absolute_lifetimes() {
    let app = spawn_app_with(|c| {
        c.refresh_tokens.idle_lifetime_secs = 2;
        c.refresh_tokens.absolute_lifetime_secs = 4;
    })
    .await;
    create_user(&app, "uma").await;
    code_client(&app, "spa", true).await;
    // Idle: unused for longer than two seconds, the token is dead.
    let t = tokens(&app, "uma", "core.accounting.read").await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_oauth_error(
        refresh(&app, t["refresh_token"].as_str().unwrap(), None).await,
        400,
        "invalid_grant",
    )
    .await;
    // Absolute: used often enough, the family still ends after 4 seconds.
    let mut rt = tokens(&app, "uma", "core.accounting.read").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    let mut refused = false;
    while started.elapsed() < std::time::Duration::from_secs(8) {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let r = refresh(&app, &rt, None).await;
        if r.status() != 200 {
            refused = true;
            assert!(
                started.elapsed() >= std::time::Duration::from_secs(3),
                "refused too early"
            );
            break;
        }
        rt = r.json::<Value>().await.unwrap()["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    assert!(refused, "the absolute lifetime ends the family");
}

#[tokio::test]
async fn disabling_the_user_or_withdrawing_consent_ends_refresh() {
    let app = spawn_app().await;
    create_user(&app, "vic").await;
    code_client(&app, "spa", true).await;
    let t = tokens(&app, "vic", "core.accounting.read").await;
    let user = ops::find(&app.state, "vic").await.unwrap();
    ops::revoke_consents(&app.state, &user, Some("spa"))
        .await
        .unwrap();
    assert_oauth_error(
        refresh(&app, t["refresh_token"].as_str().unwrap(), None).await,
        400,
        "invalid_grant",
    )
    .await;
    let t = tokens(&app, "vic", "core.accounting.read").await;
    let user = ops::find(&app.state, "vic").await.unwrap();
    ops::update(
        &app.state,
        user,
        UserPatch {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_oauth_error(
        refresh(&app, t["refresh_token"].as_str().unwrap(), None).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family_and_access_tokens() {
    let app = spawn_app().await;
    let rs = resource_server(&app).await;
    create_user(&app, "wil").await;
    code_client(&app, "spa", true).await;
    let t = tokens(&app, "wil", "core.accounting.read").await;
    let rt = t["refresh_token"].as_str().unwrap();
    let r = app
        .form_post(
            "/oauth2/revoke",
            &[
                ("token", rt),
                ("token_type_hint", "refresh_token"),
                ("client_id", "spa"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_oauth_error(refresh(&app, rt, None).await, 400, "invalid_grant").await;
    assert!(!is_active(&app, &rs, t["access_token"].as_str().unwrap()).await);
}
