//! The consent step: a page naming the client and each scope it asks for, with Allow and Deny;
//! `POST /oauth2/authorize/consent` records the answer. Approvals are remembered per user and
//! client (the union of the approved scope sets) until withdrawn by an administrator.

use super::request::{self, AuthorizationRequest};
use super::{error_response, issue_code, redirect_error};
use crate::model::{AuditEvent, now};
use crate::pages::browser::{Browser, SignedIn};
use crate::pages::form::{field, read};
use crate::pages::login::login_url;
use crate::pages::render::{self, chrome};
use crate::pages::scopes::describe;
use crate::pages::templates::ConsentPage;
use crate::state::{AppState, SharedState};
use crate::users::Consent;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_proto::{ErrorCode, ScopeSet};

/// Where the consent form posts.
pub const CONSENT_PATH: &str = "/oauth2/authorize/consent";

/// The consent page for `req`; `query` is the authorization request, carried in the form.
pub fn page(
    state: &AppState,
    browser: &Browser,
    signed_in: &SignedIn,
    req: &AuthorizationRequest,
    query: &str,
) -> Response {
    let t = ConsentPage {
        chrome: chrome(state),
        title: "Allow access",
        client_name: req.client.client.name.clone(),
        user_name: signed_in.user.shown_name().to_owned(),
        user_code: None,
        scopes: describe(state, &req.scope),
        action: CONSENT_PATH,
        hidden: vec![("request", query.to_owned())],
        csrf: browser.csrf(state),
    };
    render::page(state, StatusCode::OK, &t)
}

/// `POST /oauth2/authorize/consent`.
pub async fn submit(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    let form = match read(&state, &headers, body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let query = field(&form, "request").unwrap_or("").to_owned();
    let req = match request::parse(&state, &query) {
        Ok(r) => r,
        Err(e) => return error_response(&state, e),
    };
    let browser = match Browser::load(&state, &headers).await {
        Ok(b) => b,
        Err(_) => {
            return redirect_error(
                &state,
                &req,
                ErrorCode::TemporarilyUnavailable,
                "the server cannot reach its database",
            );
        }
    };
    let retry = format!("/oauth2/authorize?{query}");
    if !browser.csrf_ok(&state, field(&form, "csrf")) {
        let resp = render::message(
            &state,
            StatusCode::BAD_REQUEST,
            "This page had expired",
            "Please review the request again.",
            Some((&retry, "Continue")),
        );
        return browser.finish(&state, resp);
    }
    let Some(signed_in) = browser.signed_in.clone() else {
        return browser.finish(&state, render::see_other(&state, &login_url(&retry)));
    };
    let client_id = req.client.client.client_id.clone();
    let approved = match field(&form, "decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            let resp = render::message(
                &state,
                StatusCode::BAD_REQUEST,
                "Choose Allow or Deny",
                "The form did not say whether you allow the access.",
                Some((&retry, "Continue")),
            );
            return browser.finish(&state, resp);
        }
    };
    state.audit(AuditEvent {
        id: 0,
        at: now(),
        actor: signed_in.user.id.clone(),
        action: if approved {
            "consent.grant"
        } else {
            "consent.deny"
        }
        .into(),
        target: client_id.clone(),
        before: None,
        after: Some(serde_json::json!({ "scope": req.scope.to_string() })),
        remote_addr: None,
    });
    if !approved {
        return browser.finish(
            &state,
            redirect_error(
                &state,
                &req,
                ErrorCode::AccessDenied,
                "the user denied the request",
            ),
        );
    }
    let previous = match state
        .store
        .get_consent(&signed_in.user.id, &client_id)
        .await
    {
        Ok(c) => c
            .and_then(|c| ScopeSet::parse(&c.scope).ok())
            .unwrap_or_default(),
        Err(_) => {
            return redirect_error(
                &state,
                &req,
                ErrorCode::TemporarilyUnavailable,
                "the server cannot reach its database",
            );
        }
    };
    let union = ScopeSet::from_names(previous.iter().chain(req.scope.iter()).map(str::to_owned));
    let consent = Consent {
        user_id: signed_in.user.id.clone(),
        client_id,
        scope: union.to_string(),
        granted_at: now(),
    };
    if let Err(e) = state.store.put_consent(&consent).await {
        tracing::warn!(error = %e, "could not store a consent");
        return redirect_error(
            &state,
            &req,
            ErrorCode::TemporarilyUnavailable,
            "the server could not record the consent",
        );
    }
    browser.finish(&state, issue_code(&state, &req, &signed_in).await)
}
