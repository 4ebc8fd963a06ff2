//! `/healthz`, `/readyz` and `/metrics`.

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

/// `GET /readyz`: the store answers and the signing keys are loaded.
pub async fn readyz(State(state): State<SharedState>) -> Response {
    let store = state.store.ping().await;
    let keys = state.keyring.is_ready();
    let ok = store.is_ok() && keys;
    let body = json!({
        "status": if ok { "ready" } else { "not ready" },
        "store": match &store { Ok(()) => "ok".to_owned(), Err(e) => e.to_string() },
        "keys": if keys { "loaded" } else { "missing" },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
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
