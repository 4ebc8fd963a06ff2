//! The gateway's pooled connections to a plain-`http` upstream written on raw TCP that counts its
//! connections: a connection is reused, closed once idle for `pool_idle_timeout`, never reused
//! after the upstream said `Connection: close`, and never picked once the upstream has closed it;
//! a request the upstream closed its connection on unanswered is sent again on a new one when its
//! method is idempotent and it has no body, and only then.

use crate::gw::{self, ConfigDir};
use crate::tessera::eventually;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// When the upstream ends a connection.
#[derive(Clone, Copy, PartialEq)]
enum Closing {
    /// Only when the gateway does.
    Never,
    /// After each answer, which says `Connection: close`.
    Announced,
    /// After each answer, without a word (as a server whose keep-alive timeout is short).
    Silently,
    /// On a connection's second request, which it reads and leaves unanswered: as a server
    /// whose keep-alive timeout ran out just as the request arrived.
    OnReuse,
}

/// An upstream answering every request with `200 ok`, counting connections.
struct RawUpstream {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    /// Requests read and left unanswered (the connection closed under them).
    unanswered: Arc<AtomicUsize>,
}

async fn raw_upstream(closing: Closing) -> RawUpstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let unanswered = Arc::new(AtomicUsize::new(0));
    let (a, o, u) = (
        Arc::clone(&accepted),
        Arc::clone(&open),
        Arc::clone(&unanswered),
    );
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            o.fetch_add(1, Ordering::SeqCst);
            let (o, u) = (Arc::clone(&o), Arc::clone(&u));
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let mut served = 0;
                while let Ok(n) = s.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    // Requests without a body: each ends at its blank line.
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head_only = buf.starts_with(b"HEAD ");
                    buf.drain(..end + 4);
                    served += 1;
                    if closing == Closing::OnReuse && served == 2 {
                        u.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    let mut answer: &[u8] = if closing == Closing::Announced {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    } else {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                    };
                    if head_only {
                        answer = &answer[..answer.len() - 2];
                    }
                    let keep = matches!(closing, Closing::Never | Closing::OnReuse);
                    if s.write_all(answer).await.is_err() || !keep {
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
        unanswered,
    }
}

fn config(dir: &ConfigDir, upstream: SocketAddr, pool_idle_timeout: &str) -> std::path::PathBuf {
    dir.write_config(&format!(
        r#"
[gateway]
listen = "127.0.0.1:0"

[upstreams.raw]
url = "http://{upstream}"
pool_idle_timeout = "{pool_idle_timeout}"

[[routes]]
name = "raw"
path_prefix = "/"
upstream = "raw"
"#
    ))
}

/// One HTTP/1.1 connection to the gateway: every request on it is served by the same thread, and
/// so with the same pool.
struct OneConnection(SendRequest<Full<Bytes>>);

impl OneConnection {
    async fn open(gateway: SocketAddr) -> Self {
        let io = TokioIo::new(TcpStream::connect(gateway).await.unwrap());
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        Self(sender)
    }

    /// Sends `method /x` with `body`; the answer's status and body.
    async fn send(&mut self, method: Method, body: &'static str) -> (StatusCode, Bytes) {
        self.0.ready().await.unwrap();
        let req = Request::builder()
            .method(method)
            .uri("/x")
            .header(http::header::HOST, "gateway")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        let resp = self.0.send_request(req).await.unwrap();
        let status = resp.status();
        (status, resp.into_body().collect().await.unwrap().to_bytes())
    }

    /// Sends `GET /x` and checks the upstream's answer came back.
    async fn get_ok(&mut self) {
        let (status, body) = self.send(Method::GET, "").await;
        assert_eq!(status, 200);
        assert_eq!(body, "ok");
    }
}

/// Waits until the upstream has no connection open.
async fn all_closed(up: &RawUpstream, what: &str) {
    eventually(what, Duration::from_secs(10), || async {
        (up.open.load(Ordering::SeqCst) == 0).then_some(())
    })
    .await;
}

/// An upstream closing as `closing` says, a gateway in front of it keeping idle connections for
/// `pool_idle_timeout`, and one client connection to the gateway.
async fn start(
    closing: Closing,
    pool_idle_timeout: &str,
) -> (RawUpstream, ConfigDir, gw::InProcess, OneConnection) {
    let up = raw_upstream(closing).await;
    let dir = ConfigDir::new();
    let g = gw::start(&config(&dir, up.addr, pool_idle_timeout)).await;
    let client = OneConnection::open(g.addr).await;
    (up, dir, g, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_is_reused_then_closed_once_idle_for_the_pool_idle_timeout() {
    // An idle timeout long enough that no pause of a loaded machine between two requests reaches
    // it.
    let (up, _dir, g, mut client) = start(Closing::Never, "1s").await;
    // Each request is sent the moment the answer before it has been read, when hyper may not
    // yet have seen that the upstream connection is free again.
    for _ in 0..200 {
        client.get_ok().await;
    }
    assert_eq!(up.accepted.load(Ordering::SeqCst), 1);
    all_closed(&up, "the idle connection closed").await;
    client.get_ok().await;
    assert_eq!(up.accepted.load(Ordering::SeqCst), 2);
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_upstream_closes_is_not_reused() {
    for closing in [Closing::Announced, Closing::Silently] {
        let (up, _dir, g, mut client) = start(closing, "300ms").await;
        for n in 1..=5 {
            client.get_ok().await;
            assert_eq!(up.accepted.load(Ordering::SeqCst), n);
            // The upstream has closed its end before the next request is sent.
            all_closed(&up, "the upstream closed").await;
        }
        g.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_request_without_a_body_is_sent_again_when_the_upstream_closes_on_it() {
    let (up, _dir, g, mut client) = start(Closing::OnReuse, "10s").await;
    // Each time: a first request opens a connection the pool keeps; the next goes out on it, and
    // the upstream closes it unanswered.
    for (n, method) in [Method::GET, Method::HEAD, Method::DELETE, Method::OPTIONS]
        .into_iter()
        .enumerate()
    {
        client.get_ok().await;
        assert_eq!(up.accepted.load(Ordering::SeqCst), 2 * n + 1, "{method}");
        // The gateway sends it again on a new connection.
        let (status, _) = client.send(method.clone(), "").await;
        assert_eq!(status, 200, "{method}");
        assert_eq!(up.unanswered.load(Ordering::SeqCst), n + 1, "{method}");
        assert_eq!(up.accepted.load(Ordering::SeqCst), 2 * n + 2, "{method}");
    }
    // Not a request whose method is not idempotent, nor one with a body: the upstream may have
    // acted on it, or its body is gone.
    for (method, body) in [(Method::POST, ""), (Method::PUT, "x")] {
        client.get_ok().await;
        let accepted = up.accepted.load(Ordering::SeqCst);
        let unanswered = up.unanswered.load(Ordering::SeqCst);
        let (status, _) = client.send(method.clone(), body).await;
        assert_eq!(status, 502, "{method}");
        assert_eq!(
            up.unanswered.load(Ordering::SeqCst),
            unanswered + 1,
            "{method}"
        );
        assert_eq!(up.accepted.load(Ordering::SeqCst), accepted, "{method}");
    }
    g.stop().await;
}
