//! The audit log: recording admin changes, and `GET /audit` to read them back.

use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use super::permission::{AuditRead, Authorized};
use crate::model::{AuditEvent, now};
use crate::state::{AppState, SharedState};
use crate::store::AuditQuery;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The answer of `GET /audit`: events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The events.
    pub events: Vec<AuditEvent>,
    /// Pass as `before_id` for the next (older) page; `null` on the last page.
    pub next_before_id: Option<i64>,
}

/// Who made a change: an admin client's id, or `setup-file`, with the caller's address.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The actor as the audit log names it.
    pub id: String,
    /// The caller's address, when the change came over HTTP.
    pub remote_addr: Option<String>,
}

impl Actor {
    /// The declarative setup file, applied at start-up.
    pub fn setup_file() -> Self {
        Self {
            id: "setup-file".into(),
            remote_addr: None,
        }
    }
}

/// Appends an event and waits for it to be stored, so that an acknowledged change is in the log.
/// `before` and `after` must hold no secret: callers pass registrations, which never do. A
/// failure to write is logged (the change itself is already committed).
pub async fn record(
    state: &AppState,
    actor: &Actor,
    action: &str,
    target: &str,
    before: Option<Value>,
    after: Option<Value>,
) {
    let event = AuditEvent {
        id: 0,
        at: now(),
        actor: actor.id.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        before,
        after,
        remote_addr: actor.remote_addr.clone(),
    };
    if let Err(e) = state.store.append_audit(&event).await {
        tracing::error!(error = %e, action, "could not write audit event");
    }
}

/// `GET /audit?target=&action=&before_id=&limit=`: events, newest first. `action` matches a
/// prefix (`client.` gives every client event); `next_before_id` pages further back.
#[utoipa::path(
    get,
    path = "/audit",
    operation_id = "listAuditEvents",
    tag = "audit",
    summary = "Read the audit log, newest first",
    security(("bearer" = ["tessera.audit.read"])),
    params(AuditQuery),
    responses(
        (status = 200, description = "success", body = AuditPage),
        (status = 400, body = ErrorBody)
    )
)]
pub async fn list(
    _auth: Authorized<AuditRead>,
    State(state): State<SharedState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    if let Some(l) = q.limit
        && !(1..=1000).contains(&l)
    {
        return Err(ApiError::invalid("limit must be between 1 and 1000"));
    }
    let limit = q.limit.unwrap_or(100);
    let events = state.store.list_audit(&q).await?;
    let next = if events.len() as i64 >= limit {
        events.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Json(AuditPage {
        events,
        next_before_id: next,
    }))
}
