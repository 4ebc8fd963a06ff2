//! The console's clients table: one page of clients, searched, filtered, sorted and paged by the
//! database (`LIMIT`/`OFFSET`), with the number of matches and when each last got a token; the
//! clients that hold a scope; and the writing of those last-used times.

use super::BeginWrite as _;
use super::{Db, Store, StoreError, on_pool};
use crate::model::Client;

/// The column a page is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSort {
    /// The name (then the client id).
    Name,
    /// The client id.
    ClientId,
    /// Creation time.
    Created,
    /// Active first (or last), then by name.
    Status,
    /// When it last got a token (never: before any time).
    LastUsed,
}

/// What page of clients to read.
#[derive(Debug, Clone)]
pub struct ClientPageQuery {
    /// Part of the name or client id, any case; empty for all.
    pub search: String,
    /// Only active (`Some(true)`) or inactive (`Some(false)`) clients.
    pub enabled: Option<bool>,
    /// Only clients with this grant type (its wire value).
    pub grant_type: Option<String>,
    /// The sort column.
    pub sort: ClientSort,
    /// Descending instead of ascending.
    pub descending: bool,
    /// How many per page.
    pub limit: i64,
    /// How many matches to skip.
    pub offset: i64,
}

/// A client in the table, with when it last got a token.
#[derive(Debug, Clone)]
pub struct ListedClient {
    /// The registration.
    pub client: Client,
    /// When it last got a token (seconds since the epoch), as last written from the instances'
    /// memory; `None`: never.
    pub last_used_at: Option<i64>,
}

/// One page of clients and the number of all matches.
#[derive(Debug, Clone)]
pub struct ClientPage {
    /// The clients of the page.
    pub clients: Vec<ListedClient>,
    /// How many clients match.
    pub total: i64,
}

/// `text` for `LIKE … ESCAPE '\'`, matching it anywhere, lower-cased.
fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// A page of clients for the console's table.
    pub async fn console_client_page(&self, q: &ClientPageQuery) -> Result<ClientPage, StoreError> {
        let grant_clause = match &self.db {
            Db::Sqlite(_) => {
                "EXISTS (SELECT 1 FROM json_each(data, '$.grant_types') WHERE value = $4)"
            }
            Db::Postgres(_) => "(data::jsonb -> 'grant_types') @> jsonb_build_array($4::text)",
        };
        let filter = format!(
            "WHERE ($1 = '' OR lower(client_id) LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\') \
             AND ($3 = 'all' OR enabled = ($3 = 'active')) \
             AND ($4 = '' OR {grant_clause})"
        );
        let dir = if q.descending { "DESC" } else { "ASC" };
        let order = match q.sort {
            ClientSort::Name => format!("lower(name) {dir}, client_id {dir}"),
            ClientSort::ClientId => format!("client_id {dir}"),
            ClientSort::Created => format!("created_at {dir}, client_id {dir}"),
            // Ascending: active first.
            ClientSort::Status => {
                let flip = if q.descending { "ASC" } else { "DESC" };
                format!("enabled {flip}, lower(name) ASC, client_id ASC")
            }
            ClientSort::LastUsed => format!("COALESCE(last_used_at, -1) {dir}, client_id {dir}"),
        };
        let page_sql = format!(
            "SELECT data, last_used_at FROM clients {filter} ORDER BY {order} LIMIT $5 OFFSET $6"
        );
        let count_sql = format!("SELECT COUNT(*) FROM clients {filter}");
        let search = q.search.trim().to_owned();
        let pattern = like_pattern(&search);
        let status = match q.enabled {
            None => "all",
            Some(true) => "active",
            Some(false) => "inactive",
        };
        let grant = q.grant_type.clone().unwrap_or_default();
        on_pool!(self, p => async {
            // The statements are made only of the fixed pieces above; every value is bound.
            let rows: Vec<(String, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(page_sql.clone()))
                .bind(&search).bind(&pattern).bind(status).bind(&grant).bind(q.limit).bind(q.offset)
                .fetch_all(p).await?;
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone()))
                .bind(&search).bind(&pattern).bind(status).bind(&grant)
                .fetch_one(p).await?;
            let mut clients = Vec::with_capacity(rows.len());
            for (data, last_used_at) in rows {
                clients.push(ListedClient {
                    client: serde_json::from_str::<Client>(&data)?,
                    last_used_at,
                });
            }
            Ok(ClientPage { clients, total })
        })
    }
}

impl Store {
    /// Writes when clients last got a token, `(client id, seconds since the epoch)`, in one
    /// transaction; a time older than the one stored is left out (another instance wrote a later
    /// one), as is a client that no longer exists. Answers how many rows moved forward.
    pub async fn record_clients_last_used(
        &self,
        used: &[(String, i64)],
    ) -> Result<u64, StoreError> {
        if used.is_empty() {
            return Ok(0);
        }
        on_pool!(self, p => async {
            let mut tx = p.begin_write().await?;
            let mut moved = 0;
            for (client_id, at) in used {
                moved += sqlx::query("UPDATE clients SET last_used_at = $2 WHERE client_id = $1 AND (last_used_at IS NULL OR last_used_at < $2)")
                    .bind(client_id).bind(*at).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(moved)
        })
    }

    /// When the client `client_id` last got a token, as written (`None`: never).
    pub async fn client_last_used(&self, client_id: &str) -> Result<Option<i64>, StoreError> {
        on_pool!(self, p => async {
            let at: Option<i64> = sqlx::query_scalar("SELECT last_used_at FROM clients WHERE client_id = $1")
                .bind(client_id).fetch_one(p).await?;
            Ok(at)
        })
    }
}

/// A client that holds a scope, as the scope's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScopeHolder {
    /// The client id.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// Whether it is active.
    pub enabled: bool,
}

impl Store {
    /// The clients whose allowed scopes include `scope`, by client id, at most `limit`; and how
    /// many there are in all.
    pub async fn console_scope_holders(
        &self,
        scope: &str,
        limit: i64,
    ) -> Result<(Vec<ScopeHolder>, i64), StoreError> {
        let holds = match &self.db {
            Db::Sqlite(_) => {
                "EXISTS (SELECT 1 FROM json_each(data, '$.allowed_scopes') WHERE value = $1)"
            }
            Db::Postgres(_) => "(data::jsonb -> 'allowed_scopes') @> jsonb_build_array($1::text)",
        };
        let rows_sql = format!(
            "SELECT client_id, name, enabled FROM clients WHERE {holds} ORDER BY client_id LIMIT $2"
        );
        let count_sql = format!("SELECT COUNT(*) FROM clients WHERE {holds}");
        on_pool!(self, p => async {
            // Made only of the fixed pieces above; the values are bound.
            let rows: Vec<ScopeHolder> = sqlx::query_as(sqlx::AssertSqlSafe(rows_sql.clone()))
                .bind(scope).bind(limit).fetch_all(p).await?;
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone()))
                .bind(scope).fetch_one(p).await?;
            Ok((rows, total))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Bill"), "%bill%");
        assert_eq!(like_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
