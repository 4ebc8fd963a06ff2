//! Token introspection, `POST /oauth2/introspect` (RFC 7662).
//!
//! The caller authenticates as a client. A client whose allowed scopes include
//! `tessera.tokens.introspect` (a resource server) may introspect any token; any other client
//! only tokens issued to itself. Anything else is answered `{"active": false}` (RFC 7662 §2.2).

use super::client_auth;
use super::error::OAuthError;
use crate::net::RemoteAddr;
use crate::own_tokens;
use crate::state::SharedState;
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
        let Some(active) = own_tokens::lookup(&state, token).await? else {
            return Ok(IntrospectionResponse::inactive());
        };
        let may = active.client_id == caller.client.client_id
            || caller.allowed_scopes.contains(INTROSPECT_SCOPE);
        if !may {
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
