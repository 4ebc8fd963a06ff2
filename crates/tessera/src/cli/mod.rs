//! Command-line interface: one subcommand family per file.

pub(crate) mod admin_client;
pub(crate) mod audit;
pub(crate) mod client;
pub(crate) mod db;
pub(crate) mod duration;
pub(crate) mod gateway;
pub(crate) mod key;
pub(crate) mod scope;
pub(crate) mod serve;
pub(crate) mod terminal;
pub(crate) mod token;
pub(crate) mod user;

use clap::{Parser, Subcommand};
use std::borrow::Cow;

/// Tessera: OAuth 2.0 / OpenID Connect authorization server, token client and gateway.
#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about,
    propagate_version = true,
    after_help = "The admin commands (client, scope, audit, key, user) take --server URL, \
                  --admin-credentials FILE and --data-dir DIR before the subcommand as well as \
                  after it: tessera --server https://auth.example client list"
)]
pub(crate) struct Cli {
    /// The options of the admin commands given before the subcommand; clap hands them to the
    /// subcommand's own (`AdminOptions`, and `tessera serve --data-dir`), where a value given
    /// after the subcommand wins. Hidden here: they are listed in each command's help.
    #[command(flatten)]
    before: Before,
    #[command(subcommand)]
    command: Command,
}

/// `--server`, `--admin-credentials` and `--data-dir` before the subcommand.
#[derive(Debug, clap::Args)]
struct Before {
    #[arg(long, global = true, hide = true, value_name = "URL")]
    server: Option<String>,
    #[arg(long, global = true, hide = true, value_name = "FILE")]
    admin_credentials: Option<std::path::PathBuf>,
    #[arg(long, global = true, hide = true, value_name = "DIR")]
    data_dir: Option<String>,
}

impl Before {
    /// Refuses the admin options on a command that has no use for them, rather than ignoring
    /// them.
    fn refuse(&self, command: &str, data_dir_used: bool) -> anyhow::Result<()> {
        let given = [
            ("--server", self.server.is_some()),
            ("--admin-credentials", self.admin_credentials.is_some()),
            ("--data-dir", self.data_dir.is_some() && !data_dir_used),
        ];
        match given.iter().find(|(_, is)| *is) {
            Some((flag, _)) => anyhow::bail!(
                "{flag} is an option of the admin commands (client, scope, audit, key, user), not of `tessera {command}`"
            ),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the authorization server (SQLite under ./tessera-data by default).
    Serve(serve::ServeArgs),
    /// Get, check and manage tokens from any OAuth 2.0 server.
    Token(token::TokenArgs),
    /// Register and manage clients (admin API).
    Client(Box<client::ClientArgs>),
    /// Register and manage scopes and their permissions (admin API).
    Scope(scope::ScopeArgs),
    /// Read the audit log of admin changes (admin API).
    Audit(audit::AuditArgs),
    /// List, rotate and retire signing keys (admin API).
    Key(key::KeyArgs),
    /// Manage local users, their passwords and consents (admin API).
    User(user::UserArgs),
    /// Migrate, export and import the store (works on the database directly).
    Db(db::DbArgs),
    /// Run the gateway: a reverse proxy that puts tokens on requests and guards routes.
    Gateway(gateway::GatewayArgs),
}

/// Runs the chosen subcommand.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            cli.before.refuse("serve", true)?;
            serve::run(args).await
        }
        Command::Token(args) => {
            cli.before.refuse("token", false)?;
            token::run(args).await
        }
        Command::Client(args) => client::run(*args).await,
        Command::Scope(args) => scope::run(args).await,
        Command::Audit(args) => audit::run(args).await,
        Command::Key(args) => key::run(args).await,
        Command::User(args) => user::run(args).await,
        Command::Db(args) => {
            cli.before.refuse("db", false)?;
            db::run(args).await
        }
        Command::Gateway(args) => {
            cli.before.refuse("gateway", false)?;
            gateway::run(args).await
        }
    }
}

/// Prints rows under a header, each column as wide as its widest cell, every cell with its control
/// characters escaped ([`terminal::escape`]): cells hold what others typed.
pub(crate) fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let header: Vec<Cow<'_, str>> = header.iter().map(|h| terminal::escape(h)).collect();
    let rows: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|c| terminal::escape(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &[Cow<'_, str>]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                let pad = widths.get(i).copied().unwrap_or(0);
                out.push_str(&format!("{cell:<pad$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(&header);
    for row in &rows {
        line(row);
    }
}

/// Prints a JSON value for programs, as it is (serde_json escapes the C0 controls in strings).
pub(crate) fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// A JSON value as a table cell: strings bare, arrays joined by spaces, null as `-`.
pub(crate) fn cell(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "-".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) if a.is_empty() => "-".into(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| cell(Some(x)))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        // The admin options before the subcommand share their ids with the subcommands' own:
        // clap checks that they agree.
        Cli::command().debug_assert();
    }
}
