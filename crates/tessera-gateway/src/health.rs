//! `/healthz` (the process answers), `/readyz` (every upstream's token could be obtained) and
//! `/metrics` (Prometheus text format).

use crate::body::ProxyBody;
use crate::proxy::error;
use crate::state::Shared;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};

/// The answer for a health or metrics path, or `None` for any other request.
pub(crate) fn answer<B>(shared: &Shared, req: &Request<B>) -> Option<Response<ProxyBody>> {
    let path = req.uri().path();
    if !matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return None;
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut resp = error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "use GET");
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(resp);
    }
    Some(match path {
        "/healthz" => json_response(StatusCode::OK, &json!({ "status": "ok" })),
        "/readyz" => readiness(shared),
        _ => {
            let mut resp = Response::new(ProxyBody::full(shared.metrics.render()));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            resp
        }
    })
}

/// The admin listener's answer: health and metrics paths, 404 for anything else.
pub(crate) fn admin<B>(shared: &Shared, req: &Request<B>) -> Response<ProxyBody> {
    answer(shared, req).unwrap_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "not_found",
            "this listener serves /healthz, /readyz and /metrics",
        )
    })
}

/// 200 once every upstream with an `oauth2` block has obtained a token (and its last attempt did
/// not fail); else 503 naming the upstreams that wait, and the background fetches are (re)started.
fn readiness(shared: &Shared) -> Response<ProxyBody> {
    let state = shared.state.load();
    let mut waiting = Map::new();
    for (name, u) in &state.upstreams {
        if let Some(a) = &u.auth
            && !a.is_ready()
        {
            a.warm_up();
            let why = a
                .last_error()
                .unwrap_or_else(|| "no token obtained yet".into());
            waiting.insert(name.clone(), Value::String(why));
        }
    }
    if waiting.is_empty() {
        json_response(StatusCode::OK, &json!({ "status": "ready" }))
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "not_ready", "upstreams": waiting }),
        )
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response<ProxyBody> {
    let mut resp = Response::new(ProxyBody::full(v.to_string()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
