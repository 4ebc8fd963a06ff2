//! `tessera`: the authorization server, its admin CLI, the token client and the gateway in one binary.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc, which returns memory freed after a burst (such as many slow request heads) to the
/// system, where glibc's malloc keeps most of it (see bench/slow-headers-bench.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Error texts may quote what a server answered: shown escaped, line breaks kept.
            eprintln!("error: {}", cli::terminal::escape_lines(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
