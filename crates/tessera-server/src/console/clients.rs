//! `GET /admin/clients`: the clients table (search by name or id, filter by status and grant
//! type, sort, pagination in the database; when each client last got a token, from
//! [`super::last_used`]); `GET /admin/clients/{client_id}/{enable,disable}` asks for
//! confirmation and `POST` to the same address does it, through the admin API's own code
//! ([`crate::admin::clients::set_enabled`]) with the same audit record, under the person's name.
//! The same addresses lead to a client's other pages: `edit` ([`super::edit`]), `delete`
//! ([`super::delete`]) and `rotate-secret` ([`super::rotate`]). A viewer sees no buttons, and a
//! POST from one is refused with 403.

use super::session::{self, NoPerson, Person};
use super::templates::{ClientRow, ClientsPage, ConfirmPage};
use crate::admin::clients::set_enabled;
use crate::net::RemoteAddr;
use crate::pages::form::{field, read_with_repeats, unreadable_query};
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::store::console_clients::{ClientPageQuery, ClientSort};
use crate::users::role::Operation;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use tessera_proto::{FormParams, GrantType};

/// Clients per page.
pub const PAGE_SIZE: i64 = 50;

/// What a path segment must not hold as it is (RFC 3986 §3.3): controls, space, the delimiters
/// `/ ? #`, `%`, and the characters browsers escape anyway.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A client id (or scope name) as one path segment.
pub fn segment(id: &str) -> String {
    utf8_percent_encode(id, SEGMENT).to_string()
}

/// The signed-in person for a page (`GET`, at `uri`), or the page to answer with instead: for
/// somebody signed out, the console's sign-in, which comes back to `uri`; for somebody without a
/// console role, the overview (which says so).
pub async fn person_for_page(
    state: &AppState,
    headers: &HeaderMap,
    remote: RemoteAddr,
    uri: &Uri,
) -> Result<Person, Response> {
    match session::load(state, headers, Some(remote.0.to_string())).await {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(NoPerson::SignedOut)) => {
            let page = uri.path_and_query().map_or("", |p| p.as_str());
            Err(render::see_other(state, &super::signin::login_url(page)))
        }
        Ok(Err(NoPerson::NoRole)) => Err(render::see_other(state, "/admin/")),
        Err(_) => Err(render::unavailable(state)),
    }
}

/// The signed-in person for a page that only people whose role allows `op` may open (`what`
/// names it on the 403 page), or the page to answer with instead.
pub async fn person_who_may(
    state: &AppState,
    headers: &HeaderMap,
    remote: RemoteAddr,
    uri: &Uri,
    op: Operation,
    what: &str,
) -> Result<Person, Response> {
    let person = person_for_page(state, headers, remote, uri).await?;
    match person.refused(state, op, what) {
        Some(r) => Err(r),
        None => Ok(person),
    }
}

/// A page's form post and the signed-in person who sent it, checked as [`person_for_post`]
/// does; otherwise the page to answer with (nothing is changed).
pub async fn posted(
    state: &AppState,
    headers: &HeaderMap,
    remote: RemoteAddr,
    body: axum::body::Body,
    op: Operation,
) -> Result<(FormParams, Person), Response> {
    let form = crate::pages::form::read(state, headers, body).await?;
    let person = person_for_post(state, headers, remote, &form, op).await?;
    Ok((form, person))
}

/// The signed-in person for a form post whose CSRF token matches and whose role allows `op`;
/// otherwise the 403 page (nothing is changed).
pub async fn person_for_post(
    state: &AppState,
    headers: &HeaderMap,
    remote: RemoteAddr,
    form: &FormParams,
    op: Operation,
) -> Result<Person, Response> {
    let person = signed_in_post(state, headers, remote, form).await?;
    if !person.may(op) {
        return Err(session::forbidden(
            state,
            Some(&person),
            &format!(
                "Your console role ({}) does not allow this; it needs {}.",
                person.role,
                op.scope()
            ),
        ));
    }
    Ok(person)
}

/// The signed-in person (any console role) for a form post whose CSRF token matches; otherwise
/// the 403 page (nothing is changed).
pub async fn signed_in_post(
    state: &AppState,
    headers: &HeaderMap,
    remote: RemoteAddr,
    form: &FormParams,
) -> Result<Person, Response> {
    let person = match session::load(state, headers, Some(remote.0.to_string())).await {
        Ok(Ok(p)) => p,
        Ok(Err(_)) => {
            return Err(session::forbidden(
                state,
                None,
                "Your console session has ended; sign in again.",
            ));
        }
        Err(_) => return Err(render::unavailable(state)),
    };
    if !person.csrf_ok(state, field(form, "csrf")) {
        return Err(session::forbidden(
            state,
            Some(&person),
            "This form was not sent from this console session (CSRF token missing or wrong).",
        ));
    }
    Ok(person)
}

