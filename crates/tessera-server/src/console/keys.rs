//! `GET /admin/keys`: the signing keys with algorithm, `kid`, state (next, active, retiring) and
//! when each starts and stops signing; operators and admins get **Rotate** (a confirmation, then
//! `POST /admin/keys/rotate` with the CSRF token), which goes through the admin API's own code
//! ([`crate::admin::keys::rotate_keys`]) and its `key.rotate` audit record, and **Retire** on each
//! active key (`GET /admin/keys/{kid}/retire` asks, `POST` does it through
//! [`crate::admin::keys::retire_key`], audited as `key.retire`).
//!
//! The admin API calls a key that stopped signing and is still published `retired`; the console
//! says `retiring`, as it is on its way out of the JWKS.

use super::clients::{person_for_page, person_who_may, posted};
use super::session;
use super::templates::{ConfirmPage, KeyRow, KeysPage, date};
use crate::admin::keys::{retire_key, rotate_keys};
use crate::keyring::SIGNING_ALGORITHMS;
use crate::net::RemoteAddr;
use crate::pages::render;
use crate::state::SharedState;
use crate::users::role::Operation;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// A key's state as the console names it: `retired` (published, no longer signing) is
/// `retiring`.
fn shown_state(state: &'static str) -> &'static str {
    if state == "retired" {
        "retiring"
    } else {
        state
    }
}

/// `GET /admin/keys`.
pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
) -> Response {
    let person = match person_for_page(&state, &headers, remote, &uri).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if state
        .keyring
        .reload(&state.store, &state.keys)
        .await
        .is_err()
    {
        return render::unavailable(&state);
    }
    let rows = state
        .keyring
        .current()
        .rows
        .iter()
        .map(|k| KeyRow {
            kid: k.kid.clone(),
            segment: super::clients::segment(&k.kid),
            alg: k.alg.clone(),
            state: shown_state(k.state),
            starts: date(k.activates_at),
            stops: k.retired_at.map(date).unwrap_or_default(),
            removed: k.remove_at.map(date).unwrap_or_default(),
        })
        .collect();
    let t = KeysPage {
        shell: person.shell(&state, "keys"),
        can_rotate: person.may(Operation::KeyWrite),
        publish_ahead_secs: state.config.keys.publish_ahead_secs,
        rows,
    };
    render::page(&state, StatusCode::OK, &t)
}

/// `GET /admin/keys/rotate`: the confirmation.
pub async fn confirm(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
) -> Response {
    let person = match person_who_may(
        &state,
        &headers,
        remote,
        &uri,
        Operation::KeyWrite,
        "rotating keys",
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let t = ConfirmPage {
        shell: person.shell(&state, "keys"),
        title: "Rotate the signing keys",
        question: format!(
            "Publish a new key for each algorithm ({})? The new keys are in the JWKS at once and sign after {} s; the keys they replace then stop signing and stay published until their tokens expire.",
            SIGNING_ALGORITHMS
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            state.config.keys.publish_ahead_secs
        ),
        action: "/admin/keys/rotate".into(),
        button: "Rotate",
        cancel: "/admin/keys".into(),
    };
    render::page(&state, StatusCode::OK, &t)
}

/// `POST /admin/keys/rotate`.
pub async fn rotate(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    body: Body,
) -> Response {
    let (_, person) = match posted(&state, &headers, remote, body, Operation::KeyWrite).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match rotate_keys(&state, &person.actor(), &SIGNING_ALGORITHMS).await {
        Ok((kids, activates_at)) => session::message(
            &state,
            Some(&person),
            StatusCode::OK,
            "Keys rotated",
            &format!(
                "New keys {} are published and sign from {} UTC.",
                kids.join(", "),
                date(activates_at)
            ),
            Some(("/admin/keys", "Back to the keys")),
        ),
        Err(e) if e.http_status().is_server_error() => render::unavailable(&state),
        Err(e) => session::message(
            &state,
            Some(&person),
            e.http_status(),
            "Not done",
            e.description(),
            Some(("/admin/keys", "Back to the keys")),
        ),
    }
}

/// `GET /admin/keys/{kid}/retire`: the confirmation.
pub async fn confirm_retire(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
    Path(kid): Path<String>,
) -> Response {
    let person = match person_who_may(
        &state,
        &headers,
        remote,
        &uri,
        Operation::KeyWrite,
        "retiring keys",
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    if state
        .keyring
        .reload(&state.store, &state.keys)
        .await
        .is_err()
    {
        return render::unavailable(&state);
    }
    let current = state.keyring.current();
    let Some(key) = current.rows.iter().find(|k| k.kid == kid) else {
        return session::message(
            &state,
            Some(&person),
            StatusCode::NOT_FOUND,
            "No such key",
            &format!("There is no signing key {kid:?}."),
            Some(("/admin/keys", "Back to the keys")),
        );
    };
    let t = ConfirmPage {
        shell: person.shell(&state, "keys"),
        title: "Retire a signing key",
        question: format!(
            "Retire the {} key {}? It stops signing now and stays in the JWKS until the tokens it signed have expired (about {} s). When it is the only {} key signing, the newest published {} key takes over at once; without one, rotate first.",
            key.alg, key.kid, state.config.tokens.max_lifetime_secs, key.alg, key.alg
        ),
        action: format!("/admin/keys/{}/retire", super::clients::segment(&key.kid)),
        button: "Retire",
        cancel: "/admin/keys".into(),
    };
    render::page(&state, StatusCode::OK, &t)
}

/// `POST /admin/keys/{kid}/retire`.
pub async fn retire(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    Path(kid): Path<String>,
    body: Body,
) -> Response {
    let (_, person) = match posted(&state, &headers, remote, body, Operation::KeyWrite).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match retire_key(&state, &person.actor(), &kid).await {
        Ok(promoted) => session::message(
            &state,
            Some(&person),
            StatusCode::OK,
            "Key retired",
            &match promoted {
                Some(p) => format!("{kid} no longer signs; {p} took over signing at once."),
                None => format!(
                    "{kid} no longer signs; it stays published until its tokens have expired."
                ),
            },
            Some(("/admin/keys", "Back to the keys")),
        ),
        Err(e) if e.http_status().is_server_error() => render::unavailable(&state),
        Err(e) => session::message(
            &state,
            Some(&person),
            e.http_status(),
            "Not done",
            e.description(),
            Some(("/admin/keys", "Back to the keys")),
        ),
    }
}
