//! Running the gateway as a process (`tessera gateway --config gateway.toml`): load the file, set
//! up logs and metrics, bind, print where it listens, reload on SIGHUP, stop on SIGTERM or SIGINT.

use crate::config::GatewayConfig;
use crate::metrics::Metrics;
use crate::oauth2::Credentials;
use crate::reload::reload_on_sighup;
use crate::server::{Gateway, Options};
use crate::state::State;
use std::path::Path;

/// What [`run`] does besides serving.
#[derive(Debug)]
pub struct RunOptions {
    /// Install the log subscriber (`tessera_log::init`) from the file's `[log]` section, and
    /// write out the lines still waiting before returning; false when the caller set up logging
    /// itself.
    pub init_logging: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { init_logging: true }
    }
}

/// Runs the gateway of the configuration file `path` until SIGTERM or SIGINT. On start it prints
/// `tessera gateway listening on http://ADDR` (and the admin address, if any) on stdout.
pub async fn run(path: &Path, options: RunOptions) -> anyhow::Result<()> {
    let loaded = GatewayConfig::load(path)?;
    // Held until the gateway has stopped: dropping it writes out the log lines still waiting.
    let _logs = options
        .init_logging
        .then(|| tessera_log::init(&loaded.config.log.level, loaded.config.log.format));
    serve(path, loaded).await
}

/// Serves the loaded configuration until SIGTERM or SIGINT.
async fn serve(path: &Path, loaded: crate::config::LoadedConfig) -> anyhow::Result<()> {
    let prometheus = crate::metrics::install_recorder();
    let routes = loaded.config.routes.len();
    let upstreams = loaded.config.upstreams.len();
    let gateway = Gateway::bind(loaded, Options { prometheus }).await?;
    // Listened for before the gateway says it serves, so that a signal sent right after is
    // handled, not the default action.
    let shutdown = tessera_serve::shutdown_signal();
    let reloads = tokio::spawn(reload_on_sighup(gateway.handle()));
    let addr = gateway.local_addr();
    tracing::info!(listen = %addr, routes, upstreams, config = %path.display(), "tessera gateway is serving");
    println!("tessera gateway listening on http://{addr}");
    if let Some(admin) = gateway.admin_addr() {
        println!("tessera gateway admin on http://{admin}");
    }
    let result = gateway.serve(shutdown).await;
    reloads.abort();
    result?;
    tracing::info!("stopped");
    Ok(())
}

/// Checks the configuration file `path` as a start or a reload would (TOML, references, URLs,
/// secrets, keys, CA files, guard settings) without listening or fetching tokens, and describes
/// it in one line.
pub async fn check(path: &Path) -> anyhow::Result<String> {
    let loaded = GatewayConfig::load(path)?;
    let state = State::build(&loaded, None, &Credentials::default(), &Metrics::new(None))?;
    let with_tokens = state
        .upstreams
        .values()
        .filter(|u| u.auth.is_some())
        .count();
    Ok(format!(
        "{}: OK, {} routes, {} upstreams ({} with an oauth2 block), listens on {}",
        path.display(),
        state.route_count(),
        state.upstreams.len(),
        with_tokens,
        loaded.config.gateway.listen
    ))
}
