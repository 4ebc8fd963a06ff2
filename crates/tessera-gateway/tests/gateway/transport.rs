//! The proxy itself: HTTP/2 both ways, TLS upstreams with a custom CA, hop-by-hop and forwarding
//! headers, streaming both ways without buffering, timeouts.

use crate::gw;
use crate::upstream::upstream_api_tls;
use crate::world::{BILLING_AUD, world};
use bytes::Bytes;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

fn route(name: &str, upstream: &str) -> String {
    format!(
        "\n[[routes]]\nname = \"{name}\"\npath_prefix = \"/{name}\"\nstrip_prefix = true\nupstream = \"{upstream}\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_to_the_upstream_with_prior_knowledge_and_from_the_client() {
    let w = world(None).await;
    let extra = format!(
        "[upstreams.h2]\nurl = \"{}\"\nhttp_version = \"http2\"\n{}{}",
        w.api.url(),
        w.oauth2("h2"),
        route("h2", "h2")
    );
    let g = gw::start(&w.dir.write_config(&w.config(&extra))).await;
    let http = reqwest::Client::new();
    let body: Value = http
        .get(g.url("/h2/open/echo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["version"], "HTTP/2.0", "{body}");
    let body: Value = http
        .get(g.url("/billing/open/echo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["version"], "HTTP/1.1", "{body}");

    // A client speaking HTTP/2 (prior knowledge) to the gateway, to an HTTP/1.1 upstream.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = h2.get(g.url("/billing/api/echo")).send().await.unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    let status = r.status();
    let headers = r.headers().clone();
    assert_eq!(status, 200, "{headers:?}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["version"], "HTTP/1.1");
    assert_eq!(body["client_id"], w.gateway_id.as_str());
    // … and to the HTTP/2 upstream, with the token.
    let r = h2.get(g.url("/h2/api/echo")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["version"], "HTTP/2.0");
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_upstreams_with_a_custom_ca_negotiate_http2() {
    let w = world(None).await;
    let (tls_api, ca_pem) = upstream_api_tls(&w.tessera.issuer(), BILLING_AUD).await;
    let ca = w.dir.secret("ca.pem", &ca_pem);
    let port = tls_api.addr.port();
    let oauth2 = w.oauth2("tls");
    let extra = format!(
        r#"
[upstreams.tls]
url = "https://localhost:{port}"
ca_file = "{ca}"

{oauth2}
[upstreams.tls1]
url = "https://127.0.0.1:{port}"
ca_file = "{ca}"
http_version = "http1"

[upstreams.untrusted]
url = "https://localhost:{port}"
{r1}{r2}{r3}"#,
        ca = ca.display(),
        r1 = route("tls", "tls"),
        r2 = route("tls1", "tls1"),
        r3 = route("untrusted", "untrusted"),
    );
    let g = gw::start(&w.dir.write_config(&w.config(&extra))).await;
    let http = reqwest::Client::new();

    let body: Value = http
        .get(g.url("/tls/api/echo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["version"], "HTTP/2.0", "ALPN chose h2: {body}");
    assert_eq!(body["client_id"], w.gateway_id.as_str());
    let body: Value = http
        .get(g.url("/tls1/open/echo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["version"], "HTTP/1.1", "{body}");
    // The system roots do not know the test CA.
    let r = http
        .get(g.url("/untrusted/open/echo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    // Both upstreams with the same credential share one token.
    assert_eq!(w.tessera.token_requests(&w.gateway_id).await, 1);
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_headers_are_removed_and_forwarding_headers_set() {
    let w = world(None).await;
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    let http = reqwest::Client::new();
    let r = http
        .get(g.url("/billing/open/echo"))
        .header("connection", "x-custom-hop")
        .header("x-custom-hop", "must not pass")
        .header("keep-alive", "timeout=5")
        .header("proxy-authorization", "Basic c2VjcmV0")
        .header("proxy-foo", "x")
        .header("te", "trailers")
        .header("trailer", "x-checksum")
        .header("x-forwarded-for", "10.1.2.3")
        .header("x-forwarded-proto", "https")
        .header("x-end-to-end", "kept")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let h = &body["headers"];
    for gone in [
        "connection",
        "x-custom-hop",
        "keep-alive",
        "proxy-authorization",
        "proxy-foo",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        assert!(h.get(gone).is_none(), "{gone} reached the upstream: {h}");
    }
    assert_eq!(h["x-end-to-end"][0], "kept");
    assert_eq!(h["x-forwarded-for"][0], "10.1.2.3, 127.0.0.1");
    assert_eq!(
        h["x-forwarded-proto"][0], "http",
        "an untrusted X-Forwarded-Proto is replaced"
    );
    assert_eq!(h["x-forwarded-host"][0], g.addr.to_string());
    assert_eq!(
        h["host"][0],
        w.api.addr.to_string(),
        "Host names the upstream"
    );
    assert_eq!(body["authorization"], true, "the gateway's token");

    let r = http.get(g.url("/billing/hop")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-upstream-hop").is_none());
    assert!(r.headers().get("keep-alive").is_none());
    assert!(r.headers().get("proxy-authenticate").is_none());
    assert_eq!(r.headers()["x-upstream-kept"], "1");
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_stream_through_without_buffering() {
    let w = world(None).await;
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    let http = reqwest::Client::new();

    // A slow upstream: the first chunk reaches the client before the upstream sends the last.
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    *w.api.seen.down.lock() = Some(rx);
    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
    tx.send(chunk.clone()).await.unwrap();
    let mut r = tokio::time::timeout(
        Duration::from_secs(10),
        http.get(g.url("/billing/stream/down")).send(),
    )
    .await
    .expect("the response head comes before the body is complete")
    .unwrap();
    assert_eq!(r.status(), 200);
    let mut got = 0usize;
    while got < chunk.len() {
        let c = tokio::time::timeout(Duration::from_secs(10), r.chunk())
            .await
            .expect("the first chunk arrives while the upstream still holds the rest")
            .unwrap()
            .unwrap();
        got += c.len();
    }
    assert!(!tx.is_closed());
    tx.send(Bytes::from_static(b"the end")).await.unwrap();
    drop(tx);
    while let Some(c) = r.chunk().await.unwrap() {
        got += c.len();
    }
    assert_eq!(got, chunk.len() + 7);

    // A large body, streamed.
    let mut r = http.get(g.url("/billing/big?mb=64")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut total = 0usize;
    let mut ok_pattern = true;
    while let Some(c) = r.chunk().await.unwrap() {
        for (i, b) in c.iter().enumerate().step_by(4099) {
            ok_pattern &= *b == (((total + i) % 65536) % 251) as u8;
        }
        total += c.len();
    }
    assert_eq!(total, 64 << 20);
    assert!(ok_pattern, "the bytes came through unchanged");
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_stream_through_without_buffering() {
    let w = world(None).await;
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    let (first_tx, first_rx) = oneshot::channel();
    *w.api.seen.up_first.lock() = Some(first_tx);
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let url = g.url("/billing/stream/up");
    let sent =
        tokio::spawn(async move { reqwest::Client::new().post(url).body(body).send().await });
    let chunk = Bytes::from(vec![b'u'; 256 * 1024]);
    tx.send(Ok(chunk.clone())).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), first_rx)
        .await
        .expect("the upstream gets the first bytes before the client sent the rest")
        .unwrap();
    assert!(first > 0);
    // Then 16 MiB more.
    for _ in 0..64 {
        tx.send(Ok(chunk.clone())).await.unwrap();
    }
    drop(tx);
    let r = sent.await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["received"], 65 * 256 * 1024);
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_unreachable_upstreams() {
    let w = world(None).await;
    // A port that was just free: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let extra = format!(
        "[upstreams.slow]\nurl = \"{}\"\nrequest_timeout = \"300ms\"\n[upstreams.closed]\nurl = \"http://{closed}\"\nconnect_timeout = \"2s\"\n{}{}",
        w.api.url(),
        route("slow", "slow"),
        route("closed", "closed"),
    );
    let g = gw::start(&w.dir.write_config(&w.config(&extra))).await;
    let http = reqwest::Client::new();
    let r = http.get(g.url("/slow/hang")).send().await.unwrap();
    assert_eq!(r.status(), 504);
    let r = http.get(g.url("/closed/x")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    let text = reqwest::get(g.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("tessera_gateway_upstream_errors_total{route=\"slow\",kind=\"timeout\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tessera_gateway_upstream_errors_total{route=\"closed\",kind=\"connect\"} 1"),
        "{text}"
    );
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_in_flight_at_shutdown_completes_and_new_connections_are_refused() {
    in_flight_at_shutdown("per_core").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_shared_threading_too() {
    in_flight_at_shutdown("shared").await;
}

async fn in_flight_at_shutdown(threading: &str) {
    let w = world(None).await;
    let config = w.config("").replacen(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:0\"\nthreading = \"{threading}\""),
        1,
    );
    assert!(config.contains("threading"));
    let g = gw::start(&w.dir.write_config(&config)).await;
    let addr = g.addr;
    let http = reqwest::Client::new();
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    *w.api.seen.down.lock() = Some(rx);
    tx.send(Bytes::from_static(b"first ")).await.unwrap();
    let mut r = http
        .get(g.url("/billing/stream/down"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.unwrap().unwrap();
    assert_eq!(&first[..], b"first ");

    // Shutdown starts while the response is still being streamed.
    let stopping = tokio::spawn(g.stop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the gateway still accepts connections after shutdown began"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the response in flight"
    );

    tx.send(Bytes::from_static(b"and last")).await.unwrap();
    drop(tx);
    let mut rest = Vec::new();
    while let Some(c) = r.chunk().await.unwrap() {
        rest.extend_from_slice(&c);
    }
    assert_eq!(rest, b"and last");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown ends once the last response is done")
        .unwrap();
}

/// `[gateway] max_connections` and `max_header_bytes` hold: a connection beyond the limit is
/// closed at once and counted while the established one is answered, and a head over the limit
/// gets 431.
#[tokio::test]
async fn beyond_max_connections_new_connections_are_closed_and_counted() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = world(None).await;
    let config = w.config("").replacen(
        "listen = \"127.0.0.1:0\"",
        "listen = \"127.0.0.1:0\"\nmax_connections = 2\nmax_header_bytes = 16384",
        1,
    );
    let g = gw::start(&w.dir.write_config(&config)).await;
    // One connection, kept by the client's pool across its requests.
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(g.url("/healthz")).send().await.unwrap().status(),
        200
    );
    // A silent one takes the second place; the third is closed without an answer.
    let _silent = tokio::net::TcpStream::connect(g.addr).await.unwrap();
    let mut third = tokio::net::TcpStream::connect(g.addr).await.unwrap();
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
    let metrics = http
        .get(g.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tessera_gateway_connections_refused_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tessera_gateway_connections_open 2"),
        "{metrics}"
    );
    // A head over max_header_bytes.
    let r = http
        .get(g.url("/healthz"))
        .header("x-big", "a".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    g.stop().await;
}
