//! A Tessera authorization server in this process, on 127.0.0.1:0, with clients registered
//! straight in its store. Also used by `crates/tessera-client/tests/against_tessera.rs`.

use secrecy::ExposeSecret;
use std::time::Duration;
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
pub struct Tessera {
    pub base: String,
    pub state: SharedState,
    stop: Option<oneshot::Sender<()>>,
    _dir: TempDir,
}

impl Drop for Tessera {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A client to register; a client-credentials client with Basic by default.
#[derive(Clone)]
pub struct ClientSpec {
    pub client_id: String,
    pub secret: Option<String>,
    pub method: ClientAuthMethod,
    pub allowed_scopes: Vec<String>,
    pub default_scopes: Vec<String>,
    pub audiences: Vec<String>,
    pub format: Option<TokenFormat>,
    pub lifetime: Option<u64>,
    pub jwks: Option<JwkSet>,
}

impl ClientSpec {
    pub fn new(id: &str) -> Self {
        Self {
            client_id: id.to_owned(),
            secret: None,
            method: ClientAuthMethod::ClientSecretBasic,
            allowed_scopes: vec![],
            default_scopes: vec![],
            audiences: vec![],
            format: None,
            lifetime: None,
            jwks: None,
        }
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
    pub fn lifetime(mut self, secs: u64) -> Self {
        self.lifetime = Some(secs);
        self
    }
    pub fn opaque(mut self) -> Self {
        self.format = Some(TokenFormat::Opaque);
        self
    }
    pub fn method(mut self, m: ClientAuthMethod) -> Self {
        self.method = m;
        self
    }
    pub fn secret(mut self, s: &str) -> Self {
        self.secret = Some(s.to_owned());
        self
    }
    pub fn jwks(mut self, set: JwkSet) -> Self {
        self.jwks = Some(set);
        self
    }
}

pub async fn tessera() -> Tessera {
    tessera_with(|_| {}).await
}

/// A server whose configuration `f` adjusts (for example its issuer).
pub async fn tessera_with(f: impl FnOnce(&mut Config)) -> Tessera {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    config.http.shutdown_grace_secs = 1;
    f(&mut config);
    let app = Application::build(config).await.expect("tessera starts");
    let state = app.state();
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Tessera {
        base,
        state,
        stop: Some(stop),
        _dir: dir,
    }
}

impl Tessera {
    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.base)
    }

    pub async fn register_scope(&self, name: &str) {
        if self.state.registry.scope(name).is_some() {
            return;
        }
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

    /// Registers a client in the store; returns its secret.
    pub async fn register_client(&self, spec: ClientSpec) -> String {
        for s in &spec.allowed_scopes {
            self.register_scope(s).await;
        }
        let t = now();
        let c = Client {
            client_id: spec.client_id.clone(),
            name: format!("test {}", spec.client_id),
            description: String::new(),
            enabled: true,
            grant_types: vec![GrantType::ClientCredentials],
            redirect_uris: vec![],
            allowed_scopes: spec.allowed_scopes,
            default_scopes: spec.default_scopes,
            token_endpoint_auth_methods: vec![spec.method],
            token_endpoint_auth_signing_alg: None,
            jwks: spec.jwks,
            jwks_uri: None,
            access_token_format: spec.format,
            access_token_lifetime: spec.lifetime,
            access_token_signing_alg: None,
            audiences: spec.audiences,
            require_pkce: None,
            extra_claims: Default::default(),
            created_at: t,
            updated_at: t,
        };
        let (secret, row) = match &spec.secret {
            Some(s) => (
                s.clone(),
                client_secret::stored(
                    &self.state.keys,
                    &c.client_id,
                    c.secret_recoverable(),
                    s,
                    false,
                )
                .unwrap(),
            ),
            None => {
                let (s, row) =
                    client_secret::generate(&self.state.keys, &c.client_id, c.secret_recoverable())
                        .unwrap();
                (s.expose_secret().to_owned(), row)
            }
        };
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
        secret
    }

    /// Replaces the grant types a registered client may use (clients are registered with
    /// `client_credentials` only).
    pub async fn set_grant_types(&self, client_id: &str, grants: &[GrantType]) {
        let mut c = self.state.store.get_client(client_id).await.unwrap();
        c.grant_types = grants.to_vec();
        self.state.store.update_client(&c).await.unwrap();
        self.state
            .registry
            .reload_client(&self.state.store, &self.state.keys, client_id)
            .await
            .unwrap();
    }

    /// Enables or disables a registered client, as `POST /clients/{id}/enable|disable` does.
    pub async fn set_enabled(&self, client_id: &str, enabled: bool) {
        let mut c = self.state.store.get_client(client_id).await.unwrap();
        c.enabled = enabled;
        self.state.store.update_client(&c).await.unwrap();
        self.state
            .registry
            .reload_client(&self.state.store, &self.state.keys, client_id)
            .await
            .unwrap();
    }

    /// A token by client credentials and Basic.
    pub async fn token(&self, id: &str, secret: &str, extra: &[(&str, &str)]) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        let r = reqwest::Client::new()
            .post(self.token_endpoint())
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Successful token requests of `client_id`, as the server counts them
    /// (`tessera_token_requests_total`).
    pub async fn token_requests(&self, client_id: &str) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metric_sum(
            &text,
            "tessera_token_requests_total",
            &[&format!("client=\"{client_id}\""), "outcome=\"success\""],
        )
    }

    /// Rotates the ES256 signing key: the new key signs at once.
    pub async fn rotate_keys(&self) -> Vec<String> {
        self.state
            .keyring
            .rotate(
                &self.state.store,
                &self.state.keys,
                &[tessera_jose::Algorithm::ES256],
                0,
                600,
            )
            .await
            .unwrap()
    }
}

/// The sum of the samples of `name` whose labels contain every one of `labels`.
pub fn metric_sum(text: &str, name: &str, labels: &[&str]) -> u64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Polls `check` until it returns `Some`, or panics after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `kid` of a JWS, read without verifying.
pub fn jws_kid(token: &str) -> String {
    let jws = tessera_jose::UnverifiedJws::parse(token).unwrap();
    jws.header.kid.clone().unwrap()
}
