//! `/healthz`, `/readyz` and `/metrics`.

use crate::oauth::error::UNAVAILABLE_RETRY_AFTER_SECS;
use crate::state::SharedState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response()
}

/// `GET /readyz`: the store answers and the signing keys are loaded. Anyone may ask, so a
/// failing store is only said to be unavailable (its error is logged, not answered); a `503`
/// carries `Retry-After`.
pub async fn readyz(State(state): State<SharedState>) -> Response {
    let store = state.store.ping().await;
    if let Err(e) = &store {
        tracing::warn!(error = %e, "readiness: the database does not answer");
    }
    let keys = state.keyring.is_ready();
    let ok = store.is_ok() && keys;
    let body = Json(json!({
        "status": if ok { "ready" } else { "not ready" },
        "store": if store.is_ok() { "ok" } else { "database unavailable" },
        "keys": if keys { "loaded" } else { "missing" },
    }));
    if ok {
        (StatusCode::OK, body).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(
                header::RETRY_AFTER,
                UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
            )],
            body,
        )
            .into_response()
    }
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<SharedState>) -> Response {
    match &state.metrics {
        Some(h) => {
            tessera_log::publish_dropped_lines();
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                h.render(),
            )
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            "metrics are not enabled in this process",
        )
            .into_response(),
    }
}
