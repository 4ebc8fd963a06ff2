//! `spawn_app()` and friends.

use secrecy::ExposeSecret;
use serde_json::Value;
use std::path::PathBuf;
use tempfile::TempDir;
use tessera_jose::JwkSet;
use tessera_proto::{ClientAuthMethod, GrantType, TokenFormat};
use tessera_server::client_secret;
use tessera_server::config::Config;
use tessera_server::model::{Client, Scope, now};
use tessera_server::startup::Application;
use tessera_server::state::SharedState;
use tokio::sync::oneshot;

/// A running server.
pub struct TestApp {
    pub base: String,
    pub state: SharedState,
    pub http: reqwest::Client,
    pub admin_id: String,
    pub admin_secret: String,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: Option<TempDir>,
}

/// What a test client looks like; defaults to a client-credentials client with Basic auth.
#[derive(Clone)]
pub struct ClientSpec {
    pub client_id: String,
    pub method: ClientAuthMethod,
    /// Several methods; `method` alone when absent.
    pub methods: Option<Vec<ClientAuthMethod>>,
    pub require_pkce: Option<bool>,
    pub grant_types: Vec<GrantType>,
    pub allowed_scopes: Vec<String>,
    pub default_scopes: Vec<String>,
    pub audiences: Vec<String>,
    pub format: Option<TokenFormat>,
    pub lifetime: Option<u64>,
    pub jwks: Option<JwkSet>,
    pub jwks_uri: Option<String>,
    pub signing_alg: Option<tessera_jose::Algorithm>,
    pub auth_signing_alg: Option<tessera_jose::Algorithm>,
    pub extra_claims: serde_json::Map<String, Value>,
    pub enabled: bool,
    pub redirect_uris: Vec<String>,
}