/// The table's query string, read leniently: an unknown value is the default.
#[derive(Debug, Clone)]
struct TableQuery {
    search: String,
    status: &'static str,
    grant: Option<GrantType>,
    sort: &'static str,
    descending: bool,
    page: i64,
}

impl TableQuery {
    fn parse(q: &FormParams) -> Self {
        let status = match field(q, "status") {
            Some("active") => "active",
            Some("inactive") => "inactive",
            _ => "all",
        };
        let sort = match field(q, "sort") {
            Some("client_id") => "client_id",
            Some("created") => "created",
            Some("status") => "status",
            Some("last_used") => "last_used",
            _ => "name",
        };
        let search: String = field(q, "q").unwrap_or("").chars().take(200).collect();
        Self {
            search,
            status,
            grant: field(q, "grant").and_then(GrantType::parse),
            sort,
            descending: field(q, "dir") == Some("desc"),
            page: field(q, "page")
                .and_then(|p| p.parse::<i64>().ok())
                .filter(|p| (1..=1_000_000).contains(p))
                .unwrap_or(1),
        }
    }

    /// The query string for this table with `page` and, when given, another sort.
    fn link(&self, page: i64, sort: Option<&str>) -> String {
        let (sort, dir) = match sort {
            Some(s) if s == self.sort => (s, if self.descending { "asc" } else { "desc" }),
            Some(s) => (s, "asc"),
            None => (self.sort, if self.descending { "desc" } else { "asc" }),
        };
        let page = page.to_string();
        let mut pairs = vec![("q", self.search.as_str()), ("status", self.status)];
        if let Some(g) = self.grant {
            pairs.push(("grant", g.as_str()));
        }
        pairs.extend([("sort", sort), ("dir", dir), ("page", page.as_str())]);
        format!("/admin/clients?{}", tessera_proto::form::encode(pairs))
    }
}

