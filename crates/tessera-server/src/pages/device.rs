//! The person's side of the device flow (RFC 8628 §3.3): `GET /device` asks for the user code
//! (or takes it from `verification_uri_complete`), `POST /device` checks it — wrong codes are
//! limited per address — then, once signed in, the person sees the client and scopes and
//! answers at `POST /device/approve`.

use super::browser::Browser;
use super::form::{field, read, unreadable_query};
use super::login::login_url;
use super::render::{self, chrome};
use super::scopes::describe;
use super::templates::{ConsentPage, DevicePage};
use crate::model::{AuditEvent, now};
use crate::net::RemoteAddr;
use crate::oauth::device::user_code;
use crate::state::{AppState, SharedState};
use crate::store::device::DeviceRecord;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::net::IpAddr;
use tessera_proto::{FormParams, ScopeSet};

fn entry_page(
    state: &AppState,
    browser: &Browser,
    status: StatusCode,
    typed: &str,
    error: Option<&str>,
) -> Response {
    let t = DevicePage {
        chrome: chrome(state),
        title: "Connect a device",
        error: error.map(str::to_owned),
        csrf: browser.csrf(state),
        user_code: typed.to_owned(),
    };
    browser.finish(state, render::page(state, status, &t))
}

fn confirm_page(state: &AppState, browser: &Browser, rec: &DeviceRecord) -> Response {
    let Some(signed_in) = &browser.signed_in else {
        return render::unavailable(state);
    };
    let client_name = state
        .registry
        .client(&rec.client_id)
        .map(|c| c.client.name.clone())
        .unwrap_or_else(|| rec.client_id.clone());
    let scope = ScopeSet::parse(&rec.scope).unwrap_or_default();
    let shown = user_code::display(&rec.user_code);
    let t = ConsentPage {
        chrome: chrome(state),
        title: "Connect a device",
        client_name,
        user_name: signed_in.user.shown_name().to_owned(),
        user_code: Some(shown.clone()),
        scopes: describe(state, &scope),
        action: "/device/approve",
        hidden: vec![("user_code", shown)],
        csrf: browser.csrf(state),
    };
    browser.finish(state, render::page(state, StatusCode::OK, &t))
}

enum Lookup {
    Found(DeviceRecord),
    Refused(Response),
}

/// Finds the pending request for a typed code, counting wrong codes against the address.
async fn lookup(state: &AppState, browser: &Browser, typed: &str, remote: IpAddr) -> Lookup {
    let address = remote.to_string();
    if let Some(wait) = state.guesses.user_codes_by_address.check(&address) {
        return Lookup::Refused(too_many(state, browser, wait));
    }
    let wrong =
        "That code is not valid or has expired. Check the code on your device and try again.";
    let Some(code) = user_code::normalize(typed) else {
        return Lookup::Refused(entry_page(
            state,
            browser,
            StatusCode::BAD_REQUEST,
            typed,
            Some(wrong),
        ));
    };
    match state.store.pending_device_by_user_code(&code, now()).await {
        Ok(Some(rec)) => Lookup::Found(rec),
        Ok(None) => {
            metrics::counter!("tessera_user_code_failures_total").increment(1);
            if let Some(wait) = state.guesses.user_codes_by_address.record_failure(&address) {
                return Lookup::Refused(too_many(state, browser, wait));
            }
            Lookup::Refused(entry_page(
                state,
                browser,
                StatusCode::BAD_REQUEST,
                typed,
                Some(wrong),
            ))
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not look up a user code");
            Lookup::Refused(render::unavailable(state))
        }
    }
}

fn too_many(state: &AppState, browser: &Browser, wait: u64) -> Response {
    let resp = render::message(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        format!("Too many wrong codes. Please wait {wait} seconds and try again."),
        None,
    );
    browser.finish(state, render::with_retry_after(resp, wait))
}

