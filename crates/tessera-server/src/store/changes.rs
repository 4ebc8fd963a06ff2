//! Telling the other instances what changed, and hearing what they changed.
//!
//! On PostgreSQL every change to clients, scopes or keys is announced with `NOTIFY
//! tessera_changes`; each instance listens and refreshes what the message names, so a client
//! disabled on one instance is refused by every instance within a moment. A lost listening
//! connection is re-established and followed by a full reload, since messages sent meanwhile are
//! gone. SQLite serves a single instance: announcing is a no-op there.

use super::{Db, Store, StoreError, on_pool};
use serde::{Deserialize, Serialize};

/// The PostgreSQL channel changes are announced on.
pub const CHANNEL: &str = "tessera_changes";

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// One client (created, changed, disabled, deleted, new secret).
    Client {
        /// Its id.
        id: String,
    },
    /// The scopes.
    Scopes,
    /// The signing keys.
    Keys,
}

/// A change with the instance that made it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Announcement {
    /// The announcing instance.
    pub origin: String,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
}

impl Store {
    /// Announces a change to the other instances (PostgreSQL only).
    pub async fn announce(&self, origin: &str, change: Change) -> Result<(), StoreError> {
        if matches!(self.db, Db::Sqlite(_)) {
            return Ok(());
        }
        let payload = serde_json::to_string(&Announcement {
            origin: origin.to_owned(),
            change,
        })?;
        on_pool!(self, p => async {
            sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&payload).execute(p).await?;
            Ok(())
        })
    }

    /// A listener on the change channel, when the store is PostgreSQL.
    pub async fn listen(&self) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        match &self.db {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(pool) => {
                let mut l = sqlx::postgres::PgListener::connect_with(pool).await?;
                l.listen(CHANNEL).await?;
                Ok(Some(l))
            }
        }
    }
}
