//! The gateway as a real process: SIGHUP reloads without dropping connections or cached tokens,
//! a bad file is refused while the old configuration keeps serving, access logs hold no secret,
//! SIGTERM stops it cleanly.

use crate::gw;
use crate::tessera::{eventually, metric_sum};
use crate::world::world;
use bytes::Bytes;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// One HTTP/1.1 request on an open connection; returns the status and the body.
async fn raw_get(conn: &mut TcpStream, path: &str) -> (u16, Vec<u8>) {
    let req = format!("GET {path} HTTP/1.1\r\nHost: gateway.test\r\n\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection was closed");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head[9..12].parse().unwrap();
    let mut body = buf[head_end..].to_vec();
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse::<usize>().unwrap())
    {
        while body.len() < len {
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else {
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        while !body.ends_with(b"0\r\n\r\n") {
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            body.extend_from_slice(&chunk[..n]);
        }
    }
    (status, body)
}

async fn gateway_metrics(p: &gw::Process) -> String {
    reqwest::get(p.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_without_dropping_connections_or_tokens() {
    let w = world(None).await;
    let path = w.dir.write_config(&w.config(""));
    let p = gw::spawn(env!("CARGO_BIN_EXE_tessera-gateway"), &[], &path).await;
    let http = reqwest::Client::new();

    // A kept-alive connection, and a streamed response in flight across the reload.
    let mut conn = TcpStream::connect(p.addr).await.unwrap();
    let (status, _) = raw_get(&mut conn, "/billing/api/echo?api_key=SUPERSECRET-QUERY").await;
    assert_eq!(status, 200);
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    *w.api.seen.down.lock() = Some(rx);
    tx.send(Bytes::from_static(b"before the reload;"))
        .await
        .unwrap();
    let mut streaming = http
        .get(p.url("/billing/stream/down"))
        .send()
        .await
        .unwrap();
    let first = streaming.chunk().await.unwrap().unwrap();
    assert_eq!(&first[..], b"before the reload;");
    assert_eq!(w.tessera.token_requests(&w.gateway_id).await, 1);

    // Reload with a second route.
    let extra = "\n[[routes]]\nname = \"second\"\npath_prefix = \"/second\"\nstrip_prefix = true\nupstream = \"billing\"\n";
    w.dir.write_config(&w.config(extra));
    p.signal("HUP");
    eventually("the reload", Duration::from_secs(15), || async {
        let text = gateway_metrics(&p).await;
        (metric_sum(&text, "tessera_gateway_reloads_total", &["outcome=\"ok\""]) == 1).then_some(())
    })
    .await;
    // Same connection, new route; the old stream finishes.
    let (status, body) = raw_get(&mut conn, "/second/api/echo").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    tx.send(Bytes::from_static(b" after it.")).await.unwrap();
    drop(tx);
    let mut rest = Vec::new();
    while let Some(c) = streaming.chunk().await.unwrap() {
        rest.extend_from_slice(&c);
    }
    assert_eq!(&rest[..], b" after it.");
    assert_eq!(
        w.tessera.token_requests(&w.gateway_id).await,
        1,
        "the cached token survived the reload"
    );

    // A bad file: refused, said in the log, and the old configuration keeps serving.
    w.dir
        .write_config(&w.config(extra).replace("[[routes]]", "[[routes]"));
    p.signal("HUP");
    eventually("the refusal", Duration::from_secs(15), || async {
        let text = gateway_metrics(&p).await;
        (metric_sum(
            &text,
            "tessera_gateway_reloads_total",
            &["outcome=\"refused\""],
        ) == 1)
            .then_some(())
    })
    .await;
    // Log lines reach stderr within 50 ms (the gateway buffers them off the request path).
    let logs = eventually(
        "the refusal in the log",
        Duration::from_secs(10),
        || async {
            let logs = p.logs();
            logs.contains("configuration reload refused")
                .then_some(logs)
        },
    )
    .await;
    assert!(
        logs.contains("gateway.toml"),
        "the message names the file: {logs}"
    );
    let (status, _) = raw_get(&mut conn, "/second/api/echo").await;
    assert_eq!(status, 200);
    let (status, _) = raw_get(&mut conn, "/billing/api/echo").await;
    assert_eq!(status, 200);

    // The access log: one line per request, without query, secret or token. A line is written
    // once the response head has gone out, so the last one may still be on its way.
    let access_lines = |logs: &str| {
        logs.lines()
            .filter(|l| l.contains("tessera_gateway::access"))
            .count()
    };
    eventually("five access log lines", Duration::from_secs(10), || async {
        (access_lines(&p.logs()) >= 5).then_some(())
    })
    .await;
    // The log writer's dropped lines are on `/metrics` (none dropped here).
    eventually(
        "the dropped log lines metric",
        Duration::from_secs(10),
        || async {
            let text = gateway_metrics(&p).await;
            text.lines()
                .any(|l| l == "tessera_log_lines_dropped_total 0")
                .then_some(())
        },
    )
    .await;
    let logs = p.logs();
    let access: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("tessera_gateway::access"))
        .collect();
    assert!(
        access
            .iter()
            .any(|l| l.contains("second") && l.contains("status=200")),
        "{logs}"
    );
    assert!(
        !logs.contains("SUPERSECRET-QUERY"),
        "the query string was logged"
    );
    assert!(
        !logs.contains(&w.gateway_secret),
        "the client secret was logged"
    );
    let tokens = w.api.seen.raw_tokens.lock().clone();
    assert!(!tokens.is_empty());
    for t in tokens {
        assert!(!logs.contains(&t), "a token was logged");
    }
    let status = p.terminate().await;
    assert!(status.success(), "{status}");
}
