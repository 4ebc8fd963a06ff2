//! Reloading the configuration while serving (SIGHUP): the file is read and the new state built
//! beside the running one; only when everything in it is good does it replace the old one, in one
//! atomic swap. Requests in flight finish on the configuration they started with; connections
//! stay open; cached tokens stay (the token cache outlives configurations). A bad file is refused
//! with the reason in the log, and the old configuration keeps running.

use crate::config::{ConfigError, GatewayConfig, LoadedConfig};
use crate::state::{Shared, State};
use std::sync::Arc;

/// Reloads a running gateway's configuration. Cheap to clone.
#[derive(Clone)]
pub struct GatewayHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GatewayHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayHandle")
            .field("config", &self.shared.config_path)
            .finish_non_exhaustive()
    }
}

impl GatewayHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Reads the configuration file again and applies it, or refuses it (the old configuration
    /// keeps running) and says why.
    pub async fn reload(&self) -> Result<(), ConfigError> {
        let Some(path) = self.shared.config_path.clone() else {
            return Err(ConfigError::Invalid(
                "this gateway was not started from a file; use reload_with".into(),
            ));
        };
        let loaded = tokio::task::spawn_blocking(move || GatewayConfig::load(&path))
            .await
            .map_err(|e| ConfigError::Invalid(format!("reading the configuration failed: {e}")));
        match loaded {
            Ok(Ok(l)) => self.reload_with(l).await,
            Ok(Err(e)) | Err(e) => {
                self.refused(&e);
                Err(e)
            }
        }
    }

    /// Applies `loaded`, or refuses it (the old configuration keeps running) and says why.
    pub async fn reload_with(&self, loaded: LoadedConfig) -> Result<(), ConfigError> {
        let _one_at_a_time = self.shared.reload_lock.lock().await;
        let current = self.shared.state.load_full();
        let built = State::build(
            &loaded,
            Some(&current),
            &self.shared.credentials,
            &self.shared.metrics,
        );
        let state = match built {
            Ok(s) => s,
            Err(e) => {
                self.refused(&e);
                return Err(e);
            }
        };
        if state.listen != current.listen || state.admin_listen != current.admin_listen {
            tracing::warn!(
                "gateway.listen and gateway.admin_listen changes take effect only after a restart"
            );
        }
        state.warm_up();
        let routes = state.route_count();
        self.shared.state.store(Arc::new(state));
        drop(current);
        self.shared.credentials.prune();
        self.shared.metrics.reload(true);
        self.shared.metrics.set_routes(routes);
        tracing::info!(routes, "configuration reloaded");
        Ok(())
    }

    fn refused(&self, e: &ConfigError) {
        self.shared.metrics.reload(false);
        tracing::error!(
            error = %e,
            "configuration reload refused; the previous configuration keeps running"
        );
    }
}

/// Reloads on every SIGHUP until the handle's gateway is gone. The handler is installed by this
/// call, not when the future is first polled, so a SIGHUP sent as soon as the gateway has said it
/// serves reloads it rather than ending the process.
pub fn reload_on_sighup(handle: GatewayHandle) -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let hup = signal(SignalKind::hangup());
    async move {
        let mut hup = match hup {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; reloads are off");
                return;
            }
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the configuration");
            // The outcome is logged by `reload`.
            let _ = handle.reload().await;
        }
    }
}
