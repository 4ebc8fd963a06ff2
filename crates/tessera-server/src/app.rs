//! The HTTP routes, and what every route goes through (see [`layers`]).

use crate::compat::{Endpoint, ViaAlias};
use crate::net::TrustForwardedFor;
use crate::state::SharedState;
use crate::{admin, compat, console, health, oauth, pages};
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::timeout::TimeoutLayer;

/// Builds the router over `state`, every route behind [`layers`].
pub fn router(state: SharedState) -> Router {
    let trust = TrustForwardedFor(state.config.http.trust_forwarded_for);
    let timeout = request_timeout(&state);
    let mut routes = Router::new();
    for e in Endpoint::ALL {
        routes = routes.route(e.path(), endpoint(e));
    }
    for alias in aliases(&state) {
        let via = ViaAlias {
            path: Arc::from(alias.path.as_str()),
            source: alias.source,
        };
        // The extension is the outer layer, so that the counter (and the endpoint) see it.
        let served: MethodRouter<SharedState> = endpoint(alias.endpoint)
            .layer::<_, std::convert::Infallible>(middleware::from_fn(compat::aliases::count))
            .layer(axum::Extension(via));
        routes = routes.route(&alias.path, served);
    }
    let routes = routes
        .route(
            "/oauth2/authorize/consent",
            post(oauth::authorize::consent::submit),
        )
        .route("/login", get(pages::login::show).post(pages::login::submit))
        .route("/login/password", post(pages::new_password::submit))
        .route(
            "/logout",
            get(pages::logout::show).post(pages::logout::submit),
        )
        .route(
            "/device",
            get(pages::device::show).post(pages::device::submit),
        )
        .route("/device/approve", post(pages::device::approve))
        .route("/assets/tessera.css", get(pages::assets::stylesheet))
        .route(
            "/.well-known/openid-configuration",
            get(oauth::discovery::well_known),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::discovery::well_known),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .nest("/admin/api/v1", admin::router())
        .merge(console::router())
        .fallback(not_found)
        .with_state(state)
        // Lets `RemoteAddr` know whether to believe `X-Forwarded-For`.
        .layer(axum::Extension(trust));
    layers(routes, timeout)
}

/// What an OAuth endpoint answers, at its standard address and at its aliases alike.
fn endpoint(e: Endpoint) -> MethodRouter<SharedState> {
    match e {
        Endpoint::Token => post(oauth::token::token),
        Endpoint::Introspection => post(oauth::introspect::introspect),
        Endpoint::Revocation => post(oauth::revoke::revoke),
        Endpoint::Jwks => get(oauth::discovery::jwks),
        Endpoint::Authorization => {
            get(oauth::authorize::authorize_get).post(oauth::authorize::authorize_post)
        }
        Endpoint::DeviceAuthorization => post(oauth::device::endpoint::device_authorization),
        Endpoint::Userinfo => get(oauth::userinfo::userinfo).post(oauth::userinfo::userinfo),
    }
}

/// The aliases to serve. The settings were checked when loaded, so this fails only for settings
/// built in code without that check: then no alias is served, and the log says why.
fn aliases(state: &SharedState) -> Vec<compat::Alias> {
    let c = &state.config;
    compat::aliases::resolve(&c.compat.profiles, &c.http.path_aliases).unwrap_or_else(|e| {
        tracing::error!(error = %e, "no path alias is served");
        Vec::new()
    })
}

/// Puts every route of `routes` (and its fallback) behind what every request needs. Listed from
/// the outside in: a request meets them in this order, its answer in the reverse one.
///
/// 1. `Authorization`, `Proxy-Authorization` and `Cookie` in the request, and `Set-Cookie` in
///    the answer, are marked sensitive (hidden from `Debug`, never indexed by HTTP/2's HPACK),
///    before anything else sees the request and after everything else made the answer.
/// 2. A request without an `X-Request-Id` is given one (a random UUID) ...
/// 3. ... and the answer carries the request's, whatever made it (the timeout and panic
///    answers below included).
/// 4. A panic in anything further in is answered `500` (a `server_error` body) instead of a
///    dropped connection, and logged.
/// 5. A request that takes longer than `timeout` is answered `503`, empty.
/// 6. A `413` answered over HTTP/1.1 says `Connection: close` (see [`close_after_unread_body`]).
///
/// Request bodies are limited to `http.max_body_bytes` by each route as it reads its body, so
/// that an oversized body is answered in that route's own error format (OAuth and admin JSON,
/// or an HTML page).
pub fn layers(routes: Router, timeout: Duration) -> Router {
    routes.layer(
        ServiceBuilder::new()
            .layer(SetSensitiveHeadersLayer::new([
                header::AUTHORIZATION,
                header::PROXY_AUTHORIZATION,
                header::COOKIE,
                header::SET_COOKIE,
            ]))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(CatchPanicLayer::custom(answer_panic))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                timeout,
            ))
            .layer(middleware::from_fn(close_after_unread_body)),
    )
}

