//! Durable state on SQLite (the embedded default) or PostgreSQL, behind one API.
//!
//! Every statement is written once with `$n` placeholders and portable types (TEXT, 64-bit
//! integers, BLOB/BYTEA, BOOLEAN), and runs on whichever pool the URL selected. Each backend has
//! its own migrations. Every operation is bounded by the configured timeout, so a database that
//! goes away produces [`StoreError::Unavailable`] (503 at the HTTP edge), never a hang.

mod admin_queries;
mod audit;
pub mod changes;
mod clients;
pub mod console_audit;
pub mod console_clients;
pub mod console_sessions;
pub mod console_signup;
pub mod device;
pub mod export;
pub mod grants;
mod keys;
mod leases;
pub mod people_export;
mod scopes;
mod tokens;
mod users;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

pub use admin_queries::SecretChange;
pub use audit::AuditQuery;
pub use users::{Kept, SessionRow};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or did not answer in time; retry later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// A row with the same key exists.
    #[error("already exists")]
    Conflict,
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Other(String),
    /// SQLite refused a write because another connection wrote since this one's snapshot
    /// (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`). Nothing was written; the store retries the whole
    /// operation a few times and then reports [`StoreError::Unavailable`].
    #[error("the database is busy: {0}")]
    Busy(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Self::Unavailable(e.to_string()),
            sqlx::Error::Database(ref d) if d.is_unique_violation() => Self::Conflict,
            sqlx::Error::Database(ref d)
                if d.code().as_deref() == Some("5") || d.code().as_deref() == Some("517") =>
            {
                // SQLITE_BUSY / SQLITE_BUSY_SNAPSHOT: another writer got there first.
                Self::Busy(e.to_string())
            }
            other => {
                let text = other.to_string();
                if text.contains("connection") || text.contains("closed") {
                    Self::Unavailable(text)
                } else {
                    Self::Other(text)
                }
            }
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}

/// The pool of one backend.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the SQLite or the PostgreSQL pool.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            // A transaction that lost a race with another writer wrote nothing: run it again.
            $crate::store::Db::Sqlite($pool) => {
                let mut attempt = 0u64;
                loop {
                    match $store.timed($body).await {
                        Err($crate::store::StoreError::Busy(m)) => {
                            attempt += 1;
                            if attempt >= $crate::store::BUSY_ATTEMPTS {
                                break Err($crate::store::StoreError::Unavailable(m));
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(attempt * 3)).await;
                        }
                        r => break r,
                    }
                }
            }
            $crate::store::Db::Postgres($pool) => $store.timed($body).await,
        }
    };
}
pub(crate) use on_pool;

/// Beginning a transaction that will write.
pub(crate) trait BeginWrite {
    /// The database.
    type Db: sqlx::Database;
    /// Begins the transaction (see the implementations).
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send + '_;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    /// `BEGIN IMMEDIATE`: the write lock is taken at the start, waiting up to the busy timeout.
    /// A deferred transaction that reads first and writes later must upgrade its lock, and SQLite
    /// refuses that at once ("database is locked") when another writer got in first.
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send + '_
    {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send + '_
    {
        self.begin()
    }
}

/// How often a SQLite operation that lost a write race is tried before giving up.
pub(crate) const BUSY_ATTEMPTS: u64 = 8;

/// The durable store.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: Db,
    timeout: Duration,
}

/// Makes the SQLite database at `file` private to its owner before SQLite opens it: a missing
/// parent folder is created 0700, a missing database file is created empty with mode 0600 (SQLite
/// gives its `-wal` and `-shm` files the database's mode), and an existing database and side files
/// that others may read are narrowed to 0600 (see [`crate::fsutil::tighten`]).
fn private_sqlite_files(file: &std::path::Path) -> Result<(), StoreError> {
    use crate::fsutil::{PRIVATE_FILE, create_private_dir, create_private_file, tighten};
    let failed = |p: &std::path::Path, e: std::io::Error| {
        StoreError::Other(format!("cannot prepare {}: {e}", p.display()))
    };
    if let Some(parent) = file.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        create_private_dir(parent).map_err(|e| failed(parent, e))?;
    }
    create_private_file(file).map_err(|e| failed(file, e))?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::Path::new(&name);
        tighten(path, PRIVATE_FILE).map_err(|e| failed(path, e))?;
    }
    Ok(())
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating a SQLite file when missing,
    /// and applies migrations.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let db = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Other(format!("bad SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed transaction survives power loss, not only a process crash.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(timeout)
                .foreign_keys(true);
            if url.starts_with("sqlite://") && !url.contains("mode=memory") {
                private_sqlite_files(opts.get_filename())?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(timeout)
                .connect_with(opts)
                .await?;
            Db::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Other(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(timeout)
                .connect_with(opts)
                .await?;
            Db::Postgres(pool)
        } else {
            return Err(StoreError::Other(
                "database.url must start with sqlite:// or postgres://".into(),
            ));
        };
        let store = Self { db, timeout };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let res = match &self.db {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await,
        };
        res.map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("SELECT 1").execute(p).await.map(|_| ()).map_err(StoreError::from)
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    pub(crate) async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Unavailable(format!(
                "no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    /// Deletes expired opaque tokens, revocation records and used assertion ids.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        on_pool!(self, p => async {
            let mut n = 0;
            n += sqlx::query("DELETE FROM opaque_tokens WHERE exp < $1").bind(now).execute(p).await?.rows_affected();
            n += sqlx::query("DELETE FROM revoked_jwts WHERE exp < $1").bind(now).execute(p).await?.rows_affected();
            n += sqlx::query("DELETE FROM used_assertions WHERE exp < $1").bind(now).execute(p).await?.rows_affected();
            Ok(n)
        })
    }
}
