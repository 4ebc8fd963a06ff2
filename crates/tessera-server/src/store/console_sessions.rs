//! The console's sessions (who signed in to `/admin/`, when, and when they were last seen), and
//! the counts the console shows.

use super::{Store, StoreError, on_pool};

/// A console session as stored (under the keyed hash of its cookie value).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsoleSessionRow {
    /// The person.
    pub user_id: String,
    /// When they signed in.
    pub created_at: i64,
    /// Their last request.
    pub last_seen_at: i64,
    /// The absolute end of the session.
    pub expires_at: i64,
}

impl Store {
    /// How many users there are.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        on_pool!(self, p => async {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await?;
            Ok(n)
        })
    }

    /// How many enabled users hold the console role `role`.
    pub async fn count_users_with_role(&self, role: &str) -> Result<i64, StoreError> {
        on_pool!(self, p => async {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = $1 AND enabled")
                .bind(role).fetch_one(p).await?;
            Ok(n)
        })
    }

    /// Starts a console session.
    pub async fn insert_console_session(
        &self,
        hash: &[u8],
        user_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO console_sessions (hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)")
                .bind(hash).bind(user_id).bind(now).bind(expires_at)
                .execute(p).await?;
            Ok(())
        })
    }

    /// The console session with this hash, unless past its absolute end or idle since before
    /// `idle_since`; a live one is marked seen at `now`.
    pub async fn touch_console_session(
        &self,
        hash: &[u8],
        now: i64,
        idle_since: i64,
    ) -> Result<Option<ConsoleSessionRow>, StoreError> {
        on_pool!(self, p => async {
            let row: Option<ConsoleSessionRow> = sqlx::query_as("UPDATE console_sessions SET last_seen_at = $2 WHERE hash = $1 AND expires_at > $2 AND last_seen_at >= $3 RETURNING user_id, created_at, last_seen_at, expires_at")
                .bind(hash).bind(now).bind(idle_since).fetch_optional(p).await?;
            Ok(row)
        })
    }

    /// Ends one console session.
    pub async fn delete_console_session(&self, hash: &[u8]) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("DELETE FROM console_sessions WHERE hash = $1").bind(hash).execute(p).await?;
            Ok(())
        })
    }

    /// Deletes console sessions past their absolute end or idle since before `idle_since`.
    pub async fn purge_console_sessions(
        &self,
        now: i64,
        idle_since: i64,
    ) -> Result<u64, StoreError> {
        on_pool!(self, p => async {
            Ok(sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at < $2")
                .bind(now).bind(idle_since).execute(p).await?.rows_affected())
        })
    }
}
