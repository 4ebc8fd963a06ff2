//! Tessera's authorization server: client and scope registry, client authentication, the token
//! endpoint and everything around it (discovery, JWKS, introspection, revocation, admin API).
//!
//! [`startup::Application`] builds a server from a [`config::Config`]; `tessera serve` runs one.

pub mod admin;
pub mod app;
pub mod audit_retention;
pub mod bootstrap;
pub mod client_secret;
pub mod cluster;
pub mod compat;
pub mod config;
pub mod console;
pub mod crypto;
pub mod fsutil;
pub mod health;
pub mod issue;
pub mod keyring;
pub mod model;
pub mod net;
pub mod oauth;
pub mod opaque;
pub mod own_tokens;
pub mod pages;
pub mod people_config;
pub mod ratelimit;
pub mod registry;
mod serve;
pub mod setup_file;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod token_size;
pub mod transfer;
pub mod users;
