//! Token client tests against a mock token endpoint and API on loopback (one test binary).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod auth;
mod cache;
mod discovery;
mod failures;
mod middleware;
mod mock;
