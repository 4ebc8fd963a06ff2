//! `tessera serve`: runs the authorization server.

use crate::cli::terminal::errln;
use clap::Args;
use std::path::PathBuf;
use tessera_server::config::Config;
use tessera_server::startup::Application;
use tessera_server::state::AppState;

/// Arguments of `tessera serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// A TOML configuration file; `TESSERA_…` environment variables override it.
    #[arg(long, short = 'c', env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
}

/// Runs the server until SIGTERM or SIGINT.
pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    // Held until the server has stopped: dropping it writes out the log lines still waiting.
    let _logs = tessera_log::init(&config.log.level, config.log.format);
    serve(config).await
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let state = app.state();
    tracing::info!(
        issuer = %state.issuer,
        listen = %app.local_addr(),
        database = state.store.backend(),
        "tessera is serving"
    );
    if let Some(path) = &app.bootstrap_credentials {
        tracing::info!(
            path = %path.display(),
            "bootstrap admin credential written (readable only by its owner); the tessera CLI uses it by default"
        );
    }
    if app.console_without_admin {
        tracing::info!(
            console = %format!("{}/admin/", state.issuer),
            command = FIRST_ADMIN_COMMAND,
            "the console has no admin yet; create the first one with the command given"
        );
    }
    // With JSON logs every line on stderr stays JSON: the events above say the same.
    if state.config.log.format == tessera_log::Format::Text {
        print_banner(&app, &state);
    }
    app.run().await?;
    tracing::info!("stopped");
    Ok(())
}

/// How to create the console's first admin (the password is read from standard input).
const FIRST_ADMIN_COMMAND: &str = "tessera user create YOUR_NAME --role admin";

/// The lines a person reads on stderr once the server serves (text logs only): where the
/// bootstrap credential went, where the server and its token endpoint are, and, while the
/// console has no admin, how to create the first one.
fn print_banner(app: &Application, state: &AppState) {
    if let Some(path) = &app.bootstrap_credentials {
        errln!(
            "Bootstrap admin credential written to {} (mode 0600).",
            path.display()
        );
    }
    let listening = format!("http://{}", app.local_addr());
    if state.issuer == listening {
        errln!(
            "Tessera is serving {listening} (token endpoint {}).",
            state.token_endpoint
        );
    } else {
        errln!(
            "Tessera is serving issuer {} on {listening} (token endpoint {}).",
            state.issuer,
            state.token_endpoint
        );
    }
    if app.console_without_admin {
        errln!(
            "The console at {}/admin/ has no admin yet. Create the first one (it asks for a password):",
            state.issuer
        );
        errln!("  {FIRST_ADMIN_COMMAND}");
    }
}
