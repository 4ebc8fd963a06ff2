//! `tessera-gateway --config gateway.toml`: the gateway alone (the same as `tessera gateway`).

use std::path::PathBuf;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let mut config: Option<PathBuf> = std::env::var_os("TESSERA_GATEWAY_CONFIG").map(PathBuf::from);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--config" | "-c") => config = args.next().map(PathBuf::from),
            Some("--help" | "-h") => {
                println!("usage: tessera-gateway --config gateway.toml   (see docs/gateway.md)");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!(
                    "error: unexpected argument {a:?}; usage: tessera-gateway --config gateway.toml"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let Some(config) = config else {
        eprintln!("error: --config gateway.toml is required");
        return ExitCode::FAILURE;
    };
    match tessera_gateway::run(&config, tessera_gateway::RunOptions::default()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
