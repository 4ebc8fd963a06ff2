//! Users: `GET/POST /users`, `GET/PATCH/DELETE /users/{user}`, `POST /users/{user}/enable`,
//! `/disable` and `/password`, `GET/DELETE /users/{user}/consents` and
//! `DELETE /users/{user}/consents/{client_id}`. `{user}` is a user id or a username.
//!
//! Reading needs `tessera.users.read`, changing `tessera.users.write`. Passwords are taken, hashed
//! with argon2id and never shown or logged; disabling a user, setting a password or deleting a
//! user ends the user's sessions and revokes their refresh tokens; withdrawing a consent revokes
//! the refresh tokens it allowed.

use crate::admin::audit::{Actor, record};
use crate::admin::error::{ApiError, ErrorBody};
use crate::admin::extract::{ApiJson, ApiPath};
use crate::admin::permission::{AdminScope, Authorized};
use crate::state::{AppState, SharedState};
use crate::users::ops::{self, UserError};
use crate::users::{Consent, NewUser, User, UserPatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// The users operations, merged into the admin API (which adds `Cache-Control: no-store`).
pub fn api() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, delete))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(set_password))
        .routes(routes!(consents, revoke_all_consents))
        .routes(routes!(revoke_consent))
}

/// The answer of `GET /users`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// Every local user.
    pub users: Vec<User>,
}

/// The answer of `GET /users/{user}/consents`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    /// The clients the user has consented to, with the scopes.
    pub consents: Vec<Consent>,
}

/// The answer of withdrawing consents.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentsRevoked {
    /// How many consents were withdrawn.
    pub revoked: u64,
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Invalid(m) => ApiError::invalid(m),
            UserError::NotFound(u) => ApiError::not_found(format!("user {u:?} does not exist")),
            UserError::Exists(u) => ApiError::conflict(format!("user {u:?} already exists")),
            UserError::Store(s) => s.into(),
            UserError::Hash(h) => ApiError::internal(h),
            e @ UserError::LastAdmin(_) => ApiError::conflict(e.to_string()),
        }
    }
}

fn audit_json(u: &User) -> Option<Value> {
    serde_json::to_value(u).ok()
}

/// Records a change to a user as `actor`: `before` and `after` as the API shows users (never a
/// password or its hash).
pub(crate) async fn audited(
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
#[utoipa::path(
    get,
    path = "/users",
    operation_id = "listUsers",
    tag = "users",
    summary = "List the local users",
    security(("bearer" = ["tessera.users.read"])),
    responses(
        (status = 200, description = "success", body = UserList)
    )
)]
pub async fn list(
    _auth: Authorized<UsersRead>,
    State(state): State<SharedState>,
) -> Result<Json<UserList>, ApiError> {
    let users = state.store.list_users().await?;
    Ok(Json(UserList { users }))
}

