//! `tessera gateway --config gateway.toml`: runs the gateway, a reverse proxy that puts OAuth 2.0
//! tokens on requests to upstreams and can guard inbound requests (see `docs/gateway.md`).

use crate::cli::terminal::outln;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `tessera gateway`.
#[derive(Debug, Args)]
pub(crate) struct GatewayArgs {
    /// The gateway's TOML configuration file (see docs/gateway.md). SIGHUP reloads it.
    #[arg(long, short = 'c', env = "TESSERA_GATEWAY_CONFIG")]
    config: PathBuf,
    /// Check the file (references, URLs, secrets, keys, CA files) and exit without serving.
    #[arg(long)]
    check: bool,
}

/// Runs the gateway until SIGTERM or SIGINT (or checks its configuration with `--check`).
pub(crate) async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    if args.check {
        let summary = tessera_gateway::check(&args.config).await?;
        outln!("{summary}");
        return Ok(());
    }
    tessera_gateway::run(&args.config, tessera_gateway::RunOptions::default()).await
}
