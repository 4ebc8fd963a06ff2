//! `tessera token …`: the token client on the command line.
//!
//! - `tessera token get`: performs the grant and prints the token response (RFC 6749 §5.1) as
//!   JSON, only the access token with `--raw`, or a JWT's header and claims (unverified) with
//!   `--decode`.
//! - `tessera token validate`: checks a credential before it is saved and diagnoses what is wrong.
//! - `tessera token profile list|add|remove`: named credentials in
//!   `~/.config/tessera/credentials.toml`, used with `--profile NAME`.

mod credential_args;
mod get;
mod jwk_alg;
mod profile;
mod validate;

use clap::{Args, Subcommand};

pub(crate) use credential_args::CredentialArgs;

/// Arguments of `tessera token`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Get a token and print the token response as JSON.
    Get(Box<get::GetArgs>),
    /// Check a credential against its server: success with token type, lifetime and scopes, or a
    /// precise diagnosis of what is wrong.
    Validate(Box<validate::ValidateArgs>),
    /// Manage named credentials (profiles) in the credentials file.
    Profile(profile::ProfileArgs),
}

/// Runs `tessera token …`.
pub(crate) async fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Get(a) => get::run(*a).await,
        TokenCommand::Validate(a) => validate::run(*a).await,
        TokenCommand::Profile(a) => profile::run(a).await,
    }
}
