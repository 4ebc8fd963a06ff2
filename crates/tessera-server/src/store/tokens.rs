//! Opaque access tokens, revoked JWT ids and used client-assertion ids.

use super::BeginWrite as _;
use super::{Db, Store, StoreError, on_pool};
use crate::model::StoredToken;

/// The columns of `opaque_tokens`, in the order every statement here binds or reads them.
macro_rules! token_columns {
    () => {
        "hash, jti, client_id, sub, scope, aud, iat, exp, revoked, extra"
    };
}
pub(crate) use token_columns;

/// A row of `opaque_tokens` as read back.
#[derive(sqlx::FromRow)]
pub(super) struct TokenRow {
    hash: Vec<u8>,
    jti: String,
    client_id: String,
    sub: String,
    scope: String,
    aud: String,
    iat: i64,
    exp: i64,
    revoked: bool,
    extra: String,
}

impl From<TokenRow> for StoredToken {
    fn from(r: TokenRow) -> Self {
        Self {
            hash: r.hash,
            jti: r.jti,
            client_id: r.client_id,
            sub: r.sub,
            scope: r.scope,
            aud: r.aud,
            iat: r.iat,
            exp: r.exp,
            revoked: r.revoked,
            extra: r.extra,
        }
    }
}

/// The row counts of SQLite's multi-row token inserts, largest first: a batch is written as a few
/// statements of these sizes, so that only these few shapes are prepared and cached.
const SQLITE_INSERT_ROWS: [usize; 4] = [64, 16, 4, 1];

/// For `remaining` rows still to write (at least one): the largest shape that fits and its
/// `INSERT INTO opaque_tokens … VALUES (…), …`.
fn sqlite_insert(remaining: usize) -> (usize, &'static str) {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        let columns = token_columns!().split(", ").count();
        SQLITE_INSERT_ROWS
            .iter()
            .map(|&n| {
                let values: Vec<String> = (0..n)
                    .map(|r| {
                        let p: Vec<String> = (1..=columns)
                            .map(|c| format!("${}", r * columns + c))
                            .collect();
                        format!("({})", p.join(", "))
                    })
                    .collect();
                format!(
                    concat!(
                        "INSERT INTO opaque_tokens (",
                        token_columns!(),
                        ") VALUES {}"
                    ),
                    values.join(", ")
                )
            })
            .collect()
    });
    // The last shape, one row, always fits.
    let i = SQLITE_INSERT_ROWS
        .iter()
        .position(|&n| n <= remaining)
        .unwrap_or(SQLITE_INSERT_ROWS.len() - 1);
    (SQLITE_INSERT_ROWS[i], all.get(i).map_or("", String::as_str))
}

impl Store {
    /// Inserts opaque tokens in one transaction (one commit for many tokens: group commit).
    pub async fn insert_tokens(&self, tokens: &[StoredToken]) -> Result<(), StoreError> {
        match &self.db {
            // One statement for the whole batch: one round trip and one commit, whatever its size.
            Db::Postgres(p) => {
                // Columns borrowed from the tokens: nothing is copied to bind them.
                let col = |f: fn(&StoredToken) -> &str| tokens.iter().map(f).collect::<Vec<_>>();
                let hashes: Vec<&[u8]> = tokens.iter().map(|t| t.hash.as_slice()).collect();
                let jtis = col(|t| &t.jti);
                let clients = col(|t| &t.client_id);
                let subs = col(|t| &t.sub);
                let scopes = col(|t| &t.scope);
                let auds = col(|t| &t.aud);
                let extras = col(|t| &t.extra);
                let iats: Vec<i64> = tokens.iter().map(|t| t.iat).collect();
                let exps: Vec<i64> = tokens.iter().map(|t| t.exp).collect();
                let revoked: Vec<bool> = tokens.iter().map(|t| t.revoked).collect();
                self.timed(async {
                    sqlx::query(concat!("INSERT INTO opaque_tokens (", token_columns!(), ") SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int8[], $9::bool[], $10::text[])"))
                        .bind(&hashes).bind(&jtis).bind(&clients).bind(&subs).bind(&scopes).bind(&auds).bind(&iats).bind(&exps).bind(&revoked).bind(&extras)
                        .execute(p).await?;
                    Ok(())
                })
                .await
            }
            // A few multi-row statements in one transaction: each statement is one trip to
            // SQLite's worker thread, which a statement per row paid for every token.
            Db::Sqlite(_) => on_pool!(self, p => async {
                let mut tx = p.begin_write().await?;
                let mut rest = tokens;
                while !rest.is_empty() {
                    let (rows, sql) = sqlite_insert(rest.len());
                    let (chunk, tail) = rest.split_at(rows);
                    let mut q = sqlx::query(sql);
                    for t in chunk {
                        q = q.bind(&t.hash).bind(&t.jti).bind(&t.client_id).bind(&t.sub).bind(&t.scope).bind(&t.aud).bind(t.iat).bind(t.exp).bind(t.revoked).bind(&t.extra);
                    }
                    q.execute(&mut *tx).await?;
                    rest = tail;
                }
                tx.commit().await?;
                Ok(())
            }),
        }
    }

    /// The opaque token with this hash, if stored.
    pub async fn get_token(&self, hash: &[u8]) -> Result<Option<StoredToken>, StoreError> {
        on_pool!(self, p => async {
            let row: Option<TokenRow> = sqlx::query_as(concat!("SELECT ", token_columns!(), " FROM opaque_tokens WHERE hash = $1"))
                .bind(hash).fetch_optional(p).await?;
            Ok(row.map(StoredToken::from))
        })
    }

    /// Marks an opaque token revoked.
    pub async fn revoke_token(&self, hash: &[u8]) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("UPDATE opaque_tokens SET revoked = TRUE WHERE hash = $1").bind(hash).execute(p).await?;
            Ok(())
        })
    }

    /// Records a revoked JWT access token until it expires.
    pub async fn revoke_jwt(&self, jti: &str, client_id: &str, exp: i64) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO revoked_jwts (jti, client_id, exp) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING")
                .bind(jti).bind(client_id).bind(exp).execute(p).await?;
            Ok(())
        })
    }

    /// Whether a JWT id was revoked.
    pub async fn is_jwt_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        on_pool!(self, p => async {
            let row: Option<(String,)> = sqlx::query_as("SELECT jti FROM revoked_jwts WHERE jti = $1").bind(jti).fetch_optional(p).await?;
            Ok(row.is_some())
        })
    }

    /// Records a client assertion's `jti`; `false` when it was already used (a replay).
    pub async fn use_assertion(
        &self,
        client_id: &str,
        jti: &str,
        exp: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, p => async {
            let n = sqlx::query("INSERT INTO used_assertions (client_id, jti, exp) VALUES ($1, $2, $3) ON CONFLICT (client_id, jti) DO NOTHING")
                .bind(client_id).bind(jti).bind(exp).execute(p).await?.rows_affected();
            Ok(n == 1)
        })
    }
}
