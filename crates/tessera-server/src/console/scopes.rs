//! `GET /admin/scopes`: the scopes grouped by service (the first part of `service.object.right`),
//! each with its description, searchable; `GET /admin/scopes/{name}`: a scope's drill-down, the
//! API permissions behind it and the clients that hold it. `GET /oauth2/scopes` (Coupa's address)
//! leads to the list, through the console's sign-in for somebody not signed in. Reading needs
//! `tessera.scopes.read`, which every console role has; the list links to the form that
//! registers a scope ([`super::scope_new`]) for those who may.

use super::clients::{person_for_page, segment};
use super::session;
use super::templates::{ScopeGroup, ScopeLine, ScopePage, ScopesPage};
use crate::net::RemoteAddr;
use crate::pages::form::{field, unreadable_query};
use crate::pages::render;
use crate::state::SharedState;
use crate::store::StoreError;
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_proto::FormParams;

/// Clients listed on a scope's page (the count says how many there are in all).
const HOLDERS_SHOWN: i64 = 200;

/// The service of a scope name: what comes before the first `.`, or the whole name (OpenID
/// Connect scopes such as `openid` are their own group).
pub fn service_of(name: &str) -> &str {
    name.split_once('.').map_or(name, |(s, _)| s)
}

/// `GET /admin/scopes?q=`.
pub async fn list(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    let person = match person_for_page(&state, &headers, remote, &uri).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let q = match FormParams::parse(query.unwrap_or_default().as_bytes()) {
        Ok(q) => q,
        Err(e) => return unreadable_query(&state, &e),
    };
    let search: String = field(&q, "q")
        .unwrap_or("")
        .trim()
        .chars()
        .take(200)
        .collect();
    let needle = search.to_lowercase();
    let mut scopes = match state.store.list_scopes().await {
        Ok(s) => s,
        Err(_) => return render::unavailable(&state),
    };
    scopes.retain(|s| {
        needle.is_empty()
            || s.name.to_lowercase().contains(&needle)
            || s.description.to_lowercase().contains(&needle)
    });
    scopes.sort_by(|a, b| a.name.cmp(&b.name));
    let total = scopes.len();
    let mut groups: Vec<ScopeGroup> = Vec::new();
    for s in scopes {
        let service = service_of(&s.name).to_owned();
        let line = ScopeLine {
            href: format!("/admin/scopes/{}", segment(&s.name)),
            name: s.name,
            description: s.description,
        };
        match groups.last_mut() {
            Some(g) if g.service == service => g.scopes.push(line),
            _ => groups.push(ScopeGroup {
                service,
                scopes: vec![line],
            }),
        }
    }
    let t = ScopesPage {
        shell: person.shell(&state, "scopes"),
        can_create: person.may(crate::users::role::Operation::ScopeWrite),
        search,
        total,
        groups,
    };
    render::page(&state, StatusCode::OK, &t)
}

/// `GET /admin/scopes/{name}`.
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
    Path(name): Path<String>,
) -> Response {
    let person = match person_for_page(&state, &headers, remote, &uri).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let scope = match state.store.get_scope(&name).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => {
            return session::message(
                &state,
                Some(&person),
                StatusCode::NOT_FOUND,
                "No such scope",
                &format!("There is no scope {name:?}."),
                Some(("/admin/scopes", "Back to the scopes")),
            );
        }
        Err(_) => return render::unavailable(&state),
    };
    let (holders, holders_total) = match state
        .store
        .console_scope_holders(&scope.name, HOLDERS_SHOWN)
        .await
    {
        Ok(h) => h,
        Err(_) => return render::unavailable(&state),
    };
    let t = ScopePage {
        shell: person.shell(&state, "scopes"),
        service: service_of(&scope.name).to_owned(),
        created: super::templates::date(scope.created_at),
        scope,
        holders,
        holders_total,
    };
    render::page(&state, StatusCode::OK, &t)
}

/// `GET /oauth2/scopes`: Coupa's address of its scope page, leading to the console's; somebody
/// not signed in to the console signs in first and then lands on the scopes.
pub async fn coupa_address(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
) -> Response {
    match session::load(&state, &headers, Some(remote.0.to_string())).await {
        Ok(Ok(_)) => render::see_other(&state, "/admin/scopes"),
        Ok(Err(_)) => render::see_other(&state, &super::signin::login_url("/admin/scopes")),
        Err(_) => render::unavailable(&state),
    }
}

#[cfg(test)]
mod tests {
    use super::service_of;

    #[test]
    fn services() {
        assert_eq!(service_of("core.accounting.read"), "core");
        assert_eq!(service_of("openid"), "openid");
    }
}
