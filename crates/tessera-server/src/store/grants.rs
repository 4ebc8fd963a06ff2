//! Authorization codes (RFC 6749 §4.1.2) and refresh token families (RFC 9700 §4.14.2): each
//! stored under the keyed hash of the value handed out, claimed atomically so that a second use
//! is seen as one.

use super::BeginWrite as _;
use super::{Store, StoreError, on_pool};

/// Revokes one access token (an [`IssuedAccess`]) inside the transaction `$tx`: a JWT goes on the
/// revocation list, an opaque token is marked. A macro, so that it runs on either backend's
/// transaction within [`on_pool!`].
macro_rules! revoke_access_in {
    ($tx:ident, $t:expr) => {{
        let t: &IssuedAccess = $t;
        sqlx::query("INSERT INTO revoked_jwts (jti, client_id, exp) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING")
            .bind(&t.jti).bind(&t.client_id).bind(t.exp).execute(&mut *$tx).await?;
        sqlx::query("UPDATE opaque_tokens SET revoked = TRUE WHERE jti = $1")
            .bind(&t.jti).execute(&mut *$tx).await?;
    }};
}

/// An issued authorization code and what it is bound to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeRecord {
    /// The client it was issued to.
    pub client_id: String,
    /// The user who approved it.
    pub user_id: String,
    /// The redirect URI the code was sent to.
    pub redirect_uri: String,
    /// Whether the authorization request named the redirect URI (then the token request must
    /// repeat it, RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    /// The approved scopes, space-delimited.
    pub scope: String,
    /// The PKCE `code_challenge` (S256), when one was sent.
    pub code_challenge: Option<String>,
    /// The OpenID Connect `nonce`, when one was sent.
    pub nonce: Option<String>,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Issue time.
    pub created_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// When it was redeemed.
    pub used_at: Option<i64>,
    /// The access token issued from it (for revocation on replay).
    pub access_jti: Option<String>,
    /// That access token's expiry.
    pub access_exp: Option<i64>,
    /// The refresh token family started from it.
    pub family_id: Option<String>,
    /// The resource indicators the authorization request named (RFC 8707), as a JSON array;
    /// `None` when it named none.
    pub resource: Option<String>,
}

/// The outcome of redeeming a code or a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim<T> {
    /// First use: the record, now marked used.
    Fresh(T),
    /// It had been used before: a replay.
    Replayed(T),
    /// No such value.
    Unknown,
}

/// A chain of refresh tokens from one grant: rotation adds a token, reuse revokes the chain.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshFamily {
    /// Family id.
    pub id: String,
    /// The client.
    pub client_id: String,
    /// The user.
    pub user_id: String,
    /// The granted scopes, space-delimited.
    pub scope: String,
    /// Audiences of the access tokens, as a JSON array.
    pub aud: String,
    /// When the user authenticated.
    pub auth_time: i64,
    /// When the family started.
    pub created_at: i64,
    /// No token of the family works after this (the absolute lifetime).
    pub absolute_expires_at: i64,
    /// When the family was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// One refresh token of a family.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshRecord {
    /// The family.
    pub family_id: String,
    /// Issue time.
    pub created_at: i64,
    /// Expiry (the idle lifetime, capped by the family's absolute one).
    pub expires_at: i64,
    /// When it was exchanged.
    pub used_at: Option<i64>,
}

/// An access token to revoke: id, client, expiry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IssuedAccess {
    /// The `jti`.
    pub jti: String,
    /// The client.
    pub client_id: String,
    /// Expiry.
    pub exp: i64,
}

