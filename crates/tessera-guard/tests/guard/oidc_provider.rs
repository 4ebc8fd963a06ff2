//! The guard against a certified third-party server: node `oidc-provider` issues client-credentials
//! access tokens (RFC 9068 JWTs for a resource indicator, RFC 8707, or opaque ones), and the guard
//! verifies them through discovery, the JWKS and introspection.

use crate::peer;
use crate::support::serve;
use axum::Router;
use axum::routing::get;
use serde_json::Value;
use tessera_guard::{Guard, GuardConfig, IntrospectionConfig, TokenSource, VerifiedToken};

const CLIENT: &str = "basic-client";
const SECRET: &str = "basic-secret-7c1f0a9e5d3b4c2a8e6f";
const RS_CLIENT: &str = "resource-server";
const RS_SECRET: &str = "resource-server-secret-9a8b7c6d5e4f";

/// A client-credentials token for the peer's resource with scope `api:read`.
async fn token(peer: &peer::Peer) -> String {
    let resource = peer.url("resource");
    let resp = reqwest::Client::new()
        .post(peer.url("token_endpoint"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "api:read"),
            ("resource", resource),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn verifies_oidc_provider_jwt_access_tokens_via_discovery() {
    let peer = peer::start(&[]).await;
    let resource = peer.url("resource").to_owned();
    let token = token(&peer).await;
    let jws = tessera_jose::UnverifiedJws::parse(&token).unwrap();
    assert_eq!(jws.header.typ.as_deref(), Some("at+jwt"));

    let guard = Guard::connect(GuardConfig::new(peer.issuer()).audience(&resource))
        .await
        .unwrap();
    let t = guard.verify(&token).await.unwrap();
    assert!(matches!(t.source(), TokenSource::Jwt { .. }));
    assert_eq!(t.client_id(), Some(CLIENT));
    assert_eq!(t.issuer(), Some(peer.issuer()));
    assert_eq!(t.audience(), std::slice::from_ref(&resource));
    assert!(t.has_scope("api:read"));
    assert!(t.expires_at_unix().is_some());

    // Through the layer and the extractor.
    let app = Router::new()
        .route(
            "/read",
            get(|t: VerifiedToken| async move { t.client_id().unwrap_or("").to_owned() }),
        )
        .route_layer(guard.require(&["api:read"]))
        .merge(
            Router::new()
                .route("/write", get(|| async { "written" }))
                .route_layer(guard.require(&["api:write"])),
        );
    let base = format!("http://{}", serve(app).await);
    let http = reqwest::Client::new();
    let resp = http
        .get(format!("{base}/read"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), CLIENT);
    let resp = http
        .get(format!("{base}/write"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains(r#"scope="api:write""#)
    );

    // A guard for another audience refuses the same token.
    let other = Guard::connect(GuardConfig::new(peer.issuer()).audience("https://other.example/"))
        .await
        .unwrap();
    assert!(other.verify(&token).await.is_err());
}

#[tokio::test]
async fn introspects_oidc_provider_opaque_access_tokens() {
    let peer = peer::start(&[("AT_FORMAT", "opaque")]).await;
    let resource = peer.url("resource").to_owned();
    let token = token(&peer).await;
    assert!(
        tessera_jose::UnverifiedJws::parse(&token).is_err(),
        "{token}"
    );

    let guard = Guard::connect(
        GuardConfig::new(peer.issuer())
            .audience(&resource)
            .introspection(IntrospectionConfig::new(RS_CLIENT, RS_SECRET)),
    )
    .await
    .unwrap();
    let t = guard.verify(&token).await.unwrap();
    assert_eq!(t.source(), &TokenSource::Introspection);
    assert_eq!(t.client_id(), Some(CLIENT));
    assert!(t.has_scope("api:read"));

    // Revoked at the server: refused once the cached answer is gone (a fresh guard here).
    let resp = reqwest::Client::new()
        .post(format!("{}/token/revocation", peer.issuer()))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let fresh = Guard::connect(
        GuardConfig::new(peer.issuer())
            .audience(&resource)
            .introspection(IntrospectionConfig::new(RS_CLIENT, RS_SECRET)),
    )
    .await
    .unwrap();
    assert_eq!(
        fresh.verify(&token).await.unwrap_err(),
        tessera_guard::VerifyError::Invalid(tessera_guard::TokenError::Inactive)
    );
}
