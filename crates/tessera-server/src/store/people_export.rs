//! Whole-table reads and raw inserts of the people tables for `tessera db export` / `import`:
//! users (password hashes stay argon2id hashes), consents, refresh token families and refresh
//! tokens (keyed hashes). Sessions, authorization codes and device codes live seconds to hours and
//! are not carried: users sign in again, flows in progress start again.

use super::BeginWrite as _;
use super::{Store, StoreError, on_pool};
use serde::{Deserialize, Serialize};

/// A user row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct UserRow {
    /// Internal id.
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// argon2id PHC string, when a password is set.
    pub password_hash: Option<String>,
    /// Email address.
    pub email: String,
    /// Whether the email address is verified.
    pub email_verified: bool,
    /// Display name.
    pub display_name: String,
    /// Whether the user may sign in.
    pub enabled: bool,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Last password change.
    pub password_changed_at: Option<i64>,
    /// Console role (`viewer`, `operator`, `admin`), if any; absent in exports made before roles.
    #[serde(default)]
    pub role: Option<String>,
    /// Whether the password must be replaced at the next sign-in; absent in older exports.
    #[serde(default)]
    pub password_temporary: bool,
}

/// A remembered consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ConsentRow {
    /// The user.
    pub user_id: String,
    /// The client.
    pub client_id: String,
    /// The scopes consented to, space-separated.
    pub scope: String,
    /// When.
    pub granted_at: i64,
}

/// A refresh token family (one grant, rotated along).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RefreshFamilyRow {
    /// Family id.
    pub id: String,
    /// The client.
    pub client_id: String,
    /// The user.
    pub user_id: String,
    /// Granted scope.
    pub scope: String,
    /// Audiences, JSON.
    pub aud: String,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Creation time.
    pub created_at: i64,
    /// The absolute lifetime's end.
    pub absolute_expires_at: i64,
    /// When the family was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// A refresh token of a family (its keyed hash, base64 in the export).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RefreshTokenRow {
    /// Keyed hash of the token.
    #[serde(with = "base64_bytes")]
    pub hash: Vec<u8>,
    /// Its family.
    pub family_id: String,
    /// Creation time.
    pub created_at: i64,
    /// Idle expiry.
    pub expires_at: i64,
    /// When it was used (rotated), if it was.
    pub used_at: Option<i64>,
    /// The access token issued with it.
    pub access_jti: Option<String>,
    /// That access token's expiry.
    pub access_exp: Option<i64>,
}

/// The people tables of an installation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct People {
    /// Users.
    pub users: Vec<UserRow>,
    /// Consents.
    pub consents: Vec<ConsentRow>,
    /// Unexpired refresh token families.
    pub refresh_families: Vec<RefreshFamilyRow>,
    /// Unexpired refresh tokens of those families.
    pub refresh_tokens: Vec<RefreshTokenRow>,
}

impl Store {
    /// Reads the people tables (families and tokens that have not expired).
    pub async fn export_people(&self, now: i64) -> Result<People, StoreError> {
        on_pool!(self, p => async {
            let users: Vec<UserRow> = sqlx::query_as("SELECT id, username, password_hash, email, email_verified, display_name, enabled, created_at, updated_at, password_changed_at, role, password_temporary FROM users ORDER BY created_at, id")
                .fetch_all(p).await?;
            let consents: Vec<ConsentRow> = sqlx::query_as("SELECT user_id, client_id, scope, granted_at FROM consents ORDER BY user_id, client_id")
                .fetch_all(p).await?;
            let refresh_families: Vec<RefreshFamilyRow> = sqlx::query_as("SELECT id, client_id, user_id, scope, aud, auth_time, created_at, absolute_expires_at, revoked_at FROM refresh_families WHERE absolute_expires_at > $1 ORDER BY created_at, id")
                .bind(now).fetch_all(p).await?;
            let refresh_tokens: Vec<RefreshTokenRow> = sqlx::query_as("SELECT t.hash, t.family_id, t.created_at, t.expires_at, t.used_at, t.access_jti, t.access_exp FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE f.absolute_expires_at > $1 AND t.expires_at > $1 ORDER BY t.created_at")
                .bind(now).fetch_all(p).await?;
            Ok(People { users, consents, refresh_families, refresh_tokens })
        })
    }

    /// Writes the people tables as they are, in one transaction.
    pub async fn import_people(&self, people: &People) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            for u in &people.users {
                sqlx::query("INSERT INTO users (id, username, password_hash, email, email_verified, display_name, enabled, created_at, updated_at, password_changed_at, role, password_temporary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                    .bind(&u.id).bind(&u.username).bind(&u.password_hash).bind(&u.email).bind(u.email_verified).bind(&u.display_name).bind(u.enabled).bind(u.created_at).bind(u.updated_at).bind(u.password_changed_at).bind(&u.role).bind(u.password_temporary)
                    .execute(&mut *tx).await?;
            }
            for c in &people.consents {
                sqlx::query("INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)")
                    .bind(&c.user_id).bind(&c.client_id).bind(&c.scope).bind(c.granted_at)
                    .execute(&mut *tx).await?;
            }
            for f in &people.refresh_families {
                sqlx::query("INSERT INTO refresh_families (id, client_id, user_id, scope, aud, auth_time, created_at, absolute_expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(&f.id).bind(&f.client_id).bind(&f.user_id).bind(&f.scope).bind(&f.aud).bind(f.auth_time).bind(f.created_at).bind(f.absolute_expires_at).bind(f.revoked_at)
                    .execute(&mut *tx).await?;
            }
            for t in &people.refresh_tokens {
                sqlx::query("INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at, used_at, access_jti, access_exp) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&t.hash).bind(&t.family_id).bind(t.created_at).bind(t.expires_at).bind(t.used_at).bind(&t.access_jti).bind(t.access_exp)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Bytes as standard base64 in JSON.
mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
