//! Whole-table reads and raw inserts for moving an installation between databases.

use super::tokens::{TokenRow, token_columns};
use super::{Store, StoreError, on_pool};
use crate::model::{StoredSecret, StoredToken};

/// A revoked JWT id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct RevokedJwt {
    /// Token id.
    pub jti: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Its expiry.
    pub exp: i64,
}

impl Store {
    /// Every unexpired opaque token.
    pub async fn all_tokens(&self, now: i64) -> Result<Vec<StoredToken>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<TokenRow> = sqlx::query_as(concat!("SELECT ", token_columns!(), " FROM opaque_tokens WHERE exp > $1 ORDER BY iat"))
                .bind(now).fetch_all(p).await?;
            Ok(rows.into_iter().map(StoredToken::from).collect())
        })
    }

    /// Every unexpired revoked JWT id.
    pub async fn all_revoked_jwts(&self, now: i64) -> Result<Vec<RevokedJwt>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<RevokedJwt> = sqlx::query_as("SELECT jti, client_id, exp FROM revoked_jwts WHERE exp > $1 ORDER BY jti")
                .bind(now).fetch_all(p).await?;
            Ok(rows)
        })
    }

    /// Inserts a stored secret as it is.
    pub async fn insert_secret(&self, s: &StoredSecret) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO client_secrets (id, client_id, hash, encrypted, created_at, expires_at, imported) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&s.id).bind(&s.client_id).bind(&s.hash).bind(&s.encrypted).bind(s.created_at).bind(s.expires_at).bind(s.imported)
                .execute(p).await?;
            Ok(())
        })
    }

    /// How many clients, scopes and keys the store holds (to refuse importing into a used one).
    pub async fn row_counts(&self) -> Result<(i64, i64, i64), StoreError> {
        on_pool!(self, p => async {
            let (c,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM clients").fetch_one(p).await?;
            let (s,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM scopes").fetch_one(p).await?;
            let (k,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM signing_keys").fetch_one(p).await?;
            Ok((c, s, k))
        })
    }
}
