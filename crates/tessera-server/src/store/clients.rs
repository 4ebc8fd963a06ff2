//! Clients and their secrets.

use super::BeginWrite as _;
use super::{Store, StoreError, on_pool};
use crate::model::{Client, StoredSecret};

#[derive(sqlx::FromRow)]
struct ClientRow {
    data: String,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl ClientRow {
    fn into_client(self) -> Result<Client, StoreError> {
        let mut c: Client = serde_json::from_str(&self.data)?;
        c.enabled = self.enabled;
        c.created_at = self.created_at;
        c.updated_at = self.updated_at;
        Ok(c)
    }
}

#[derive(sqlx::FromRow)]
struct SecretRow {
    id: String,
    client_id: String,
    hash: Vec<u8>,
    encrypted: Option<Vec<u8>>,
    created_at: i64,
    expires_at: Option<i64>,
    imported: bool,
}

impl From<SecretRow> for StoredSecret {
    fn from(r: SecretRow) -> Self {
        Self {
            id: r.id,
            client_id: r.client_id,
            hash: r.hash,
            encrypted: r.encrypted,
            created_at: r.created_at,
            expires_at: r.expires_at,
            imported: r.imported,
        }
    }
}

impl Store {
    /// Every client.
    pub async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<ClientRow> = sqlx::query_as("SELECT data, enabled, created_at, updated_at FROM clients ORDER BY client_id")
                .fetch_all(p).await?;
            rows.into_iter().map(ClientRow::into_client).collect()
        })
    }

    /// One client.
    pub async fn get_client(&self, client_id: &str) -> Result<Client, StoreError> {
        on_pool!(self, p => async {
            let row: ClientRow = sqlx::query_as("SELECT data, enabled, created_at, updated_at FROM clients WHERE client_id = $1")
                .bind(client_id).fetch_one(p).await?;
            row.into_client()
        })
    }

    /// Inserts a client with its first secret (when it has one), in one transaction.
    pub async fn insert_client(
        &self,
        c: &Client,
        secret: Option<&StoredSecret>,
    ) -> Result<(), StoreError> {
        let data = serde_json::to_string(c)?;
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO clients (client_id, name, description, enabled, data, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&c.client_id).bind(&c.name).bind(&c.description).bind(c.enabled).bind(&data).bind(c.created_at).bind(c.updated_at)
                .execute(&mut *tx).await?;
            if let Some(s) = secret {
                sqlx::query("INSERT INTO client_secrets (id, client_id, hash, encrypted, created_at, expires_at, imported) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&s.id).bind(&s.client_id).bind(&s.hash).bind(&s.encrypted).bind(s.created_at).bind(s.expires_at).bind(s.imported)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Replaces a client's settings (and enabled flag).
    pub async fn update_client(&self, c: &Client) -> Result<(), StoreError> {
        let data = serde_json::to_string(c)?;
        on_pool!(self, p => async {
            let n = sqlx::query("UPDATE clients SET name = $2, description = $3, enabled = $4, data = $5, updated_at = $6 WHERE client_id = $1")
                .bind(&c.client_id).bind(&c.name).bind(&c.description).bind(c.enabled).bind(&data).bind(c.updated_at)
                .execute(p).await?.rows_affected();
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }

    /// Deletes a client, its secrets (by cascade) and its opaque tokens.
    pub async fn delete_client(&self, client_id: &str) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM client_secrets WHERE client_id = $1").bind(client_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM opaque_tokens WHERE client_id = $1").bind(client_id).execute(&mut *tx).await?;
            let n = sqlx::query("DELETE FROM clients WHERE client_id = $1").bind(client_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The secrets of one client that have not expired at `now`.
    pub async fn client_secrets(
        &self,
        client_id: &str,
        now: i64,
    ) -> Result<Vec<StoredSecret>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<SecretRow> = sqlx::query_as("SELECT id, client_id, hash, encrypted, created_at, expires_at, imported FROM client_secrets WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC")
                .bind(client_id).bind(now).fetch_all(p).await?;
            Ok(rows.into_iter().map(StoredSecret::from).collect())
        })
    }

    /// Every unexpired secret of every client.
    pub async fn all_client_secrets(&self, now: i64) -> Result<Vec<StoredSecret>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<SecretRow> = sqlx::query_as("SELECT id, client_id, hash, encrypted, created_at, expires_at, imported FROM client_secrets WHERE expires_at IS NULL OR expires_at > $1")
                .bind(now).fetch_all(p).await?;
            Ok(rows.into_iter().map(StoredSecret::from).collect())
        })
    }

    /// Rotates a client's secret: current secrets expire at `old_expires_at` (now, or after a
    /// grace period) and `new` becomes current, in one transaction.
    pub async fn rotate_client_secret(
        &self,
        new: &StoredSecret,
        old_expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let exists: Option<(String,)> = sqlx::query_as("SELECT client_id FROM clients WHERE client_id = $1")
                .bind(&new.client_id).fetch_optional(&mut *tx).await?;
            if exists.is_none() {
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
