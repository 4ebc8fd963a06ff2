//! Leases: a row that one instance holds until it expires, so that cluster-wide chores run on
//! exactly one instance (PostgreSQL or SQLite alike).

use super::{Store, StoreError, on_pool};

impl Store {
    /// Takes (or renews) the lease `name` for `holder` until `expires_at`; `true` when taken.
    /// Fails to take it while another holder's lease has not expired at `now`.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, p => async {
            let n = sqlx::query(
                "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                 WHERE leases.expires_at < $4 OR leases.holder = excluded.holder",
            )
            .bind(name).bind(holder).bind(expires_at).bind(now)
            .execute(p).await?.rows_affected();
            Ok(n == 1)
        })
    }

    /// Gives the lease back.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2").bind(name).bind(holder).execute(p).await?;
            Ok(())
        })
    }
}