/// `GET /device`.
pub async fn show(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = match FormParams::parse(raw.unwrap_or_default().as_bytes()) {
        Ok(q) => q,
        Err(e) => return unreadable_query(&state, &e),
    };
    let browser = match Browser::load(&state, &headers).await {
        Ok(b) => b,
        Err(_) => return render::unavailable(&state),
    };
    // The user code, from `verification_uri_complete`.
    let typed = field(&q, "user_code").unwrap_or_default().to_owned();
    if typed.is_empty() || browser.signed_in.is_none() {
        return entry_page(&state, &browser, StatusCode::OK, &typed, None);
    }
    match lookup(&state, &browser, &typed, remote).await {
        Lookup::Found(rec) => confirm_page(&state, &browser, &rec),
        Lookup::Refused(resp) => resp,
    }
}

/// `POST /device`.
pub async fn submit(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let form = match read(&state, &headers, body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let browser = match Browser::load(&state, &headers).await {
        Ok(b) => b,
        Err(_) => return render::unavailable(&state),
    };
    let typed = field(&form, "user_code").unwrap_or("").trim().to_owned();
    if !browser.csrf_ok(&state, field(&form, "csrf")) {
        return entry_page(
            &state,
            &browser,
            StatusCode::BAD_REQUEST,
            &typed,
            Some("This form had expired. Please enter the code again."),
        );
    }
    let rec = match lookup(&state, &browser, &typed, remote).await {
        Lookup::Found(rec) => rec,
        Lookup::Refused(resp) => return resp,
    };
    if browser.signed_in.is_none() {
        let back = format!("/device?user_code={}", user_code::display(&rec.user_code));
        return browser.finish(&state, render::see_other(&state, &login_url(&back)));
    }
    confirm_page(&state, &browser, &rec)
}

/// `POST /device/approve`.
pub async fn approve(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let form = match read(&state, &headers, body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let browser = match Browser::load(&state, &headers).await {
        Ok(b) => b,
        Err(_) => return render::unavailable(&state),
    };
    let typed = field(&form, "user_code").unwrap_or("").to_owned();
    if !browser.csrf_ok(&state, field(&form, "csrf")) {
        return entry_page(
            &state,
            &browser,
            StatusCode::BAD_REQUEST,
            &typed,
            Some("This form had expired. Please enter the code again."),
        );
    }
    let Some(signed_in) = browser.signed_in.clone() else {
        let back = format!("/device?user_code={typed}");
        return browser.finish(&state, render::see_other(&state, &login_url(&back)));
    };
    let approved = match field(&form, "decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            return entry_page(
                &state,
                &browser,
                StatusCode::BAD_REQUEST,
                &typed,
                Some("Choose Allow or Deny."),
            );
        }
    };
    let rec = match lookup(&state, &browser, &typed, remote).await {
        Lookup::Found(rec) => rec,
        Lookup::Refused(resp) => return resp,
    };
    let t = now();
    match state
        .store
        .decide_device_code(
            &rec.user_code,
            &signed_in.user.id,
            signed_in.auth_time,
            approved,
            t,
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return entry_page(
                &state,
                &browser,
                StatusCode::BAD_REQUEST,
                &typed,
                Some("That code is not valid or has expired."),
            );
        }
        Err(_) => return render::unavailable(&state),
    }
    state.audit(AuditEvent {
        id: 0,
        at: t,
        actor: signed_in.user.id.clone(),
        action: if approved {
            "device.approve"
        } else {
            "device.deny"
        }
        .into(),
        target: rec.client_id.clone(),
        before: None,
        after: Some(serde_json::json!({ "scope": rec.scope })),
        remote_addr: Some(remote.to_string()),
    });
    let resp = if approved {
        render::message(
            &state,
            StatusCode::OK,
            "Device connected",
            "You have allowed the device. You can close this page and return to your device.",
            None,
        )
    } else {
        render::message(
            &state,
            StatusCode::OK,
            "Request denied",
            "The device was not given access. You can close this page.",
            None,
        )
    };
    browser.finish(&state, resp)
}
