//! What every route goes through, seen at the token endpoint of a running server: request ids,
//! the request timeout, sensitive headers.

use crate::helpers::{ClientSpec, spawn_app, spawn_app_with};
use axum::body::Body;
use axum::http::{Request, header};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

#[tokio::test]
async fn token_answers_carry_the_request_id() {
    let app = spawn_app().await;
    let secret = app.register_client(ClientSpec::new("rid")).await;
    let ask = |id: Option<&'static str>, secret: String| {
        let mut req = app
            .http
            .post(app.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "authorization",
                tessera_proto::basic::encode("rid", &secret),
            )
            .body("grant_type=client_credentials");
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        async move { req.send().await.unwrap() }
    };
    // Kept when the client sends one, on a token and on a refusal alike.
    let r = ask(Some("req-42"), secret.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "req-42");
    let r = ask(Some("req-43"), "wrong".into()).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-request-id"], "req-43");
    // Made up (a UUID) when it does not.
    let r = ask(None, secret).await;
    assert_eq!(r.status(), 200);
    // The answer's length is known, so it is sent with `Content-Length`, not chunked.
    assert!(r.headers().get("transfer-encoding").is_none());
    assert!(
        r.headers()[header::CONTENT_LENGTH]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    assert!(r.json::<serde_json::Value>().await.unwrap()["access_token"].is_string());
}

/// A token request whose body never finishes arriving is answered 503 after
/// `http.request_timeout_secs`, and the server goes on answering.
#[tokio::test]
async fn a_token_request_past_the_timeout_is_answered_503() {
    let app = spawn_app_with(|c| c.http.request_timeout_secs = 1).await;
    let secret = app.register_client(ClientSpec::new("slow")).await;
    let body = "grant_type=client_credentials";
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /oauth2/token HTTP/1.1\r\nhost: x\r\nauthorization: {}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nx-request-id: slow-1\r\n\r\n{}",
        tessera_proto::basic::encode("slow", &secret),
        body.len(),
        &body[..5]
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let read_head = async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed after {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read_head)
        .await
        .expect("the request is answered once the timeout passes");
    let answer = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 503"), "{answer}");
    assert!(answer.contains("x-request-id: slow-1"), "{answer}");
    app.cc_token("slow", &secret, &[]).await;
}

/// The router the server serves marks `Set-Cookie` sensitive (so is every credential header of a
/// request, by the same layer) and gives each answer a request id.
#[tokio::test]
async fn the_served_router_has_the_layers() {
    let app = spawn_app().await;
    let router = tessera_server::app::router(app.state.clone());
    let r = router
        .clone()
        .oneshot(Request::get("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get(header::SET_COOKIE)
        .expect("a session cookie");
    assert!(cookie.is_sensitive());
    assert!(r.headers().contains_key("x-request-id"));
    let r = router
        .oneshot(
            Request::post("/oauth2/token")
                .header("x-request-id", "in-1")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-request-id"], "in-1");
}

/// Beyond `http.max_connections`, a new connection is closed at once and counted, while the
/// established ones go on being answered (`/healthz` among them).
#[tokio::test]
async fn beyond_max_connections_new_connections_are_closed_and_counted() {
    let app = spawn_app_with(|c| c.http.max_connections = 2).await;
    // One connection, kept by the client's pool across its requests.
    let http = reqwest::Client::new();
    let get = async |path: &str| {
        let r = http.get(app.url(path)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(get("/healthz").await.0, 200);
    let addr = app.base.trim_start_matches("http://").to_owned();
    // A silent one takes the second place.
    let _silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // The third is closed without an answer.
    let mut third = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _ = third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), third.read_to_end(&mut got)).await;
    assert!(
        closed.is_ok(),
        "the connection beyond the limit is still open"
    );
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    // The established connection is still answered, and the refusal counted.
    assert_eq!(get("/healthz").await.0, 200);
    let (status, metrics) = get("/metrics").await;
    assert_eq!(status, 200);
    let refused = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tessera_connections_refused_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(refused >= 1.0, "{metrics}");
    assert!(metrics.contains("tessera_connections_open "), "{metrics}");
}
