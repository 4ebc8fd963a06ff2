//! `tessera db migrate|export|import`: the database itself, without a running server.

use crate::cli::terminal::errln;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::time::Duration;
use tessera_server::config::Config;
use tessera_server::crypto::Keys;
use tessera_server::store::Store;
use tessera_server::transfer;

/// Arguments of `tessera db`.
#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    /// The server's TOML configuration (database and master key); `TESSERA_…` variables override it.
    #[arg(long, short = 'c', env = "TESSERA_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Create or upgrade the schema of the configured database.
    Migrate,
    /// Write the whole installation as JSON (secrets stay hashed, keys stay encrypted).
    Export {
        /// Write to this file (mode 0600) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Load an export into the configured database, which must be empty (run `db migrate` first).
    /// The master key must be the exporting server's.
    Import {
        /// The export file.
        file: PathBuf,
    },
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    Store::connect(
        &config.database_url(),
        2,
        Duration::from_secs(config.database.timeout_secs.max(1)),
    )
    .await
    .with_context(|| "cannot open the database")
}

/// The file of an SQLite database URL (`sqlite://path`, `sqlite:path`, with or without a query).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Runs `tessera db …`.
pub(crate) async fn run(args: DbArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    match args.command {
        DbCommand::Migrate => {
            let store = open(&config).await?;
            store.close().await;
            errln!("The {} database is up to date.", store.backend());
        }
        DbCommand::Export { output } => {
            // Exporting must never create a database: in the wrong folder that would write an
            // empty installation and call it a success.
            if let Some(path) = sqlite_file(&config.database_url())
                && !path.exists()
            {
                anyhow::bail!(
                    "there is no database at {}: run this where the server keeps its data, or name it with --config, TESSERA_DATA_DIR or TESSERA_DATABASE_URL",
                    path.display()
                );
            }
            let store = open(&config).await?;
            let doc = transfer::export(&store).await?;
            store.close().await;
            let json = serde_json::to_vec_pretty(&doc)?;
            match output {
                Some(path) => {
                    tessera_server::fsutil::write_private(&path, &json)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    errln!(
                        "Exported {} clients, {} scopes, {} keys, {} opaque tokens, {} audit events to {}.",
                        doc.clients.len(),
                        doc.scopes.len(),
                        doc.signing_keys.len(),
                        doc.opaque_tokens.len(),
                        doc.audit_log.len(),
                        path.display()
                    );
                }
                None => {
                    use std::io::Write as _;
                    let mut out = std::io::stdout().lock();
                    out.write_all(&json)?;
                    out.write_all(b"\n")?;
                }
            }
        }
        DbCommand::Import { file } => {
            let text =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let doc: transfer::Export = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not a Tessera export", file.display()))?;
            let keys = Keys::load_configured(
                config.secrets.master_key.as_ref().map(|k| k.expose_secret()),
                &config.master_key_file(),
            )
            .context("the import needs the exporting server's master key (secrets.master_key or secrets.master_key_file)")?;
            let store = open(&config).await?;
            let summary = transfer::import(&store, &keys, &doc).await;
            store.close().await;
            let summary = summary?;
            errln!(
                "Imported {} clients, {} scopes, {} keys, {} opaque tokens and {} audit events into the {} database.",
                summary.clients,
                summary.scopes,
                summary.keys,
                summary.opaque_tokens,
                summary.audit_events,
                store.backend()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::PathBuf;

    #[test]
    fn sqlite_files_of_urls() {
        assert_eq!(
            sqlite_file("sqlite://./tessera-data/tessera.db"),
            Some(PathBuf::from("./tessera-data/tessera.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:/var/lib/t.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/t.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://postgres@127.0.0.1/t"), None);
    }
}
