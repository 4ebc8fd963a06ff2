//! The admin API under `/admin/api/v1/`, protected by Tessera's own tokens with `tessera.*` scopes
//! (audience `urn:tessera:admin`). One file per resource; `docs/admin-api.md` describes it for
//! people and `GET /admin/api/v1/openapi.json` for tools.

pub mod audit;
pub mod auth;
pub mod clients;
pub mod error;
pub mod extract;
pub mod keys;
pub mod openapi;
pub mod permission;
pub mod scopes;
pub mod secrets;
pub mod users;
pub mod validate;

use crate::state::SharedState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The admin API's routes.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route("/clients", get(clients::list).post(clients::create))
        .route(
            "/clients/{client_id}",
            get(clients::show)
                .patch(clients::update)
                .delete(clients::delete),
        )
        .route("/clients/{client_id}/enable", post(clients::enable))
        .route("/clients/{client_id}/disable", post(clients::disable))
        .route("/clients/{client_id}/secret", post(secrets::rotate))
        .route("/scopes", get(scopes::list).post(scopes::create))
        .route(
            "/scopes/{name}",
            get(scopes::show)
                .patch(scopes::update)
                .delete(scopes::delete),
        )
        .route("/audit", get(audit::list))
        .route("/keys", get(keys::list))
        .route("/keys/rotate", post(keys::rotate))
        .route("/keys/{kid}/retire", post(keys::retire))
        .merge(users::router())
        .method_not_allowed_fallback(method_not_allowed)
        // Answers may carry a secret (creation, rotation): no cache keeps them.
        .layer(axum::middleware::map_response(no_store))
}

async fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    r
}

async fn method_not_allowed() -> impl IntoResponse {
    error::ApiError::Status {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "invalid_request",
        description: "this endpoint does not take that method; see /admin/api/v1/openapi.json"
            .into(),
    }
}
