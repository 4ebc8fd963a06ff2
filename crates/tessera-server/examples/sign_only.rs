//! A measuring stick, not a server: answers every request with a freshly signed ES256 JWT and
//! does nothing else (no client authentication, no form parsing, no registry, no log, no
//! metrics). Under the same load as the token endpoint it shows the ceiling for any signed token
//! on this machine with this load generator: what a token endpoint could reach if all its own
//! work cost nothing. `bench/token-bench.sh ceiling` runs it next to Tessera.
//!
//! usage: `sign_only hyper|hyper-per-core|minimal PORT`
//! - `hyper`: hyper's HTTP/1.1 on a multi-threaded Tokio runtime (as Tessera with
//!   `http.threading = "shared"`).
//! - `hyper-per-core`: the same hyper, on one current-thread runtime per core (as Tessera by
//!   default, except that here each thread accepts for itself rather than being handed
//!   connections).
//! - `minimal`: one current-thread runtime per core and just enough HTTP/1.1 for keep-alive
//!   requests with a `Content-Length` body: the least any HTTP server could do per request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use axum::body::Body;
use hyper::{Request, Response};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tessera_jose::{Algorithm, SigningKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A token response like Tessera's: RFC 9068 claims, signed now.
fn token_response(key: &SigningKey) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1:18080", "sub": "tsc_AAAAAAAAAAAAAAAAAAAAAA",
        "aud": "https://api.bench.example/", "exp": now + 600, "iat": now,
        "jti": "AAAAAAAAAAAAAAAAAAAAAA", "client_id": "tsc_AAAAAAAAAAAAAAAAAAAAAA",
        "scope": "core.bench.read",
    });
    let jwt = key.encode(Some("at+jwt"), &claims).unwrap();
    serde_json::to_vec(&serde_json::json!({
        "access_token": jwt, "token_type": "Bearer", "expires_in": 600, "scope": "core.bench.read",
    }))
    .unwrap()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "hyper".into());
    let port: u16 = args.next().map_or(18090, |p| p.parse().unwrap());
    let key = Arc::new(
        SigningKey::generate(Algorithm::ES256)
            .unwrap()
            .with_kid("k"),
    );
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    match mode.as_str() {
        "hyper" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { with_hyper(TcpListener::from_std(listener).unwrap(), key).await }),
        "minimal" | "hyper-per-core" => {
            let per_core_hyper = mode == "hyper-per-core";
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let threads: Vec<_> = (0..cores)
                .map(|_| {
                    let (listener, key) = (listener.try_clone().unwrap(), Arc::clone(&key));
                    std::thread::spawn(move || {
                        tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap()
                            .block_on(async {
                                let listener = TcpListener::from_std(listener).unwrap();
                                if per_core_hyper {
                                    with_hyper(listener, key).await;
                                } else {
                                    minimal(listener, key).await;
                                }
                            });
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
        }
        other => panic!("unknown mode {other}: hyper, hyper-per-core or minimal"),
    }
}

async fn with_hyper(listener: TcpListener, key: Arc<SigningKey>) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let key = Arc::clone(&key);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let key = Arc::clone(&key);
                async move {
                    let _ = axum::body::to_bytes(Body::new(req.into_body()), 64 * 1024).await;
                    let resp = Response::builder()
                        .header("content-type", "application/json")
                        .header("cache-control", "no-store")
                        .header("pragma", "no-cache")
                        .body(Body::from(token_response(&key)))
                        .unwrap();
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn minimal(listener: TcpListener, key: Arc<SigningKey>) {
    loop {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let key = Arc::clone(&key);
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            let mut chunk = [0u8; 4096];
            loop {
                // One whole request: the head, then Content-Length bytes of body.
                let used = loop {
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap_or(0));
                        if buf.len() >= end + 4 + length {
                            break end + 4 + length;
                        }
                    }
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                buf.drain(..used);
                let body = token_response(&key);
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: no-store\r\npragma: no-cache\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                out.extend_from_slice(&body);
                if stream.write_all(&out).await.is_err() {
                    return;
                }
            }
        });
    }
}
