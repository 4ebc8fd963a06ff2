//! `tessera serve`: runs the authorization server.

use crate::cli::terminal::errln;
use clap::Args;
use secrecy::ExposeSecret;
use std::path::PathBuf;
use tessera_server::config::{Config, Flag};
use tessera_server::startup::Application;
use tessera_server::state::AppState;

/// Arguments of `tessera serve`. The flags set the settings of the same name and win over the
/// configuration file and the `TESSERA_…` variables.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// A TOML configuration file; `TESSERA_…` environment variables override it, flags override
    /// both.
    #[arg(long, short = 'c', env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    /// The address to listen on, such as 0.0.0.0:8443 (setting `listen`, TESSERA_LISTEN).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// The issuer identifier, such as https://auth.example.com (setting `issuer`,
    /// TESSERA_ISSUER). Default http://ADDR, or https://ADDR with TLS.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// The data folder: SQLite database, master key, bootstrap admin credential (setting
    /// `data_dir`, TESSERA_DATA_DIR). Default ./tessera-data.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
    /// Serve HTTPS with this PEM certificate chain, the server's certificate first (setting
    /// `tls.certificate_file`, TESSERA_TLS_CERTIFICATE_FILE); with --tls-key. SIGHUP reloads it.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<String>,
    /// The PEM private key of --tls-cert (setting `tls.private_key_file`,
    /// TESSERA_TLS_PRIVATE_KEY_FILE).
    #[arg(long, value_name = "FILE")]
    tls_key: Option<String>,
}

impl ServeArgs {
    /// The settings given as flags.
    fn flags(&self) -> Vec<Flag> {
        [
            ("--listen", "listen", &self.listen),
            ("--issuer", "issuer", &self.issuer),
            ("--data-dir", "data_dir", &self.data_dir),
            ("--tls-cert", "tls.certificate_file", &self.tls_cert),
            ("--tls-key", "tls.private_key_file", &self.tls_key),
        ]
        .into_iter()
        .filter_map(|(flag, setting, value)| {
            value.as_ref().map(|v| Flag {
                flag,
                setting,
                value: v.clone(),
            })
        })
        .collect()
    }
}

/// Runs the server until SIGTERM or SIGINT.
pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load_with_flags(args.config.as_deref(), &args.flags())?;
    // Held until the server has stopped: dropping it writes out the log lines still waiting.
    let _logs = tessera_log::init(&config.log.level, config.log.format);
    serve(config).await
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    // Listened for before the server says it serves: a SIGTERM right after that stops it cleanly.
    let shutdown = tessera_server::startup::shutdown_signal();
    let state = app.state();
    tracing::info!(
        issuer = %state.issuer,
        listen = %app.local_addr(),
        url = %app.url(),
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
        // The sign-up link is a secret: with text logs it goes only to the banner on the
        // terminal; with JSON logs (no banner) it is in this event, the only place left.
        let json = state.config.log.format == tessera_log::Format::Json;
        match app.console_signup_link.as_ref().filter(|_| json) {
            Some(link) => tracing::info!(
                console = %format!("{}/admin/", state.issuer),
                command = FIRST_ADMIN_COMMAND,
                signup_link = link.expose_secret(),
                "the console has no admin yet; create the first one with the command given or the one-time sign-up link (valid 15 minutes)"
            ),
            None => tracing::info!(
                console = %format!("{}/admin/", state.issuer),
                command = FIRST_ADMIN_COMMAND,
                "the console has no admin yet; create the first one with the command given"
            ),
        }
    }
    // With JSON logs every line on stderr stays JSON: the events above say the same.
    if state.config.log.format == tessera_log::Format::Text {
        print_banner(&app, &state);
    }
    app.run_until(shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// How to create the console's first admin (the password is read from standard input).
const FIRST_ADMIN_COMMAND: &str = "tessera user create YOUR_NAME --role admin";

/// The lines a person reads on stderr once the server serves (text logs only): where the
/// bootstrap credential went and how the CLI finds it from another folder, where the server and
/// its token endpoint are, and, while the console has no admin, how to create the first one.
fn print_banner(app: &Application, state: &AppState) {
    if let Some(path) = &app.bootstrap_credentials {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        errln!(
            "Bootstrap admin credential written to {} (mode 0600).",
            path.display()
        );
        let data_dir = std::path::absolute(&state.config.data_dir)
            .unwrap_or_else(|_| state.config.data_dir.clone());
        if path.parent() == Some(data_dir.as_path()) {
            errln!(
                "From another folder, the tessera CLI finds it with --data-dir {} (or TESSERA_DATA_DIR).",
                data_dir.display()
            );
        } else {
            errln!(
                "The tessera CLI finds it with --admin-credentials {} (or TESSERA_ADMIN_CREDENTIALS).",
                path.display()
            );
        }
    }
    let listening = app.url();
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
        if let Some(link) = &app.console_signup_link {
            errln!("or open this one-time sign-up link (valid 15 minutes, works once):");
            errln!("  {}", link.expose_secret());
        }
    }
}