impl Store {
    /// Stores a new authorization code.
    pub async fn insert_code(&self, hash: &[u8], c: &CodeRecord) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, redirect_uri_sent, scope, code_challenge, nonce, auth_time, created_at, expires_at, resource) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                .bind(hash).bind(&c.client_id).bind(&c.user_id).bind(&c.redirect_uri).bind(c.redirect_uri_sent).bind(&c.scope)
                .bind(&c.code_challenge).bind(&c.nonce).bind(c.auth_time).bind(c.created_at).bind(c.expires_at).bind(&c.resource)
                .execute(p).await?;
            Ok(())
        })
    }

    /// Marks a code used and returns it; a code used before comes back as a replay, and is
    /// marked replayed, so that the exchange that used it first revokes what it issues if it has
    /// not recorded it yet (see [`Store::record_code_tokens`]).
    pub async fn claim_code(&self, hash: &[u8], now: i64) -> Result<Claim<CodeRecord>, StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE authorization_codes SET used_at = $2 WHERE hash = $1 AND used_at IS NULL")
                .bind(hash).bind(now).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                // Takes the row lock (PostgreSQL) or the write lock (SQLite): a first exchange
                // recording its tokens right now either finished (they are read below) or will
                // see this mark and revoke them itself.
                sqlx::query("UPDATE authorization_codes SET replayed_at = $2 WHERE hash = $1 AND replayed_at IS NULL")
                    .bind(hash).bind(now).execute(&mut *tx).await?;
            }
            let row: Option<CodeRecord> = sqlx::query_as("SELECT client_id, user_id, redirect_uri, redirect_uri_sent, scope, code_challenge, nonce, auth_time, created_at, expires_at, used_at, access_jti, access_exp, family_id, resource FROM authorization_codes WHERE hash = $1")
                .bind(hash).fetch_optional(&mut *tx).await?;
            tx.commit().await?;
            Ok(match row {
                None => Claim::Unknown,
                Some(r) if n == 1 => Claim::Fresh(r),
                Some(r) => Claim::Replayed(r),
            })
        })
    }

    /// Remembers what was issued from a code, so that a replay can revoke it. When the code was
    /// replayed since it was claimed (that replay found nothing to revoke yet), revokes instead
    /// the access token and the refresh token family just issued, in the same transaction, and
    /// returns `false`: the caller must not hand them out.
    pub async fn record_code_tokens(
        &self,
        hash: &[u8],
        access: &IssuedAccess,
        family_id: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE authorization_codes SET access_jti = $2, access_exp = $3, family_id = $4 WHERE hash = $1 AND replayed_at IS NULL")
                .bind(hash).bind(&access.jti).bind(access.exp).bind(family_id).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                tx.commit().await?;
                return Ok(true);
            }
            if let Some(family) = family_id {
                sqlx::query("UPDATE refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(family).bind(now).execute(&mut *tx).await?;
            }
            revoke_access_in!(tx, access);
            tx.commit().await?;
            Ok(false)
        })
    }

    /// Starts a refresh token family with its first token.
    pub async fn insert_refresh_family(
        &self,
        f: &RefreshFamily,
        token_hash: &[u8],
        token_expires_at: i64,
        access: &IssuedAccess,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO refresh_families (id, client_id, user_id, scope, aud, auth_time, created_at, absolute_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&f.id).bind(&f.client_id).bind(&f.user_id).bind(&f.scope).bind(&f.aud).bind(f.auth_time).bind(f.created_at).bind(f.absolute_expires_at)
                .execute(&mut *tx).await?;
            sqlx::query("INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at, access_jti, access_exp) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(token_hash).bind(&f.id).bind(f.created_at).bind(token_expires_at).bind(&access.jti).bind(access.exp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Adds the next token to a family (rotation), unless the family was revoked meanwhile (a
    /// reuse of one of its tokens was detected while this rotation was issuing): then revokes
    /// the access token issued with it instead, adds nothing, and returns `false`.
    ///
    /// The family row is locked first (a no-op update, portable to both backends), so this
    /// and [`Store::revoke_families`] run one after the other: either the revocation sees the
    /// new token and revokes its access token, or this sees the revocation.
    pub async fn insert_refresh_token(
        &self,
        token_hash: &[u8],
        family_id: &str,
        created_at: i64,
        expires_at: i64,
        access: &IssuedAccess,
    ) -> Result<bool, StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let live = sqlx::query("UPDATE refresh_families SET revoked_at = NULL WHERE id = $1 AND revoked_at IS NULL")
                .bind(family_id).execute(&mut *tx).await?.rows_affected();
            if live == 0 {
                revoke_access_in!(tx, access);
                tx.commit().await?;
                return Ok(false);
            }
            sqlx::query("INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at, access_jti, access_exp) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(token_hash).bind(family_id).bind(created_at).bind(expires_at).bind(&access.jti).bind(access.exp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Marks a refresh token used and returns it with its family; a token used before comes
    /// back as a replay.
    pub async fn claim_refresh(
        &self,
        hash: &[u8],
        now: i64,
    ) -> Result<Claim<(RefreshRecord, RefreshFamily)>, StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL")
                .bind(hash).bind(now).execute(&mut *tx).await?.rows_affected();
            let token: Option<RefreshRecord> = sqlx::query_as("SELECT family_id, created_at, expires_at, used_at FROM refresh_tokens WHERE hash = $1")
                .bind(hash).fetch_optional(&mut *tx).await?;
            let Some(token) = token else {
                tx.commit().await?;
                return Ok(Claim::Unknown);
            };
            let family: Option<RefreshFamily> = sqlx::query_as("SELECT id, client_id, user_id, scope, aud, auth_time, created_at, absolute_expires_at, revoked_at FROM refresh_families WHERE id = $1")
                .bind(&token.family_id).fetch_optional(&mut *tx).await?;
            tx.commit().await?;
            Ok(match family {
                None => Claim::Unknown,
                Some(f) if n == 1 => Claim::Fresh((token, f)),
                Some(f) => Claim::Replayed((token, f)),
            })
        })
    }

    /// The family of a refresh token (for revocation and introspection), without using it.
    pub async fn refresh_family_of(
        &self,
        hash: &[u8],
    ) -> Result<Option<(RefreshRecord, RefreshFamily)>, StoreError> {
        on_pool!(self, p => async {
            let token: Option<RefreshRecord> = sqlx::query_as("SELECT family_id, created_at, expires_at, used_at FROM refresh_tokens WHERE hash = $1")
                .bind(hash).fetch_optional(p).await?;
            let Some(token) = token else { return Ok(None) };
            let family: Option<RefreshFamily> = sqlx::query_as("SELECT id, client_id, user_id, scope, aud, auth_time, created_at, absolute_expires_at, revoked_at FROM refresh_families WHERE id = $1")
                .bind(&token.family_id).fetch_optional(p).await?;
            Ok(family.map(|f| (token, f)))
        })
    }

    /// Revokes refresh token families — one (`family_id`), or every family of a user, or of a
    /// user and client — and returns the unexpired access tokens issued from them, for the
    /// caller to revoke.
    pub async fn revoke_families(
        &self,
        family_id: Option<&str>,
        user_id: Option<&str>,
        client_id: Option<&str>,
        now: i64,
    ) -> Result<Vec<IssuedAccess>, StoreError> {
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let ids: Vec<(String, String)> = sqlx::query_as("SELECT id, client_id FROM refresh_families WHERE revoked_at IS NULL AND ($1 IS NULL OR id = $1) AND ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR client_id = $3)")
                .bind(family_id).bind(user_id).bind(client_id).fetch_all(&mut *tx).await?;
            let mut out = Vec::new();
            for (id, client) in &ids {
                sqlx::query("UPDATE refresh_families SET revoked_at = $2 WHERE id = $1").bind(id).bind(now).execute(&mut *tx).await?;
                let jtis: Vec<(String, i64)> = sqlx::query_as("SELECT access_jti, access_exp FROM refresh_tokens WHERE family_id = $1 AND access_jti IS NOT NULL AND access_exp > $2")
                    .bind(id).bind(now).fetch_all(&mut *tx).await?;
                out.extend(jtis.into_iter().map(|(jti, exp)| IssuedAccess { jti, client_id: client.clone(), exp }));
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Revokes access tokens by id: JWTs go on the revocation list, opaque ones are marked.
    pub async fn revoke_access_tokens(&self, tokens: &[IssuedAccess]) -> Result<(), StoreError> {
        if tokens.is_empty() {
            return Ok(());
        }
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            for t in tokens {
                revoke_access_in!(tx, t);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes expired codes, sessions, device codes and refresh families.
    pub async fn purge_expired_user_grants(&self, now: i64) -> Result<u64, StoreError> {
        on_pool!(self, p => async {
            let mut n = 0;
            n += sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1").bind(now - 3600).execute(p).await?.rows_affected();
            n += sqlx::query("DELETE FROM user_sessions WHERE expires_at < $1").bind(now).execute(p).await?.rows_affected();
            n += sqlx::query("DELETE FROM device_codes WHERE expires_at < $1").bind(now - 3600).execute(p).await?.rows_affected();
            n += sqlx::query("DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM refresh_families WHERE absolute_expires_at < $1)").bind(now).execute(p).await?.rows_affected();
            n += sqlx::query("DELETE FROM refresh_families WHERE absolute_expires_at < $1").bind(now).execute(p).await?.rows_affected();
            Ok(n)
        })
    }
}
