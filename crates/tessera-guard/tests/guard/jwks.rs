//! The JWKS cache: rotation with at most one refetch, a bounded number of fetches under an
//! unknown-`kid` flood, the last good set while the endpoint is down, periodic refresh.

use crate::support::*;
use std::time::Duration;
use tessera_guard::{Guard, JwksPolicy, StartError, TokenError, UnavailableError, VerifyError};

#[tokio::test]
async fn a_rotated_key_is_accepted_after_one_refetch() {
    let idp = Idp::start().await;
    let old = es256();
    idp.publish(&old);
    let guard = Guard::connect(idp.config()).await.unwrap();
    assert_eq!(idp.jwks_fetches(), 1);
    guard.verify(&mint(&old, &idp.claims())).await.unwrap();

    // The server starts signing with a new key it just published.
    let new = es256();
    idp.publish(&new);
    let t = guard.verify(&mint(&new, &idp.claims())).await.unwrap();
    assert_eq!(t.subject(), Some("client-1"));
    assert_eq!(idp.jwks_fetches(), 2, "exactly one refetch");

    // Both keys now verify without any further fetch.
    guard.verify(&mint(&new, &idp.claims())).await.unwrap();
    guard.verify(&mint(&old, &idp.claims())).await.unwrap();
    assert_eq!(idp.jwks_fetches(), 2);
}

#[tokio::test]
async fn concurrent_misses_share_one_fetch() {
    let idp = Idp::start().await;
    idp.publish(&es256());
    // No cooldown at all: only the coalescing keeps this to one refetch.
    let policy = JwksPolicy {
        refetch_cooldown: Duration::ZERO,
        ..JwksPolicy::default()
    };
    let guard = Guard::connect(idp.config().jwks_policy(policy))
        .await
        .unwrap();
    let new = es256();
    idp.publish(&new);
    let tokens: Vec<String> = (0..50).map(|_| mint(&new, &idp.claims())).collect();
    let mut set = tokio::task::JoinSet::new();
    for t in tokens {
        let g = guard.clone();
        set.spawn(async move { g.verify(&t).await.map(|_| ()) });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(idp.jwks_fetches(), 2);
}

#[tokio::test]
async fn an_unknown_kid_flood_does_not_hammer_the_jwks_endpoint() {
    let idp = Idp::start().await;
    let key = es256();
    idp.publish(&key);
    let guard = Guard::connect(idp.config()).await.unwrap();
    let base = api_for(&guard).await;
    let http = reqwest::Client::new();

    // 200 concurrent requests, each with a token of a random kid (signed by a key nobody knows).
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let token = mint(&es256(), &idp.claims());
        let req = http.get(format!("{base}/whoami")).bearer_auth(token);
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), reqwest::StatusCode::UNAUTHORIZED);
    }
    // And 100 more, one after the other.
    for _ in 0..100 {
        let err = guard
            .verify(&mint(&es256(), &idp.claims()))
            .await
            .unwrap_err();
        assert_eq!(err, VerifyError::Invalid(TokenError::UnknownKey));
    }
    let fetches = idp.jwks_fetches();
    assert!(fetches <= 2, "{fetches} JWKS fetches for 300 unknown kids");
    // The known key still works.
    guard.verify(&mint(&key, &idp.claims())).await.unwrap();
}

