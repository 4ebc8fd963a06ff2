//! `GET /assets/tessera.css`: the pages' one stylesheet, with the `[pages]` colours as custom
//! properties in front (a stylesheet, not inline style, so the CSP needs no `unsafe-inline`).

use crate::state::SharedState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const STYLESHEET: &str = include_str!("../../assets/tessera.css");

/// `GET /assets/tessera.css`.
pub async fn stylesheet(State(state): State<SharedState>) -> Response {
    let p = &state.config.pages;
    // The colours were checked to be #rgb / #rrggbb at start-up: nothing else can get in here.
    let css = format!(
        ":root {{ --primary: {}; --primary-text: {}; --background: {}; --text: {}; }}\n{STYLESHEET}",
        p.primary_color, p.primary_text_color, p.background_color, p.text_color
    );
    let mut r = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        )],
        css,
    )
        .into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}
