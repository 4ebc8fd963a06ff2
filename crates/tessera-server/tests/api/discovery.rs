//! Discovery documents and the JWKS.

use crate::compat::metric;
use crate::helpers::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn both_well_known_documents_describe_the_server() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let m: Value = app
            .http
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(m["issuer"], app.base);
        assert_eq!(m["token_endpoint"], app.token_url());
        assert_eq!(m["jwks_uri"], app.url("/oauth2/jwks"));
        assert_eq!(m["introspection_endpoint"], app.url("/oauth2/introspect"));
        assert_eq!(m["revocation_endpoint"], app.url("/oauth2/revoke"));
        assert!(
            m["grant_types_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g == "client_credentials")
        );
        for method in [
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
        ] {
            assert!(
                m["token_endpoint_auth_methods_supported"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == method)
            );
        }
        assert!(
            m["scopes_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "tessera.clients.read")
        );
    }
}

#[tokio::test]
async fn jwks_has_public_keys_only() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/oauth2/jwks")).send().await.unwrap();
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let jwks: Value = r.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().filter_map(|k| k["alg"].as_str()).collect();
    for alg in ["ES256", "RS256", "EdDSA"] {
        assert!(algs.contains(&alg), "{alg} missing");
    }
    for k in keys {
        assert!(k["kid"].is_string() && k["use"] == "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                k.get(private).is_none(),
                "private member {private} published"
            );
        }
    }
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r: Value = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "ready");
    app.admin_token().await;
    let m = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("tessera_token_requests_total"), "{m}");
    assert!(m.contains("tessera_token_request_duration_seconds"));
}

#[tokio::test]
async fn token_request_metrics_are_labelled_by_grant_client_and_outcome() {
    let app = spawn_app().await;
    let secret = app
        .register_client(crate::helpers::ClientSpec::new("metrics-labels"))
        .await;
    assert_eq!(
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("metrics-labels", &secret))
        )
        .await
        .status(),
        200
    );
    // A failed authentication is counted under `-`, whether the id names a registered client or
    // not: `/metrics` is public, and must tell neither which ids exist nor which are attacked.
    for (id, secret) in [("metrics-labels", "wrong"), ("made-up-id-7f3a", "whatever")] {
        let r = app
            .token(&[("grant_type", "client_credentials")], Some((id, secret)))
            .await;
        assert_eq!(r.status(), 401);
    }
    // A refusal after the client authenticated is counted under its id.
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "no.such.scope"),
            ],
            Some(("metrics-labels", &secret)),
        )
        .await;
    assert_eq!(r.status(), 400);
    let m = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = |outcome: &str| {
        format!(
            "tessera_token_requests_total{{grant=\"client_credentials\",client=\"metrics-labels\",outcome=\"{outcome}\"}} 1"
        )
    };
    assert!(m.contains(&line("success")), "{m}");
    assert!(m.contains(&line("invalid_scope")), "{m}");
    assert!(
        !m.contains("client=\"metrics-labels\",outcome=\"invalid_client\""),
        "{m}"
    );
    assert!(!m.contains("made-up-id-7f3a"), "{m}");
}

#[tokio::test]
async fn every_token_issued_is_counted_and_timed_also_after_the_client_changed() {
    let app = spawn_app().await;
    let api = crate::admin::AdminApi::new(&app).await;
    let secret = app
        .register_client(crate::helpers::ClientSpec::new("metrics-counted"))
        .await;
    // Other tests of this process issue client-credentials tokens too: the histogram's count can
    // only be compared as "at least".
    let timed = "tessera_token_request_duration_seconds_count{grant=\"client_credentials\"}";
    let before = metric(&app, timed).await;
    let issue = || async {
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("metrics-counted", &secret)),
        )
        .await
        .status()
    };
    for _ in 0..3 {
        assert_eq!(issue().await, 200);
    }
    // A change rebuilds the client's registry entry; its tokens keep counting on the same series.
    let p = api
        .patch(
            &["clients", "metrics-counted"],
            serde_json::json!({"description": "changed"}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(issue().await, 200);
    let counted = "tessera_token_requests_total{grant=\"client_credentials\",client=\"metrics-counted\",outcome=\"success\"}";
    assert_eq!(metric(&app, counted).await, 4);
    // A request's time is recorded once its answer's body is done with, which may come just after
    // the client has read the answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = metric(&app, timed).await;
        if now >= before + 4 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{now} < {before} + 4");
        tokio::task::yield_now().await;
    }
}
