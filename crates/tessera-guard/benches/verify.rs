//! What a request costs the guard: a token already verified (cached), a first verification, and
//! its parts (the signature check alone, parsing alone).
//!
//! Run with `cargo bench -p tessera-guard --bench verify`. Keys are static (no network), and the
//! futures are polled once with a no-op waker: with static keys nothing in the guard waits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use axum::body::Body;
use axum::response::Response;
use divan::{Bencher, black_box};
use http::Request;
use serde_json::json;
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tessera_guard::{Algorithm, Guard, GuardConfig};
use tessera_jose::{JwkSet, SigningKey, UnverifiedJws, VerifyingKey};
use tower::{Layer, Service};

fn main() {
    divan::main();
}

const ISS: &str = "https://as.example";
const AUD: &str = "https://api.example";

/// Polls a future that never waits.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the future waited"),
    }
}

struct Fixture {
    guard: Guard,
    token: String,
    key: VerifyingKey,
}

fn fixture(alg: Algorithm, cache: usize) -> Fixture {
    let signing = SigningKey::generate(alg).unwrap().with_kid("bench-key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // A typical client-credentials access token (RFC 9068 claims).
    let claims = json!({
        "iss": ISS, "sub": "billing-service", "client_id": "billing-service", "aud": AUD,
        "exp": now + 3600, "iat": now, "jti": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "scope": "core.accounting.read core.accounting.write core.invoices.read",
    });
    let token = signing.encode(Some("at+jwt"), &claims).unwrap();
    let config = GuardConfig::new(ISS)
        .audience(AUD)
        .cache_capacity(cache)
        .static_jwks(JwkSet {
            keys: vec![signing.public_jwk().unwrap()],
        });
    let guard = Guard::start(config).unwrap();
    ready(guard.verify(&token)).unwrap();
    Fixture {
        guard,
        key: signing.verifying_key().unwrap(),
        token,
    }
}

const ALGS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::EdDSA,
];

/// A token already verified: SHA-256 of the token + a sharded map look-up.
#[divan::bench(args = ALGS)]
fn cached(bencher: Bencher, alg: Algorithm) {
    let f = fixture(alg, 10_000);
    bencher.bench(|| ready(f.guard.verify(black_box(&f.token))).unwrap());
}

/// A first verification (cache off): header and claims checks, key look-up, signature.
#[divan::bench(args = ALGS)]
fn first(bencher: Bencher, alg: Algorithm) {
    let f = fixture(alg, 0);
    bencher.bench(|| ready(f.guard.verify(black_box(&f.token))).unwrap());
}

/// The baseline: parsing the JWS and checking its signature, nothing else.
#[divan::bench(args = ALGS)]
fn signature_only(bencher: Bencher, alg: Algorithm) {
    let f = fixture(alg, 0);
    bencher.bench(|| {
        let jws = UnverifiedJws::parse(black_box(&f.token)).unwrap();
        jws.verify(&f.key, &[alg]).unwrap()
    });
}

/// The whole layer for a request with an already verified token (the request is built outside the
/// measurement): header parsing, verification, scope check, extension insert, inner service call.
#[divan::bench]
fn layer_cached(bencher: Bencher) {
    let f = fixture(Algorithm::ES256, 10_000);
    let inner = tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Body::empty()))
    });
    let mut svc = f.guard.require(&["core.accounting.read"]).layer(inner);
    let header = format!("Bearer {}", f.token);
    bencher
        .with_inputs(|| {
            Request::get("/accounting")
                .header(http::header::AUTHORIZATION, header.as_str())
                .body(Body::empty())
                .unwrap()
        })
        .bench_local_values(|req| {
            let resp = ready(svc.call(req)).unwrap();
            assert_eq!(resp.status(), 200);
        });
}

/// For the breakdown: parsing the JWS and its claims, no signature.
#[divan::bench(args = ALGS)]
fn parse_only(bencher: Bencher, alg: Algorithm) {
    let f = fixture(alg, 0);
    bencher.bench(|| {
        let jws = UnverifiedJws::parse(black_box(&f.token)).unwrap();
        jws.claims::<serde_json::Map<String, serde_json::Value>>()
            .unwrap()
    });
}
