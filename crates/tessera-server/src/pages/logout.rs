//! `GET /logout` (a confirmation form) and `POST /logout` (ends the session).

use super::browser::Browser;
use super::form::{field, read};
use super::render::{self, chrome};
use super::templates::LogoutPage;
use crate::state::{AppState, SharedState};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

fn signed_out(state: &AppState) -> Response {
    render::message(
        state,
        StatusCode::OK,
        "Signed out",
        "You are signed out.",
        Some(("/login", "Sign in again")),
    )
}

/// `GET /logout`.
pub async fn show(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let browser = match Browser::load(&state, &headers).await {
        Ok(b) => b,
        Err(_) => return render::unavailable(&state),
    };
    let Some(s) = &browser.signed_in else {
        return browser.finish(&state, signed_out(&state));
    };
    let t = LogoutPage {
        chrome: chrome(&state),
        title: "Sign out",
        user_name: s.user.shown_name().to_owned(),
        csrf: browser.csrf(&state),
    };
    browser.finish(&state, render::page(&state, StatusCode::OK, &t))
}

/// `POST /logout`.
pub async fn submit(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let form = match read(&state, &headers, body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let mut browser = match Browser::load(&state, &headers).await {
        Ok(b) => b,
        Err(_) => return render::unavailable(&state),
    };
    if !browser.csrf_ok(&state, field(&form, "csrf")) {
        let resp = render::message(
            &state,
            StatusCode::BAD_REQUEST,
            "Sign out",
            "This form had expired. Please try again.",
            Some(("/logout", "Sign out")),
        );
        return browser.finish(&state, resp);
    }
    if let Err(e) = browser.sign_out(&state).await {
        tracing::warn!(error = %e, "could not end the session");
        return render::unavailable(&state);
    }
    browser.finish(&state, signed_out(&state))
}
