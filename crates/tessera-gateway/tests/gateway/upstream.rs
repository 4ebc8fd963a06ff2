//! A small upstream API (axum) protected by tessera-guard, served in cleartext (HTTP/1.1 and h2c)
//! or over TLS with a test CA (ALPN h2 and http/1.1).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use bytes::Bytes;
use futures_util::StreamExt as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tessera_guard::{Guard, GuardConfig, VerifiedToken};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// What the upstream saw.
#[derive(Default)]
pub struct Seen {
    pub requests: AtomicU64,
    /// `jti` of every token the guard accepted, in order.
    pub jtis: Mutex<Vec<String>>,
    /// How many more times `/api/flaky` answers 401.
    pub flaky_left: AtomicU32,
    /// `/stream/down` takes its body from here.
    pub down: Mutex<Option<mpsc::Receiver<Bytes>>>,
    /// `/stream/up` says here when its first chunk came.
    pub up_first: Mutex<Option<oneshot::Sender<usize>>>,
    /// Every bearer token `/api/echo` received (to check that logs never show one).
    pub raw_tokens: Mutex<Vec<String>>,
}

pub struct Upstream {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
}

impl Upstream {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// An API for tokens of `issuer` with audience `audience`.
pub async fn upstream_api(issuer: &str, audience: &str) -> Upstream {
    let (router, seen) = router(issuer, audience).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // axum::serve speaks HTTP/1.1 and HTTP/2 with prior knowledge on the same port.
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Upstream { addr, seen }
}

/// The same API over TLS, with a certificate for `localhost` and 127.0.0.1 from a fresh CA whose
/// PEM is returned.
pub async fn upstream_api_tls(issuer: &str, audience: &str) -> (Upstream, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Tessera gateway test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer_ca = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer_ca).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let (router, seen) = router(issuer, audience).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (Upstream { addr, seen }, ca_cert.pem())
}

async fn router(issuer: &str, audience: &str) -> (Router, Arc<Seen>) {
    let guard = Guard::connect(
        GuardConfig::new(issuer)
            .audience(audience)
            // Tokens carry whole seconds: one second of leeway keeps a token good to its `exp`,
            // and still refuses one kept past it.
            .leeway(Duration::from_secs(1)),
    )
    .await
    .expect("the upstream's guard reaches Tessera");
    let seen = Arc::new(Seen::default());
    let guarded = Router::new()
        .route("/api/echo", any(echo))
        .route("/api/flaky", get(flaky))
        .route("/api/always401", any(always_401))
        .route("/api/{*rest}", any(echo))
        .route_layer(guard.require(&["core.accounting.read"]));
    let open = Router::new()
        .route("/open/echo", any(open_echo))
        .route("/stream/down", get(stream_down))
        .route("/stream/up", any(stream_up))
        .route("/big", get(big))
        .route("/hang", get(hang))
        .route("/hop", get(hop));
    (guarded.merge(open).with_state(Arc::clone(&seen)), seen)
}

fn headers_json(h: &HeaderMap) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in h {
        if k == "authorization" {
            continue;
        }
        let entry = m
            .entry(k.as_str().to_owned())
            .or_insert_with(|| Value::Array(vec![]));
        if let Value::Array(a) = entry {
            a.push(Value::String(v.to_str().unwrap_or("?").to_owned()));
        }
    }
    Value::Object(m)
}

async fn echo(State(seen): State<Arc<Seen>>, token: VerifiedToken, req: Request) -> Json<Value> {
    seen.requests.fetch_add(1, Ordering::Relaxed);
    let jti = token.token_id().unwrap_or("").to_owned();
    seen.jtis.lock().push(jti.clone());
    if let Some(t) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        seen.raw_tokens.lock().push(t.to_owned());
    }
    let version = format!("{:?}", req.version());
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers = headers_json(req.headers());
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    Json(json!({
        "client_id": token.client_id(),
        "sub": token.subject(),
        "aud": token.audience(),
        "scope": token.scopes().to_string(),
        "jti": jti,
        "version": version,
        "path": path,
        "query": query,
        "headers": headers,
        "body_len": body.len(),
    }))
}

async fn open_echo(State(seen): State<Arc<Seen>>, req: Request) -> Json<Value> {
    seen.requests.fetch_add(1, Ordering::Relaxed);
    let has_auth = req.headers().contains_key("authorization");
    Json(json!({
        "version": format!("{:?}", req.version()),
        "path": req.uri().path(),
        "authorization": has_auth,
        "headers": headers_json(req.headers()),
    }))
}

async fn flaky(State(seen): State<Arc<Seen>>, token: VerifiedToken) -> Response {
    seen.requests.fetch_add(1, Ordering::Relaxed);
    let jti = token.token_id().unwrap_or("").to_owned();
    seen.jtis.lock().push(jti.clone());
    let left = seen.flaky_left.load(Ordering::Relaxed);
    if left > 0 {
        seen.flaky_left.store(left - 1, Ordering::Relaxed);
        return (
            StatusCode::UNAUTHORIZED,
            [(
                "www-authenticate",
                "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"revoked\"",
            )],
        )
            .into_response();
    }
    Json(json!({ "jti": jti })).into_response()
}

async fn always_401(State(seen): State<Arc<Seen>>, token: VerifiedToken) -> Response {
    seen.requests.fetch_add(1, Ordering::Relaxed);
    seen.jtis
        .lock()
        .push(token.token_id().unwrap_or("").to_owned());
    (
        StatusCode::UNAUTHORIZED,
        [("www-authenticate", "Bearer error=\"invalid_token\"")],
    )
        .into_response()
}

async fn stream_down(State(seen): State<Arc<Seen>>) -> Response {
    let Some(rx) = seen.down.lock().take() else {
        return StatusCode::CONFLICT.into_response();
    };
    let stream = tokio_stream_from(rx).map(Ok::<_, std::io::Error>);
    Body::from_stream(stream).into_response()
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Bytes>,
) -> impl futures_util::Stream<Item = Bytes> + Send {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn stream_up(State(seen): State<Arc<Seen>>, req: Request) -> Json<Value> {
    let mut body = req.into_body().into_data_stream();
    let mut total = 0usize;
    let mut first = seen.up_first.lock().take();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { break };
        total += chunk.len();
        if let Some(tx) = first.take() {
            let _ = tx.send(total);
        }
    }
    Json(json!({ "received": total }))
}

/// `mb` MiB of a repeating pattern, made as it is sent.
async fn big(
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, usize>>,
) -> Response {
    let mb = q.get("mb").copied().unwrap_or(1);
    let chunk = Bytes::from((0..65536u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let stream = futures_util::stream::iter(
        (0..mb * 16).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    Body::from_stream(stream).into_response()
}

/// Never answers.
async fn hang() -> Response {
    std::future::pending::<()>().await;
    StatusCode::OK.into_response()
}

/// Answers with hop-by-hop headers that must not reach the client.
async fn hop() -> Response {
    (
        StatusCode::OK,
        [
            ("connection", "x-upstream-hop"),
            ("x-upstream-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-authenticate", "Basic"),
            ("x-upstream-kept", "1"),
        ],
        "ok",
    )
        .into_response()
}
