//! Choosing the scopes of a grant made by a person (authorization code, device code, password):
//! the requested scopes when the client may have every one of them, else `invalid_scope`; the
//! client's default scopes when none are requested (RFC 6749 §3.3). The OpenID Connect scopes
//! (`openid`, `profile`, `email`, `offline_access`, …) need no registration, only the client's
//! allowance.

use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use tessera_proto::ScopeSet;
use tessera_proto::scope::OPENID_SCOPES;

/// The scopes to grant for the `scope` parameter `requested`.
pub fn choose_user_scopes(
    state: &AppState,
    client: &ClientEntry,
    requested: Option<&str>,
) -> Result<ScopeSet, OAuthError> {
    let Some(requested) = requested.filter(|s| !s.is_empty()) else {
        return Ok(client.default_scopes.clone());
    };
    let requested = super::common::parse_requested(state, requested)?;
    let not_allowed: Vec<&str> = requested.difference(&client.allowed_scopes).collect();
    if !not_allowed.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "the client may not request: {}",
            not_allowed.join(" ")
        )));
    }
    let unregistered: Vec<&str> = requested
        .iter()
        .filter(|s| !OPENID_SCOPES.contains(s) && state.registry.scope(s).is_none())
        .collect();
    if !unregistered.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "unknown scope: {}",
            unregistered.join(" ")
        )));
    }
    Ok(requested)
}
