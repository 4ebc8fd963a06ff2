//! The UserInfo endpoint, `GET`/`POST /oauth2/userinfo` (OpenID Connect Core §5.3): claims about
//! the user of an access token that carries `openid` — `sub` always, `name`,
//! `preferred_username` and `updated_at` with `profile`, `email` and `email_verified` with
//! `email`. Refusals follow RFC 6750 §3.

use crate::own_tokens;
use crate::state::SharedState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

fn refuse(status: StatusCode, code: &str, description: &str) -> Response {
    let challenge =
        format!("Bearer realm=\"tessera\", error=\"{code}\", error_description=\"{description}\"");
    let mut r = (
        status,
        axum::Json(json!({ "error": code, "error_description": description })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /oauth2/userinfo` and `POST /oauth2/userinfo`.
pub async fn userinfo(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        let mut r = (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "invalid_request", "error_description": "send the access token as Authorization: Bearer <token>" }))).into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"tessera\""),
        );
        return r;
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    let Some(token) = token else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the Authorization header must be Bearer <token>",
        );
    };
    let active = match own_tokens::lookup(&state, token).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is invalid, expired or revoked",
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "userinfo token lookup failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
            )
                .into_response();
        }
    };
    let scopes: Vec<&str> = active
        .claims
        .get("scope")
        .and_then(Value::as_str)
        .map(|s| s.split(' ').collect())
        .unwrap_or_default();
    if !scopes.contains(&"openid") {
        return refuse(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token was not granted the openid scope",
        );
    }
    let sub = active
        .claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or("");
    let user = match state.store.get_user(sub).await {
        Ok(Some(u)) if u.enabled => u,
        Ok(_) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the user of the access token is disabled or deleted",
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "userinfo user lookup failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
            )
                .into_response();
        }
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), user.id.clone().into());
    if scopes.contains(&"profile") {
        claims.insert("name".into(), user.shown_name().into());
        claims.insert("preferred_username".into(), user.username.clone().into());
        claims.insert("updated_at".into(), user.updated_at.into());
    }
    if scopes.contains(&"email") && !user.email.is_empty() {
        claims.insert("email".into(), user.email.clone().into());
        claims.insert("email_verified".into(), user.email_verified.into());
    }
    let mut r = axum::Json(Value::Object(claims)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}
