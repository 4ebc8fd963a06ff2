//! The console's one-time sign-up links for the first admin, stored only as keyed hashes of
//! their tokens, with when they expire and when they were used.

use super::BeginWrite as _;
use super::users::{COUNT_ADMINS, INSERT_USER};
use super::{Store, StoreError, on_pool};
use crate::users::{Role, User};

/// What using a sign-up link came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupUse {
    /// The user is created and the link used up.
    Created,
    /// Nothing done: the link is unknown, expired or used, or an enabled admin exists.
    Refused,
}

impl Store {
    /// Stores a new sign-up link (the keyed hash of its token).
    pub async fn insert_signup_link(
        &self,
        hash: &[u8],
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO console_signup_links (hash, created_at, expires_at) VALUES ($1, $2, $3)")
                .bind(hash).bind(created_at).bind(expires_at)
                .execute(p).await?;
            Ok(())
        })
    }

    /// Whether the link with this hash may be used at `now`: known, unused, unexpired, and no
    /// enabled user holds the console role `admin`.
    pub async fn signup_link_usable(&self, hash: &[u8], now: i64) -> Result<bool, StoreError> {
        on_pool!(self, p => async {
            let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_signup_links WHERE hash = $1 AND used_at IS NULL AND expires_at > $2")
                .bind(hash).bind(now).fetch_one(p).await?;
            let admins: i64 = sqlx::query_scalar(COUNT_ADMINS).fetch_one(p).await?;
            Ok(links == 1 && admins == 0)
        })
    }

    /// In one transaction: marks the link with this hash used and inserts `user`, when the link
    /// may be used at `now` (see [`Store::signup_link_usable`]). [`StoreError::Conflict`] (and
    /// the link unused) when the username is taken.
    pub async fn create_user_with_signup_link(
        &self,
        hash: &[u8],
        now: i64,
        user: &User,
    ) -> Result<SignupUse, StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let admins: i64 = sqlx::query_scalar(COUNT_ADMINS).fetch_one(&mut *tx).await?;
            if admins > 0 {
                return Ok(SignupUse::Refused);
            }
            let used = sqlx::query("UPDATE console_signup_links SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2")
                .bind(hash).bind(now).execute(&mut *tx).await?.rows_affected();
            if used != 1 {
                return Ok(SignupUse::Refused);
            }
            sqlx::query(INSERT_USER)
                .bind(&user.id).bind(&user.username).bind(&user.password_hash).bind(&user.email).bind(user.email_verified)
                .bind(&user.display_name).bind(user.enabled).bind(user.created_at).bind(user.updated_at).bind(user.password_changed_at)
                .bind(user.role.map(Role::as_str)).bind(user.password_temporary)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(SignupUse::Created)
        })
    }

    /// Deletes sign-up links that expired before `now`.
    pub async fn purge_signup_links(&self, now: i64) -> Result<u64, StoreError> {
        on_pool!(self, p => async {
            Ok(sqlx::query("DELETE FROM console_signup_links WHERE expires_at <= $1")
                .bind(now).execute(p).await?.rows_affected())
        })
    }
}
