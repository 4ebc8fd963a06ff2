//! A fresh PostgreSQL database per test, on the server named by `TESSERA_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`), and the two stores the store tests
//! run against. No PostgreSQL is a failure, never a skip.

use sqlx::Connection;

pub fn admin_url() -> String {
    std::env::var("TESSERA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Creates an empty database and returns its URL.
pub async fn fresh_database() -> String {
    let admin = admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required for these tests and is not reachable at {admin}: {e}. Start it, or set TESSERA_TEST_POSTGRES_URL.")
    });
    let name = format!(
        "tessera_t_{}",
        tessera_server::crypto::random_id("")
            .unwrap()
            .to_lowercase()
            .replace(['-', '_'], "")
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
    format!("{base}/{name}")
}

/// The host:port of a postgres URL.
pub fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap();
    let after_at = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let hp = after_at.split('/').next().unwrap();
    if hp.contains(':') {
        hp.to_owned()
    } else {
        format!("{hp}:5432")
    }
}

/// A store on a fresh SQLite file (its folder kept alive beside it) and one on a fresh PostgreSQL
/// database, for tests that run every store operation on both backends.
pub async fn backends() -> Vec<(tessera_server::store::Store, Option<tempfile::TempDir>)> {
    use std::time::Duration;
    use tessera_server::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(
        &format!("sqlite://{}", dir.path().join("t.db").display()),
        4,
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let postgres = Store::connect(&fresh_database().await, 4, Duration::from_secs(5))
        .await
        .unwrap();
    vec![(sqlite, Some(dir)), (postgres, None)]
}
