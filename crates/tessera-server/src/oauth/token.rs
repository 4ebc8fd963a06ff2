//! The token endpoint, `POST /oauth2/token` (RFC 6749 §3.2): reads the request, authenticates the
//! client, checks the client may use the grant, and hands over to the grant's handler.

use super::client_auth;
use super::error::OAuthError;
use super::grants;
use crate::net::RemoteAddr;
use crate::state::SharedState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::time::Instant;
use tessera_proto::{GrantType, TokenResponse};

/// The grants this server answers at the token endpoint.
pub const SUPPORTED_GRANTS: [GrantType; 6] = [
    GrantType::ClientCredentials,
    GrantType::AuthorizationCode,
    GrantType::RefreshToken,
    GrantType::DeviceCode,
    GrantType::Password,
    GrantType::JwtBearer,
];

/// `POST /oauth2/token`.
pub async fn token(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let _in_flight = InFlight::enter();
    let mut grant_label = "unknown";
    let mut client_label = String::from("-");
    let result = async {
        let form =
            super::request::read_form(&headers, body, state.config.http.max_body_bytes).await?;
        let grant_type = form
            .get("grant_type")?
            .ok_or_else(|| OAuthError::invalid_request("the grant_type parameter is missing"))?;
        let grant = GrantType::parse(grant_type)
            .filter(|g| SUPPORTED_GRANTS.contains(g))
            .ok_or_else(|| {
                OAuthError::unsupported_grant_type(format!(
                    "grant_type {grant_type:?} is not supported; supported: {}",
                    SUPPORTED_GRANTS.map(GrantType::as_str).join(", ")
                ))
            })?;
        grant_label = grant.as_str();
        let client =
            client_auth::authenticate(&state, &headers, &form, remote, &state.token_endpoint)
                .await?;
        client_label.clone_from(&client.client.client_id);
        if !client.client.grant_types.contains(&grant) {
            return Err(OAuthError::unauthorized_client(format!(
                "the client may not use the {} grant",
                grant.as_str()
            )));
        }
        match grant {
            GrantType::ClientCredentials => {
                grants::client_credentials::handle(&state, &client, &form).await
            }
            GrantType::AuthorizationCode => {
                grants::authorization_code::handle(&state, &client, &form).await
            }
            GrantType::RefreshToken => grants::refresh_token::handle(&state, &client, &form).await,
            GrantType::DeviceCode => grants::device_code::handle(&state, &client, &form).await,
            GrantType::Password => grants::password::handle(&state, &client, &form, remote).await,
            GrantType::JwtBearer => grants::jwt_bearer::handle(&state, &client, &form).await,
        }
    }
    .await;
    let elapsed = started.elapsed();
    // A borrowed label on success: nothing allocated for it on the hot path.
    let outcome: std::borrow::Cow<'static, str> = match &result {
        Ok(_) => "success".into(),
        Err(e) => e.code.as_str().to_owned().into(),
    };
    if let Err(e) = &result
        && client_label == "-"
        && let Some(id) = &e.presented_client
    {
        // Failed authentication of a registered client: counted under its id. Ids that name no
        // client stay "-", so made-up ids never become label values.
        client_label.clone_from(id);
    }
    let response = match result {
        Ok(resp) => {
            tracing::info!(target: "tessera::token", grant = grant_label, client_id = %client_label, outcome = %outcome, scope = resp.scope.as_deref().unwrap_or(""), expires_in = resp.expires_in.unwrap_or(0), micros = elapsed.as_micros() as u64, "token issued");
            token_response(&resp)
        }
        Err(e) => {
            tracing::info!(target: "tessera::token", grant = grant_label, client_id = %client_label, outcome = %outcome, status = e.status.as_u16(), description = %e.description, reason = e.log_reason.as_deref().unwrap_or("-"), remote = %remote, micros = elapsed.as_micros() as u64, "token request refused");
            e.into_response()
        }
    };
    // After the log line, so the labels can take the values rather than copies of them.
    metrics::counter!("tessera_token_requests_total", "grant" => grant_label, "client" => client_label, "outcome" => outcome).increment(1);
    metrics::histogram!("tessera_token_request_duration_seconds", "grant" => grant_label)
        .record(elapsed.as_secs_f64());
    response
}

/// A successful token response with the headers RFC 6749 §5.1 requires.
pub fn token_response(resp: &TokenResponse) -> Response {
    let mut r = axum::Json(resp).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// Counts token requests being handled, for `tessera_token_requests_in_flight`.
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        metrics::gauge!("tessera_token_requests_in_flight").increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("tessera_token_requests_in_flight").decrement(1.0);
    }
}
