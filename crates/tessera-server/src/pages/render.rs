//! Turning a template into a response with the headers every page carries: no framing
//! (`X-Frame-Options: DENY`, `frame-ancestors 'none'`), a Content Security Policy that allows no
//! script at all, no caching, no referrer, no MIME sniffing.

use super::templates::{Chrome, MessagePage};
use crate::state::AppState;
use askama::Template;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The chrome of every page, from `[pages]`.
pub fn chrome(state: &AppState) -> Chrome {
    Chrome {
        product_name: state.config.pages.product_name.clone(),
        logo_url: state.config.pages.logo_url.clone(),
    }
}

/// The Content Security Policy of the pages: styles and images from this server (and the logo's
/// origin), no script, no plugins, no framing, forms only to this server or where it redirects.
pub fn content_security_policy(state: &AppState) -> String {
    let mut img = String::from("'self' data:");
    if let Some(logo) = &state.config.pages.logo_url
        && let Some(origin) = origin_of(logo)
    {
        img.push(' ');
        img.push_str(origin);
    }
    format!(
        "default-src 'none'; style-src 'self'; img-src {img}; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
    )
}

/// `scheme://host[:port]` of an absolute URL.
fn origin_of(url: &str) -> Option<&str> {
    let rest_start = url.find("://")? + 3;
    let end = url[rest_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| rest_start + i);
    Some(&url[..end])
}

/// Adds the security headers of a page to `resp`.
pub fn secure(state: &AppState, mut resp: Response) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_security_policy(state)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// Renders a page with `status` and the security headers.
pub fn page(state: &AppState, status: StatusCode, t: &impl Template) -> Response {
    let resp = match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown",
            )
                .into_response()
        }
    };
    secure(state, resp)
}

/// A message page (result or error).
pub fn message(
    state: &AppState,
    status: StatusCode,
    title: impl Into<String>,
    message: impl Into<String>,
    link: Option<(&str, &str)>,
) -> Response {
    let t = MessagePage {
        chrome: chrome(state),
        title: title.into(),
        message: message.into(),
        is_error: status.is_client_error() || status.is_server_error(),
        link: link.map(|(a, b)| (a.to_owned(), b.to_owned())),
    };
    page(state, status, &t)
}

/// The page shown while the database is unavailable: 503 with `Retry-After`, like the API's
/// `temporarily_unavailable` answers.
pub fn unavailable(state: &AppState) -> Response {
    let resp = message(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again shortly",
        "The service cannot complete this right now. Please try again in a moment.",
        None,
    );
    with_retry_after(resp, crate::oauth::error::UNAVAILABLE_RETRY_AFTER_SECS)
}

/// `resp` with `Retry-After: secs`.
pub fn with_retry_after(mut resp: Response, secs: u64) -> Response {
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

/// A 303 redirect to `location` (a local path or the client's redirect URI).
pub fn see_other(state: &AppState, location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    secure(state, resp)
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://cdn.example/logo.svg"),
            Some("https://cdn.example")
        );
        assert_eq!(
            origin_of("https://cdn.example:8443"),
            Some("https://cdn.example:8443")
        );
        assert_eq!(origin_of("/logo.svg"), None);
    }
}
