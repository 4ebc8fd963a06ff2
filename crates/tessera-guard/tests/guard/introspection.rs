//! Opaque tokens by RFC 7662 introspection: active, inactive, caching bounded by `exp` and by the
//! configured maximum, and the endpoint's failures answered 503.

use crate::support::*;
use serde_json::json;
use std::time::Duration;
use tessera_guard::{
    Clock, Guard, IntrospectionConfig, TokenError, TokenSource, UnavailableError, VerifyError,
};

struct Setup {
    idp: Idp,
    clock: Clock,
    start: i64,
    guard: Guard,
}

async fn setup(cfg: IntrospectionConfig) -> Setup {
    let idp = Idp::start().await;
    idp.publish(&es256());
    let start = now();
    let clock = Clock::manual(start);
    let guard = Guard::connect(idp.config().introspection(cfg).clock(clock.clone()))
        .await
        .unwrap();
    Setup {
        idp,
        clock,
        start,
        guard,
    }
}

fn active(exp: i64, aud: &str) -> serde_json::Value {
    json!({
        "active": true, "scope": format!("{READ} {WRITE}"), "client_id": "client-1",
        "sub": "client-1", "aud": aud, "exp": exp, "iat": exp - 3600,
        "token_type": "Bearer",
    })
}

fn default_cfg() -> IntrospectionConfig {
    IntrospectionConfig::new(RS_ID, RS_SECRET)
}

#[tokio::test]
async fn an_active_opaque_token_is_accepted_and_cached() {
    let s = setup(default_cfg()).await;
    let mut answer = active(s.start + 3600, AUD);
    answer["iss"] = json!(s.idp.issuer);
    s.idp.set_opaque("opaque-1", answer);
    let t = s.guard.verify("opaque-1").await.unwrap();
    assert_eq!(t.source(), &TokenSource::Introspection);
    assert_eq!(t.client_id(), Some("client-1"));
    assert!(t.has_scope(WRITE));
    assert_eq!(t.expires_at_unix(), Some(s.start + 3600));
    assert_eq!(s.idp.introspections(), 1);
    s.guard.verify("opaque-1").await.unwrap();
    assert_eq!(s.idp.introspections(), 1, "the answer is cached");

    // JWTs are still verified by signature, never introspected.
    let key = es256();
    s.idp.publish(&key);
    s.guard.verify(&mint(&key, &s.idp.claims())).await.unwrap();
    assert_eq!(s.idp.introspections(), 1);
}

#[tokio::test]
async fn the_cache_never_outlives_the_token() {
    let s = setup(default_cfg().max_cache(Duration::from_secs(300))).await;
    s.idp.set_opaque("short", active(s.start + 10, AUD));
    s.guard.verify("short").await.unwrap();
    s.clock.set(s.start + 9);
    s.guard.verify("short").await.unwrap();
    assert_eq!(s.idp.introspections(), 1);
    // Past exp the cached answer is not used: the server is asked again each time.
    s.clock.set(s.start + 11);
    let _ = s.guard.verify("short").await;
    let _ = s.guard.verify("short").await;
    assert_eq!(s.idp.introspections(), 3);
}

#[tokio::test]
async fn the_cache_never_outlives_the_configured_maximum() {
    let s = setup(default_cfg().max_cache(Duration::from_secs(30))).await;
    s.idp.set_opaque("long", active(s.start + 3600, AUD));
    s.guard.verify("long").await.unwrap();
    s.clock.set(s.start + 29);
    s.guard.verify("long").await.unwrap();
    assert_eq!(s.idp.introspections(), 1);
    // The server revokes it; within 30 s of the first answer the guard asks again.
    s.idp.set_opaque("long", json!({"active": false}));
    s.clock.set(s.start + 31);
    assert_eq!(
        s.guard.verify("long").await.unwrap_err(),
        VerifyError::Invalid(TokenError::Inactive)
    );
    assert_eq!(s.idp.introspections(), 2);
}