/// `POST /users`: `{"username", "password"?, "email"?, "email_verified"?, "display_name"?,
/// "enabled"?}`.
#[utoipa::path(
    post,
    path = "/users",
    operation_id = "createUser",
    tag = "users",
    summary = "Create a local user (the password is hashed with argon2id and never shown)",
    security(("bearer" = ["tessera.users.write"])),
    request_body = NewUser,
    responses(
        (status = 201, description = "success", body = User),
        (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn create(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = create_user(&state, &auth.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Creates a user as `actor`, audited as `user.create`: the admin API's `POST /users` and the
/// console's form.
pub async fn create_user(state: &AppState, actor: &Actor, new: NewUser) -> Result<User, UserError> {
    let user = ops::create(state, new).await?;
    audited(state, actor, "user.create", None, Some(&user)).await;
    Ok(user)
}

/// `GET /users/{user}`.
#[utoipa::path(
    get,
    path = "/users/{user}",
    operation_id = "getUser",
    tag = "users",
    summary = "Show a user",
    security(("bearer" = ["tessera.users.read"])),
    params(("user" = String, Path, description = "The user's username or id")),
    responses(
        (status = 200, description = "success", body = User),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn show(
    _auth: Authorized<UsersRead>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(ops::find(&state, &user).await?))
}

/// `PATCH /users/{user}`: `{"email"?, "email_verified"?, "display_name"?, "enabled"?}`.
#[utoipa::path(
    patch,
    path = "/users/{user}",
    operation_id = "updateUser",
    tag = "users",
    summary = "Change a user's email, display name or enabled flag",
    security(("bearer" = ["tessera.users.write"])),
    params(("user" = String, Path, description = "The user's username or id")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "success", body = User),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn update(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        update_user(&state, &auth.actor(), &user, patch).await?,
    ))
}

/// Applies `patch` to `user` (id or username) as `actor`, audited as `user.update`: the admin
/// API's `PATCH /users/{user}` and the console's role form.
pub async fn update_user(
    state: &AppState,
    actor: &Actor,
    user: &str,
    patch: UserPatch,
) -> Result<User, UserError> {
    let before = ops::find(state, user).await?;
    let after = ops::update(state, before.clone(), patch).await?;
    audited(state, actor, "user.update", Some(&before), Some(&after)).await;
    Ok(after)
}

/// Enables or disables `user` as `actor`, audited as `user.enable` or `user.disable`: the admin
/// API's `POST /users/{user}/enable|disable` and the console's buttons.
pub async fn set_enabled(
    state: &AppState,
    actor: &Actor,
    user: &str,
    enabled: bool,
) -> Result<User, UserError> {
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
    Ok(after)
}

/// `POST /users/{user}/enable`.
#[utoipa::path(
    post,
    path = "/users/{user}/enable",
    operation_id = "enableUser",
    tag = "users",
    summary = "Let a user sign in again",
    security(("bearer" = ["tessera.users.write"])),
    params(("user" = String, Path, description = "The user's username or id")),
    responses(
        (status = 200, description = "success", body = User),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn enable(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(set_enabled(&state, &auth.actor(), &user, true).await?))
}

/// `POST /users/{user}/disable`: also ends the user's sessions and revokes their refresh tokens.
#[utoipa::path(
    post,
    path = "/users/{user}/disable",
    operation_id = "disableUser",
    tag = "users",
    summary = "Stop a user signing in; ends their sessions and revokes their refresh tokens",
    security(("bearer" = ["tessera.users.write"])),
    params(("user" = String, Path, description = "The user's username or id")),
    responses(
        (status = 200, description = "success", body = User),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn disable(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        set_enabled(&state, &auth.actor(), &user, false).await?,
    ))
}

/// The body of `POST /users/{user}/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SetPassword)]
pub struct PasswordBody {
    /// The new password; `null` removes it (the user can no longer sign in with one).
    #[schema(value_type = Option<String>, write_only, required = true)]
    pub password: Option<SecretString>,
    /// Whether the user must replace it at their next sign-in (the sign-in page asks for a new
    /// one before letting them in). Default false.
    #[serde(default)]
    pub temporary: bool,
}

/// `POST /users/{user}/password`: also ends the user's sessions and revokes their refresh tokens.
#[utoipa::path(
    post,
    path = "/users/{user}/password",
    operation_id = "setUserPassword",
    tag = "users",
    summary = "Set (or with null remove) a user's password; ends sessions, revokes refresh tokens",
    security(("bearer" = ["tessera.users.write"])),
    params(("user" = String, Path, description = "The user's username or id")),
    request_body = PasswordBody,
    responses(
        (status = 204, description = "done; no body"),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn set_password(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    set_password_of(
        &state,
        &auth.actor(),
        &user,
        body.password.as_ref(),
        body.temporary,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets (or with `None` removes) the password of `user` as `actor`, audited as
/// `user.set_password` (the audit record holds no password): the admin API's
/// `POST /users/{user}/password` and the console's reset form.
pub async fn set_password_of(
    state: &AppState,
    actor: &Actor,
    user: &str,
    password: Option<&SecretString>,
    temporary: bool,
) -> Result<User, UserError> {
    let before = ops::find(state, user).await?;
    let after = ops::set_password(state, before.clone(), password, temporary).await?;
    audited(
        state,
        actor,
        "user.set_password",
        Some(&before),
        Some(&after),
    )
    .await;
    Ok(after)
}

/// `DELETE /users/{user}`.
#[utoipa::path(
    delete,
    path = "/users/{user}",
    operation_id = "deleteUser",
    tag = "users",
    summary = "Delete a user with their sessions, consents and refresh tokens",
    security(("bearer" = ["tessera.users.write"])),
    params(("user" = String, Path, description = "The user's username or id")),
    responses(
        (status = 204, description = "done; no body"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn delete(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    delete_user(&state, &auth.actor(), &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes `user` as `actor`, audited as `user.delete`: the admin API's `DELETE /users/{user}`
/// and the console's button.
pub async fn delete_user(state: &AppState, actor: &Actor, user: &str) -> Result<User, UserError> {
    let before = ops::find(state, user).await?;
    ops::delete(state, &before).await?;
    audited(state, actor, "user.delete", Some(&before), None).await;
    Ok(before)
}

/// `GET /users/{user}/consents`.
#[utoipa::path(
    get,
    path = "/users/{user}/consents",
    operation_id = "listUserConsents",
    tag = "users",
    summary = "The clients a user has consented to, with the scopes",
    security(("bearer" = ["tessera.users.read"])),
    params(("user" = String, Path, description = "The user's username or id")),
    responses(
        (status = 200, description = "success", body = ConsentList),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn consents(
    _auth: Authorized<UsersRead>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<ConsentList>, ApiError> {
    let u = ops::find(&state, &user).await?;
    let consents = state.store.list_consents(&u.id).await?;
    Ok(Json(ConsentList { consents }))
}

/// Withdraws the consents of `user` (to one client, or all) as `actor`, audited as
/// `user.consent_revoke`: the admin API's `DELETE /users/{user}/consents[/{client_id}]` and the
/// console's buttons. Returns how many were withdrawn.
pub async fn revoke_consents(
    state: &AppState,
    actor: &Actor,
    user: &str,
    client_id: Option<&str>,
) -> Result<u64, UserError> {
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
    Ok(n)
}

/// `DELETE /users/{user}/consents`: withdraws every consent of the user.
#[utoipa::path(
    delete,
    path = "/users/{user}/consents",
    operation_id = "revokeUserConsents",
    tag = "users",
    summary = "Withdraw every consent of a user (their refresh tokens for those clients end)",
    security(("bearer" = ["tessera.users.write"])),
    params(("user" = String, Path, description = "The user's username or id")),
    responses(
        (status = 200, description = "success", body = ConsentsRevoked),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn revoke_all_consents(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath(user): ApiPath<String>,
) -> Result<Json<ConsentsRevoked>, ApiError> {
    let revoked = revoke_consents(&state, &auth.actor(), &user, None).await?;
    Ok(Json(ConsentsRevoked { revoked }))
}

/// `DELETE /users/{user}/consents/{client_id}`: withdraws the consent given to one client.
#[utoipa::path(
    delete,
    path = "/users/{user}/consents/{client_id}",
    operation_id = "revokeUserConsent",
    tag = "users",
    summary = "Withdraw a user's consent to one client",
    security(("bearer" = ["tessera.users.write"])),
    params(("user" = String, Path, description = "The user's username or id"), ("client_id" = String, Path, description = "The client id, percent-encoded as one path segment (it may hold any printable character)")),
    responses(
        (status = 200, description = "success", body = ConsentsRevoked),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn revoke_consent(
    auth: Authorized<UsersWrite>,
    State(state): State<SharedState>,
    ApiPath((user, client_id)): ApiPath<(String, String)>,
) -> Result<Json<ConsentsRevoked>, ApiError> {
    let revoked = revoke_consents(&state, &auth.actor(), &user, Some(&client_id)).await?;
    Ok(Json(ConsentsRevoked { revoked }))
}
