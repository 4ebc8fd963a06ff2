//! The console's audit log page: events filtered by actor, action (a prefix), target and time,
//! newest first, a page at a time (keyset: events older than an id).

use super::{Store, StoreError, on_pool};

/// What events to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exactly this actor, or any when empty.
    pub actor: String,
    /// Actions starting with this, or any when empty.
    pub action: String,
    /// Exactly this target, or any when empty.
    pub target: String,
    /// At or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Before this time.
    pub until: Option<i64>,
    /// Only events older than this id.
    pub before_id: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// An event as the console lists it (its before and after states as JSON text).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditLine {
    /// Sequence number.
    pub id: i64,
    /// Time.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: String,
    /// The state before, JSON.
    pub before: Option<String>,
    /// The state after, JSON.
    pub after: Option<String>,
    /// From where.
    pub remote_addr: Option<String>,
}

fn prefix_pattern(text: &str) -> String {
    let mut p = String::new();
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// A page of the audit log for the console, newest first.
    pub async fn console_audit_page(&self, f: &AuditFilter) -> Result<Vec<AuditLine>, StoreError> {
        let action = prefix_pattern(&f.action);
        on_pool!(self, p => async {
            let rows: Vec<AuditLine> = sqlx::query_as(
                "SELECT id, at, actor, action, target, before, after, remote_addr FROM audit_log \
                 WHERE id < $1 AND ($2 = '' OR actor = $2) AND action LIKE $3 ESCAPE '\\' \
                 AND ($4 = '' OR target = $4) AND at >= $5 AND at < $6 \
                 ORDER BY id DESC LIMIT $7",
            )
            .bind(f.before_id.unwrap_or(i64::MAX))
            .bind(&f.actor)
            .bind(&action)
            .bind(&f.target)
            .bind(f.since.unwrap_or(i64::MIN))
            .bind(f.until.unwrap_or(i64::MAX))
            .bind(f.limit)
            .fetch_all(p)
            .await?;
            Ok(rows)
        })
    }
}
