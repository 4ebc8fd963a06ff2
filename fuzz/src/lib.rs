//! What the fuzz targets share: a real authorization server (SQLite in a temporary folder, a
//! setup file of known clients and scopes) built once per fuzzing process, one request through
//! its router, and the checks every OAuth error answer must pass.

use axum::body::Body;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use std::sync::OnceLock;
use tessera_server::state::SharedState;

/// The issuer of the fuzzed server (fixed, so seeds can name it in `aud`).
pub const ISSUER: &str = "http://fuzz.tessera.test";
/// The token endpoint of the fuzzed server.
pub const TOKEN_ENDPOINT: &str = "http://fuzz.tessera.test/oauth2/token";

/// `client_secret_basic` client (client credentials).
pub const BASIC_CLIENT: &str = "fz-basic";
/// `client_secret_post` client (client credentials).
pub const POST_CLIENT: &str = "fz-post";
/// `client_secret_jwt` client (client credentials).
pub const JWT_CLIENT: &str = "fz-jwt";
/// Public client: authorization code with PKCE, refresh tokens.
pub const WEB_CLIENT: &str = "fz-web";
/// Confidential client: authorization code, two redirect URIs.
pub const CONF_WEB_CLIENT: &str = "fz-conf-web";
/// Public client: device authorization grant.
pub const DEVICE_CLIENT: &str = "fz-device";
/// The secret of every secret-using client (the seeds use it).
pub const SECRET: &str = "fuzz-secret-0123456789-abcdefghijklmnop";
/// The redirect URIs of [`WEB_CLIENT`] and [`CONF_WEB_CLIENT`].
pub const REDIRECT_URIS: [&str; 2] = ["https://app.example/cb", "http://127.0.0.1/cb"];

const SETUP: &str = r#"
[[scopes]]
name = "svc.data.read"
[[scopes]]
name = "svc.data.write"

[[clients]]
client_id = "fz-basic"
name = "fuzz basic"
grant_types = ["client_credentials"]
allowed_scopes = ["svc.data.read", "svc.data.write"]
default_scopes = ["svc.data.read"]
audiences = ["https://api.example/"]
secret_file = "secret"

[[clients]]
client_id = "fz-post"
name = "fuzz post"
token_endpoint_auth_method = "client_secret_post"
grant_types = ["client_credentials"]
allowed_scopes = ["svc.data.read"]
secret_file = "secret"

[[clients]]
client_id = "fz-jwt"
name = "fuzz jwt"
token_endpoint_auth_method = "client_secret_jwt"
grant_types = ["client_credentials"]
allowed_scopes = ["svc.data.read"]
secret_file = "secret"

[[clients]]
client_id = "fz-web"
name = "fuzz web"
token_endpoint_auth_method = "none"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["https://app.example/cb"]
allowed_scopes = ["openid", "svc.data.read"]

[[clients]]
client_id = "fz-conf-web"
name = "fuzz confidential web"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["https://app.example/cb", "http://127.0.0.1/cb"]
allowed_scopes = ["openid", "svc.data.read", "svc.data.write"]
secret_file = "secret"

[[clients]]
client_id = "fz-device"
name = "fuzz device"
token_endpoint_auth_method = "none"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]
allowed_scopes = ["svc.data.read"]
"#;

/// A server built once per process, and the runtime its futures run on.
pub struct Server {
    /// The runtime every request is driven on.
    pub rt: tokio::runtime::Runtime,
    /// The server's state.
    pub state: SharedState,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

/// An answer, read whole.
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

/// The server of this process, built on first use. Building it cannot fail on a working machine:
/// a failure is a broken harness and aborts at once.
#[allow(clippy::expect_used)]
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::write(dir.path().join("secret"), SECRET).expect("secret file");
        std::fs::write(dir.path().join("setup.toml"), SETUP).expect("setup file");
        let mut config = tessera_server::config::Config {
            listen: ([127, 0, 0, 1], 0).into(),
            issuer: Some(ISSUER.to_owned()),
            data_dir: dir.path().join("data"),
            setup_file: Some(dir.path().join("setup.toml")),
            ..Default::default()
        };
        config.http.request_timeout_secs = 60;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let app = rt
            .block_on(tessera_server::startup::Application::build(config))
            .expect("the fuzzed server starts");
        let state = app.state();
        drop(app);
        let router = tessera_server::app::router(state.clone());
        Server {
            rt,
            state,
            router,
            _dir: dir,
        }
    })
}