impl ClientSpec {
    pub fn new(id: &str) -> Self {
        Self {
            client_id: id.to_owned(),
            method: ClientAuthMethod::ClientSecretBasic,
            methods: None,
            require_pkce: None,
            grant_types: vec![GrantType::ClientCredentials],
            allowed_scopes: vec![],
            default_scopes: vec![],
            audiences: vec![],
            format: None,
            lifetime: None,
            jwks: None,
            jwks_uri: None,
            signing_alg: None,
            auth_signing_alg: None,
            extra_claims: Default::default(),
            enabled: true,
            redirect_uris: vec![],
        }
    }
    pub fn method(mut self, m: ClientAuthMethod) -> Self {
        self.method = m;
        self
    }
    pub fn scopes(mut self, allowed: &[&str], default: &[&str]) -> Self {
        self.allowed_scopes = allowed.iter().map(|s| (*s).to_owned()).collect();
        self.default_scopes = default.iter().map(|s| (*s).to_owned()).collect();
        self
    }
    pub fn audiences(mut self, a: &[&str]) -> Self {
        self.audiences = a.iter().map(|s| (*s).to_owned()).collect();
        self
    }
    pub fn format(mut self, f: TokenFormat) -> Self {
        self.format = Some(f);
        self
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(f: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    config.http.shutdown_grace_secs = 5;
    // TESSERA_TEST_BACKEND=postgres runs the whole suite on a fresh PostgreSQL database per test.
    if std::env::var("TESSERA_TEST_BACKEND").as_deref() == Ok("postgres") {
        let url = crate::pg::fresh_database().await;
        config.database.url = Some(secrecy::SecretString::from(url));
    }
    f(&mut config);
    let mut app = start(config).await;
    app._dir = Some(dir);
    app
}

/// Starts a server on an existing configuration (for restart tests).
pub async fn start(config: Config) -> TestApp {
    let data_dir = config.data_dir.clone();
    let app = Application::build(config).await.expect("server starts");
    let state = app.state();
    // Requests go to this instance's own address (the issuer may name another one).
    let base = format!("http://{}", app.local_addr());
    let creds: Value = serde_json::from_slice(
        &std::fs::read(state.config.credentials_file()).expect("credential file"),
    )
    .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        state,
        http: reqwest::Client::new(),
        admin_id: creds["client_id"].as_str().unwrap().to_owned(),
        admin_secret: creds["client_secret"].as_str().unwrap().to_owned(),
        data_dir,
        stop: Some(stop),
        task: Some(task),
        _dir: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn token_url(&self) -> String {
        self.url("/oauth2/token")
    }

    /// Stops the server and waits for it; keeps the data directory.
    pub async fn stop(mut self) -> Option<TempDir> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self._dir.take()
    }

    pub async fn register_scope(&self, name: &str) {
        let t = now();
        let s = Scope {
            name: name.to_owned(),
            description: format!("test scope {name}"),
            permissions: vec![format!("GET /{name}")],
            created_at: t,
            updated_at: t,
        };
        self.state.store.insert_scope(&s).await.unwrap();
        self.state
            .registry
            .reload_scopes(&self.state.store)
            .await
            .unwrap();
    }

    /// Registers a client straight in the store; returns its secret.
    pub async fn register_client(&self, spec: ClientSpec) -> String {
        let t = now();
        for s in &spec.allowed_scopes {
            if self.state.registry.scope(s).is_none() {
                self.register_scope(s).await;
            }
        }
        let c = Client {
            client_id: spec.client_id.clone(),
            name: format!("test {}", spec.client_id),
            description: String::new(),
            enabled: spec.enabled,
            grant_types: spec.grant_types,
            redirect_uris: spec.redirect_uris,
            allowed_scopes: spec.allowed_scopes,
            default_scopes: spec.default_scopes,
            token_endpoint_auth_methods: spec.methods.clone().unwrap_or_else(|| vec![spec.method]),
            token_endpoint_auth_signing_alg: spec.auth_signing_alg,
            jwks: spec.jwks,
            jwks_uri: spec.jwks_uri,
            access_token_format: spec.format,
            access_token_lifetime: spec.lifetime,
            access_token_signing_alg: spec.signing_alg,
            audiences: spec.audiences,
            require_pkce: spec.require_pkce,
            extra_claims: spec.extra_claims,
            created_at: t,
            updated_at: t,
        };
        let (secret, row) =
            client_secret::generate(&self.state.keys, &c.client_id, c.secret_recoverable())
                .unwrap();
        self.state
            .store
            .insert_client(&c, Some(&row))
            .await
            .unwrap();
        self.state
            .registry
            .reload_client(&self.state.store, &self.state.keys, &c.client_id)
            .await
            .unwrap();
        secret.expose_secret().to_owned()
    }

    /// POSTs a form to the token endpoint with optional Basic credentials (RFC 6749 encoding).
    pub async fn token(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(tessera_proto::form::encode(form.iter().copied()));
        if let Some((id, secret)) = basic {
            req = req.header("authorization", tessera_proto::basic::encode(id, secret));
        }
        req.send().await.unwrap()
    }

    /// Gets a token by client credentials and Basic; panics unless 200.
    pub async fn cc_token(&self, id: &str, secret: &str, extra: &[(&str, &str)]) -> Value {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        let r = self.token(&form, Some((id, secret))).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn form_post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(tessera_proto::form::encode(form.iter().copied()));
        if let Some((id, secret)) = basic {
            req = req.header("authorization", tessera_proto::basic::encode(id, secret));
        }
        req.send().await.unwrap()
    }

    /// An admin API token from the bootstrap credential.
    pub async fn admin_token(&self) -> String {
        let id = self.admin_id.clone();
        let secret = self.admin_secret.clone();
        let t = self.cc_token(&id, &secret, &[]).await;
        t["access_token"].as_str().unwrap().to_owned()
    }
}

/// Asserts an OAuth error: status, `error`, a non-empty description, and no-store caching.
pub async fn assert_oauth_error(
    resp: reqwest::Response,
    status: u16,
    code: &str,
) -> reqwest::header::HeaderMap {
    let got = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(got, status, "body: {body}");
    assert_eq!(body["error"], code, "body: {body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "missing error_description: {body}"
    );
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert!(
        headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    headers
}

/// Decodes a JWT's payload without verifying it.
pub fn jwt_claims(token: &str) -> Value {
    let jws = tessera_jose::UnverifiedJws::parse(token).unwrap();
    jws.claims().unwrap()
}