/// How long a request may take before it is answered `503`.
pub fn request_timeout(state: &SharedState) -> Duration {
    Duration::from_secs(state.config.http.request_timeout_secs.max(1))
}

/// A `413` over HTTP/1.1 gets `Connection: close`: the rest of the oversized body is never read,
/// so the connection cannot carry another request, and saying so keeps the client from sending
/// its next one on it.
async fn close_after_unread_body(req: Request, next: Next) -> Response {
    let http1 = req.version() <= Version::HTTP_11;
    let mut resp = next.run(req).await;
    if http1 && resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// The answer to a request whose handler panicked (a bug), logged.
fn answer_panic(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked; answering 500");
    panic_response()
}

/// The answer to a request whose handler panicked (a bug): `500` with an RFC 6749 style body.
pub fn panic_response() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({
            "error": "server_error",
            "error_description": "the server failed to answer this request"
        })),
    )
        .into_response()
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "error": "not_found",
            "error_description": "no such endpoint; see /.well-known/openid-configuration"
        })),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::HeaderMap;
    use tower::ServiceExt;

    /// A route that says whether the request's `Authorization`, `Proxy-Authorization` and
    /// `Cookie` arrived marked sensitive, and answers with a `Set-Cookie`.
    async fn probe(headers: HeaderMap) -> Response {
        let sensitive = [
            header::AUTHORIZATION,
            header::PROXY_AUTHORIZATION,
            header::COOKIE,
        ]
        .iter()
        .all(|h| headers.get(h).is_some_and(HeaderValue::is_sensitive));
        (
            [(header::SET_COOKIE, "s=1")],
            if sensitive { "sensitive" } else { "shown" },
        )
            .into_response()
    }

    async fn panics() -> Response {
        panic!("a bug")
    }

    async fn never() -> Response {
        std::future::pending().await
    }

    async fn too_large() -> StatusCode {
        StatusCode::PAYLOAD_TOO_LARGE
    }

    fn app() -> Router {
        layers(
            Router::new()
                .route("/oauth2/token", post(probe))
                .route("/panics", get(panics))
                .route("/never", get(never))
                .route("/too-large", post(too_large)),
            Duration::from_millis(50),
        )
    }

    async fn call(req: axum::http::request::Builder) -> Response {
        app()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn text(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8_lossy(&b).into_owned()
    }

    #[tokio::test]
    async fn credentials_are_marked_sensitive_both_ways() {
        let r = call(
            Request::post("/oauth2/token")
                .header(header::AUTHORIZATION, "Basic eDp5")
                .header(header::PROXY_AUTHORIZATION, "Basic eDp5")
                .header(header::COOKIE, "s=1"),
        )
        .await;
        assert!(r.headers()[header::SET_COOKIE].is_sensitive());
        assert_eq!(text(r).await, "sensitive");
    }

    #[tokio::test]
    async fn a_request_id_is_given_or_kept_and_answered() {
        let r = call(Request::post("/oauth2/token").header("x-request-id", "abc-1")).await;
        assert_eq!(r.headers()["x-request-id"], "abc-1");
        let r = call(Request::post("/oauth2/token")).await;
        let id = r.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 36, "{id}");
        // Even on the answers the layers make themselves.
        let r = call(Request::get("/panics").header("x-request-id", "abc-2")).await;
        assert_eq!(r.headers()["x-request-id"], "abc-2");
        let r = call(Request::get("/never").header("x-request-id", "abc-3")).await;
        assert_eq!(r.headers()["x-request-id"], "abc-3");
    }

    #[tokio::test]
    async fn a_panic_is_answered_500_with_a_server_error() {
        let r = call(Request::get("/panics")).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: serde_json::Value = serde_json::from_str(&text(r).await).unwrap();
        assert_eq!(body["error"], "server_error");
    }

    #[tokio::test]
    async fn a_request_past_the_timeout_is_answered_503_empty() {
        let r = call(Request::get("/never")).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(text(r).await, "");
    }

    #[tokio::test]
    async fn a_413_closes_an_http1_connection_only() {
        let r = call(Request::post("/too-large")).await;
        assert_eq!(r.headers()[header::CONNECTION], "close");
        let r = call(Request::post("/too-large").version(Version::HTTP_2)).await;
        assert!(r.headers().get(header::CONNECTION).is_none());
    }
}
