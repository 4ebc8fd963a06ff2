//! The HTTP routes and the middleware around them.

use crate::net::TrustForwardedFor;
use crate::state::SharedState;
use crate::{admin, health, oauth, pages};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;

/// Builds the router over `state`.
pub fn router(state: SharedState) -> Router {
    let timeout = request_timeout(&state);
    let trust = TrustForwardedFor(state.config.http.trust_forwarded_for);
    Router::new()
        .route("/oauth2/token", post(oauth::token::token))
        .route("/oauth2/introspect", post(oauth::introspect::introspect))
        .route("/oauth2/revoke", post(oauth::revoke::revoke))
        .route("/oauth2/jwks", get(oauth::discovery::jwks))
        .route(
            "/oauth2/authorize",
            get(oauth::authorize::authorize_get).post(oauth::authorize::authorize_post),
        )
        .route(
            "/oauth2/authorize/consent",
            post(oauth::authorize::consent::submit),
        )
        .route(
            "/oauth2/device_authorization",
            post(oauth::device::endpoint::device_authorization),
        )
        .route(
            "/oauth2/userinfo",
            get(oauth::userinfo::userinfo).post(oauth::userinfo::userinfo),
        )
        .route("/login", get(pages::login::show).post(pages::login::submit))
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
        .fallback(not_found)
        .with_state(state)
        // Layers wrap what is above them: the extension is visible to every handler; sensitive
        // headers are marked before anything could log them; the timeout answers 503 rather than
        // hang; a panic (a bug) becomes a 500 instead of a dropped connection.
        .layer(axum::Extension(trust))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| panic_response()))
}

/// How long a request may take before it is answered [`timeout_response`].
pub fn request_timeout(state: &SharedState) -> Duration {
    Duration::from_secs(state.config.http.request_timeout_secs.max(1))
}

/// The answer to a request that outlived the request timeout: `503`, empty.
pub fn timeout_response() -> Response {
    StatusCode::SERVICE_UNAVAILABLE.into_response()
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
