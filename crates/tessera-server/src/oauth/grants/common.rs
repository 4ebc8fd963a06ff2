//! What several grants share: choosing scopes and audiences.

use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use tessera_proto::{FormParams, ScopeSet};

/// The scopes to grant: the requested ones when all are allowed to the client (else
/// `invalid_scope`), or the client's default scopes when none are requested (RFC 6749 §3.3).
pub fn choose_scopes(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
) -> Result<ScopeSet, OAuthError> {
    let Some(requested) = form.get("scope")? else {
        return Ok(client.default_scopes.clone());
    };
    let requested =
        ScopeSet::parse(requested).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    let not_allowed: Vec<&str> = requested.difference(&client.allowed_scopes).collect();
    if !not_allowed.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "the client may not request: {}",
            not_allowed.join(" ")
        )));
    }
    let unregistered: Vec<&str> = requested
        .iter()
        .filter(|s| state.registry.scope(s).is_none())
        .collect();
    if !unregistered.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "unknown scope: {}",
            unregistered.join(" ")
        )));
    }
    Ok(requested)
}

/// The audiences of the token: the `resource` (RFC 8707) and `audience` values requested, each of
/// which must be one the client may use (else `invalid_target`), or the client's first audience,
/// or the issuer when the client has none.
pub fn choose_audiences(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for r in form.get_all("resource") {
        let absolute = r.contains("://") || r.starts_with("urn:");
        if !absolute || r.contains('#') {
            return Err(OAuthError::invalid_target(format!(
                "resource {r:?} must be an absolute URI without a fragment (RFC 8707 §2)"
            )));
        }
        out.push(r.to_owned());
    }
    out.extend(form.get_all("audience").map(str::to_owned));
    if out.is_empty() {
        return Ok(vec![
            client
                .client
                .audiences
                .first()
                .cloned()
                .unwrap_or_else(|| state.issuer.clone()),
        ]);
    }
    out.dedup();
    for a in &out {
        if !client.client.audiences.iter().any(|x| x == a) {
            return Err(OAuthError::invalid_target(format!(
                "the client may not request a token for {a:?}"
            )));
        }
    }
    Ok(out)
}
