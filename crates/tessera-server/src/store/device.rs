//! Device authorization requests (RFC 8628 §3.2): the device code, stored as a keyed hash, and
//! the user code people type, with the state of the approval and the polling pace.

use super::{Store, StoreError, on_pool};

/// Where a device authorization request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user approved; tokens not yet fetched.
    Approved,
    /// The user denied.
    Denied,
    /// Tokens were issued: the device code is spent.
    Used,
}

impl DeviceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Used => "used",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "used" => Self::Used,
            other => return Err(StoreError::Corrupt(format!("device code status {other:?}"))),
        })
    }
}

/// A device authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The user code, normalised (8 letters, no dash).
    pub user_code: String,
    /// The client.
    pub client_id: String,
    /// The requested scopes, space-delimited.
    pub scope: String,
    /// Audiences of the access token, as a JSON array.
    pub aud: String,
    /// Issue time.
    pub created_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// The polling interval in force, seconds.
    pub interval_secs: i64,
    /// When the device last polled, milliseconds since the epoch.
    pub last_polled_ms: Option<i64>,
    /// Where it stands.
    pub status: DeviceStatus,
    /// The user who decided.
    pub user_id: Option<String>,
    /// When that user authenticated.
    pub auth_time: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    user_code: String,
    client_id: String,
    scope: String,
    aud: String,
    created_at: i64,
    expires_at: i64,
    interval_secs: i64,
    last_polled_ms: Option<i64>,
    status: String,
    user_id: Option<String>,
    auth_time: Option<i64>,
}

impl TryFrom<DeviceRow> for DeviceRecord {
    type Error = StoreError;
    fn try_from(r: DeviceRow) -> Result<Self, StoreError> {
        Ok(Self {
            user_code: r.user_code,
            client_id: r.client_id,
            scope: r.scope,
            aud: r.aud,
            created_at: r.created_at,
            expires_at: r.expires_at,
            interval_secs: r.interval_secs,
            last_polled_ms: r.last_polled_ms,
            status: DeviceStatus::parse(&r.status)?,
            user_id: r.user_id,
            auth_time: r.auth_time,
        })
    }
}

macro_rules! select_devices {
    ($rest:literal) => {
        concat!(
            "SELECT user_code, client_id, scope, aud, created_at, expires_at, interval_secs, last_polled_ms, status, user_id, auth_time FROM device_codes ",
            $rest
        )
    };
}

impl Store {
    /// Stores a new request; [`StoreError::Conflict`] when the user code is taken (draw another).
    pub async fn insert_device_code(
        &self,
        hash: &[u8],
        d: &DeviceRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("INSERT INTO device_codes (hash, user_code, client_id, scope, aud, created_at, expires_at, interval_secs, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(hash).bind(&d.user_code).bind(&d.client_id).bind(&d.scope).bind(&d.aud).bind(d.created_at).bind(d.expires_at)
                .bind(d.interval_secs).bind(d.status.as_str())
                .execute(p).await?;
            Ok(())
        })
    }

    /// The request of a device code.
    pub async fn get_device_code(&self, hash: &[u8]) -> Result<Option<DeviceRecord>, StoreError> {
        on_pool!(self, p => async {
            let row: Option<DeviceRow> = sqlx::query_as(select_devices!("WHERE hash = $1")).bind(hash).fetch_optional(p).await?;
            row.map(DeviceRecord::try_from).transpose()
        })
    }

    /// The pending, unexpired request with this (normalised) user code.
    pub async fn pending_device_by_user_code(
        &self,
        user_code: &str,
        now: i64,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        on_pool!(self, p => async {
            let row: Option<DeviceRow> = sqlx::query_as(select_devices!("WHERE user_code = $1 AND status = 'pending' AND expires_at > $2"))
                .bind(user_code).bind(now).fetch_optional(p).await?;
            row.map(DeviceRecord::try_from).transpose()
        })
    }

    /// Records a poll and the interval from now on.
    pub async fn record_device_poll(
        &self,
        hash: &[u8],
        now_ms: i64,
        interval_secs: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => async {
            sqlx::query("UPDATE device_codes SET last_polled_ms = $2, interval_secs = $3 WHERE hash = $1")
                .bind(hash).bind(now_ms).bind(interval_secs).execute(p).await?;
            Ok(())
        })
    }

    /// Records the user's decision on a pending, unexpired request; `false` when there was none.
    pub async fn decide_device_code(
        &self,
        user_code: &str,
        user_id: &str,
        auth_time: i64,
        approved: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let status = if approved {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        on_pool!(self, p => async {
            let n = sqlx::query("UPDATE device_codes SET status = $2, user_id = $3, auth_time = $4 WHERE user_code = $1 AND status = 'pending' AND expires_at > $5")
                .bind(user_code).bind(status.as_str()).bind(user_id).bind(auth_time).bind(now)
                .execute(p).await?.rows_affected();
            Ok(n == 1)
        })
    }

    /// Spends an approved device code; `false` when it was not (or no longer) approved.
    pub async fn consume_device_code(&self, hash: &[u8]) -> Result<bool, StoreError> {
        on_pool!(self, p => async {
            let n = sqlx::query("UPDATE device_codes SET status = 'used' WHERE hash = $1 AND status = 'approved'")
                .bind(hash).execute(p).await?.rows_affected();
            Ok(n == 1)
        })
    }
}
