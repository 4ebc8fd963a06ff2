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
            log_issued(grant_label, &client_label, &outcome, &resp, elapsed);
            token_response(&resp)
        }
        Err(e) => {
            tracing::info!(target: "tessera::token", grant = grant_label, client_id = client_label.as_str(), outcome = &*outcome, status = e.status.as_u16(), description = &*e.description, reason = e.log_reason.as_deref().unwrap_or("-"), remote = %remote, micros = elapsed.as_micros() as u64, "token request refused");
            e.into_response()
        }
    };
    // After the log line, so the labels can take the values rather than copies of them.
    metrics::counter!("tessera_token_requests_total", "grant" => grant_label, "client" => client_label, "outcome" => outcome).increment(1);
    duration_histogram(grant_label).record(elapsed.as_secs_f64());
    if elapsed < HOLD_IF_FASTER_THAN {
        // Fast answers leave together, once the serving thread has answered every request it
        // can (`tessera_serve::batch`): one wake-up of the client for many answers.
        tessera_serve::batch::hold().await;
    }
    response
}

/// The line for a token issued: an `info` event of target `tessera::token`. Every value is a
/// string or a number, so the text format quotes and escapes the strings.
fn log_issued(grant: &str, client: &str, outcome: &str, resp: &TokenResponse, took: Duration) {
    tracing::info!(
        target: "tessera::token",
        grant,
        client_id = client,
        outcome,
        scope = resp.scope.as_deref().unwrap_or(""),
        expires_in = resp.expires_in.unwrap_or(0),
        micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "token issued"
    );
}

/// Token answers that took less than this are held to leave with others (`tessera_serve::batch`);
/// slower ones (an RSA signature, a database write) cost far more than the wake-up that holding
/// saves, and go at once.
const HOLD_IF_FASTER_THAN: Duration = Duration::from_micros(200);

/// A successful token response with the headers RFC 6749 §5.1 requires.
pub fn token_response(resp: &TokenResponse) -> Response {
    // Sized once for the tokens and the few short members around them.
    let tokens = resp.access_token.len()
        + resp.refresh_token.as_ref().map_or(0, String::len)
        + resp.id_token.as_ref().map_or(0, String::len)
        + resp.scope.as_ref().map_or(0, String::len);
    let mut body = Vec::with_capacity(tokens + 160);
    write_token_json(&mut body, resp);
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

/// Writes `resp` as JSON, as its `Serialize` does (same members, order and omissions; a test
/// holds them equal), but copying strings that need no escaping (tokens are base64url and dots)
/// in one piece rather than byte by byte: the access token is most of every response.
fn write_token_json(out: &mut Vec<u8>, resp: &TokenResponse) {
    // Destructured so that a member added to the type does not go unwritten here.
    let TokenResponse {
        access_token,
        token_type,
        expires_in,
        refresh_token,
        scope,
        id_token,
    } = resp;
    out.extend_from_slice(b"{\"access_token\":");
    json_string(out, access_token);
    out.extend_from_slice(b",\"token_type\":");
    json_string(out, token_type);
    if let Some(n) = expires_in {
        out.extend_from_slice(b",\"expires_in\":");
        // Writing to a Vec cannot fail.
        let _ = std::io::Write::write_fmt(out, format_args!("{n}"));
    }
    for (name, value) in [
        ("refresh_token", refresh_token),
        ("scope", scope),
        ("id_token", id_token),
    ] {
        if let Some(v) = value {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            json_string(out, v);
        }
    }
    out.push(b'}');
}

/// Writes `s` as a JSON string: as it is when nothing in it needs escaping, else escaped by
/// `serde_json`.
fn json_string(out: &mut Vec<u8>, s: &str) {
    // Without an early exit, so that the compiler checks many bytes per instruction.
    let needs_escape = s
        .bytes()
        .fold(false, |e, b| e | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if !needs_escape {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn response(i: u8) -> TokenResponse {
        let opt = |bit: u8, v: &str| (i & bit != 0).then(|| v.to_owned());
        TokenResponse {
            access_token: if i & 1 != 0 {
                "eyJ.a-b_c.d".into()
            } else {
                "t\"q\\u\u{1}é\u{2028}".into()
            },
            token_type: "Bearer".into(),
            expires_in: (i & 2 != 0).then_some(600),
            refresh_token: opt(4, "rt_x"),
            scope: opt(8, "core.a.read core.\"b\".write"),
            id_token: opt(16, "eyJ.id.sig"),
        }
    }

    #[test]
    fn the_token_json_is_what_serde_writes() {
        for i in 0..32 {
            let r = response(i);
            let mut ours = Vec::new();
            write_token_json(&mut ours, &r);
            let theirs = serde_json::to_vec(&r).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
        }
    }
}
