//! A small token endpoint and API on axum, bound to 127.0.0.1:0, that records every request and
#![allow(dead_code)]
//! answers as each test tells it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tessera_client::{Credential, Endpoint, SecretString, TokenCache, TokenSource};

/// One request the mock received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub at: Instant,
    pub headers: HeaderMap,
    pub form: Vec<(String, String)>,
}

impl Recorded {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the mock answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
    pub fn token(value: &str, expires_in: u64) -> Self {
        Self::json(
            200,
            serde_json::json!({"access_token": value, "token_type": "Bearer", "expires_in": expires_in}),
        )
    }
    pub fn raw(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
    pub fn with_header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    fn into_response(self) -> Response {
        let mut resp = (
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            self.body,
        )
            .into_response();
        // A header given once replaces axum's; one given several times is sent several times.
        let mut set: Vec<HeaderName> = Vec::new();
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                if set.contains(&k) {
                    resp.headers_mut().append(k, v);
                } else {
                    set.push(k.clone());
                    resp.headers_mut().insert(k, v);
                }
            }
        }
        resp
    }
}

/// Token endpoint behaviour: the request and its 0-based index.
pub type TokenFn = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;
/// API behaviour: the bearer token (if any) and the request's 0-based index.
pub type ApiFn = dyn Fn(Option<&str>, usize) -> Reply + Send + Sync;

pub struct MockState {
    pub token_requests: AtomicUsize,
    pub api_requests: AtomicUsize,
    pub recorded: Mutex<Vec<Recorded>>,
    pub api_tokens: Mutex<Vec<Option<String>>>,
    token_fn: Mutex<Arc<TokenFn>>,
    api_fn: Mutex<Arc<ApiFn>>,
    pub metadata: Mutex<Option<serde_json::Value>>,
}

pub struct Mock {
    pub base: String,
    pub state: Arc<MockState>,
}

impl Mock {
    /// Starts a mock whose token endpoint issues `tok-N` for an hour.
    pub async fn start() -> Self {
        let state = Arc::new(MockState {
            token_requests: AtomicUsize::new(0),
            api_requests: AtomicUsize::new(0),
            recorded: Mutex::new(Vec::new()),
            api_tokens: Mutex::new(Vec::new()),
            token_fn: Mutex::new(Arc::new(|_, n| Reply::token(&format!("tok-{n}"), 3600))),
            api_fn: Mutex::new(Arc::new(|t, _| match t {
                Some(_) => Reply::raw(200, "text/plain", "ok"),
                None => Reply::raw(401, "text/plain", "no token"),
            })),
            metadata: Mutex::new(None),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/api", any(api))
            .route("/.well-known/openid-configuration", get(metadata))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base: format!("http://{addr}"),
            state,
        }
    }

    pub fn on_token(&self, f: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) {
        *self.state.token_fn.lock() = Arc::new(f);
    }

    pub fn on_api(&self, f: impl Fn(Option<&str>, usize) -> Reply + Send + Sync + 'static) {
        *self.state.api_fn.lock() = Arc::new(f);
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.base)
    }

    pub fn api_url(&self) -> String {
        format!("{}/api", self.base)
    }

    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.state.recorded.lock().clone()
    }

    /// A client_secret_basic credential for this mock's token endpoint.
    pub fn credential(&self, id: &str, secret: &str) -> Credential {
        Credential::builder(Endpoint::token_endpoint(&self.token_url()).unwrap(), id)
            .client_secret(SecretString::from(secret))
            .build()
            .unwrap()
    }

    /// A source on a private cache, with fast retries.
    pub fn source(&self, credential: Credential) -> TokenSource {
        TokenSource::builder(credential)
            .cache(TokenCache::new())
            .retry(fast_retry())
            .build()
            .unwrap()
    }
}

pub fn fast_retry() -> tessera_client::RetryPolicy {
    tessera_client::RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(400),
        multiplier: 2.0,
        max_retry_after: Duration::from_secs(5),
    }
}

async fn token(State(s): State<Arc<MockState>>, headers: HeaderMap, body: Bytes) -> Response {
    let n = s.token_requests.fetch_add(1, Ordering::SeqCst);
    let form = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let rec = Recorded {
        at: Instant::now(),
        headers,
        form,
    };
    s.recorded.lock().push(rec.clone());
    let f = Arc::clone(&s.token_fn.lock());
    let reply = f(&rec, n);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    reply.into_response()
}

async fn api(State(s): State<Arc<MockState>>, headers: HeaderMap) -> Response {
    let n = s.api_requests.fetch_add(1, Ordering::SeqCst);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    s.api_tokens.lock().push(bearer.clone());
    let f = Arc::clone(&s.api_fn.lock());
    f(bearer.as_deref(), n).into_response()
}

async fn metadata(State(s): State<Arc<MockState>>) -> Response {
    match s.metadata.lock().clone() {
        Some(m) => Reply::json(200, m).into_response(),
        None => Reply::raw(404, "text/plain", "not found").into_response(),
    }
}

/// Polls `cond` until it holds or `deadline` passes.
pub async fn eventually(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cond()
}
