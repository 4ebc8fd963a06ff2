//! Building and running a server: store, keys, registry, bootstrap, routes, background tasks,
//! graceful shutdown.

use crate::config::Config;
use crate::crypto::Keys;
use crate::keyring::KeyRing;
use crate::oauth::remote_jwks::RemoteJwks;
use crate::opaque::OpaqueWriter;
use crate::ratelimit::SourceLimits;
use crate::registry::Registry;
use crate::state::{AppState, SharedState};
use crate::store::Store;
use crate::tls::{ReloadSignal, ServerCertificate};
use crate::{bootstrap, setup_file, telemetry};
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The configuration is not usable.
    #[error("{0}")]
    Config(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error("cannot open the database: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The master key could not be loaded.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// The signing keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] crate::keyring::KeyError),
    /// Bootstrap or the setup file failed.
    #[error("{0}")]
    Setup(String),
    /// The TLS certificate or key could not be read.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// A server, bound and ready to run.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: SharedState,
    /// HTTPS, with `[tls]`.
    tls: Option<Https>,
    /// SIGHUP, listened for from the start whatever the settings: it reloads the TLS certificate
    /// when there is one, and never ends the process.
    hangup: ReloadSignal,
    /// Where the bootstrap credential was written on this start, if it was.
    pub bootstrap_credentials: Option<PathBuf>,
    /// Whether no enabled user holds the console role `admin` (the start-up banner then says how
    /// to create the first one).
    pub console_without_admin: bool,
    /// Then, the one-time sign-up link for the first admin made by this start
    /// ([`crate::console::signup`]), for the terminal only.
    pub console_signup_link: Option<secrecy::SecretString>,
}

/// What serving HTTPS takes: the acceptor of every connection and the certificate it serves.
struct Https {
    acceptor: tessera_serve::TlsAcceptor,
    certificate: Arc<ServerCertificate>,
}

impl std::fmt::Debug for Https {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Https")
            .field("certificate", &self.certificate)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens the store, loads or creates keys, applies the setup file and binds the listener.
    /// With port 0 and no configured issuer, the issuer names the port really bound.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        // Listening for SIGHUP before the server says it serves: a reload asked for then is
        // not lost, nor does it end the process (with or without `[tls]`).
        let hangup = ReloadSignal::listen();
        let tls = match config.tls.load()? {
            Some(certificate) => Some(Https {
                acceptor: certificate.acceptor()?,
                certificate,
            }),
            None => None,
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.listen,
            source,
        })?;
        let mut config = config;
        if config.issuer.is_none() {
            config.issuer = Some(format!("{}://{local}", config.scheme()));
        }
        // The data folder holds the master key and, by default, the database: the owner only.
        crate::fsutil::create_private_dir(&config.data_dir)
            .and_then(|()| crate::fsutil::tighten(&config.data_dir, crate::fsutil::PRIVATE_DIR))
            .map_err(|e| {
                StartupError::Config(format!(
                    "cannot create data_dir {}: {e}",
                    config.data_dir.display()
                ))
            })?;
        let keys = match &config.secrets.master_key {
            Some(k) => Keys::from_master_b64(k.expose_secret())?,
            None => {
                let file = config.master_key_file();
                let keys = Keys::load_or_create(&file)?;
                crate::fsutil::tighten(&file, crate::fsutil::PRIVATE_FILE).map_err(|e| {
                    StartupError::Config(format!("cannot protect {}: {e}", file.display()))
                })?;
                keys
            }
        };
        let store = Store::connect(
            &config.database_url(),
            config.database.max_connections,
            Duration::from_secs(config.database.timeout_secs.max(1)),
        )
        .await?;
        let issuer = config.issuer();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| StartupError::Config(e.to_string()))?;
        let instance_id = crate::crypto::random_id("i-")?;
        let state = Arc::new(AppState {
            keyring: KeyRing::new(instance_id.clone()),
            registry: Registry::new(instance_id.clone()),
            instance_id,
            token_endpoint: format!("{issuer}/oauth2/token"),
            issuer,
            opaque: OpaqueWriter::start(store.clone()),
            client_auth_failures: SourceLimits::per_minute(
                config
                    .rate_limit
                    .failed_auth_per_client_and_address_per_minute,
                config.rate_limit.failed_auth_per_address_per_minute,
                config.rate_limit.failed_auth_per_client_ceiling_per_minute,
            ),
            remote_jwks: RemoteJwks::new(http),
            metrics: telemetry::metrics_handle(),
            guesses: crate::users::limits::GuessLimits::new(&config),
            activity: Default::default(),
            last_used: Default::default(),
            store,
            keys,
            config,
        });
        state.keyring.ensure_keys(&state.store, &state.keys).await?;
        state.registry.reload_all(&state.store, &state.keys).await?;
        let bootstrap_credentials = bootstrap::run(&state).await.map_err(StartupError::Setup)?;
        if let Some(file) = state.config.setup_file.clone() {
            setup_file::apply_file(&state, &file)
                .await
                .map_err(StartupError::Setup)?;
        }
        let console_without_admin = state.store.count_users_with_role("admin").await? == 0;
        let console_signup_link = if console_without_admin {
            match crate::console::signup::issue(&state).await {
                Ok(link) => Some(link),
                Err(e) => {
                    tracing::warn!(error = %e, "could not make the console's sign-up link");
                    None
                }
            }
        } else {
            None
        };
        Ok(Self {
            listener,
            state,
            tls,
            hangup,
            bootstrap_credentials,
            console_without_admin,
            console_signup_link,
        })
    }

    /// The address really bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Where the server is reached: `http://` or, with `[tls]`, `https://`, and the address
    /// really bound.
    pub fn url(&self) -> String {
        format!("{}://{}", self.state.config.scheme(), self.local_addr())
    }

    /// The port really bound.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The shared state (for tests and embedding).
    pub fn state(&self) -> SharedState {
        self.state.clone()
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish within the
    /// configured grace period.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let mut tasks = spawn_background(state.clone());
        let grace = Duration::from_secs(state.config.http.shutdown_grace_secs);
        let (acceptor, certificate) = match self.tls {
            Some(https) => (Some(https.acceptor), Some(https.certificate)),
            None => (None, None),
        };
        tasks.push(tokio::spawn(crate::tls::reload_on_signal(
            certificate,
            self.hangup,
        )));
        crate::serve::serve(self.listener, acceptor, state.clone(), shutdown, grace).await;
        for t in tasks {
            t.abort();
        }
        // The last minute's times clients got tokens, before the database closes.
        if let Err(e) = crate::console::last_used::flush(&state).await {
            tracing::warn!(error = %e, "could not write when clients last got a token");
        }
        state.store.close().await;
        Ok(())
    }
}