#[tokio::test]
async fn an_inactive_answer_is_cached_briefly() {
    let s = setup(default_cfg().inactive_cache(Duration::from_secs(5))).await;
    for _ in 0..3 {
        assert_eq!(
            s.guard.verify("unknown-token").await.unwrap_err(),
            VerifyError::Invalid(TokenError::Inactive)
        );
    }
    assert_eq!(s.idp.introspections(), 1);
    s.clock.set(s.start + 6);
    let _ = s.guard.verify("unknown-token").await;
    assert_eq!(s.idp.introspections(), 2);
}

#[tokio::test]
async fn answers_are_checked_like_claims() {
    let s = setup(default_cfg()).await;
    let cases = [
        (
            active(s.start + 3600, "https://other.example"),
            TokenError::Audience,
        ),
        (
            {
                let mut a = active(s.start + 3600, AUD);
                a["iss"] = json!("https://impostor.example");
                a
            },
            TokenError::Issuer,
        ),
        (
            {
                let mut a = active(s.start + 3600, AUD);
                a["token_type"] = json!("refresh_token");
                a
            },
            TokenError::TokenType,
        ),
        (active(s.start - 3600, AUD), TokenError::Expired),
    ];
    for (i, (answer, expected)) in cases.into_iter().enumerate() {
        let token = format!("case-{i}");
        s.idp.set_opaque(&token, answer);
        assert_eq!(
            s.guard.verify(&token).await.unwrap_err(),
            VerifyError::Invalid(expected)
        );
    }
    // No aud at all: accepted by default, refused when required.
    let mut no_aud = active(s.start + 3600, AUD);
    no_aud.as_object_mut().unwrap().remove("aud");
    s.idp.set_opaque("no-aud", no_aud);
    s.guard.verify("no-aud").await.unwrap();
    let strict = Guard::connect(
        s.idp
            .config()
            .introspection(default_cfg().require_audience(true)),
    )
    .await
    .unwrap();
    assert_eq!(
        strict.verify("no-aud").await.unwrap_err(),
        VerifyError::Invalid(TokenError::Audience)
    );
}

#[tokio::test]
async fn endpoint_failures_are_503_not_401() {
    let s = setup(default_cfg()).await;
    let base = api_for(&s.guard).await;
    s.idp.set_opaque("good", active(s.start + 3600, AUD));
    s.idp.set_introspection_down(true);
    let resp = reqwest::Client::new()
        .get(format!("{base}/accounting"))
        .bearer_auth("good")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().get("www-authenticate").is_none());
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // Failures are not cached: once the endpoint is back the token passes.
    s.idp.set_introspection_down(false);
    let resp = reqwest::Client::new()
        .get(format!("{base}/accounting"))
        .bearer_auth("good")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["client_id"], "client-1");
}

#[tokio::test]
async fn wrong_guard_credentials_are_the_guards_problem() {
    let s = setup(IntrospectionConfig::new(RS_ID, "wrong-secret")).await;
    s.idp.set_opaque("good", active(s.start + 3600, AUD));
    let err = s.guard.verify("good").await.unwrap_err();
    assert!(
        matches!(&err, VerifyError::Unavailable(UnavailableError::Introspection(m)) if m.contains("401")),
        "{err}"
    );
}

#[tokio::test]
async fn an_explicit_endpoint_skips_discovery() {
    let idp = Idp::start().await;
    let start = now();
    let guard = Guard::connect(
        idp.config()
            .jwks_uri(format!("{}/jwks", idp.issuer))
            .introspection(default_cfg().endpoint(format!("{}/introspect", idp.issuer))),
    )
    .await;
    // No key is published: connect fails on the empty JWKS, start() does not.
    assert!(guard.is_err());
    let guard = Guard::start(
        idp.config()
            .jwks_uri(format!("{}/jwks", idp.issuer))
            .introspection(default_cfg().endpoint(format!("{}/introspect", idp.issuer))),
    )
    .unwrap();
    idp.set_opaque("tok", active(start + 3600, AUD));
    guard.verify("tok").await.unwrap();
    assert_eq!(
        idp.state
            .discovery_fetches
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}
