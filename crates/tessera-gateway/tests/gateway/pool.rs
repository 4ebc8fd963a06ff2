//! The gateway's own pool of HTTP/1.1 connections to plain-`http` upstreams, against an upstream
//! written on raw TCP that counts its connections: a connection is reused, closed once idle for
//! `pool_idle_timeout`, never reused after the upstream said `Connection: close`, and never
//! picked once the upstream has closed it.

use crate::gw::{self, ConfigDir};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// When the upstream ends a connection.
#[derive(Clone, Copy, PartialEq)]
enum Closing {
    /// Only when the gateway does.
    Never,
    /// After each answer, which says `Connection: close`.
    Announced,
    /// After each answer, without a word (as a server whose keep-alive timeout is short).
    Silently,
}

/// An upstream answering every request with `200 ok`, counting connections.
struct RawUpstream {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
}

async fn raw_upstream(closing: Closing) -> RawUpstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let (a, o) = (Arc::clone(&accepted), Arc::clone(&open));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            o.fetch_add(1, Ordering::SeqCst);
            let o = Arc::clone(&o);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while let Ok(n) = s.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    // Requests without a body: each ends at its blank line.
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    buf.drain(..end + 4);
                    let answer: &[u8] = if closing == Closing::Announced {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    } else {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                    };
                    if s.write_all(answer).await.is_err() || closing != Closing::Never {
                        break;
                    }
                }
                drop(s);
                o.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    RawUpstream {
        addr,
        accepted,
        open,
    }
}

fn config(dir: &ConfigDir, upstream: SocketAddr) -> std::path::PathBuf {
    dir.write_config(&format!(
        r#"
[gateway]
listen = "127.0.0.1:0"

[upstreams.raw]
url = "http://{upstream}"
pool_idle_timeout = "300ms"

[[routes]]
name = "raw"
path_prefix = "/"
upstream = "raw"
"#
    ))
}

async fn get_ok(http: &reqwest::Client, url: &str) {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
}

/// Polls `f` until it holds, for at most 10 s.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_is_reused_then_closed_once_idle_for_the_pool_idle_timeout() {
    let up = raw_upstream(Closing::Never).await;
    let dir = ConfigDir::new();
    let g = gw::start(&config(&dir, up.addr)).await;
    // One client connection: its requests are served by one thread, which keeps one upstream
    // connection.
    let http = reqwest::Client::new();
    for _ in 0..20 {
        get_ok(&http, &g.url("/x")).await;
    }
    assert_eq!(up.accepted.load(Ordering::SeqCst), 1);
    eventually("the idle connection closed", || {
        up.open.load(Ordering::SeqCst) == 0
    })
    .await;
    get_ok(&http, &g.url("/x")).await;
    assert_eq!(up.accepted.load(Ordering::SeqCst), 2);
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_upstream_closes_is_not_reused() {
    for closing in [Closing::Announced, Closing::Silently] {
        let up = raw_upstream(closing).await;
        let dir = ConfigDir::new();
        let g = gw::start(&config(&dir, up.addr)).await;
        let http = reqwest::Client::new();
        for n in 1..=5 {
            get_ok(&http, &g.url("/x")).await;
            assert_eq!(up.accepted.load(Ordering::SeqCst), n);
            // The upstream has closed its end before the next request is sent.
            eventually("the upstream closed", || {
                up.open.load(Ordering::SeqCst) == 0
            })
            .await;
        }
        g.stop().await;
    }
}
