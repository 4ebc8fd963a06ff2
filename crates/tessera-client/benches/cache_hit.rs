//! The cost of getting a cached token: the hit path must take no lock and scale with threads.
//!
//! Run: `cargo bench -p tessera-client --bench cache_hit` (add `-- --threads 1,2` to change the
//! thread counts). Each benchmark runs on 1 thread, then on 2 threads at once (this machine has 2
//! cores): with no shared write on the hit path, the time per call stays flat as threads are added.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use axum::Router;
use axum::routing::post;
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use tessera_client::{CacheKey, Credential, Endpoint, SecretString, TokenCache, TokenSource};

struct Warm {
    _runtime: tokio::runtime::Runtime,
    source: TokenSource,
    cache: TokenCache,
    key: CacheKey,
}

/// A source with a token cached from a real (loopback) token endpoint, valid for an hour.
fn warm() -> &'static Warm {
    static WARM: OnceLock<Warm> = OnceLock::new();
    WARM.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (source, cache) = runtime.block_on(async {
            let app = Router::new().route(
                "/token",
                post(|| async {
                    (
                        [("content-type", "application/json")],
                        r#"{"access_token":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2ln","token_type":"Bearer","expires_in":3600}"#,
                    )
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
            let cred = Credential::builder(
                Endpoint::token_endpoint(&format!("http://{addr}/token")).unwrap(),
                "bench",
            )
            .client_secret(SecretString::from("bench-secret"))
            .scopes(["core.accounting.read"])
            .build()
            .unwrap();
            let cache = TokenCache::new();
            let source = TokenSource::builder(cred).cache(cache.clone()).build().unwrap();
            source.token().await.unwrap();
            (source, cache)
        });
        let key = source.cache_key().clone();
        Warm {
            _runtime: runtime,
            source,
            cache,
            key,
        }
    })
}

fn main() {
    warm();
    divan::main();
}

/// `TokenSource::cached()`: the synchronous hit path (an owned `AccessToken`).
#[divan::bench(threads = [1, 2], sample_count = 200, sample_size = 2000)]
fn source_cached(b: divan::Bencher) {
    let w = warm();
    b.bench(|| w.source.cached());
}

/// `TokenSource::token().await` on a hit, polled once (it completes without suspending).
#[divan::bench(threads = [1, 2], sample_count = 200, sample_size = 2000)]
fn source_token_async(b: divan::Bencher) {
    let w = warm();
    b.bench(|| {
        let mut cx = Context::from_waker(Waker::noop());
        let fut = pin!(w.source.token());
        match fut.poll(&mut cx) {
            Poll::Ready(r) => r.ok(),
            Poll::Pending => None,
        }
    });
}

/// `TokenCache::get(&key)`: a lookup in the sharded map (read lock of one shard) then the entry.
#[divan::bench(threads = [1, 2], sample_count = 200, sample_size = 2000)]
fn cache_get_by_key(b: divan::Bencher) {
    let w = warm();
    b.bench(|| w.cache.get(&w.key));
}
