//! `POST /oauth2/device_authorization` (RFC 8628 §3.1, §3.2): a client that may use the device
//! grant gets a device code to poll with and a user code for the person.

use super::user_code;
use crate::compat::ViaAlias;
use crate::model::now;
use crate::net::RemoteAddr;
use crate::oauth::client_auth;
use crate::oauth::error::OAuthError;
use crate::oauth::grants::common::choose_audiences;
use crate::oauth::grants::user_scope::choose_user_scopes;
use crate::state::SharedState;
use crate::store::StoreError;
use crate::store::device::{DeviceRecord, DeviceStatus};
use axum::body::Body;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_proto::GrantType;

/// Prefix of device codes, so leak scanners can find them.
pub const DEVICE_CODE_PREFIX: &str = "tdc_";

/// The device authorization response (RFC 8628 §3.2).
#[derive(Serialize)]
pub struct DeviceAuthorizationResponse {
    /// The code the device polls with.
    pub device_code: String,
    /// The code the person types, shown grouped (`BCDF-GHJK`).
    pub user_code: String,
    /// Where the person goes.
    pub verification_uri: String,
    /// The same, with the user code filled in.
    pub verification_uri_complete: String,
    /// Lifetime of both codes, seconds.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    pub interval: u64,
}

/// `POST /oauth2/device_authorization` (and its aliases, see [`crate::compat::aliases`]).
pub async fn device_authorization(
    State(state): State<SharedState>,
    RemoteAddr(remote): RemoteAddr,
    via: Option<Extension<ViaAlias>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result: Result<DeviceAuthorizationResponse, OAuthError> = async {
        let form = crate::oauth::request::read_params(
            &headers,
            query.as_deref(),
            body,
            state.config.http.max_body_bytes,
            state.config.compat.reads_query_parameters(),
            "device_authorization",
        )
        .await?;
        // A client assertion may name the address the client called (RFC 7523 §3 item 3).
        let path = via
            .as_ref()
            .map_or("/oauth2/device_authorization", |v| &*v.path);
        let endpoint = format!("{}{path}", state.issuer);
        let client = client_auth::authenticate(&state, &headers, &form, remote, &endpoint).await?;
        if !client.client.grant_types.contains(&GrantType::DeviceCode) {
            return Err(OAuthError::unauthorized_client(
                "the client may not use the device authorization grant",
            ));
        }
        let scope = choose_user_scopes(&state, &client, form.get("scope")?)?;
        let aud = choose_audiences(&state, &client, &form)?;
        let t = now();
        let lifetime = state.config.device.code_lifetime_secs;
        let device_code = crate::crypto::random_token(DEVICE_CODE_PREFIX)
            .map_err(|_| OAuthError::server_error("the random source failed"))?;
        let aud_json = serde_json::to_string(&aud)
            .map_err(|_| OAuthError::server_error("could not encode the audience"))?;
        // A user code collides with a live one once in ~10^10 draws; try a few before giving up.
        let mut stored = None;
        for _ in 0..5 {
            let code = user_code::generate()
                .map_err(|_| OAuthError::server_error("the random source failed"))?;
            let record = DeviceRecord {
                user_code: code.clone(),
                client_id: client.client.client_id.clone(),
                scope: scope.to_string(),
                aud: aud_json.clone(),
                created_at: t,
                expires_at: t + lifetime as i64,
                interval_secs: state.config.device.interval_secs as i64,
                last_polled_ms: None,
                status: DeviceStatus::Pending,
                user_id: None,
                auth_time: None,
            };
            match state
                .store
                .insert_device_code(&state.keys.hash(&device_code), &record)
                .await
            {
                Ok(()) => {
                    stored = Some(code);
                    break;
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let code =
            stored.ok_or_else(|| OAuthError::server_error("could not allocate a user code"))?;
        let shown = user_code::display(&code);
        let verification_uri = format!("{}/device", state.issuer);
        tracing::info!(client_id = %client.client.client_id, "device authorization started");
        Ok(DeviceAuthorizationResponse {
            device_code,
            verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
            user_code: shown,
            verification_uri,
            expires_in: lifetime,
            interval: state.config.device.interval_secs,
        })
    }
    .await;
    match result {
        Ok(body) => {
            let mut r = axum::Json(body).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            e.log_failed_authentication("device_authorization", remote);
            e.into_response()
        }
    }
}