/// `GET /admin/clients`.
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
    let t = TableQuery::parse(&q);
    let sort = match t.sort {
        "client_id" => ClientSort::ClientId,
        "created" => ClientSort::Created,
        "status" => ClientSort::Status,
        "last_used" => ClientSort::LastUsed,
        _ => ClientSort::Name,
    };
    let page = match state
        .store
        .console_client_page(&ClientPageQuery {
            search: t.search.clone(),
            enabled: match t.status {
                "active" => Some(true),
                "inactive" => Some(false),
                _ => None,
            },
            grant_type: t.grant.map(|g| g.as_str().to_owned()),
            sort,
            descending: t.descending,
            limit: PAGE_SIZE,
            offset: (t.page - 1) * PAGE_SIZE,
        })
        .await
    {
        Ok(p) => p,
        Err(_) => return render::unavailable(&state),
    };
    let default_format = state.config.tokens.default_format;
    let rows = page
        .clients
        .iter()
        .map(|l| (&l.client, l.last_used_at))
        .map(|(c, last_used)| ClientRow {
            name: c.name.clone(),
            client_id: c.client_id.clone(),
            segment: segment(&c.client_id),
            grant_types: c.grant_types.iter().map(|g| g.as_str()).collect(),
            enabled: c.enabled,
            uses_secret: c.uses_secret(),
            scopes: c.allowed_scopes.join(" "),
            token_format: c.access_token_format.unwrap_or(default_format).to_string(),
            created: crate::console::templates::date(c.created_at),
            last_used: last_used
                .map_or_else(|| "never".to_owned(), crate::console::templates::date),
            first_party: super::client::is_first_party(&c.client_id),
        })
        .collect();
    let pages = ((page.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let first = if page.total == 0 {
        0
    } else {
        (t.page - 1) * PAGE_SIZE + 1
    };
    let sort_links = ["name", "client_id", "created", "status", "last_used"]
        .map(|s| (s, t.link(1, Some(s))))
        .to_vec();
    let tpl = ClientsPage {
        shell: person.shell(&state, "clients"),
        can_toggle: person.may(Operation::ClientEnable),
        can_write: person.may(Operation::ClientWrite),
        rows,
        search: t.search.clone(),
        status: t.status,
        grant: t.grant.map(|g| g.as_str()).unwrap_or(""),
        grants: GrantType::ALL.iter().map(|g| g.as_str()).collect(),
        sort: t.sort,
        descending: t.descending,
        sort_links,
        total: page.total,
        first,
        last: first + page.clients.len() as i64 - i64::from(first > 0),
        page: t.page,
        pages,
        prev: (t.page > 1).then(|| t.link(t.page - 1, None)),
        next: (t.page < pages).then(|| t.link(t.page + 1, None)),
    };
    render::page(&state, StatusCode::OK, &tpl)
}

fn toggle_op(action: &str) -> Option<(Operation, bool)> {
    match action {
        "enable" => Some((Operation::ClientEnable, true)),
        "disable" => Some((Operation::ClientDisable, false)),
        _ => None,
    }
}

/// `GET /admin/clients/{client_id}/{enable|disable}`: the confirmation page.
pub async fn confirm(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    uri: Uri,
    Path((client_id, action)): Path<(String, String)>,
) -> Response {
    let person = match person_for_page(&state, &headers, remote, &uri).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match action.as_str() {
        "rotate-secret" => return super::rotate::confirm(&state, &person, &client_id, None).await,
        "edit" => return super::edit::show(&state, &person, &client_id).await,
        "delete" => return super::delete::confirm(&state, &person, &client_id).await,
        _ => {}
    }
    let Some((op, enable)) = toggle_op(&action) else {
        return session::message(
            &state,
            Some(&person),
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such page.",
            Some(("/admin/clients", "Back to the clients")),
        );
    };
    if let Some(r) = person.refused(&state, op, "this") {
        return r;
    }
    let client = match state.store.get_client(&client_id).await {
        Ok(c) => c,
        Err(crate::store::StoreError::NotFound) => {
            return session::message(
                &state,
                Some(&person),
                StatusCode::NOT_FOUND,
                "No such client",
                &format!("There is no client {client_id:?}."),
                Some(("/admin/clients", "Back to the clients")),
            );
        }
        Err(_) => return render::unavailable(&state),
    };
    let t = ConfirmPage {
        shell: person.shell(&state, "clients"),
        title: if enable {
            "Activate client"
        } else {
            "Deactivate client"
        },
        question: if enable {
            format!(
                "Activate {} ({})? It can then authenticate and get tokens again.",
                client.name, client.client_id
            )
        } else {
            format!(
                "Deactivate {} ({})? The token endpoint refuses it (invalid_client) from now on; its registration and secrets are kept.",
                client.name, client.client_id
            )
        },
        action: format!("/admin/clients/{}/{action}", segment(&client.client_id)),
        button: if enable { "Activate" } else { "Deactivate" },
        cancel: "/admin/clients".into(),
    };
    render::page(&state, StatusCode::OK, &t)
}

/// `POST /admin/clients/{client_id}/{enable|disable}`.
pub async fn toggle(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    Path((client_id, action)): Path<(String, String)>,
    body: Body,
) -> Response {
    // The edit form's checkboxes repeat their names; no other form here does.
    let (repeated, max_fields): (&[&str], usize) = if action == "edit" {
        (
            &super::client_form::REPEATED,
            super::client_form::MAX_FIELDS,
        )
    } else {
        (&[], tessera_proto::form::MAX_PARAMS)
    };
    let form = match read_with_repeats(&state, &headers, body, repeated, max_fields).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    match action.as_str() {
        "rotate-secret" => {
            return super::rotate::submit(&state, &headers, remote, &client_id, &form).await;
        }
        "edit" => return super::edit::submit(&state, &headers, remote, &client_id, &form).await,
        "delete" => {
            return super::delete::submit(&state, &headers, remote, &client_id, &form).await;
        }
        _ => {}
    }
    let Some((op, enable)) = toggle_op(&action) else {
        return session::forbidden(&state, None, "There is no such action.");
    };
    let person = match person_for_post(&state, &headers, remote, &form, op).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !enable && super::client::is_first_party(&client_id) {
        return session::message(
            &state,
            Some(&person),
            StatusCode::CONFLICT,
            "Not done",
            "Deactivating the console's own client would sign everybody out of the console; use tessera client disable tessera-console if that is meant.",
            Some(("/admin/clients", "Back to the clients")),
        );
    }
    match set_enabled(&state, &person.actor(), &client_id, enable).await {
        Ok(c) => session::message(
            &state,
            Some(&person),
            StatusCode::OK,
            if enable {
                "Client activated"
            } else {
                "Client deactivated"
            },
            &format!(
                "{} ({}) is now {}.",
                c.name,
                c.client_id,
                if c.enabled { "active" } else { "inactive" }
            ),
            Some(("/admin/clients", "Back to the clients")),
        ),
        Err(e) => session::message(
            &state,
            Some(&person),
            e.http_status(),
            "Not done",
            e.description(),
            Some(("/admin/clients", "Back to the clients")),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_keep_what_a_path_allows() {
        assert_eq!(
            super::segment("core.accounting.read"),
            "core.accounting.read"
        );
        assert_eq!(super::segment("a/b c%d?é"), "a%2Fb%20c%25d%3F%C3%A9");
    }
}