impl Server {
    /// Sends `req` through the server's router and reads the whole answer.
    #[allow(clippy::expect_used)]
    pub fn call(&self, req: Request<Body>) -> Answer {
        use tower::ServiceExt as _;
        self.rt.block_on(async {
            let resp = self
                .router
                .clone()
                .oneshot(req)
                .await
                .expect("the router is infallible");
            let (parts, body) = resp.into_parts();
            let body = body
                .collect()
                .await
                .expect("an answer body is in memory")
                .to_bytes()
                .to_vec();
            Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            }
        })
    }

    /// `POST path` with a form body and, when given, an `Authorization` header value (any bytes
    /// a header may hold; others are left out).
    #[allow(clippy::expect_used)]
    pub fn post_form(&self, path: &str, authorization: Option<&[u8]>, body: &[u8]) -> Answer {
        let mut req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_vec()))
            .expect("a valid request");
        if let Some(a) = authorization.and_then(|a| http::HeaderValue::from_bytes(a).ok()) {
            req.headers_mut().insert(header::AUTHORIZATION, a);
        }
        self.call(req)
    }
}

/// The error codes a token, device authorization, introspection or revocation endpoint may answer
/// with (RFC 6749 §5.2, RFC 8628 §3.5, RFC 8707 §2, RFC 7009 §2.2.1).
pub const TOKEN_ERRORS: [&str; 12] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    "unsupported_token_type",
];

/// Asserts that `a` is an OAuth error answer as RFC 6749 §5.2 describes it: a 4xx status (never
/// 5xx), a JSON body whose `error` is one of `codes`, `no-store`, a `WWW-Authenticate` challenge
/// only on 401 (and only Basic), and a `Retry-After` on 429.
pub fn assert_oauth_error(a: &Answer, codes: &[&str]) {
    assert!(
        a.status.is_client_error(),
        "answered {} (must be 2xx or 4xx): {}",
        a.status,
        String::from_utf8_lossy(&a.body)
    );
    let body: serde_json::Value = match serde_json::from_slice(&a.body) {
        Ok(v) => v,
        Err(e) => panic!(
            "a {} answer is not JSON ({e}): {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        ),
    };
    let code = body.get("error").and_then(|v| v.as_str()).unwrap_or("");
    assert!(
        codes.contains(&code),
        "error code {code:?} (status {}) is not one of {codes:?}",
        a.status
    );
    assert_eq!(
        a.headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "an OAuth error answer without Cache-Control: no-store"
    );
    // RFC 6749 §5.2: a Basic challenge answers a client that tried Basic, on a 401 only.
    if let Some(challenge) = a.headers.get(header::WWW_AUTHENTICATE) {
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "a challenge on a non-401"
        );
        assert!(
            challenge.as_bytes().starts_with(b"Basic "),
            "a challenge other than Basic: {challenge:?}"
        );
    }
    if a.status == StatusCode::TOO_MANY_REQUESTS {
        assert!(
            a.headers.contains_key(header::RETRY_AFTER),
            "429 without Retry-After"
        );
    }
}

/// Splits `data` at its first `\n`: the first line and the rest (empty when there is no `\n`).
pub fn first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Form parsing's round-trip: a body that parses, encoded again from its pairs, parses to the same
/// pairs (so what the server read is what the encoding says).
pub fn assert_form_round_trip(form: &tessera_proto::FormParams) {
    let pairs: Vec<(String, String)> = form
        .pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let encoded = tessera_proto::form::encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let again = match tessera_proto::FormParams::parse(encoded.as_bytes()) {
        Ok(f) => f,
        Err(e) => panic!("a re-encoded form does not parse: {e}: {encoded:?}"),
    };
    let again: Vec<(String, String)> = again
        .pairs()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(pairs, again, "form round-trip changed the pairs");
}
