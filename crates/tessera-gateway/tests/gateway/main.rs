//! The gateway's tests with real parts on loopback: Tessera's server, an upstream API protected
//! by tessera-guard, and the gateway in this process or as its own process.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    dead_code
)]

mod client_auth;
mod couper;
mod e2e;
mod guard_vs_tessera;
mod gw;
mod pool;
mod reload;
mod tessera;
mod transport;
mod upstream;
mod world;
