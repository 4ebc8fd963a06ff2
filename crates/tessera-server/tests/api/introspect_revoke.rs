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

/// Introspects `token` as (`id`, `secret`) with an optional `token_type_hint`.
async fn introspect(
    app: &crate::helpers::TestApp,
    token: &str,
    hint: Option<&str>,
    caller: (&str, &str),
) -> Value {
    let mut form = vec![("token", token)];
    if let Some(h) = hint {
        form.push(("token_type_hint", h));
    }
    let r = app
        .form_post("/oauth2/introspect", &form, Some(caller))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// RFC 7662 §2.1-2.2: a live refresh token is active with its metadata, with the hint
/// `refresh_token`, with the hint `access_token` (a hint only speeds the search) and without one;
/// once used (rotated), revoked or expired it is inactive.
#[tokio::test]
async fn refresh_tokens_introspect_while_they_live() {
    use crate::people::{code_client, create_user, resource_server};
    use crate::refresh::{refresh, tokens};
    let app = crate::helpers::spawn_app_with(|c| c.refresh_tokens.idle_lifetime_secs = 2).await;
    let rs = resource_server(&app).await;
    create_user(&app, "rhea").await;
    code_client(&app, "spa", true).await;
    let t = tokens(&app, "rhea", "core.accounting.read").await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    let user = tessera_server::users::ops::find(&app.state, "rhea")
        .await
        .unwrap();
    for hint in [Some("refresh_token"), None, Some("access_token")] {
        let v = introspect(&app, &rt, hint, ("rs-introspect", &rs)).await;
        assert_eq!(v["active"], true, "{hint:?}: {v}");
        assert_eq!(v["token_type"], "refresh_token", "{v}");
        assert_eq!(v["client_id"], "spa");
        assert_eq!(v["scope"], "core.accounting.read");
        assert_eq!(v["sub"], user.id.as_str());
        assert_eq!(v["username"], "rhea");
        assert_eq!(v["iss"], app.base.as_str());
        let (iat, exp) = (v["iat"].as_i64().unwrap(), v["exp"].as_i64().unwrap());
        assert!(iat <= tessera_server::model::now() && exp > iat, "{v}");
    }
    // Another client without the introspect scope learns nothing.
    let other = app
        .register_client(crate::helpers::ClientSpec::new("nosy"))
        .await;
    let v = introspect(&app, &rt, Some("refresh_token"), ("nosy", &other)).await;
    assert_eq!(v, serde_json::json!({"active": false}));
    // Used: the rotation spends it; the new one is active.
    let r = refresh(&app, &rt, None).await;
    assert_eq!(r.status(), 200);
    let rt2 = r.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = introspect(&app, &rt, Some("refresh_token"), ("rs-introspect", &rs)).await;
    assert_eq!(v, serde_json::json!({"active": false}));
    assert_eq!(
        introspect(&app, &rt2, None, ("rs-introspect", &rs)).await["active"],
        true
    );
    // Revoked: inactive.
    let r = app
        .form_post(
            "/oauth2/revoke",
            &[("token", &rt2), ("client_id", "spa")],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let v = introspect(&app, &rt2, Some("refresh_token"), ("rs-introspect", &rs)).await;
    assert_eq!(v, serde_json::json!({"active": false}));
    // Expired (idle lifetime of 2 s): inactive once the lifetime passed.
    let t = tokens(&app, "rhea", "core.accounting.read").await;
    let rt3 = t["refresh_token"].as_str().unwrap().to_owned();
    let v = introspect(&app, &rt3, None, ("rs-introspect", &rs)).await;
    assert_eq!(v["active"], true);
    let exp = v["exp"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v = introspect(&app, &rt3, None, ("rs-introspect", &rs)).await;
        if v["active"] == false {
            assert!(
                tessera_server::model::now() >= exp,
                "inactive before its exp"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still active: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A disabled or deleted client's tokens (opaque and JWT access tokens, refresh tokens) stop
/// being active at once; enabling the client again makes the unexpired ones active again.
#[tokio::test]
async fn a_disabled_or_deleted_clients_tokens_are_inactive_at_once() {
    use crate::helpers::ClientSpec;
    use crate::people::{code_client, create_user, resource_server};
    use crate::refresh::tokens;
    let app = spawn_app().await;
    let rs = resource_server(&app).await;
    let opq = app
        .register_client(ClientSpec::new("opq").format(TokenFormat::Opaque))
        .await;
    let jwt = app.register_client(ClientSpec::new("jwt")).await;
    create_user(&app, "ida").await;
    code_client(&app, "spa", true).await;
    let opaque = app.cc_token("opq", &opq, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = app.cc_token("jwt", &jwt, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_tokens = tokens(&app, "ida", "core.accounting.read").await;
    let refresh = user_tokens["refresh_token"].as_str().unwrap().to_owned();
    let user_access = user_tokens["access_token"].as_str().unwrap().to_owned();
    let all = [
        ("opq", opaque.as_str()),
        ("jwt", signed.as_str()),
        ("spa", refresh.as_str()),
        ("spa", user_access.as_str()),
    ];
    for (_, t) in all {
        assert_eq!(
            introspect(&app, t, None, ("rs-introspect", &rs)).await["active"],
            true
        );
    }
    let admin = app.admin_token().await;
    let admin_post = |path: String| app.http.post(app.url(&path)).bearer_auth(&admin).send();
    for id in ["opq", "jwt", "spa"] {
        let r = admin_post(format!("/admin/api/v1/clients/{id}/disable"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    for (id, t) in all {
        let v = introspect(&app, t, None, ("rs-introspect", &rs)).await;
        assert_eq!(v, serde_json::json!({"active": false}), "{id}");
    }
    for id in ["opq", "jwt", "spa"] {
        let r = admin_post(format!("/admin/api/v1/clients/{id}/enable"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    for (id, t) in all {
        let v = introspect(&app, t, None, ("rs-introspect", &rs)).await;
        assert_eq!(v["active"], true, "{id}: enabled again");
    }
    for id in ["opq", "jwt", "spa"] {
        let r = app
            .http
            .delete(app.url(&format!("/admin/api/v1/clients/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    for (id, t) in all {
        let v = introspect(&app, t, None, ("rs-introspect", &rs)).await;
        assert_eq!(v, serde_json::json!({"active": false}), "{id} deleted");
    }
}
