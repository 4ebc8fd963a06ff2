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
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every operation of the admin API: the router serves these handlers and the OpenAPI document
/// describes them, both built from this one list.
pub fn api() -> OpenApiRouter<SharedState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::show, clients::update, clients::delete))
        .routes(routes!(clients::enable))
        .routes(routes!(clients::disable))
        .routes(routes!(secrets::rotate))
        .routes(routes!(scopes::list, scopes::create))
        .routes(routes!(scopes::show, scopes::update, scopes::delete))
        .routes(routes!(audit::list))
        .routes(routes!(keys::list))
        .routes(routes!(keys::rotate))
        .routes(routes!(keys::retire))
        .merge(users::api())
}

/// The admin API's routes, with `GET /openapi.json` describing the others.
pub fn router() -> Router<SharedState> {
    let (routes, doc) = api().split_for_parts();
    let doc = Arc::new(openapi::finish(doc));
    routes
        .route(
            "/openapi.json",
            get(move |state: State<SharedState>| openapi::serve(doc.clone(), state)),
        )
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
        field: None,
    }
}
