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
use std::sync::OnceLock;
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
        // Every grant but client credentials is boxed: this future is moved several times per
        // request, and its size is that of its largest branch.
        match grant {
            GrantType::ClientCredentials => {
                grants::client_credentials::handle(&state, &client, &form).await
            }
            GrantType::AuthorizationCode => {
                Box::pin(grants::authorization_code::handle(&state, &client, &form)).await
            }
            GrantType::RefreshToken => {
                Box::pin(grants::refresh_token::handle(&state, &client, &form)).await
            }
            GrantType::DeviceCode => {
                Box::pin(grants::device_code::handle(&state, &client, &form)).await
            }
            GrantType::Password => {
                Box::pin(grants::password::handle(&state, &client, &form, remote)).await
            }
            GrantType::JwtBearer => {
                Box::pin(grants::jwt_bearer::handle(&state, &client, &form)).await
            }
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
    duration_histogram(grant_label).record(elapsed.as_secs_f64());
    response
}

/// A successful token response with the headers RFC 6749 §5.1 requires.
pub fn token_response(resp: &TokenResponse) -> Response {
    // Sized once for the tokens and the few short members around them.
    let tokens = resp.access_token.len()
        + resp.refresh_token.as_ref().map_or(0, String::len)
        + resp.id_token.as_ref().map_or(0, String::len)
        + resp.scope.as_ref().map_or(0, String::len);
    let mut body = Vec::with_capacity(tokens + 160);
    if let Err(e) = serde_json::to_writer(&mut body, resp) {
        // Strings and integers only: unreachable in practice, and still an answer, not a panic.
        tracing::error!(error = %e, "a token response could not be serialised");
        return OAuthError::server_error("the token response could not be written").into_response();
    }
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// `tessera_token_request_duration_seconds` for one grant label. The handles are made once (the
/// recorder is installed before the server answers): a lookup by name and labels hashes and
/// allocates on every call.
fn duration_histogram(grant: &'static str) -> &'static metrics::Histogram {
    static HANDLES: [OnceLock<metrics::Histogram>; SUPPORTED_GRANTS.len() + 1] =
        [const { OnceLock::new() }; SUPPORTED_GRANTS.len() + 1];
    let i = SUPPORTED_GRANTS
        .iter()
        .position(|g| g.as_str() == grant)
        .unwrap_or(SUPPORTED_GRANTS.len());
    let slot = HANDLES.get(i).unwrap_or(&HANDLES[SUPPORTED_GRANTS.len()]);
    slot.get_or_init(
        || metrics::histogram!("tessera_token_request_duration_seconds", "grant" => grant),
    )
}

/// Counts token requests being handled, for `tessera_token_requests_in_flight`.
struct InFlight;

impl InFlight {
    fn gauge() -> &'static metrics::Gauge {
        static GAUGE: OnceLock<metrics::Gauge> = OnceLock::new();
        GAUGE.get_or_init(|| metrics::gauge!("tessera_token_requests_in_flight"))
    }

    fn enter() -> Self {
        Self::gauge().increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        Self::gauge().decrement(1.0);
    }
}
