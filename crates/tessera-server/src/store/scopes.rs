//! Scopes.

use super::{Store, StoreError, on_pool};
use crate::model::Scope;

#[derive(sqlx::FromRow)]
struct ScopeRow {
    name: String,
    description: String,
    permissions: String,
    created_at: i64,
    updated_at: i64,
}

impl ScopeRow {
    fn into_scope(self) -> Result<Scope, StoreError> {
        Ok(Scope {
            name: self.name,
            description: self.description,
            permissions: serde_json::from_str(&self.permissions)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl Store {
    /// Every scope, by name.
    pub async fn list_scopes(&self) -> Result<Vec<Scope>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<ScopeRow> = sqlx::query_as("SELECT name, description, permissions, created_at, updated_at FROM scopes ORDER BY name")
                .fetch_all(p).await?;
            rows.into_iter().map(ScopeRow::into_scope).collect()
        })
    }

    /// One scope.
    pub async fn get_scope(&self, name: &str) -> Result<Scope, StoreError> {
        on_pool!(self, p => async {
            let row: ScopeRow = sqlx::query_as("SELECT name, description, permissions, created_at, updated_at FROM scopes WHERE name = $1")
                .bind(name).fetch_one(p).await?;
            row.into_scope()
        })
    }

    /// Inserts a scope; [`StoreError::Conflict`] when the name is taken.
    pub async fn insert_scope(&self, s: &Scope) -> Result<(), StoreError> {
        let perms = serde_json::to_string(&s.permissions)?;
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO scopes (name, description, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&s.name).bind(&s.description).bind(&perms).bind(s.created_at).bind(s.updated_at)
                .execute(p).await?;
            Ok(())
        })
    }

    /// Replaces a scope's description and permissions.
    pub async fn update_scope(&self, s: &Scope) -> Result<(), StoreError> {
        let perms = serde_json::to_string(&s.permissions)?;
        on_pool!(self, p => async {
            let n = sqlx::query("UPDATE scopes SET description = $2, permissions = $3, updated_at = $4 WHERE name = $1")
                .bind(&s.name).bind(&s.description).bind(&perms).bind(s.updated_at)
                .execute(p).await?.rows_affected();
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }

    /// Deletes a scope.
    pub async fn delete_scope(&self, name: &str) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let n = sqlx::query("DELETE FROM scopes WHERE name = $1").bind(name).execute(p).await?.rows_affected();
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }
}
