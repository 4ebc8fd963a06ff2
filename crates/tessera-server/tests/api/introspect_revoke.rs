//! Introspection (RFC 7662) and revocation (RFC 7009) for JWT and opaque tokens.

use crate::helpers::{ClientSpec, assert_oauth_error, spawn_app};
use serde_json::Value;
use tessera_proto::TokenFormat;

#[tokio::test]
async fn introspect_and_revoke_both_formats() {
    let app = spawn_app().await;
    let jwt_secret = app
        .register_client(ClientSpec::new("jwt").scopes(&["core.x.read"], &["core.x.read"]))
        .await;
    let opq_secret = app
        .register_client(ClientSpec::new("opq").format(TokenFormat::Opaque))
        .await;
    for (id, secret) in [("jwt", jwt_secret.as_str()), ("opq", opq_secret.as_str())] {
        let t = app.cc_token(id, secret, &[]).await;
        let token = t["access_token"].as_str().unwrap();
        let r = app
            .form_post(
                "/oauth2/introspect",
                &[("token", token)],
                Some((id, secret)),
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["active"], true, "{body}");
        assert_eq!(body["client_id"], id);
        assert_eq!(body["sub"], id);
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["exp"].as_i64().is_some() && body["jti"].is_string());
        // Revoke, then it is inactive.
        let r = app
            .form_post(
                "/oauth2/revoke",
                &[("token", token), ("token_type_hint", "access_token")],
                Some((id, secret)),
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = app
            .form_post(
                "/oauth2/introspect",
                &[("token", token)],
                Some((id, secret)),
            )
            .await;
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, serde_json::json!({"active": false}));
        // Revoking again, or garbage, is still 200.
        assert_eq!(
            app.form_post("/oauth2/revoke", &[("token", token)], Some((id, secret)))
                .await
                .status(),
            200
        );
        assert_eq!(
            app.form_post(
                "/oauth2/revoke",
                &[("token", "garbage")],
                Some((id, secret))
            )
            .await
            .status(),
            200
        );
    }
}

#[tokio::test]
async fn other_clients_tokens() {
    let app = spawn_app().await;
    let a = app.register_client(ClientSpec::new("a")).await;
    let b = app.register_client(ClientSpec::new("b")).await;
    let rs = app
        .register_client(ClientSpec::new("rs").scopes(&["tessera.tokens.introspect"], &[]))
        .await;
    let token = app.cc_token("a", &a, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // b may not see a's token; a resource server with the introspect scope may.
    let r: Value = app
        .form_post("/oauth2/introspect", &[("token", &token)], Some(("b", &b)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], false);
    let r: Value = app
        .form_post(
            "/oauth2/introspect",
            &[("token", &token)],
            Some(("rs", &rs)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], true);
    // b may not revoke a's token.
    assert_oauth_error(
        app.form_post("/oauth2/revoke", &[("token", &token)], Some(("b", &b)))
            .await,
        400,
        "unauthorized_client",
    )
    .await;
    // Both endpoints need client authentication and the token parameter.
    assert_oauth_error(
        app.form_post("/oauth2/introspect", &[("token", &token)], None)
            .await,
        401,
        "invalid_client",
    )
    .await;
    assert_oauth_error(
        app.form_post("/oauth2/revoke", &[("token", &token)], None)
            .await,
        401,
        "invalid_client",
    )
    .await;
    assert_oauth_error(
        app.form_post("/oauth2/introspect", &[], Some(("a", &a)))
            .await,
        400,
        "invalid_request",
    )
    .await;
    // A tampered JWT is inactive.
    let mut t = token.clone();
    t.pop();
    t.push(if token.ends_with('A') { 'B' } else { 'A' });
    let r: Value = app
        .form_post("/oauth2/introspect", &[("token", &t)], Some(("a", &a)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], false);
}
