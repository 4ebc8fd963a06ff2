//! A small authorization server for the tests (discovery, JWKS, introspection, each counting its
//! calls and able to fail on demand), token minting with tessera-jose, and a protected axum app.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tessera_guard::{Guard, GuardConfig, VerifiedToken};
use tessera_jose::{Algorithm, Jwk, SigningKey};

pub const AUD: &str = "https://api.example";
pub const READ: &str = "core.accounting.read";
pub const WRITE: &str = "core.accounting.write";
pub const RS_ID: &str = "guard-rs";
pub const RS_SECRET: &str = "guard-rs-secret";

/// Serves `router` on 127.0.0.1:0 and returns its address.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// Polls `check` until it is true or `deadline` passes.
pub async fn eventually<F, Fut>(deadline: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = Instant::now() + deadline;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Random base64url text.
pub fn random_id() -> String {
    let mut b = [0u8; 12];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    tessera_jose::b64_encode(&b)
}

#[derive(Default)]
pub struct IdpState {
    pub issuer: Mutex<String>,
    /// The issuer the metadata claims (to test the RFC 8414 §3.3 check); the real one when empty.
    pub metadata_issuer: Mutex<Option<String>>,
    pub keys: Mutex<Vec<Jwk>>,
    pub cache_control: Mutex<Option<String>>,
    pub jwks_down: AtomicBool,
    pub introspection_down: AtomicBool,
    pub jwks_fetches: AtomicUsize,
    pub discovery_fetches: AtomicUsize,
    pub introspections: AtomicUsize,
    /// Opaque token → introspection answer.
    pub opaque: Mutex<HashMap<String, Value>>,
}

/// The test authorization server.
#[derive(Clone)]
pub struct Idp {
    pub issuer: String,
    pub state: Arc<IdpState>,
}

impl Idp {
    pub async fn start() -> Self {
        let state = Arc::new(IdpState::default());
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(metadata))
            .route("/jwks", get(jwks))
            .route("/introspect", post(introspect))
            .with_state(Arc::clone(&state));
        let addr = serve(router).await;
        let issuer = format!("http://{addr}");
        *state.issuer.lock() = issuer.clone();
        Self { issuer, state }
    }

    /// Publishes the public half of `key`.
    pub fn publish(&self, key: &SigningKey) {
        self.state.keys.lock().push(key.public_jwk().unwrap());
    }

    /// Withdraws the key with this `kid`.
    pub fn withdraw(&self, kid: &str) {
        self.state
            .keys
            .lock()
            .retain(|k| k.kid.as_deref() != Some(kid));
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn introspections(&self) -> usize {
        self.state.introspections.load(Ordering::SeqCst)
    }

    pub fn set_jwks_down(&self, down: bool) {
        self.state.jwks_down.store(down, Ordering::SeqCst);
    }

    pub fn set_introspection_down(&self, down: bool) {
        self.state.introspection_down.store(down, Ordering::SeqCst);
    }

    pub fn set_opaque(&self, token: &str, answer: Value) {
        self.state.opaque.lock().insert(token.to_owned(), answer);
    }

    /// A guard config for this server's tokens.
    pub fn config(&self) -> GuardConfig {
        GuardConfig::new(&self.issuer).audience(AUD)
    }

    /// Standard RFC 9068 claims for `AUD` with scope `core.accounting.read`.
    pub fn claims(&self) -> Map<String, Value> {
        let n = now();
        let Value::Object(m) = json!({
            "iss": self.issuer,
            "sub": "client-1",
            "client_id": "client-1",
            "aud": AUD,
            "exp": n + 300,
            "iat": n,
            "jti": random_id(),
            "scope": READ,
        }) else {
            unreachable!()
        };
        m
    }
}

async fn metadata(State(s): State<Arc<IdpState>>) -> Json<Value> {
    s.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let issuer = s.issuer.lock().clone();
    let claimed = s
        .metadata_issuer
        .lock()
        .clone()
        .unwrap_or_else(|| issuer.clone());
    Json(json!({
        "issuer": claimed,
        "jwks_uri": format!("{issuer}/jwks"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "token_endpoint": format!("{issuer}/token"),
    }))
}

async fn jwks(State(s): State<Arc<IdpState>>) -> Response {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if s.jwks_down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys = s.keys.lock().clone();
    let mut resp = Json(json!({ "keys": keys })).into_response();
    if let Some(cc) = s.cache_control.lock().clone() {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, cc.parse().unwrap());
    }
    resp
}

async fn introspect(
    State(s): State<Arc<IdpState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.introspections.fetch_add(1, Ordering::SeqCst);
    if s.introspection_down.load(Ordering::SeqCst) {
        return StatusCode::BAD_GATEWAY.into_response();
    }
    let expected = tessera_proto::basic::encode(RS_ID, RS_SECRET);
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    if form.get("token_type_hint").map(String::as_str) != Some("access_token") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let answer = s
        .opaque
        .lock()
        .get(&token)
        .cloned()
        .unwrap_or_else(|| json!({"active": false}));
    Json(answer).into_response()
}

/// An ES256 key with a fresh `kid`.
pub fn es256() -> SigningKey {
    SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid(random_id())
}

/// Signs `claims` as an `at+jwt`.
pub fn mint(key: &SigningKey, claims: &Map<String, Value>) -> String {
    key.encode(Some("at+jwt"), claims).unwrap()
}

/// What the protected handlers answer: the verified claims.
async fn show(token: VerifiedToken) -> Json<Value> {
    Json(json!({
        "sub": token.subject(),
        "client_id": token.client_id(),
        "scope": token.scopes().to_string(),
        "aud": token.audience(),
        "exp": token.expires_at_unix(),
        "jti": token.claim("jti"),
    }))
}

async fn unguarded(token: VerifiedToken) -> String {
    format!("{:?}", token.subject())
}

/// What `/accounting/form` answers: the subject and the body the handler was handed.
async fn echo_body(token: VerifiedToken, body: axum::body::Bytes) -> Json<Value> {
    Json(json!({
        "sub": token.subject(),
        "body": String::from_utf8_lossy(&body),
    }))
}

/// The protected API: `/accounting` needs `core.accounting.read` (and `/accounting/form`, POST,
/// echoes the body), `/accounting/entries` (POST) needs read and write, `/whoami` any valid token,
/// `/unguarded` has the extractor but no layer.
pub fn api(guard: &Guard) -> Router {
    let read = Router::new()
        .route("/accounting", get(show).post(show))
        .route("/accounting/form", post(echo_body))
        .route_layer(guard.require(&[READ]));
    let write = Router::new()
        .route("/accounting/entries", post(show))
        .route_layer(guard.require(&[READ, WRITE]));
    let any = Router::new()
        .route("/whoami", get(show))
        .route_layer(guard.layer());
    read.merge(write)
        .merge(any)
        .route("/unguarded", get(unguarded))
}

/// Starts a guard for `idp` and serves the API; returns the API's base URL.
pub async fn api_for(guard: &Guard) -> String {
    format!("http://{}", serve(api(guard)).await)
}
