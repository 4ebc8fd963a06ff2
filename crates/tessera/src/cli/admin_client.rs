//! The admin API's HTTP client for `tessera client|scope|audit|key`: gets a token with the client
//! credentials grant (RFC 6749 §4.4, Basic authentication per §2.3.1) from the server's token
//! endpoint, then calls `/admin/api/v1/…` with it. Works against a remote server as well as the
//! local one.

use anyhow::{Context, anyhow, bail};
use clap::Args;
use reqwest::{Method, StatusCode, Url};
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_server::bootstrap::ADMIN_AUDIENCE;

/// Where the default server listens.
pub(crate) const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
/// The data folder of `tessera serve` when none is configured.
pub(crate) const DEFAULT_DATA_DIR: &str = "./tessera-data";
/// The bootstrap credential's name in the server's data folder.
pub(crate) const CREDENTIALS_FILE_NAME: &str = "admin-credentials.json";

/// Options shared by every admin command; each may also be given before the subcommand
/// (`tessera --server URL client list`, see [`crate::cli::Cli`]).
#[derive(Debug, Clone, Args)]
pub(crate) struct AdminOptions {
    /// The Tessera server's base URL.
    #[arg(long, global = true, env = "TESSERA_URL", default_value = DEFAULT_SERVER, value_name = "URL")]
    pub(crate) server: String,
    /// A credential file (JSON with client_id and client_secret), such as the bootstrap file
    /// `tessera serve` writes [env: TESSERA_ADMIN_CREDENTIALS]. Default: admin-credentials.json in
    /// the server's data folder (--data-dir), unless TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET
    /// are set.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) admin_credentials: Option<PathBuf>,
    /// The data folder of the server (its `data_dir`), where `tessera serve` writes the bootstrap
    /// credential [env: TESSERA_DATA_DIR; default ./tessera-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<String>,
    /// Print the server's JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// An admin client id and secret.
#[derive(Deserialize)]
struct Credential {
    client_id: String,
    client_secret: SecretString,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Where the admin credential file is looked for, and what chose that place: the first of
/// --admin-credentials, TESSERA_ADMIN_CREDENTIALS, TESSERA_ADMIN_CREDENTIALS_FILE (the server's
/// own `admin.credentials_file`), --data-dir, TESSERA_DATA_DIR, and ./tessera-data.
fn credential_file(opts: &AdminOptions) -> (PathBuf, &'static str) {
    if let Some(p) = &opts.admin_credentials {
        return (p.clone(), "from --admin-credentials");
    }
    for (var, from) in [
        (
            "TESSERA_ADMIN_CREDENTIALS",
            "from TESSERA_ADMIN_CREDENTIALS",
        ),
        (
            "TESSERA_ADMIN_CREDENTIALS_FILE",
            "from TESSERA_ADMIN_CREDENTIALS_FILE",
        ),
    ] {
        if let Some(p) = env_nonempty(var) {
            return (PathBuf::from(p), from);
        }
    }
    if let Some(dir) = &opts.data_dir {
        return (Path::new(dir).join(CREDENTIALS_FILE_NAME), "in --data-dir");
    }
    if let Some(dir) = env_nonempty("TESSERA_DATA_DIR") {
        return (
            Path::new(&dir).join(CREDENTIALS_FILE_NAME),
            "in TESSERA_DATA_DIR",
        );
    }
    (
        Path::new(DEFAULT_DATA_DIR).join(CREDENTIALS_FILE_NAME),
        "the default, as none of --admin-credentials, --data-dir, TESSERA_ADMIN_CREDENTIALS or \
         TESSERA_DATA_DIR is set",
    )
}

fn load_credential(opts: &AdminOptions) -> anyhow::Result<Credential> {
    let (path, chosen_by) = credential_file(opts);
    let explicit = opts.admin_credentials.is_some()
        || opts.data_dir.is_some()
        || env_nonempty("TESSERA_ADMIN_CREDENTIALS").is_some()
        || env_nonempty("TESSERA_ADMIN_CREDENTIALS_FILE").is_some();
    if !explicit {
        match (
            env_nonempty("TESSERA_CLIENT_ID"),
            env_nonempty("TESSERA_CLIENT_SECRET"),
        ) {
            (Some(id), Some(secret)) => {
                return Ok(Credential {
                    client_id: id,
                    client_secret: SecretString::from(secret),
                });
            }
            (Some(_), None) | (None, Some(_)) => {
                bail!("set both TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET, or neither");
            }
            (None, None) => {}
        }
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        // A relative path is also shown as the absolute path it was tried at.
        let tried = std::path::absolute(&path)
            .ok()
            .filter(|abs| abs != &path)
            .map(|abs| format!(", that is {}", abs.display()))
            .unwrap_or_default();
        anyhow!(
            "cannot read the admin credential {}{tried} ({chosen_by}): {e}. \
             tessera serve writes {CREDENTIALS_FILE_NAME} into its data folder on first start; \
             from another folder, name that folder with --data-dir DIR or TESSERA_DATA_DIR, or \
             the file with --admin-credentials FILE or TESSERA_ADMIN_CREDENTIALS (or set \
             TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "the admin credential {} is not JSON with client_id and client_secret: {e}",
            path.display()
        )
    })
}

/// An authenticated connection to the admin API.
#[derive(Debug)]
pub(crate) struct AdminClient {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
}

/// The error sentence of a JSON error body (`error_description`, else `error`), or the status.
fn error_text(status: StatusCode, body: &str) -> String {
    let v: Option<Value> = serde_json::from_str(body).ok();
    let code = v
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_str);
    let description = v
        .as_ref()
        .and_then(|v| v.get("error_description"))
        .and_then(Value::as_str);
    match (description, code) {
        (Some(d), Some(c)) => format!("{d} ({c}, HTTP {})", status.as_u16()),
        (Some(d), None) => format!("{d} (HTTP {})", status.as_u16()),
        (None, Some(c)) => format!("{c} (HTTP {})", status.as_u16()),
        (None, None) => format!("the server answered HTTP {}", status),
    }
}

