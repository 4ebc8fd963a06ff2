//! Users: `GET/POST /users`, `GET/PATCH/DELETE /users/{user}`, `POST /users/{user}/enable`,
//! `/disable` and `/password`, `GET/DELETE /users/{user}/consents` and
//! `DELETE /users/{user}/consents/{client_id}`. `{user}` is a user id or a username.
//!
//! Reading needs `tessera.users.read`, changing `tessera.users.write`. Passwords are taken, hashed
//! with argon2id and never shown or logged; disabling a user, setting a password or deleting a
//! user ends the user's sessions and revokes their refresh tokens; withdrawing a consent revokes
//! the refresh tokens it allowed.

use crate::admin::audit::{Actor, record};
use crate::admin::error::ApiError;
use crate::admin::extract::{ApiJson, ApiPath};
use crate::admin::permission::{AdminScope, Authorized};
use crate::state::{AppState, SharedState};
use crate::users::ops::{self, UserError};
use crate::users::{NewUser, User, UserPatch};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

/// `tessera.users.read`: list users, read one, read consents.
#[derive(Debug, Clone, Copy)]
pub struct UsersRead;
impl AdminScope for UsersRead {
    const NAME: &'static str = "tessera.users.read";
}

/// `tessera.users.write`: create, change, enable, disable and delete users; set passwords;
/// withdraw consents.
#[derive(Debug, Clone, Copy)]
pub struct UsersWrite;
impl AdminScope for UsersWrite {
    const NAME: &'static str = "tessera.users.write";
}

/// The users routes, merged into the admin API router (which adds `Cache-Control: no-store`).
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{user}", get(show).patch(update).delete(delete))
        .route("/users/{user}/enable", post(enable))
        .route("/users/{user}/disable", post(disable))
        .route("/users/{user}/password", post(set_password))
        .route(
            "/users/{user}/consents",
            get(consents).delete(revoke_all_consents),
        )
        .route(
            "/users/{user}/consents/{client_id}",
            axum::routing::delete(revoke_consent),
        )
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Invalid(m) => ApiError::invalid(m),
            UserError::NotFound(u) => ApiError::not_found(format!("user {u:?} does not exist")),
            UserError::Exists(u) => ApiError::conflict(format!("user {u:?} already exists")),
            UserError::Store(s) => s.into(),
            UserError::Hash(h) => ApiError::internal(h),
        }
    }
}

fn audit_json(u: &User) -> Option<Value> {
    serde_json::to_value(u).ok()
}

async fn audited(
    state: &AppState,
    actor: &Actor,
    action: &str,
    before: Option<&User>,
    after: Option<&User>,
) {
    let target = after.or(before).map(|u| u.id.clone()).unwrap_or_default();
    record(
        state,
        actor,
        action,
        &target,
        before.and_then(audit_json),
        after.and_then(audit_json),
    )
    .await;
}

/// `GET /users`.
pub async fn list(
    _auth: Authorized<UsersRead>,
    State(state): State<SharedState>,
) -> Result<Json<Value>, ApiError> {
    let users = state.store.list_users().await?;
    Ok(Json(json!({ "users": users })))
}

/// `POST /users`: `{"username", "password"?, "email"?, "email_verified"?, "display_name"?,
/// "enabled"?}`.
pub async fn create(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = ops::create(&state, new).await?;
    audited(&state, &auth.actor(), "user.create", None, Some(&user)).await;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `GET /users/{user}`.
pub async fn show(
    _auth: Authorized<UsersRead>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(ops::find(&state, &user).await?))
}

/// `PATCH /users/{user}`: `{"email"?, "email_verified"?, "display_name"?, "enabled"?}`.
pub async fn update(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<User>, ApiError> {
    let before = ops::find(&state, &user).await?;
    let after = ops::update(&state, before.clone(), patch).await?;
    audited(
        &state,
        &auth.actor(),
        "user.update",
        Some(&before),
        Some(&after),
    )
    .await;
    Ok(Json(after))
}

async fn set_enabled(
    state: &AppState,
    actor: &Actor,
    user: &str,
    enabled: bool,
) -> Result<Json<User>, ApiError> {
    let before = ops::find(state, user).await?;
    let patch = UserPatch {
        enabled: Some(enabled),
        ..UserPatch::default()
    };
    let after = ops::update(state, before.clone(), patch).await?;
    let action = if enabled {
        "user.enable"
    } else {
        "user.disable"
    };
    audited(state, actor, action, Some(&before), Some(&after)).await;
    Ok(Json(after))
}

/// `POST /users/{user}/enable`.
pub async fn enable(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    set_enabled(&state, &auth.actor(), &user, true).await
}

/// `POST /users/{user}/disable`: also ends the user's sessions and revokes their refresh tokens.
pub async fn disable(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    set_enabled(&state, &auth.actor(), &user, false).await
}

/// The body of `POST /users/{user}/password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The new password; `null` removes it (the user can no longer sign in with one).
    pub password: Option<SecretString>,
}

/// `POST /users/{user}/password`: also ends the user's sessions and revokes their refresh tokens.
pub async fn set_password(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let before = ops::find(&state, &user).await?;
    let after = ops::set_password(&state, before.clone(), body.password.as_ref()).await?;
    audited(
        &state,
        &auth.actor(),
        "user.set_password",
        Some(&before),
        Some(&after),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/{user}`.
pub async fn delete(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let before = ops::find(&state, &user).await?;
    ops::delete(&state, &before).await?;
    audited(&state, &auth.actor(), "user.delete", Some(&before), None).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/{user}/consents`.
pub async fn consents(
    _auth: Authorized<UsersRead>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let u = ops::find(&state, &user).await?;
    let list = state.store.list_consents(&u.id).await?;
    Ok(Json(json!({ "consents": list })))
}

async fn revoke(
    state: &AppState,
    actor: &Actor,
    user: &str,
    client_id: Option<&str>,
) -> Result<Response, ApiError> {
    let u = ops::find(state, user).await?;
    let n = ops::revoke_consents(state, &u, client_id).await?;
    record(
        state,
        actor,
        "user.consent_revoke",
        &u.id,
        None,
        Some(json!({ "client_id": client_id, "revoked": n })),
    )
    .await;
    Ok(Json(json!({ "revoked": n })).into_response())
}

/// `DELETE /users/{user}/consents`: withdraws every consent of the user.
pub async fn revoke_all_consents(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Response, ApiError> {
    revoke(&state, &auth.actor(), &user, None).await
}

/// `DELETE /users/{user}/consents/{client_id}`: withdraws the consent given to one client.
pub async fn revoke_consent(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath((user, client_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    revoke(&state, &auth.actor(), &user, Some(&client_id)).await
}