#[tokio::test]
async fn the_last_good_set_serves_while_the_endpoint_is_down() {
    let idp = Idp::start().await;
    let key = es256();
    idp.publish(&key);
    let guard = Guard::connect(idp.config()).await.unwrap();
    let base = api_for(&guard).await;
    idp.set_jwks_down(true);
    assert!(matches!(
        guard.refresh_keys().await,
        Err(UnavailableError::Jwks(_))
    ));
    // New tokens (not in the verified cache) of the known key still pass.
    for _ in 0..3 {
        guard.verify(&mint(&key, &idp.claims())).await.unwrap();
    }
    // A token of an unknown key cannot be decided: 503, no challenge, not blamed on the token.
    let resp = reqwest::Client::new()
        .get(format!("{base}/whoami"))
        .bearer_auth(mint(&es256(), &idp.claims()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().get("www-authenticate").is_none());
    assert_eq!(resp.headers()["retry-after"], "5");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    // Back up: the next refresh loads the set again.
    idp.set_jwks_down(false);
    guard.refresh_keys().await.unwrap();
    guard.verify(&mint(&key, &idp.claims())).await.unwrap();
}

#[tokio::test]
async fn a_withdrawn_key_stops_verifying_even_cached_tokens() {
    let idp = Idp::start().await;
    let (a, b) = (es256(), es256());
    idp.publish(&a);
    idp.publish(&b);
    let guard = Guard::connect(idp.config()).await.unwrap();
    let token = mint(&a, &idp.claims());
    guard.verify(&token).await.unwrap();
    assert_eq!(guard.cached_tokens(), 1);
    idp.withdraw(a.kid().unwrap());
    guard.refresh_keys().await.unwrap();
    assert_eq!(
        guard.verify(&token).await.unwrap_err(),
        VerifyError::Invalid(TokenError::UnknownKey)
    );
    guard.verify(&mint(&b, &idp.claims())).await.unwrap();
}

#[tokio::test]
async fn periodic_refresh_follows_max_age_within_bounds() {
    let idp = Idp::start().await;
    idp.publish(&es256());
    // max-age=1 with a 1 s lower bound: refreshed about every second.
    *idp.state.cache_control.lock() = Some("public, max-age=1".into());
    let policy = JwksPolicy {
        min_refresh: Duration::from_secs(1),
        ..JwksPolicy::default()
    };
    let _guard = Guard::connect(idp.config().jwks_policy(policy))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            idp.jwks_fetches() >= 3
        })
        .await,
        "refreshed {} times",
        idp.jwks_fetches()
    );

    // A huge max-age is cut to max_refresh.
    let idp = Idp::start().await;
    idp.publish(&es256());
    *idp.state.cache_control.lock() = Some("max-age=86400".into());
    let policy = JwksPolicy {
        min_refresh: Duration::from_secs(1),
        max_refresh: Duration::from_secs(1),
        ..JwksPolicy::default()
    };
    let guard = Guard::connect(idp.config().jwks_policy(policy))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            idp.jwks_fetches() >= 3
        })
        .await
    );

    // Dropping the guard stops its refresh task.
    drop(guard);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after_drop = idp.jwks_fetches();
    assert!(
        !eventually(Duration::from_millis(2500), || async {
            idp.jwks_fetches() > after_drop
        })
        .await
    );
}

#[tokio::test]
async fn a_new_key_is_found_without_waiting_for_the_refresh_when_started_lazily() {
    let idp = Idp::start().await;
    let key = es256();
    idp.publish(&key);
    // start() does not wait for the network; the first token fetches what it needs.
    let guard = Guard::start(idp.config()).unwrap();
    guard.verify(&mint(&key, &idp.claims())).await.unwrap();
    assert!(idp.jwks_fetches() <= 2);
}

#[tokio::test]
async fn discovery_must_name_the_configured_issuer() {
    let idp = Idp::start().await;
    idp.publish(&es256());
    *idp.state.metadata_issuer.lock() = Some("https://impostor.example".into());
    let err = Guard::connect(idp.config()).await.unwrap_err();
    assert!(
        matches!(&err, StartError::Unavailable(UnavailableError::Discovery(m)) if m.contains("impostor")),
        "{err}"
    );
    assert_eq!(idp.jwks_fetches(), 0);
}

#[tokio::test]
async fn a_jwks_uri_can_be_configured_directly() {
    let idp = Idp::start().await;
    let key = es256();
    idp.publish(&key);
    let guard = Guard::connect(idp.config().jwks_uri(format!("{}/jwks", idp.issuer)))
        .await
        .unwrap();
    guard.verify(&mint(&key, &idp.claims())).await.unwrap();
    assert_eq!(
        idp.state
            .discovery_fetches
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}
