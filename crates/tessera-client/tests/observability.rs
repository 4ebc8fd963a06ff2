//! Logs and metrics: what is recorded, and that no secret or token is ever in them, in Debug
//! output or in errors. Its own test binary, because it installs a global subscriber and recorder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

#[path = "client/mock.rs"]
mod mock;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use mock::{Mock, Reply};
use parking_lot::Mutex;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tessera_client::BearerMiddleware;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Observed {
    logs: Buffer,
    metrics: Snapshotter,
}

fn observed() -> &'static Observed {
    static O: OnceLock<Observed> = OnceLock::new();
    O.get_or_init(|| {
        let logs = Buffer::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .init();
        let recorder = DebuggingRecorder::new();
        let metrics = recorder.snapshotter();
        recorder.install().unwrap();
        Observed { logs, metrics }
    })
}

fn metrics_text() -> Snapshot {
    observed()
        .metrics
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(k, _, _, v)| {
            let key = k.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, v)
        })
        .collect()
}

type Snapshot = Vec<(String, Vec<(String, String)>, DebugValue)>;

fn counter(snap: &Snapshot, name: &str, labels: &[(&str, &str)]) -> u64 {
    snap.iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| match v {
            DebugValue::Counter(c) => *c,
            _ => 0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_in_debug_errors_or_logs() {
    let o = observed();
    let mock = Mock::start().await;
    mock.on_token(|_, n| {
        if n == 0 {
            Reply::json(200, serde_json::json!({"access_token": "TOKEN-VALUE-123", "token_type": "Bearer", "expires_in": 60, "refresh_token": "REFRESH-VALUE-456"}))
        } else {
            Reply::json(400, serde_json::json!({"error": "invalid_grant", "error_description": "nope"}))
        }
    });
    mock.on_api(|t, n| match (t, n) {
        (Some(_), 0) => Reply::raw(401, "text/plain", "")
            .with_header("www-authenticate", "Bearer error=\"invalid_token\""),
        _ => Reply::raw(200, "text/plain", "ok"),
    });
    let cred = mock.credential("secrecy-client", "SECRET-VALUE-789");
    let source = mock.source(cred.clone());
    let token = source.token().await.unwrap();
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(BearerMiddleware::new(source.clone()))
        .build();
    let err = http.get(mock.api_url()).send().await.unwrap_err();
    let err2 = source.force_refresh().await.unwrap_err();

    let everything = format!(
        "{cred:?} {source:?} {token:?} {err:?} {err} {err2:?} {err2} {:?} {}",
        source.cache_key(),
        String::from_utf8_lossy(&o.logs.0.lock()),
    );
    for secret in ["SECRET-VALUE-789", "TOKEN-VALUE-123", "REFRESH-VALUE-456"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    assert!(
        everything.contains("fetched a new access token"),
        "logs were captured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_hits_fetches_waits_retries_and_failures() {
    observed();
    let mock = Mock::start().await;
    mock.on_token(|_, n| match n {
        0 => Reply::token("METRICS-TOKEN-0", 600).delayed(Duration::from_millis(200)),
        1 => Reply::json(500, serde_json::json!({"error": "server_error"})),
        2 => Reply::token("METRICS-TOKEN-2", 600),
        _ => Reply::json(400, serde_json::json!({"error": "invalid_scope"})),
    });
    let source = mock.source(mock.credential("metrics-client", "METRICS-SECRET"));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let s = source.clone();
        tasks.spawn(async move { s.token().await.map(|_| ()) });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    for _ in 0..600 {
        source.token().await.unwrap();
    }
    source.force_refresh().await.unwrap(); // 500, retried, then t2
    source.force_refresh().await.unwrap_err(); // invalid_scope
    let c = [("client_id", "metrics-client")];
    // One snapshot: the debugging recorder hands out counter deltas.
    let snap = metrics_text();
    assert!(
        counter(&snap, tessera_client::metrics::CACHE_HITS, &c) >= 256,
        "hits are published in batches"
    );
    assert_eq!(
        counter(
            &snap,
            tessera_client::metrics::FETCHES,
            &[("client_id", "metrics-client"), ("outcome", "ok")]
        ),
        2
    );
    assert_eq!(
        counter(
            &snap,
            tessera_client::metrics::FETCHES,
            &[("client_id", "metrics-client"), ("outcome", "error")]
        ),
        1
    );
    assert_eq!(
        counter(
            &snap,
            tessera_client::metrics::FETCHES,
            &[("client_id", "metrics-client"), ("reason", "cold")]
        ),
        1
    );
    assert_eq!(
        counter(&snap, tessera_client::metrics::COALESCED_WAITS, &c),
        9
    );
    assert_eq!(
        counter(
            &snap,
            tessera_client::metrics::RETRIES,
            &[("client_id", "metrics-client"), ("error", "server_error")]
        ),
        1
    );
    assert_eq!(
        counter(
            &snap,
            tessera_client::metrics::FAILURES,
            &[("client_id", "metrics-client"), ("error", "invalid_scope")]
        ),
        1
    );
    let text = format!("{snap:?}");
    assert!(
        !text.contains("METRICS-TOKEN") && !text.contains("METRICS-SECRET"),
        "{text}"
    );
    let expiry = snap
        .into_iter()
        .find(|(n, l, _)| {
            n == tessera_client::metrics::SECONDS_TO_EXPIRY
                && l.iter().any(|(_, v)| v == "metrics-client")
        })
        .map(|(_, _, v)| v);
    match expiry {
        Some(DebugValue::Gauge(g)) => assert!(g.into_inner() > 500.0 && g.into_inner() <= 600.0),
        other => panic!("{other:?}"),
    }
}
