//! Users, their consents and their browser sessions.

use super::BeginWrite as _;
use super::{Store, StoreError, on_pool};
use crate::users::{Consent, Role, User};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    password_hash: Option<String>,
    email: String,
    email_verified: bool,
    display_name: String,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
    password_changed_at: Option<i64>,
    password_temporary: bool,
    role: Option<String>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            username: r.username,
            password_hash: r.password_hash,
            email: r.email,
            email_verified: r.email_verified,
            display_name: r.display_name,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
            password_changed_at: r.password_changed_at,
            password_temporary: r.password_temporary,
            role: stored_role(r.role.as_deref()),
        }
    }
}

/// A stored role; an unknown one (written by a newer version) gives no console access.
pub(crate) fn stored_role(s: Option<&str>) -> Option<Role> {
    let s = s?;
    match Role::parse(s) {
        Ok(r) => Some(r),
        Err(_) => {
            tracing::warn!(
                role = s,
                "a user has a console role this version does not know; it gives no access"
            );
            None
        }
    }
}

/// `SELECT <every user column> FROM users` followed by the rest of a statement.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, username, password_hash, email, email_verified, display_name, enabled, created_at, updated_at, password_changed_at, password_temporary, role FROM users ",
            $rest
        )
    };
}

/// A browser session: who signed in, and when.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// The user.
    pub user_id: String,
    /// When the user authenticated (OpenID Connect `auth_time`).
    pub auth_time: i64,
    /// When the session ends.
    pub expires_at: i64,
}

/// Whether a change that could leave the console without an admin was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Done; an enabled admin remains.
    Done,
    /// Not done: it would have left no enabled user with the console role `admin`.
    LastAdmin,
}

pub(super) const INSERT_USER: &str = "INSERT INTO users (id, username, password_hash, email, email_verified, display_name, enabled, created_at, updated_at, password_changed_at, role, password_temporary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

const UPDATE_USER: &str = "UPDATE users SET password_hash = $2, email = $3, email_verified = $4, display_name = $5, enabled = $6, updated_at = $7, password_changed_at = $8, role = $9, password_temporary = $10 WHERE id = $1";

/// Locks the rows of the enabled admins until the transaction ends (PostgreSQL; SQLite's write
/// transaction holds the whole database already).
const LOCK_ADMINS: &str = "UPDATE users SET role = role WHERE role = 'admin' AND enabled";

pub(super) const COUNT_ADMINS: &str = "SELECT COUNT(*) FROM users WHERE role = 'admin' AND enabled";

#[derive(sqlx::FromRow)]
struct ConsentRow {
    user_id: String,
    client_id: String,
    scope: String,
    granted_at: i64,
}

