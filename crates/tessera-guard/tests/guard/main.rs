//! The guard's integration tests: one binary, real HTTP on loopback (port 0), a test
//! authorization server per test, and node oidc-provider as a third-party peer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod introspection;
mod jwks;
mod oidc_provider;
mod peer;
mod rfc6750;
mod support;
mod tokens;
