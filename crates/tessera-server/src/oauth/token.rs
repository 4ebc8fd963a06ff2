//! The token endpoint, `POST /oauth2/token` (RFC 6749 §3.2): reads the request, authenticates the
//! client, checks the client may use the grant, and hands over to the grant's handler.

use super::client_auth;
use super::error::OAuthError;
use super::grants;
use crate::compat::ViaAlias;
use crate::net::RemoteAddr;
use crate::state::SharedState;
use axum::body::Body;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
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

/// `POST /oauth2/token` (and its aliases, see [`crate::compat::aliases`]).
pub async fn token(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    via: Option<Extension<ViaAlias>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let _in_flight = InFlight::enter();
    let mut granted: Option<GrantType> = None;
    let mut client_label = String::from("-");
    let result = async {
        let form = super::request::read_params(
            &headers,
            query.as_deref(),
            body,
            state.config.http.max_body_bytes,
            state.config.compat.reads_query_parameters(),
            "token",
        )
        .await?;
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
        granted = Some(grant);
        // A client assertion may name the address the client called (RFC 7523 §3 item 3).
        let called: Cow<'_, str> = match &via {
            Some(Extension(v)) => Cow::Owned(format!("{}{}", state.issuer, v.path)),
            None => Cow::Borrowed(&state.token_endpoint),
        };
        // RFC 7523 §3.1: a jwt-bearer assertion from an issuer configured to act as a client
        // needs no client authentication.
        let bound = match grant {
            GrantType::JwtBearer => {
                grants::jwt_bearer::issuer_bound_client(&state, &headers, &form)?
            }
            _ => None,
        };
        let (client, trader) = match bound {
            Some(c) => (c, grants::jwt_bearer::Trader::IssuerBound),
            None => (
                client_auth::authenticate(&state, &headers, &form, remote, &called).await?,
                grants::jwt_bearer::Trader::Authenticated,
            ),
        };
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
                Box::pin(grants::jwt_bearer::handle(&state, &client, &form, trader)).await
            }
        }
    }
    .await;
    let elapsed = started.elapsed();
    let grant_label = granted.map_or("unknown", GrantType::as_str);
    let t = crate::model::now();
    if result.is_ok() {
        // One map entry per client in memory; written to the database in the background.
        state.last_used.record(&client_label, t);
    }
    state.activity.record(
        t,
        granted,
        result.is_ok(),
        matches!(&result, Err(e) if e.code == tessera_proto::ErrorCode::InvalidClient),
    );
    // A borrowed label on success: nothing allocated for it on the hot path.
    let outcome: Cow<'static, str> = match &result {
        Ok(_) => "success".into(),
        Err(e) => e.code.as_str().to_owned().into(),
    };
    let response = match result {
        Ok(resp) => {
            log_issued(grant_label, &client_label, &resp, elapsed);
            token_response(&resp)
        }
        Err(e) => {
            // The server log names the registered client a failed authentication aimed at; the
            // metric below does not (`client_label` is set only once a client authenticated).
            let logged = match (&e.presented_client, client_label.as_str()) {
                (Some(id), "-") => id.as_str(),
                _ => client_label.as_str(),
            };
            tracing::info!(target: "tessera::token", grant = grant_label, client_id = logged, outcome = &*outcome, status = e.status.as_u16(), description = &*e.description, reason = e.log_reason.as_deref().unwrap_or("-"), remote = %remote, micros = elapsed.as_micros() as u64, "token request refused");
            e.into_response()
        }
    };
    // After the log line, so the labels can take the values rather than copies of them. The client
    // label is `-` until a client authenticated, so the exposition (which anyone may read) never
    // tells which client ids exist or which are being attacked.
    metrics::counter!("tessera_token_requests_total", "grant" => grant_label, "client" => client_label, "outcome" => outcome).increment(1);
    super::token_latency::timed(response, started, grant_label)
}

/// The line for a token issued: an `info` event of target `tessera::token`. Every value is a
/// string or a number, so the text format quotes and escapes the strings.
fn log_issued(grant: &str, client: &str, resp: &TokenResponse, took: Duration) {
    tracing::info!(
        target: "tessera::token",
        grant,
        client_id = client,
        outcome = "success",
        scope = resp.scope.as_deref().unwrap_or(""),
        expires_in = resp.expires_in.unwrap_or(0),
        micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "token issued"
    );
}

/// A successful token response with the headers RFC 6749 §5.1 requires.
pub fn token_response(resp: &TokenResponse) -> Response {
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        axum::Json(resp),
    )
        .into_response()
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The body is the response's own JSON (every member, escaped where needed), with RFC 6749
    /// §5.1's headers.
    #[tokio::test]
    async fn the_token_response_is_its_json_with_no_store() {
        let resp = TokenResponse {
            access_token: "t\"q\\u\u{1}é".into(),
            token_type: "Bearer".into(),
            expires_in: Some(600),
            refresh_token: Some("rt_x".into()),
            scope: Some("core.a.read".into()),
            id_token: Some("eyJ.id.sig".into()),
        };
        let r = token_response(&resp);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()[header::PRAGMA], "no-cache");
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        let back: TokenResponse = serde_json::from_slice(&body).unwrap();
        assert!(back == resp, "{}", String::from_utf8_lossy(&body));
    }
}
