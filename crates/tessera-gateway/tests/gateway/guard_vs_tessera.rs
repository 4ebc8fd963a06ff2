//! tessera-guard against tokens from Tessera's own server: JWT access tokens through the JWKS,
//! opaque tokens through introspection, and a key rotation accepted after one JWKS refetch.

use crate::tessera::{ClientSpec, tessera};
use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tessera_guard::{Guard, GuardConfig, IntrospectionConfig, VerifyError};

const API: &str = "https://api.example/";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_accepts_tessera_jwts_for_its_audience_only() {
    let t = tessera().await;
    let secret = t
        .register_client(
            ClientSpec::new("svc")
                .scopes(&["core.accounting.read"], &["core.accounting.read"])
                .audiences(&[API, "https://other.example/"]),
        )
        .await;
    let guard = Guard::connect(GuardConfig::new(t.issuer()).audience(API))
        .await
        .unwrap();
    let token = t.token("svc", &secret, &[]).await;
    let v = guard.verify(&token).await.unwrap();
    assert_eq!(v.client_id(), Some("svc"));
    assert!(v.has_scope("core.accounting.read"));
    assert_eq!(v.audience(), [API]);
    assert_eq!(v.issuer(), Some(t.issuer().as_str()));

    let other = t
        .token("svc", &secret, &[("audience", "https://other.example/")])
        .await;
    assert!(matches!(
        guard.verify(&other).await,
        Err(VerifyError::Invalid(_))
    ));
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert!(matches!(
        guard.verify(&tampered).await,
        Err(VerifyError::Invalid(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tessera_tokens_are_verified_by_introspection() {
    let t = tessera().await;
    let secret = t
        .register_client(
            ClientSpec::new("opaque-svc")
                .scopes(&["core.accounting.read"], &["core.accounting.read"])
                .audiences(&[API])
                .opaque(),
        )
        .await;
    let rs_secret = t
        .register_client(
            ClientSpec::new("resource-server").scopes(&["tessera.tokens.introspect"], &[]),
        )
        .await;
    let token = t.token("opaque-svc", &secret, &[]).await;
    assert_ne!(token.split('.').count(), 3, "an opaque token");

    let guard = Guard::connect(
        GuardConfig::new(t.issuer())
            .audience(API)
            .introspection(IntrospectionConfig::new("resource-server", rs_secret)),
    )
    .await
    .unwrap();
    let v = guard.verify(&token).await.unwrap();
    assert_eq!(v.client_id(), Some("opaque-svc"));
    assert!(v.has_scope("core.accounting.read"));
    assert!(matches!(
        guard.verify("not-a-token-tessera-issued").await,
        Err(VerifyError::Invalid(_))
    ));

    // A guard whose client may not introspect others' tokens learns nothing: refused.
    let weak_secret = t.register_client(ClientSpec::new("weak-rs")).await;
    let weak = Guard::connect(
        GuardConfig::new(t.issuer())
            .audience(API)
            .introspection(IntrospectionConfig::new("weak-rs", weak_secret)),
    )
    .await
    .unwrap();
    assert!(matches!(
        weak.verify(&token).await,
        Err(VerifyError::Invalid(_))
    ));
}

/// A disabled client's opaque tokens introspect as inactive at once, so a guard in introspection
/// mode refuses them as soon as its cached answer lapses (here: not cached at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_refuses_a_disabled_clients_opaque_tokens() {
    let t = tessera().await;
    let secret = t
        .register_client(
            ClientSpec::new("soon-off")
                .scopes(&["core.accounting.read"], &["core.accounting.read"])
                .audiences(&[API])
                .opaque(),
        )
        .await;
    let rs_secret = t
        .register_client(
            ClientSpec::new("resource-server").scopes(&["tessera.tokens.introspect"], &[]),
        )
        .await;
    let token = t.token("soon-off", &secret, &[]).await;
    let guard = Guard::connect(
        GuardConfig::new(t.issuer()).audience(API).introspection(
            IntrospectionConfig::new("resource-server", rs_secret)
                .max_cache(Duration::ZERO)
                .inactive_cache(Duration::ZERO),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        guard.verify(&token).await.unwrap().client_id(),
        Some("soon-off")
    );
    t.set_enabled("soon-off", false).await;
    assert!(matches!(
        guard.verify(&token).await,
        Err(VerifyError::Invalid(_))
    ));
    t.set_enabled("soon-off", true).await;
    assert!(guard.verify(&token).await.is_ok());
}

/// A JWKS endpoint in front of Tessera's that counts its fetches.
async fn counting_jwks(upstream: String) -> (String, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    let app = Router::new().route(
        "/jwks",
        get(move || {
            let c = Arc::clone(&c);
            let upstream = upstream.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                let body = reqwest::get(&upstream).await.unwrap().text().await.unwrap();
                (
                    [
                        ("content-type", "application/json"),
                        ("cache-control", "max-age=300"),
                    ],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/jwks"), count)
}

/// A token-shaped JWS naming key `kid`, with a bad signature.
fn forged(issuer: &str, kid: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let h =
        URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "typ": "at+jwt", "kid": kid}).to_string());
    let c = URL_SAFE_NO_PAD.encode(json!({"iss": issuer, "aud": API, "exp": now + 300, "iat": now, "sub": "x", "client_id": "x"}).to_string());
    let s = URL_SAFE_NO_PAD.encode([7u8; 64]);
    format!("{h}.{c}.{s}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_tessera_key_is_accepted_after_one_jwks_refetch() {
    let t = tessera().await;
    let secret = t
        .register_client(
            ClientSpec::new("svc")
                .scopes(&["core.accounting.read"], &["core.accounting.read"])
                .audiences(&[API]),
        )
        .await;
    let (jwks_url, fetches) = counting_jwks(format!("{}/oauth2/jwks", t.base)).await;
    let guard = Guard::connect(
        GuardConfig::new(t.issuer())
            .audience(API)
            .jwks_uri(jwks_url),
    )
    .await
    .unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    let before = t.token("svc", &secret, &[]).await;
    guard.verify(&before).await.unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "known key: no fetch");

    let kids = t.rotate_keys().await;
    let after = t.token("svc", &secret, &[]).await;
    let kid = crate::tessera::jws_kid(&after);
    assert_eq!(
        Some(kid.as_str()),
        kids.first().map(String::as_str),
        "the new key signs"
    );
    let v = guard.verify(&after).await.unwrap();
    assert_eq!(v.client_id(), Some("svc"));
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "exactly one refetch for the new key"
    );
    // The old key is still published: tokens it signed stay good.
    guard.verify(&before).await.unwrap();

    // A flood of unknown kids within the cooldown fetches nothing more.
    let flood: Vec<_> = (0..50)
        .map(|i| forged(&t.issuer(), &format!("unknown-{i}")))
        .collect();
    let results = futures_util::future::join_all(flood.iter().map(|f| guard.verify(f))).await;
    assert!(results.iter().all(Result::is_err));
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "an unknown-kid flood does not hammer the JWKS"
    );
    let _ = Duration::ZERO;
}
