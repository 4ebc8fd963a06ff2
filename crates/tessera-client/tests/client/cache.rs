//! Cache, singleflight, refresh ahead of expiry, force_refresh and compare-and-evict.

use crate::mock::{Mock, Reply, eventually};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tessera_client::{RefreshPolicy, TokenCache, TokenSource};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_cold_callers_make_one_token_request() {
    let mock = Mock::start().await;
    // Slow enough that every caller arrives while the request is in flight.
    mock.on_token(|_, n| {
        Reply::token(&format!("tok-{n}"), 3600).delayed(Duration::from_millis(300))
    });
    let source = mock.source(mock.credential("c", "s"));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let s = source.clone();
        tasks.spawn(async move { s.token().await });
    }
    let mut tokens = Vec::new();
    while let Some(r) = tasks.join_next().await {
        tokens.push(r.unwrap().unwrap());
    }
    assert_eq!(tokens.len(), 1000);
    assert_eq!(
        mock.token_requests(),
        1,
        "exactly one token request, counted at the server"
    );
    assert!(
        tokens
            .iter()
            .all(|t| t.secret() == "tok-0" && t.same_as(&tokens[0]))
    );
    // Later callers hit the cache.
    assert_eq!(source.token().await.unwrap().secret(), "tok-0");
    assert_eq!(mock.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_does_not_cancel_the_fetch() {
    let mock = Mock::start().await;
    mock.on_token(|_, n| {
        Reply::token(&format!("tok-{n}"), 3600).delayed(Duration::from_millis(400))
    });
    let source = mock.source(mock.credential("c", "s"));
    let gave_up = tokio::time::timeout(Duration::from_millis(50), source.token()).await;
    assert!(gave_up.is_err(), "the caller timed out");
    assert!(source.fetch_in_flight());
    // The fetch completes on its own and fills the cache.
    assert!(eventually(Duration::from_secs(5), || source.cached().is_some()).await);
    assert_eq!(source.cached().unwrap().secret(), "tok-0");
    assert_eq!(mock.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_of_equal_credentials_share_one_entry() {
    let mock = Mock::start().await;
    let cache = TokenCache::new();
    let a = TokenSource::builder(mock.credential("c", "s"))
        .cache(cache.clone())
        .build()
        .unwrap();
    let b = TokenSource::builder(mock.credential("c", "s"))
        .cache(cache.clone())
        .build()
        .unwrap();
    let other = TokenSource::builder(mock.credential("c", "s2"))
        .cache(cache.clone())
        .build()
        .unwrap();
    assert_eq!(a.cache_key(), b.cache_key());
    assert_ne!(a.cache_key(), other.cache_key());
    let ta = a.token().await.unwrap();
    let tb = b.token().await.unwrap();
    assert!(ta.same_as(&tb));
    assert_eq!(mock.token_requests(), 1);
    other.token().await.unwrap();
    assert_eq!(mock.token_requests(), 2);
    assert_eq!(cache.len(), 2);
    assert!(cache.get(a.cache_key()).is_some_and(|t| t.same_as(&ta)));
    assert!(cache.hits(a.cache_key()) >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_expiry_under_steady_load_no_caller_fails_or_waits() {
    let mock = Mock::start().await;
    // 4-second tokens; each token request takes 300 ms, so a caller that waited for one would
    // take at least that long.
    mock.on_token(|_, n| Reply::token(&format!("tok-{n}"), 4).delayed(Duration::from_millis(300)));
    let source = TokenSource::builder(mock.credential("c", "s"))
        .cache(TokenCache::new())
        .refresh(RefreshPolicy::default())
        .build()
        .unwrap();
    let first = source.token().await.unwrap();
    let started = Instant::now();
    let failures = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let s = source.clone();
        let failures = Arc::clone(&failures);
        let calls = Arc::clone(&calls);
        tasks.spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut seen = std::collections::BTreeSet::new();
            // Steady load for 8.5 s: more than two token lifetimes.
            while started.elapsed() < Duration::from_millis(8500) {
                let t0 = Instant::now();
                match s.token().await {
                    Ok(t) => {
                        assert!(t.expires_at() > Instant::now(), "served an expired token");
                        seen.insert(t.secret().to_owned());
                    }
                    Err(_) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                slowest = slowest.max(t0.elapsed());
                calls.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            (slowest, seen)
        });
    }
    let mut slowest = Duration::ZERO;
    let mut seen = std::collections::BTreeSet::new();
    while let Some(r) = tasks.join_next().await {
        let (s, tokens) = r.unwrap();
        slowest = slowest.max(s);
        seen.extend(tokens);
    }
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "no caller saw a failure"
    );
    assert!(
        slowest < Duration::from_millis(250),
        "a caller waited {slowest:?}: it must never wait for a fetch"
    );
    assert!(calls.load(Ordering::Relaxed) > 1000);
    let requests = mock.token_requests();
    assert!(
        seen.len() >= 3,
        "tokens were refreshed across expiries: {seen:?}"
    );
    assert!(!seen.contains(first.secret()) || seen.len() > 1);
    // One refresh per lifetime window, not one per caller.
    assert!(requests <= 6, "{requests} token requests for ~3 lifetimes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_refresh_and_compare_and_evict() {
    let mock = Mock::start().await;
    let source = mock.source(mock.credential("c", "s"));
    let a = source.token().await.unwrap();
    let b = source.force_refresh().await.unwrap();
    assert_eq!((a.secret(), b.secret()), ("tok-0", "tok-1"));
    assert!(source.token().await.unwrap().same_as(&b));
    // A late 401 for the old token cannot evict the newer one.
    assert!(!source.evict(&a));
    assert!(source.token().await.unwrap().same_as(&b));
    assert_eq!(mock.token_requests(), 2);
    // Evicting the current token makes the next call fetch.
    assert!(source.evict(&b));
    assert!(!source.evict(&b), "evicting twice does nothing");
    assert!(source.cached().is_none());
    let c = source.token().await.unwrap();
    assert_eq!(c.secret(), "tok-2");
    assert_eq!(mock.token_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_background_refresh_keeps_serving_the_current_token() {
    let mock = Mock::start().await;
    mock.on_token(|_, n| {
        if n == 0 {
            Reply::token("tok-0", 4)
        } else {
            Reply::json(500, serde_json::json!({"error": "server_error"}))
        }
    });
    let source = mock.source(mock.credential("c", "s"));
    let t = source.token().await.unwrap();
    // Past the refresh point (≤ 3 s into a 4 s token), hits start a background refresh that
    // fails; callers keep getting the current token without waiting.
    let deadline = Instant::now() + Duration::from_secs(6);
    while mock.token_requests() < 2 && Instant::now() < deadline {
        let t0 = Instant::now();
        let got = source.token().await.unwrap();
        assert!(got.same_as(&t));
        // Waiting for the failing fetch would take its retries' backoff (at least 150 ms).
        assert!(t0.elapsed() < Duration::from_millis(120));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        mock.token_requests() >= 2,
        "a background refresh was attempted"
    );
}
