//! The limits connections are served under: deadlines for silent and idle connections, the
//! connection limit, the request head's size, and shutdown with idle connections open. Each test
//! serves on loopback and speaks raw bytes (or hyper's client) to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tessera_serve::{Settings, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// The HTTP/2 connection preface.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n";

/// Bounds every wait of these tests: far longer than any deadline they set, far shorter than
/// "never".
const PATIENCE: Duration = Duration::from_secs(10);

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

/// A server on loopback with `settings`, answering `hello`; stops when the sender is sent to or
/// dropped.
struct Running {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    serving: JoinHandle<()>,
}

async fn start(settings: Settings, grace: Duration) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        serve(listener, |_| service_fn(hello), &settings, shutdown, grace).await;
    });
    Running {
        addr,
        shutdown: Some(tx),
        serving,
    }
}

/// Reads until the server closes the connection (end of stream or reset), at most `within`;
/// what it sent, or `None` if it was still open then.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    match timeout(within, stream.read_to_end(&mut got)).await {
        Ok(_) => Some(got),
        Err(_) => None,
    }
}

/// Sends one request on an open HTTP/1.1 connection and reads its answer.
async fn ask(stream: &mut TcpStream) -> String {
    stream.write_all(REQUEST).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"hello") {
        let n = timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed before answering: {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// What silent or stalled clients send before going quiet.
const STALLS: [(&str, &[u8]); 4] = [
    ("nothing", b""),
    ("part of the HTTP/2 preface", b"PRI * HTTP/2.0\r\n"),
    ("only the HTTP/2 preface", PREFACE),
    ("part of an HTTP/1.1 head", b"GET / HTTP/1.1\r\nhost: x\r\n"),
];

#[tokio::test]
async fn a_silent_or_stalled_connection_is_closed_at_the_header_read_timeout() {
    let settings = Settings {
        header_read_timeout: Duration::from_millis(300),
        http2_keep_alive_interval: None,
        ..Settings::default()
    };
    let server = start(settings, PATIENCE).await;
    for (what, bytes) in STALLS {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        let started = Instant::now();
        assert!(
            closed_within(&mut stream, PATIENCE).await.is_some(),
            "a connection that sent {what} is still open"
        );
        assert!(started.elapsed() >= Duration::from_millis(250), "{what}");
    }
}

#[tokio::test]
async fn an_idle_http2_connection_is_asked_to_close_at_the_idle_timeout() {
    let settings = Settings {
        idle_timeout: Duration::from_millis(300),
        http2_keep_alive_interval: None,
        ..Settings::default()
    };
    let server = start(settings, PATIENCE).await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let answer = sender
        .send_request(Request::new(Empty::<Bytes>::new()))
        .await
        .unwrap();
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "hello");
    // The server's GOAWAY ends the client's connection.
    timeout(PATIENCE, conn)
        .await
        .expect("the idle connection is closed")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn beyond_the_connection_limit_new_connections_are_closed_and_established_ones_served() {
    let settings = Settings {
        max_connections: 2,
        ..Settings::default()
    };
    let server = start(settings, PATIENCE).await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    assert!(ask(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(ask(&mut second).await.starts_with("HTTP/1.1 200"));
    // The third is closed without an answer, at once.
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    let _ = third.write_all(REQUEST).await;
    let got = closed_within(&mut third, PATIENCE)
        .await
        .expect("closed at once");
    assert!(got.is_empty(), "{got:?}");
    // The first two are still served.
    assert!(ask(&mut first).await.starts_with("HTTP/1.1 200"));
    assert!(ask(&mut second).await.starts_with("HTTP/1.1 200"));
    // Once one goes, a new connection is served again.
    drop(first);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut next = TcpStream::connect(server.addr).await.unwrap();
        next.write_all(REQUEST).await.unwrap();
        let mut buf = [0u8; 12];
        if timeout(PATIENCE, next.read_exact(&mut buf))
            .await
            .unwrap()
            .is_ok()
        {
            assert_eq!(&buf, b"HTTP/1.1 200");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no room after a connection closed"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_request_head_over_the_limit_gets_431_and_its_connection_closes() {
    let settings = Settings {
        max_header_bytes: 16 * 1024,
        ..Settings::default()
    };
    let server = start(settings, PATIENCE).await;
    let big = "a".repeat(20 * 1024);
    let just_over = "a".repeat(16 * 1024);
    // Whole heads (one well over, one just over, which may arrive in a single read), and one
    // that never ends.
    for head in [
        format!("GET / HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\n\r\n"),
        format!("GET / HTTP/1.1\r\nhost: x\r\nx-big: {just_over}\r\n\r\n"),
        format!("GET / HTTP/1.1\r\nhost: x\r\nx-big: {big}"),
    ] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let _ = stream.write_all(head.as_bytes()).await;
        let got = closed_within(&mut stream, Duration::from_secs(3))
            .await
            .expect("the connection is closed");
        let got = String::from_utf8_lossy(&got);
        assert!(got.starts_with("HTTP/1.1 431"), "{got}");
    }
    // A head within the limit is answered.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let fits = "a".repeat(8 * 1024);
    stream
        .write_all(format!("GET / HTTP/1.1\r\nhost: x\r\nx-fits: {fits}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = [0u8; 12];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
}

#[tokio::test]
async fn shutdown_closes_idle_connections_at_once() {
    // Deadlines and grace far longer than the test may take: only shutdown closes them.
    let settings = Settings {
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        http2_keep_alive_interval: None,
        ..Settings::default()
    };
    let mut server = start(settings, Duration::from_secs(60)).await;
    let mut idle = Vec::new();
    for (_, bytes) in STALLS {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        idle.push(stream);
    }
    // An HTTP/1.1 connection idle after a request, and an HTTP/2 one.
    let mut answered = TcpStream::connect(server.addr).await.unwrap();
    assert!(ask(&mut answered).await.starts_with("HTTP/1.1 200"));
    idle.push(answered);
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let h2 = tokio::spawn(conn);
    sender
        .send_request(Request::new(Empty::<Bytes>::new()))
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap();
    let started = Instant::now();
    server.shutdown.take().unwrap().send(()).unwrap();
    timeout(PATIENCE, &mut server.serving)
        .await
        .expect("shutdown does not wait for idle connections")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    for mut stream in idle {
        assert!(closed_within(&mut stream, PATIENCE).await.is_some());
    }
    timeout(PATIENCE, h2).await.unwrap().unwrap().unwrap();
}