impl AdminClient {
    /// Reads the credential, gets an admin token and returns a client of the admin API.
    pub(crate) async fn connect(opts: &AdminOptions) -> anyhow::Result<Self> {
        let base = Url::parse(opts.server.trim_end_matches('/'))
            .with_context(|| format!("--server {:?} is not a URL", opts.server))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            bail!(
                "--server {:?} must be an http:// or https:// URL",
                opts.server
            );
        }
        let cred = load_credential(opts)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("tessera-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        let token_url = Self::url_at(&base, &["oauth2", "token"])?;
        let form = tessera_proto::form::encode([
            ("grant_type", "client_credentials"),
            ("resource", ADMIN_AUDIENCE),
        ]);
        let resp = http
            .post(token_url.clone())
            .header(
                reqwest::header::AUTHORIZATION,
                tessera_proto::basic::encode(&cred.client_id, cred.client_secret.expose_secret()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| unreachable_server(&opts.server, &e))?;
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!(
                "the token endpoint {token_url} refused the admin credential of client {:?}: {}",
                cred.client_id,
                error_text(status, &body)
            );
        }
        let token = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| {
                v.get("access_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .ok_or_else(|| {
                anyhow!("the token endpoint {token_url} answered without an access_token")
            })?;
        Ok(Self {
            http,
            base,
            token: SecretString::from(token),
        })
    }

    /// The server's base URL, without a trailing `/`.
    pub(crate) fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url_at(base: &Url, segments: &[&str]) -> anyhow::Result<Url> {
        let mut url = base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow!("the server URL cannot have a path"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// The URL of an admin API resource; each segment is percent-encoded (a client id may hold
    /// `/`, `%`, spaces or any other printable character).
    pub(crate) fn url(&self, segments: &[&str]) -> anyhow::Result<Url> {
        let mut all = vec!["admin", "api", "v1"];
        all.extend_from_slice(segments);
        Self::url_at(&self.base, &all)
    }

    /// Sends a request and returns the JSON answer (`null` for 204); a refusal becomes an error
    /// carrying the server's `error_description`.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| unreachable_server(self.base.as_str(), &e))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{}", error_text(status, &text));
        }
        if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).context("the server's answer is not JSON")
    }

    /// `GET` a resource.
    pub(crate) async fn get(&self, segments: &[&str]) -> anyhow::Result<Value> {
        self.send(Method::GET, self.url(segments)?, None).await
    }

    /// `POST` to a resource.
    pub(crate) async fn post(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        self.send(Method::POST, self.url(segments)?, Some(body))
            .await
    }

    /// `PATCH` a resource.
    pub(crate) async fn patch(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        self.send(Method::PATCH, self.url(segments)?, Some(body))
            .await
    }

    /// `DELETE` a resource.
    pub(crate) async fn delete(&self, segments: &[&str]) -> anyhow::Result<Value> {
        self.send(Method::DELETE, self.url(segments)?, None).await
    }
}

fn unreachable_server(server: &str, e: &reqwest::Error) -> anyhow::Error {
    let mut cause = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        cause = format!("{cause}: {s}");
        src = s.source();
    }
    anyhow!(
        "cannot reach the Tessera server at {server}: {cause}\n(is it running? choose another with --server URL or TESSERA_URL)"
    )
}
