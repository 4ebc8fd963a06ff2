//! `GET /admin/clients/new`: the form that registers a client (admins); `POST` to the same address
//! creates it through the admin API's own code ([`crate::admin::clients::create_client`]: the
//! same validation and messages, the same `client.create` audit record, under the person's name)
//! and answers with the client's secret, shown this once, with a copy button and a `curl` example
//! that gets a token with it. The form is the one editing uses ([`super::client_form`]): a refused
//! form comes back with its values and each reason next to its field.

use super::client_form::{self, Saved, Target, Typed};
use super::clients::{person_for_post, person_who_may};
use super::templates::CreatedPage;
use crate::net::RemoteAddr;
use crate::pages::form::read_with_repeats;
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::users::role::Operation;
use axum::body::Body;
use axum::extract::State;
use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use secrecy::ExposeSecret;
use tessera_proto::{ClientAuthMethod, GrantType};

/// `GET /admin/clients/new`.
pub async fn show(
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
        Operation::ClientWrite,
        "creating clients",
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    client_form::page(
        &state,
        &person,
        &Target::Create,
        Typed::new_client(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/clients/new`.
pub async fn submit(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    body: Body,
) -> Response {
    let form = match read_with_repeats(
        &state,
        &headers,
        body,
        &client_form::REPEATED,
        client_form::MAX_FIELDS,
    )
    .await
    {
        Ok(f) => f,
        Err(page) => return page,
    };
    let person =
        match person_for_post(&state, &headers, remote, &form, Operation::ClientWrite).await {
            Ok(p) => p,
            Err(r) => return r,
        };
    let created =
        match client_form::save(&state, &person, &Target::Create, Typed::from_form(&form)).await {
            Saved::Client(c) => c,
            Saved::Page(page) => return page,
        };
    let secret = created
        .client_secret
        .as_ref()
        .map(|s| s.expose_secret().to_owned());
    let curl = secret.as_ref().map(|s| {
        let mut c = format!(
            "curl -s -u '{}:{}' -d grant_type=client_credentials",
            created.client.client_id, s
        );
        if let Some(first) = created.client.allowed_scopes.first() {
            c.push_str(&format!(" -d scope={first}"));
        }
        c.push_str(&format!(" {}", state.token_endpoint));
        c
    });
    let t = CreatedPage {
        shell: person.shell(&state, "clients"),
        name: created.client.name.clone(),
        client_id: created.client.client_id.clone(),
        secret,
        curl: curl.filter(|_| {
            created
                .client
                .grant_types
                .contains(&GrantType::ClientCredentials)
                && created.client.accepts(ClientAuthMethod::ClientSecretBasic)
        }),
    };
    with_own_scripts(&state, render::page(&state, StatusCode::CREATED, &t))
}

/// `resp`, a page that shows a secret once, allowed to run the console's own script file (its
/// copy buttons): the pages' policy plus `script-src 'self'`; every other page runs no script.
pub(super) fn with_own_scripts(state: &AppState, mut resp: Response) -> Response {
    let csp = format!(
        "{}; script-src 'self'",
        render::content_security_policy(state)
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}
