//! Token introspection, `POST /oauth2/introspect` (RFC 7662).
//!
//! The caller authenticates as a client. A client whose allowed scopes include
//! `tessera.tokens.introspect` (a resource server) may introspect any token; any other client
//! only tokens issued to itself. Access tokens (JWT or opaque) and refresh tokens are both
//! introspected, with or without `token_type_hint` (RFC 7662 §2.1: the hint only speeds the
//! search); a refresh token answers `token_type: "refresh_token"`, so that no resource server
//! takes it for a bearer token. Anything else, and any token whose client is disabled or deleted,
//! is answered `{"active": false}` (RFC 7662 §2.2).

use super::client_auth;
use super::error::OAuthError;
use super::grants::user_tokens::REFRESH_PREFIX;
use crate::model::now;
use crate::net::RemoteAddr;
use crate::own_tokens;
use crate::registry::ClientEntry;
use crate::state::{AppState, SharedState};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tessera_proto::introspection::IntrospectionResponse;

/// The scope that lets a client introspect tokens issued to others.
pub const INTROSPECT_SCOPE: &str = "tessera.tokens.introspect";

/// `POST /oauth2/introspect`.
pub async fn introspect(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result: Result<IntrospectionResponse, OAuthError> = async {
        let form =
            super::request::read_form(&headers, body, state.config.http.max_body_bytes).await?;
        let endpoint = format!("{}/oauth2/introspect", state.issuer);
        let caller = client_auth::authenticate(&state, &headers, &form, remote, &endpoint).await?;
        let token = form
            .get("token")?
            .ok_or_else(|| OAuthError::invalid_request("the token parameter is missing"))?;
        if token.starts_with(REFRESH_PREFIX) {
            return refresh_token(&state, &caller, token).await;
        }
        let Some(active) = own_tokens::lookup(&state, token).await? else {
            return Ok(IntrospectionResponse::inactive());
        };
        if !may_introspect(&caller, &active.client_id) {
            return Ok(IntrospectionResponse::inactive());
        }
        let mut claims = active.claims;
        let get_s = |c: &mut serde_json::Map<String, Value>, k: &str| {
            c.remove(k).and_then(|v| v.as_str().map(str::to_owned))
        };
        let get_i =
            |c: &mut serde_json::Map<String, Value>, k: &str| c.remove(k).and_then(|v| v.as_i64());
        Ok(IntrospectionResponse {
            active: true,
            scope: get_s(&mut claims, "scope"),
            client_id: get_s(&mut claims, "client_id"),
            username: None,
            token_type: Some("Bearer".into()),
            exp: get_i(&mut claims, "exp"),
            iat: get_i(&mut claims, "iat"),
            nbf: get_i(&mut claims, "nbf"),
            sub: get_s(&mut claims, "sub"),
            aud: claims.remove("aud"),
            iss: get_s(&mut claims, "iss"),
            jti: get_s(&mut claims, "jti"),
            extra: claims,
        })
    }
    .await;
    let outcome = if result.as_ref().is_ok_and(|r| r.active) {
        "active"
    } else if result.is_ok() {
        "inactive"
    } else {
        "error"
    };
    metrics::counter!("tessera_introspection_requests_total", "outcome" => outcome).increment(1);
    match result {
        Ok(r) => {
            let mut resp = axum::Json(r).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            e.log_failed_authentication("introspection", remote);
            e.into_response()
        }
    }
}

/// Whether `caller` may learn about a token issued to `client_id`.
fn may_introspect(caller: &ClientEntry, client_id: &str) -> bool {
    client_id == caller.client.client_id || caller.allowed_scopes.contains(INTROSPECT_SCOPE)
}

/// A refresh token's answer: active while it is unused, unexpired (idle and absolute
/// lifetimes), its family not revoked, its client enabled and its user enabled — exactly when
/// the refresh token grant would accept it.
async fn refresh_token(
    state: &AppState,
    caller: &ClientEntry,
    token: &str,
) -> Result<IntrospectionResponse, OAuthError> {
    let Some((record, family)) = state
        .store
        .refresh_family_of(&state.keys.hash(token))
        .await?
    else {
        return Ok(IntrospectionResponse::inactive());
    };
    let t = now();
    let live = record.used_at.is_none()
        && family.revoked_at.is_none()
        && record.expires_at > t
        && family.absolute_expires_at > t
        && own_tokens::client_active(state, &family.client_id);
    if !live || !may_introspect(caller, &family.client_id) {
        return Ok(IntrospectionResponse::inactive());
    }
    let user = match state.store.get_user(&family.user_id).await? {
        Some(u) if u.enabled => u,
        _ => return Ok(IntrospectionResponse::inactive()),
    };
    let aud = match serde_json::from_str::<Vec<String>>(&family.aud) {
        Ok(mut v) if v.len() == 1 => v.pop().map(Value::from),
        Ok(v) if v.is_empty() => None,
        Ok(v) => Some(Value::from(v)),
        Err(e) => {
            return Err(OAuthError::server_error(format!("stored audience: {e}")));
        }
    };
    Ok(IntrospectionResponse {
        active: true,
        scope: (!family.scope.is_empty()).then(|| family.scope.clone()),
        client_id: Some(family.client_id.clone()),
        username: Some(user.username),
        token_type: Some("refresh_token".into()),
        exp: Some(record.expires_at),
        iat: Some(record.created_at),
        nbf: None,
        sub: Some(family.user_id.clone()),
        aud,
        iss: Some(state.issuer.clone()),
        jti: None,
        extra: serde_json::Map::new(),
    })
}
