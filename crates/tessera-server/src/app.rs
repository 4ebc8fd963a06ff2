//! The HTTP routes, and the answers for a request that timed out or panicked.

use crate::net::TrustForwardedFor;
use crate::state::SharedState;
use crate::{admin, health, oauth, pages};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::time::Duration;

/// Builds the router over `state`. The server wraps it (see `serve`): requests get their
/// sensitive headers marked, the request timeout and a `500` for a panic there, and
/// `POST /oauth2/token` is answered before the router (its route here answers other methods).
pub fn router(state: SharedState) -> Router {
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
        // The extension lets `RemoteAddr` know whether to believe `X-Forwarded-For`. What every
        // request needs besides (sensitive headers, the timeout, panics) is done around the
        // router, where the token endpoint gets it too: see `serve`.
        .layer(axum::Extension(trust))
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