impl Store {
    /// Inserts a user; [`StoreError::Conflict`] when the username is taken.
    pub async fn insert_user(&self, u: &User) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query(INSERT_USER)
                .bind(&u.id).bind(&u.username).bind(&u.password_hash).bind(&u.email).bind(u.email_verified)
                .bind(&u.display_name).bind(u.enabled).bind(u.created_at).bind(u.updated_at).bind(u.password_changed_at)
                .bind(u.role.map(Role::as_str)).bind(u.password_temporary)
                .execute(p).await?;
            Ok(())
        })
    }

    /// Every user, by username.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<UserRow> = sqlx::query_as(select_users!("ORDER BY username"))
                .fetch_all(p).await?;
            Ok(rows.into_iter().map(User::from).collect())
        })
    }

    /// The user with this id.
    pub async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        on_pool!(self, p => async {
            let row: Option<UserRow> = sqlx::query_as(select_users!("WHERE id = $1"))
                .bind(id).fetch_optional(p).await?;
            Ok(row.map(User::from))
        })
    }

    /// The user with this (normalised) username.
    pub async fn get_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        on_pool!(self, p => async {
            let row: Option<UserRow> = sqlx::query_as(select_users!("WHERE username = $1"))
                .bind(username).fetch_optional(p).await?;
            Ok(row.map(User::from))
        })
    }

    /// Replaces a user's profile, flags and password hash.
    pub async fn update_user(&self, u: &User) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let n = sqlx::query(UPDATE_USER)
                .bind(&u.id).bind(&u.password_hash).bind(&u.email).bind(u.email_verified).bind(&u.display_name)
                .bind(u.enabled).bind(u.updated_at).bind(u.password_changed_at).bind(u.role.map(Role::as_str)).bind(u.password_temporary)
                .execute(p).await?.rows_affected();
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }

    /// As [`Store::update_user`], unless the change leaves no enabled user with the console role
    /// `admin`: then nothing is changed and the answer is [`Kept::LastAdmin`]. The enabled admins'
    /// rows are locked first, so that two such changes at once cannot both pass the check.
    pub async fn update_user_keeping_an_admin(&self, u: &User) -> Result<Kept, StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            sqlx::query(LOCK_ADMINS).execute(&mut *tx).await?;
            let n = sqlx::query(UPDATE_USER)
                .bind(&u.id).bind(&u.password_hash).bind(&u.email).bind(u.email_verified).bind(&u.display_name)
                .bind(u.enabled).bind(u.updated_at).bind(u.password_changed_at).bind(u.role.map(Role::as_str)).bind(u.password_temporary)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let admins: i64 = sqlx::query_scalar(COUNT_ADMINS).fetch_one(&mut *tx).await?;
            if admins == 0 {
                return Ok(Kept::LastAdmin);
            }
            tx.commit().await?;
            Ok(Kept::Done)
        })
    }

    /// Deletes a user with everything that hangs off it (sessions, consents, codes, refresh
    /// tokens and device approvals, by cascade). With `keep_an_admin`, a deletion that would
    /// leave no enabled user with the console role `admin` is not done ([`Kept::LastAdmin`]).
    pub async fn delete_user(&self, id: &str, keep_an_admin: bool) -> Result<Kept, StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            if keep_an_admin {
                sqlx::query(LOCK_ADMINS).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM refresh_families WHERE user_id = $1)").bind(id).execute(&mut *tx).await?;
            for stmt in [
                "DELETE FROM refresh_families WHERE user_id = $1",
                "DELETE FROM user_sessions WHERE user_id = $1",
                "DELETE FROM console_sessions WHERE user_id = $1",
                "DELETE FROM consents WHERE user_id = $1",
                "DELETE FROM authorization_codes WHERE user_id = $1",
                "DELETE FROM device_codes WHERE user_id = $1",
            ] {
                sqlx::query(stmt).bind(id).execute(&mut *tx).await?;
            }
            let n = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            if keep_an_admin {
                let admins: i64 = sqlx::query_scalar(COUNT_ADMINS).fetch_one(&mut *tx).await?;
                if admins == 0 {
                    return Ok(Kept::LastAdmin);
                }
            }
            tx.commit().await?;
            Ok(Kept::Done)
        })
    }

    /// Starts a session identified by the keyed hash of its cookie value.
    pub async fn insert_session(
        &self,
        hash: &[u8],
        user_id: &str,
        auth_time: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO user_sessions (hash, user_id, auth_time, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(hash).bind(user_id).bind(auth_time).bind(auth_time).bind(expires_at)
                .execute(p).await?;
            Ok(())
        })
    }

    /// The unexpired session with this hash.
    pub async fn get_session(
        &self,
        hash: &[u8],
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        on_pool!(self, p => async {
            let row: Option<SessionRow> = sqlx::query_as("SELECT user_id, auth_time, expires_at FROM user_sessions WHERE hash = $1 AND expires_at > $2")
                .bind(hash).bind(now).fetch_optional(p).await?;
            Ok(row)
        })
    }

    /// Ends one session.
    pub async fn delete_session(&self, hash: &[u8]) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("DELETE FROM user_sessions WHERE hash = $1").bind(hash).execute(p).await?;
            Ok(())
        })
    }

    /// Ends every session of a user: sign-in sessions of the pages and console sessions.
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        on_pool!(self, p => async {
            let pages = sqlx::query("DELETE FROM user_sessions WHERE user_id = $1").bind(user_id).execute(p).await?.rows_affected();
            let console = sqlx::query("DELETE FROM console_sessions WHERE user_id = $1").bind(user_id).execute(p).await?.rows_affected();
            Ok(pages + console)
        })
    }

    /// The user's remembered consent for a client.
    pub async fn get_consent(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Option<Consent>, StoreError> {
        on_pool!(self, p => async {
            let row: Option<ConsentRow> = sqlx::query_as("SELECT user_id, client_id, scope, granted_at FROM consents WHERE user_id = $1 AND client_id = $2")
                .bind(user_id).bind(client_id).fetch_optional(p).await?;
            Ok(row.map(|r| Consent { user_id: r.user_id, client_id: r.client_id, scope: r.scope, granted_at: r.granted_at }))
        })
    }

    /// Every consent a user gave.
    pub async fn list_consents(&self, user_id: &str) -> Result<Vec<Consent>, StoreError> {
        on_pool!(self, p => async {
            let rows: Vec<ConsentRow> = sqlx::query_as("SELECT user_id, client_id, scope, granted_at FROM consents WHERE user_id = $1 ORDER BY client_id")
                .bind(user_id).fetch_all(p).await?;
            Ok(rows.into_iter().map(|r| Consent { user_id: r.user_id, client_id: r.client_id, scope: r.scope, granted_at: r.granted_at }).collect())
        })
    }

    /// Records (or replaces) a consent.
    pub async fn put_consent(&self, c: &Consent) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at")
                .bind(&c.user_id).bind(&c.client_id).bind(&c.scope).bind(c.granted_at)
                .execute(p).await?;
            Ok(())
        })
    }

    /// Forgets a user's consents: for one client, or all when `client_id` is `None`. Returns how
    /// many were removed.
    pub async fn delete_consents(
        &self,
        user_id: &str,
        client_id: Option<&str>,
    ) -> Result<u64, StoreError> {
        on_pool!(self, p => async {
            let n = match client_id {
                Some(c) => sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2").bind(user_id).bind(c).execute(p).await?,
                None => sqlx::query("DELETE FROM consents WHERE user_id = $1").bind(user_id).execute(p).await?,
            };
            Ok(n.rows_affected())
        })
    }
}
