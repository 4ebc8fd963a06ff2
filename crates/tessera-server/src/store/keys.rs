//! Signing keys, stored encrypted.

use super::{Store, StoreError, on_pool};
use crate::model::StoredKey;

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    encrypted_pkcs8: Vec<u8>,
    public_jwk: String,
    created_at: i64,
    activates_at: i64,
    retired_at: Option<i64>,
    remove_at: Option<i64>,
}

impl From<KeyRow> for StoredKey {
    fn from(r: KeyRow) -> Self {
        Self {
            kid: r.kid,
            alg: r.alg,
            encrypted_pkcs8: r.encrypted_pkcs8,
            public_jwk: r.public_jwk,
            created_at: r.created_at,
            activates_at: r.activates_at,
            retired_at: r.retired_at,
            remove_at: r.remove_at,
        }
    }
}

impl Store {
    /// Every key not yet removed at `now`.
    pub async fn list_keys(&self, now: i64) -> Result<Vec<StoredKey>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<KeyRow> = sqlx::query_as("SELECT kid, alg, encrypted_pkcs8, public_jwk, created_at, activates_at, retired_at, remove_at FROM signing_keys WHERE remove_at IS NULL OR remove_at > $1 ORDER BY activates_at, created_at")
                .bind(now).fetch_all(p).await?;
            Ok(rows.into_iter().map(StoredKey::from).collect())
        })
    }

    /// Adds a key.
    pub async fn insert_key(&self, k: &StoredKey) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO signing_keys (kid, alg, encrypted_pkcs8, public_jwk, created_at, activates_at, retired_at, remove_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&k.kid).bind(&k.alg).bind(&k.encrypted_pkcs8).bind(&k.public_jwk).bind(k.created_at).bind(k.activates_at).bind(k.retired_at).bind(k.remove_at)
                .execute(p).await?;
            Ok(())
        })
    }

    /// Marks a key retired at `retired_at` and removed from the JWKS at `remove_at`.
    pub async fn retire_key(
        &self,
        kid: &str,
        retired_at: i64,
        remove_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let n = sqlx::query("UPDATE signing_keys SET retired_at = COALESCE(retired_at, $2), remove_at = $3 WHERE kid = $1")
                .bind(kid).bind(retired_at).bind(remove_at).execute(p).await?.rows_affected();
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }
}
