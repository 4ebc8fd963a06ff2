//! Reading a form-encoded OAuth request: content type, size limit, repeated parameters, and
//! parameters sent in the query string of a POST.

use super::error::OAuthError;
use axum::body::Body;
use axum::http::{HeaderMap, header};
use tessera_proto::FormParams;

/// Parameters that may legitimately appear more than once (RFC 8707 §2, RFC 8693 §2.1).
const REPEATABLE: [&str; 2] = ["resource", "audience"];

/// The parameters of token and device authorization requests (RFC 6749 §4, RFC 7523, RFC 7636,
/// RFC 8628, RFC 8707): in the query string of a POST they are refused, not ignored, unless the
/// `coupa` profile reads them.
pub const OAUTH_PARAMETERS: [&str; 16] = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "scope",
    "refresh_token",
    "username",
    "password",
    "assertion",
    "device_code",
    "resource",
    "audience",
];

/// Whether the request says its body is a form.
fn is_form(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// Reads the parameters of a POST to the token or device authorization endpoint (`endpoint`
/// names it in the metric): the form body, and, when `read_query` (the `coupa` profile), the
/// query string as well.
///
/// - Without `read_query`, OAuth parameters in the query string are refused (`invalid_request`
///   saying they belong in the body, RFC 6749 §3.2); anything else there is ignored.
/// - With it, the query's parameters join the body's: a parameter in both places is
///   `invalid_request`, and a request whose parameters are all in the query may have no body or
///   a body of another content type (which is then not read). Such a request is counted in
///   `tessera_compat_query_parameters_total{endpoint}`.
pub async fn read_params(
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
    limit: usize,
    read_query: bool,
    endpoint: &'static str,
) -> Result<FormParams, OAuthError> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return read_form(headers, body, limit).await;
    };
    if !read_query {
        // A query that is not a form at all carries no OAuth parameter: ignored, as before.
        if let Ok(q) = FormParams::parse(query.as_bytes())
            && let Some((name, _)) = q.pairs().find(|(k, _)| OAUTH_PARAMETERS.contains(k))
        {
            return Err(OAuthError::invalid_request(format!(
                "the parameter {name:?} is in the query string: send the parameters of this \
                 request in an application/x-www-form-urlencoded body (RFC 6749 §3.2)"
            )));
        }
        return read_form(headers, body, limit).await;
    }
    let in_query = FormParams::parse(query.as_bytes())?;
    if in_query.pairs().next().is_none() {
        return read_form(headers, body, limit).await;
    }
    let in_body = if is_form(headers) {
        read_form(headers, body, limit).await?
    } else {
        FormParams::default()
    };
    if let Some((name, _)) = in_query.pairs().find(|(k, _)| in_body.contains(k)) {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name:?} is both in the query string and in the body; send it once"
        )));
    }
    let merged = FormParams::parse(
        tessera_proto::form::encode(in_body.pairs().chain(in_query.pairs())).as_bytes(),
    )?;
    if let Some(name) = merged.first_repeated(&REPEATABLE) {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name:?} is included more than once"
        )));
    }
    metrics::counter!("tessera_compat_query_parameters_total", "endpoint" => endpoint).increment(1);
    Ok(merged)
}

/// Reads and parses a form body of at most `limit` bytes, refusing other content types and
/// repeated parameters (RFC 6749 §3.2).
pub async fn read_form(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<FormParams, OAuthError> {
    read_form_with_repeats(
        headers,
        body,
        limit,
        &REPEATABLE,
        tessera_proto::form::MAX_PARAMS,
    )
    .await
}

/// Reads a form as [`read_form`] does, but with `repeatable` as the parameters that may appear
/// more than once (a page's checkboxes) and at most `max_params` parameters in all.
pub async fn read_form_with_repeats(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    repeatable: &[&str],
    max_params: usize,
) -> Result<FormParams, OAuthError> {
    if !is_form(headers) {
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
    let form = FormParams::parse_at_most(&bytes, max_params)?;
    if let Some(name) = form.first_repeated(repeatable) {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name:?} is included more than once"
        )));
    }
    Ok(form)
}
