//! `GET /admin/audit`: who did what to what and when, filtered by actor, action (a prefix such as
//! `client.`), target and time (UTC dates), newest first, 50 a page. Reading needs
//! `tessera.audit.read`, which every console role has.

use super::clients::person_for_page;
use super::templates::{AuditPage, AuditRow, date};
use crate::net::RemoteAddr;
use crate::pages::form::{field, unreadable_query};
use crate::pages::render;
use crate::state::SharedState;
use crate::store::console_audit::AuditFilter;
use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_proto::FormParams;

/// Events per page.
const PAGE_SIZE: i64 = 50;

/// `YYYY-MM-DD` as the first second of that day (UTC).
fn day(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    humantime::parse_rfc3339_weak(&format!("{text} 00:00:00"))
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| Some(d.as_secs() as i64))
        .ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD)"))
}

/// `GET /admin/audit?actor=&action=&target=&from=&to=&before=`.
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
    let text = |name: &str| -> String {
        field(&q, name)
            .unwrap_or("")
            .trim()
            .chars()
            .take(300)
            .collect()
    };
    let (actor, action, target, from, to) = (
        text("actor"),
        text("action"),
        text("target"),
        text("from"),
        text("to"),
    );
    let mut error = None;
    let since = day(&from).unwrap_or_else(|e| {
        error = Some(e);
        None
    });
    let until = day(&to).map(|d| d.map(|d| d + 86_400)).unwrap_or_else(|e| {
        error = Some(e);
        None
    });
    let before_id = field(&q, "before").and_then(|b| b.parse::<i64>().ok());
    let lines = if error.is_some() {
        Vec::new()
    } else {
        match state
            .store
            .console_audit_page(&AuditFilter {
                actor: actor.clone(),
                action: action.clone(),
                target: target.clone(),
                since,
                until,
                before_id,
                limit: PAGE_SIZE,
            })
            .await
        {
            Ok(l) => l,
            Err(_) => return render::unavailable(&state),
        }
    };
    let older = (lines.len() as i64 == PAGE_SIZE)
        .then(|| lines.last().map(|l| l.id))
        .flatten()
        .map(|id| {
            format!(
                "/admin/audit?{}",
                tessera_proto::form::encode([
                    ("actor", actor.as_str()),
                    ("action", action.as_str()),
                    ("target", target.as_str()),
                    ("from", from.as_str()),
                    ("to", to.as_str()),
                    ("before", id.to_string().as_str()),
                ])
            )
        });
    let rows = lines
        .into_iter()
        .map(|l| AuditRow {
            at: date(l.at),
            actor: l.actor,
            action: l.action,
            target: l.target,
            before: l.before.unwrap_or_default(),
            after: l.after.unwrap_or_default(),
            remote_addr: l.remote_addr.unwrap_or_default(),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let t = AuditPage {
        shell: person.shell(&state, "audit"),
        error,
        actor,
        action,
        target,
        from,
        to,
        rows,
        older,
    };
    render::page(&state, status, &t)
}

#[cfg(test)]
mod tests {
    use super::day;

    #[test]
    fn days() {
        assert_eq!(day(""), Ok(None));
        assert_eq!(day("1970-01-02"), Ok(Some(86_400)));
        assert!(day("yesterday").is_err());
    }
}
