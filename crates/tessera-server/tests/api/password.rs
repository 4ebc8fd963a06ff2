//! The password grant (RFC 6749 §4.3, legacy): off unless the client's registration lists it;
//! same users, same limits.

use crate::helpers::{ClientSpec, assert_oauth_error, jwt_claims, spawn_app, spawn_app_with};
use crate::people::{PASSWORD, create_user};
use tessera_proto::GrantType;
use tessera_server::users::{UserPatch, ops};

#[tokio::test]
async fn only_for_clients_allowed_it() {
    let app = spawn_app().await;
    create_user(&app, "yan").await;
    let secret = app
        .register_client(ClientSpec::new("plain").scopes(&["core.accounting.read"], &[]))
        .await;
    let r = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "yan"),
                ("password", PASSWORD),
            ],
            Some(("plain", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn tokens_for_the_right_password_only() {
    let app = spawn_app().await;
    let uid = create_user(&app, "zoe").await;
    let mut spec = ClientSpec::new("legacy").scopes(
        &["core.accounting.read", "openid"],
        &["core.accounting.read"],
    );
    spec.grant_types = vec![GrantType::Password, GrantType::RefreshToken];
    let secret = app.register_client(spec).await;
    let r = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "Zoe"),
                ("password", PASSWORD),
                ("scope", "core.accounting.read"),
            ],
            Some(("legacy", &secret)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let t: serde_json::Value = r.json().await.unwrap();
    assert_eq!(jwt_claims(t["access_token"].as_str().unwrap())["sub"], uid);
    assert!(t["refresh_token"].is_string());
    let r = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "zoe"),
                ("password", "wrong password"),
            ],
            Some(("legacy", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    let r = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "nobody"),
                ("password", PASSWORD),
            ],
            Some(("legacy", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    let r = app
        .token(
            &[("grant_type", "password"), ("username", "zoe")],
            Some(("legacy", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_request").await;
    let user = ops::find(&app.state, "zoe").await.unwrap();
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
    let r = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "zoe"),
                ("password", PASSWORD),
            ],
            Some(("legacy", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
}

#[tokio::test]
async fn failed_passwords_are_rate_limited() {
    let app = spawn_app_with(|c| c.users.failed_logins_per_user_and_address_per_minute = 2).await;
    create_user(&app, "abe").await;
    let mut spec = ClientSpec::new("legacy");
    spec.grant_types = vec![GrantType::Password];
    let secret = app.register_client(spec).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = app
            .token(
                &[
                    ("grant_type", "password"),
                    ("username", "abe"),
                    ("password", "wrong password"),
                ],
                Some(("legacy", &secret)),
            )
            .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 429]);
    // Blocked: even the right password waits.
    let r = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "abe"),
                ("password", PASSWORD),
            ],
            Some(("legacy", &secret)),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}