fn spawn_background(state: SharedState) -> Vec<tokio::task::JoinHandle<()>> {
    let mut v = Vec::new();
    let s = state.clone();
    v.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(
            s.config.keys.reload_interval_secs.max(1),
        ));
        loop {
            tick.tick().await;
            if let Err(e) = s.keyring.reload(&s.store, &s.keys).await {
                tracing::warn!(error = %e, "could not reload signing keys");
            }
        }
    }));
    v.push(crate::cluster::spawn_listener(state.clone()));
    v.push(crate::users::spawn_housekeeping(state.clone()));
    v.push(crate::console::last_used::spawn_flusher(state.clone()));
    v.extend(crate::cluster::spawn_rotation(state.clone()));
    let s = state.clone();
    v.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(
            s.config.cluster.full_reload_secs.max(1),
        ));
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = s.registry.reload_all(&s.store, &s.keys).await {
                tracing::warn!(error = %e, "could not reload the registry");
            }
            s.client_auth_failures.sweep();
        }
    }));
    let s = state;
    v.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            match s.store.purge_expired(crate::model::now() - 60).await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "purged expired rows"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not purge expired rows"),
            }
            match crate::audit_retention::purge(&s.store, &s.config.audit).await {
                Ok(n) if n > 0 => {
                    tracing::info!(rows = n, "deleted audit events past [audit]'s retention")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not delete old audit events"),
            }
        }
    }));
    v
}

pub use tessera_serve::shutdown_signal;
