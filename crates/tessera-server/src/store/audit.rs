//! The audit log.

use super::{Store, StoreError, on_pool};
use crate::model::AuditEvent;
use serde::Deserialize;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    before: Option<String>,
    after: Option<String>,
    remote_addr: Option<String>,
}

impl AuditRow {
    fn into_event(self) -> AuditEvent {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditEvent {
            id: self.id,
            at: self.at,
            actor: self.actor,
            action: self.action,
            target: self.target,
            before: parse(self.before),
            after: parse(self.after),
            remote_addr: self.remote_addr,
        }
    }
}

/// Filters for reading the audit log (the query of `GET /admin/api/v1/audit`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events older than this id (paging: pass `next_before_id`).
    pub before_id: Option<i64>,
    /// Only events about this object (client id, scope name, kid, user id).
    pub target: Option<String>,
    /// Only events whose action starts with this (`client.`, `scope.delete`, …).
    pub action: Option<String>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

impl Store {
    /// Appends an event.
    pub async fn append_audit(&self, e: &AuditEvent) -> Result<(), StoreError> {
        let before = e.before.as_ref().map(serde_json::to_string).transpose()?;
        let after = e.after.as_ref().map(serde_json::to_string).transpose()?;
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO audit_log (at, actor, action, target, before, after, remote_addr) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(e.at).bind(&e.actor).bind(&e.action).bind(&e.target).bind(&before).bind(&after).bind(&e.remote_addr)
                .execute(p).await?;
            Ok(())
        })
    }

    /// Deletes events older than `before` (seconds since the epoch), only failures (actions
    /// ending in `_failed`) when `failures_only`, `batch` rows per statement until none is left;
    /// returns how many.
    pub async fn purge_audit(
        &self,
        before: i64,
        failures_only: bool,
        batch: i64,
    ) -> Result<u64, StoreError> {
        let sql = if failures_only {
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 AND action LIKE '%\\_failed' ESCAPE '\\' LIMIT $2)"
        } else {
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 LIMIT $2)"
        };
        let mut total = 0;
        loop {
            let n = on_pool!(self, p => async {
                Ok::<u64, StoreError>(sqlx::query(sql).bind(before).bind(batch).execute(p).await?.rows_affected())
            })?;
            total += n;
            if n < u64::try_from(batch).unwrap_or(u64::MAX) {
                return Ok(total);
            }
        }
    }

    /// Events, newest first.
    pub async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let limit = q.limit.unwrap_or(100).clamp(1, 1000);
        let before_id = q.before_id.unwrap_or(i64::MAX);
        let action = format!("{}%", q.action.as_deref().unwrap_or("").replace('%', ""));
        on_pool!(self, p => async {
            let rows: Vec<AuditRow> = sqlx::query_as("SELECT id, at, actor, action, target, before, after, remote_addr FROM audit_log WHERE id < $1 AND ($2 IS NULL OR target = $2) AND action LIKE $3 ORDER BY id DESC LIMIT $4")
                .bind(before_id).bind(&q.target).bind(&action).bind(limit)
                .fetch_all(p).await?;
            Ok(rows.into_iter().map(AuditRow::into_event).collect())
        })
    }
}
