//! What every handler shares.

use crate::config::Config;
use crate::crypto::Keys;
use crate::keyring::KeyRing;
use crate::model::AuditEvent;
use crate::oauth::remote_jwks::RemoteJwks;
use crate::opaque::OpaqueWriter;
use crate::ratelimit::SourceLimits;
use crate::registry::Registry;
use crate::store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

/// The server's shared state.
#[derive(Debug)]
pub struct AppState {
    /// This instance's random id, naming it in change announcements and leases.
    pub instance_id: String,
    /// Settings.
    pub config: Config,
    /// The issuer identifier.
    pub issuer: String,
    /// `{issuer}/oauth2/token`.
    pub token_endpoint: String,
    /// Durable state.
    pub store: Store,
    /// Keys derived from the master key.
    pub keys: Keys,
    /// Signing keys.
    pub keyring: KeyRing,
    /// Clients and scopes in memory.
    pub registry: Registry,
    /// Group-committing writer of opaque tokens.
    pub opaque: OpaqueWriter,
    /// Failed client authentications per (client id, source address) and per source address.
    pub client_auth_failures: SourceLimits,
    /// JWKS fetched from clients' `jwks_uri`.
    pub remote_jwks: RemoteJwks,
    /// Prometheus exposition.
    pub metrics: Option<PrometheusHandle>,
    /// Failed sign-ins and wrong user codes, per user and per address.
    pub guesses: crate::users::limits::GuessLimits,
    /// The token endpoint's last hour, for the console's overview.
    pub activity: crate::console::activity::Activity,
    /// When clients last got a token, since the last flush to the database.
    pub last_used: crate::console::last_used::LastUsed,
}

/// The shared state as handlers receive it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// Appends an audit event and waits until it is written; a failure is logged (the change it
    /// records has already happened).
    pub async fn audit_now(&self, event: AuditEvent) {
        if let Err(e) = self.store.append_audit(&event).await {
            tracing::error!(error = %e, action = %event.action, "could not write audit event");
        }
    }

    /// Appends an audit event in the background; a failure to write it is logged.
    pub fn audit(&self, event: AuditEvent) {
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.append_audit(&event).await {
                tracing::error!(error = %e, action = %event.action, "could not write audit event");
            }
        });
    }
}
