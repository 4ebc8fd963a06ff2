//! Integration tests: each test starts the real server on 127.0.0.1:0 with its own SQLite file
//! and talks HTTP to it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod helpers;
mod people;
mod pg;
mod proxy;

mod admin;
mod audit_retention;
mod authorization_code;
mod bootstrap;
mod browser;
mod client_auth;
mod cluster;
mod compat;
mod console_audit;
mod console_browser;
mod console_clients;
mod console_coupa;
mod console_create;
mod console_delete;
mod console_edit;
mod console_keys;
mod console_last_used;
mod console_overview;
mod console_retire;
mod console_roles;
mod console_scopes;
mod console_signin;
mod console_signup;
mod console_users;
mod device;
mod discovery;
mod form_limits;
mod grant_races;
mod interop;
mod introspect_revoke;
mod jwt_bearer;
mod lockout;
mod oidc;
mod password;
mod refresh;
mod serving;
mod store_backends;
mod temporary_password;
mod token_endpoint;
mod token_size;
mod transfer;
mod users_admin;
