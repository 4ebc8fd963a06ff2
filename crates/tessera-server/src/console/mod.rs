//! The console at `/admin/`: server-rendered pages where people manage Tessera in a browser.
//!
//! The console is a first-party client of Tessera itself ([`client::CLIENT_ID`]): it signs
//! people in with the authorization code flow with PKCE (no consent screen), then keeps a
//! console session of its own ([`session`]). What a person may see and do follows their console
//! role ([`crate::users::Role`]); every change goes through the same admin service code as the
//! admin API and is audited under the person's name (`user:<username>`). `docs/console.md`
//! describes it for people.

pub mod account;
pub mod activity;
pub mod assets;
pub mod audit;
pub mod chart;
pub mod client;
pub mod client_form;
pub mod clients;
pub mod create;
pub mod delete;
pub mod edit;
pub mod keys;
pub mod last_used;
pub mod overview;
pub mod rotate;
pub mod scope_new;
pub mod scopes;
pub mod session;
pub mod signin;
pub mod signup;
pub mod templates;
pub mod user_change;
pub mod user_new;
pub mod users;

use crate::state::SharedState;
use axum::Router;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

/// `[console]`: the console's sessions, and how often the clients' last use is written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Seconds without a request after which a console session ends. Default 1800 (30 min).
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub idle_timeout_secs: u64,
    /// Seconds after sign-in when a console session ends however busy. Default 28800 (8 h).
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub absolute_timeout_secs: u64,
    /// Seconds between the writes of when each client last got a token (kept in memory between
    /// them; the token endpoint never writes it itself). Default 60.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub last_used_flush_secs: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 8 * 3600,
            last_used_flush_secs: 60,
        }
    }
}

impl ConsoleConfig {
    /// Both limits at least one second, the idle one no longer than the absolute one.
    pub fn validate(&self) -> Result<(), String> {
        if self.idle_timeout_secs == 0 || self.absolute_timeout_secs == 0 {
            return Err(
                "console.idle_timeout_secs and console.absolute_timeout_secs must be at least 1"
                    .into(),
            );
        }
        if self.last_used_flush_secs == 0 {
            return Err("console.last_used_flush_secs must be at least 1".into());
        }
        if self.idle_timeout_secs > self.absolute_timeout_secs {
            return Err(format!(
                "console.idle_timeout_secs ({}) must not exceed console.absolute_timeout_secs ({})",
                self.idle_timeout_secs, self.absolute_timeout_secs
            ));
        }
        Ok(())
    }
}

/// The console's routes under `/admin/` (the admin API at `/admin/api/v1/` is apart).
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/admin", get(to_console))
        .route("/admin/", get(overview::show))
        .route("/admin/login", get(signin::start))
        .route("/admin/callback", get(signin::callback))
        .route("/admin/logout", post(signin::logout))
        .route(
            account::PASSWORD_PATH,
            get(account::show).post(account::change),
        )
        .route("/admin/clients", get(clients::list))
        .route("/admin/clients/new", get(create::show).post(create::submit))
        .route(
            "/admin/clients/{client_id}/{action}",
            get(clients::confirm).post(clients::toggle),
        )
        .route("/admin/audit", get(audit::list))
        .route("/admin/users", get(users::list))
        // Users: create, change, consents; the first admin's sign-up link.
        .route(
            "/admin/users/new",
            get(user_new::show).post(user_new::submit),
        )
        .route("/admin/users/{user}", get(users::show))
        .route(
            "/admin/users/{user}/{action}",
            get(user_change::confirm).post(user_change::act),
        )
        .route(
            "/admin/users/{user}/consents/{client_id}",
            get(user_change::confirm_revoke).post(user_change::revoke),
        )
        .route(
            "/admin/signup/{token}",
            get(signup::show).post(signup::submit),
        )
        .route("/admin/keys", get(keys::list))
        .route("/admin/keys/rotate", get(keys::confirm).post(keys::rotate))
        .route(
            "/admin/keys/{kid}/retire",
            get(keys::confirm_retire).post(keys::retire),
        )
        .route("/admin/scopes", get(scopes::list))
        .route(
            "/admin/scopes/new",
            get(scope_new::show).post(scope_new::submit),
        )
        .route("/admin/scopes/{name}", get(scopes::show))
        .route("/oauth2/scopes", get(scopes::coupa_address))
        .route("/admin/assets/console.css", get(assets::stylesheet))
        .route("/admin/assets/console.js", get(assets::script))
}

async fn to_console(
    axum::extract::State(state): axum::extract::State<SharedState>,
) -> axum::response::Response {
    crate::pages::render::see_other(&state, "/admin/")
}
