//! Reading a page's form post (`application/x-www-form-urlencoded`, within the body limit, at most
//! [`tessera_proto::form::MAX_PARAMS`] fields unless the form says (the console's client form has
//! one checkbox per scope), no repeated field but those a form's checkboxes repeat) and a page's query string (at
//! most as many parameters); anything else is answered with an error page.

use super::render;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_proto::{FormError, FormParams};

/// The posted form, or the error page to answer with.
pub async fn read(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<FormParams, Response> {
    let limit = state.config.http.max_body_bytes;
    crate::oauth::request::read_form(headers, body, limit)
        .await
        .map_err(|e| unreadable_form(state, &e))
}

/// Reads a page's form as [`read`] does, with `repeatable` as the fields that may appear more
/// than once (its groups of checkboxes) and at most `max_fields` fields.
pub async fn read_with_repeats(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    repeatable: &[&str],
    max_fields: usize,
) -> Result<FormParams, Response> {
    let limit = state.config.http.max_body_bytes;
    crate::oauth::request::read_form_with_repeats(headers, body, limit, repeatable, max_fields)
        .await
        .map_err(|e| unreadable_form(state, &e))
}

/// The error page (400) for a form post that could not be read.
fn unreadable_form(state: &AppState, e: &crate::oauth::error::OAuthError) -> Response {
    render::message(
        state,
        StatusCode::BAD_REQUEST,
        "Something went wrong",
        format!("The form could not be read: {}", e.description),
        None,
    )
}

/// The error page (400) for a query string that [`FormParams::parse`] refused: not UTF-8 once
/// decoded, or more than [`tessera_proto::form::MAX_PARAMS`] parameters.
pub fn unreadable_query(state: &AppState, e: &FormError) -> Response {
    render::message(
        state,
        StatusCode::BAD_REQUEST,
        "Something went wrong",
        format!("The address could not be read: {e}"),
        None,
    )
}

/// A field's value, treating a repeated field as absent.
pub fn field<'a>(form: &'a FormParams, name: &str) -> Option<&'a str> {
    form.get(name).ok().flatten()
}
