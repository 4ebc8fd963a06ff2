//! Reading a form-encoded OAuth request: content type, size limit, repeated parameters.

use super::error::OAuthError;
use axum::body::Body;
use axum::http::{HeaderMap, header};
use tessera_proto::FormParams;

/// Parameters that may legitimately appear more than once (RFC 8707 §2, RFC 8693 §2.1).
const REPEATABLE: [&str; 2] = ["resource", "audience"];

/// Reads and parses a form body of at most `limit` bytes, refusing other content types and
/// repeated parameters (RFC 6749 §3.2).
pub async fn read_form(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<FormParams, OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the request must have Content-Type: application/x-www-form-urlencoded",
        ));
    }
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(OAuthError::too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| OAuthError::too_large(limit))?;
    let form = FormParams::parse(&bytes)?;
    if let Some(name) = form.first_repeated(&REPEATABLE) {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name:?} is included more than once"
        )));
    }
    Ok(form)
}
