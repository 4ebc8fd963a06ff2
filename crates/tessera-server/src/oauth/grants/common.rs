//! What several grants share: choosing scopes and audiences, and issuing an access token alone.

use crate::issue::{self, Grant, Issued};
use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use tessera_proto::scope::OPENID_SCOPES;
use tessera_proto::{FormParams, ScopeName, ScopeSet, TokenResponse};

/// The answer for a token that could not be issued: the store's trouble as it maps (503 with
/// `Retry-After`), anything else a logged `server_error`.
pub fn issue_error(e: issue::IssueError) -> OAuthError {
    match e {
        issue::IssueError::Store(s) => OAuthError::from(s),
        other => {
            tracing::error!(error = %other, "could not issue a token");
            OAuthError::server_error("the server could not issue a token")
        }
    }
}

/// Issues an access token for `grant` and no refresh token (RFC 6749 §4.4.3, RFC 7523 §2.1);
/// returns the response and the token's `jti`.
pub async fn access_token_only(
    state: &AppState,
    grant: &Grant<'_>,
) -> Result<(TokenResponse, String), OAuthError> {
    let Issued {
        token,
        expires_in,
        jti,
    } = issue::access_token(state, grant)
        .await
        .map_err(issue_error)?;
    let resp = TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: Some(expires_in),
        refresh_token: None,
        scope: (!grant.scope.is_empty()).then(|| grant.scope.to_string()),
        id_token: None,
    };
    Ok((resp, jti))
}

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
    let requested = parse_requested(state, requested)?;
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

/// Parses a `scope` parameter (RFC 6749 §3.3). A name that is neither a registered scope, nor an
/// OpenID Connect scope, nor of the form `scopes.naming` allows is refused with that rule, so that
/// a request written for another server's naming says what is wrong.
pub fn parse_requested(state: &AppState, requested: &str) -> Result<ScopeSet, OAuthError> {
    let set = ScopeSet::parse(requested).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    let naming = state.config.scopes.naming;
    for s in set.iter() {
        if state.registry.scope(s).is_some() || OPENID_SCOPES.contains(&s) {
            continue;
        }
        if let Err(e) = ScopeName::parse_with(s, naming) {
            return Err(OAuthError::invalid_scope(format!(
                "{e}{}",
                crate::admin::validate::naming_hint(naming, s)
            )));
        }
    }
    Ok(set)
}

/// The audiences of the token: the `resource` (RFC 8707) and `audience` values requested, each of
/// which must be one the client may use (else `invalid_target`), or the client's first audience,
/// or, when it has none, `tokens.default_audience` (the issuer unless set otherwise).
pub fn choose_audiences(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
) -> Result<Vec<String>, OAuthError> {
    let out = requested_audiences(client, form.get_all("resource"), form.get_all("audience"))?;
    if out.is_empty() {
        return Ok(default_audience(state, client));
    }
    Ok(out)
}

/// The audiences of a token issued from an authorization code whose request named `granted`
/// resources: those the token request names (which must be among them, RFC 8707 §2.2), or all
/// of them; without any, as [`choose_audiences`].
pub fn choose_code_audiences(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
    granted: &[String],
) -> Result<Vec<String>, OAuthError> {
    let asked = requested_audiences(client, form.get_all("resource"), form.get_all("audience"))?;
    if granted.is_empty() {
        return Ok(if asked.is_empty() {
            default_audience(state, client)
        } else {
            asked
        });
    }
    if asked.is_empty() {
        return Ok(granted.to_vec());
    }
    if let Some(extra) = asked.iter().find(|a| !granted.contains(a)) {
        return Err(OAuthError::invalid_target(format!(
            "{extra:?} was not named by the authorization request (its resource values: {}); \
             the token request may narrow them, not add to them (RFC 8707 §2.2)",
            granted.join(" ")
        )));
    }
    Ok(asked)
}

/// The client's first audience or, when it has none, `tokens.default_audience`.
fn default_audience(state: &AppState, client: &ClientEntry) -> Vec<String> {
    vec![client.client.audiences.first().cloned().unwrap_or_else(|| {
        state
            .config
            .tokens
            .default_audience
            .for_client(&state.issuer, &client.client.client_id)
    })]
}

/// The `resource` values (each an absolute URI without a fragment, RFC 8707 §2) and `audience`
/// values of a request, without repeats, each one the client may use; else `invalid_target`.
/// The token endpoint and the authorization endpoint share this rule.
pub fn requested_audiences<'a>(
    client: &ClientEntry,
    resources: impl Iterator<Item = &'a str>,
    audiences: impl Iterator<Item = &'a str>,
) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for r in resources {
        let absolute = r.contains("://") || r.starts_with("urn:");
        if !absolute || r.contains('#') {
            return Err(OAuthError::invalid_target(format!(
                "resource {r:?} must be an absolute URI without a fragment (RFC 8707 §2)"
            )));
        }
        out.push(r.to_owned());
    }
    out.extend(audiences.map(str::to_owned));
    let mut unique: Vec<String> = Vec::with_capacity(out.len());
    for a in out {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    for a in &unique {
        if !client.client.audiences.iter().any(|x| x == a) {
            return Err(OAuthError::invalid_target(format!(
                "the client may not request a token for {a:?}"
            )));
        }
    }
    Ok(unique)
}
