//! Writes of the admin API that must be atomic: a client's settings together with its secrets.

use super::BeginWrite as _;
use super::{Store, StoreError, on_pool};
use crate::model::{Client, StoredSecret};

/// What happens to a client's secrets when its registration changes.
#[derive(Debug, Clone, Copy)]
pub enum SecretChange<'a> {
    /// The secrets stay as they are.
    Keep,
    /// The secrets stay, but their encrypted copies are deleted (the method changed from
    /// `client_secret_jwt`, the only one whose secret the server may be able to read back).
    DropEncrypted,
    /// Every secret is deleted and this one becomes the only one (the authentication method
    /// changed to one that stores its secret differently, or that needs one for the first time).
    Replace(&'a StoredSecret),
    /// Every secret is deleted (the method no longer uses a secret).
    DeleteAll,
}

impl Store {
    /// Replaces a client's settings and applies `secrets` in one transaction;
    /// [`StoreError::NotFound`] when the client does not exist.
    pub async fn update_client_with_secrets(
        &self,
        c: &Client,
        secrets: SecretChange<'_>,
    ) -> Result<(), StoreError> {
        let data = serde_json::to_string(c)?;
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE clients SET name = $2, description = $3, enabled = $4, data = $5, updated_at = $6 WHERE client_id = $1")
                .bind(&c.client_id).bind(&c.name).bind(&c.description).bind(c.enabled).bind(&data).bind(c.updated_at)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            match secrets {
                SecretChange::Keep => {}
                SecretChange::DropEncrypted => {
                    sqlx::query("UPDATE client_secrets SET encrypted = NULL WHERE client_id = $1")
                        .bind(&c.client_id).execute(&mut *tx).await?;
                }
                SecretChange::Replace(_) | SecretChange::DeleteAll => {
                    sqlx::query("DELETE FROM client_secrets WHERE client_id = $1")
                        .bind(&c.client_id).execute(&mut *tx).await?;
                }
            }
            if let SecretChange::Replace(s) = secrets {
                sqlx::query("INSERT INTO client_secrets (id, client_id, hash, encrypted, created_at, expires_at, imported) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&s.id).bind(&s.client_id).bind(&s.hash).bind(&s.encrypted).bind(s.created_at).bind(s.expires_at).bind(s.imported)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

impl Store {
    /// Retires the signing key `kid` at `retired_at` (even when a rotation had scheduled its
    /// retirement later) and removes it from the JWKS at `remove_at`; when `promote` names a
    /// published key that has not started signing, it signs from `retired_at` instead, so the
    /// algorithm never lacks a signer. One transaction.
    pub async fn retire_key_now(
        &self,
        kid: &str,
        retired_at: i64,
        remove_at: i64,
        promote: Option<&str>,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            if let Some(next) = promote {
                let n = sqlx::query("UPDATE signing_keys SET activates_at = $2 WHERE kid = $1 AND activates_at > $2")
                    .bind(next).bind(retired_at).execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            let n = sqlx::query("UPDATE signing_keys SET retired_at = $2, remove_at = $3 WHERE kid = $1")
                .bind(kid).bind(retired_at).bind(remove_at).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

impl Store {
    /// Makes `new` the client's current secret; the others expire at `old_expires_at` (now, or
    /// after a grace period). Like [`Store::rotate_client_secret`], but the transaction opens
    /// with a write, so SQLite takes the write lock at once (waiting its busy timeout) instead of
    /// failing to upgrade a read snapshot when another writer got in between.
    pub async fn replace_client_secret(
        &self,
        new: &StoredSecret,
        old_expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE clients SET updated_at = updated_at WHERE client_id = $1")
                .bind(&new.client_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("UPDATE client_secrets SET expires_at = $2 WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2)")
                .bind(&new.client_id).bind(old_expires_at).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM client_secrets WHERE client_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2")
                .bind(&new.client_id).bind(new.created_at).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO client_secrets (id, client_id, hash, encrypted, created_at, expires_at, imported) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&new.id).bind(&new.client_id).bind(&new.hash).bind(&new.encrypted).bind(new.created_at).bind(new.expires_at).bind(new.imported)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
