//! Scopes: `GET/POST /scopes`, `GET/PATCH/DELETE /scopes/{name}`. A scope is named
//! `service.object.right` and lists the API permissions it grants; the drill-down also shows
//! which clients may use it.

use super::audit::{Actor, record};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use super::permission::{Authorized, ScopesRead, ScopesWrite};
use super::validate;
use crate::bootstrap::ADMIN_SCOPES;
use crate::model::{Scope, now};
use crate::state::{AppState, SharedState};
use crate::store::StoreError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The body of `POST /scopes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScope {
    /// `service.object.right`, or an OpenID Connect scope.
    pub name: String,
    /// What the scope allows, for people.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: String,
    /// The API permissions behind it, such as `GET /api/invoices`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// The body of `PATCH /scopes/{name}`: the fields to change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopePatch {
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New permissions (the whole list).
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
}

/// The answer of `GET /scopes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeList {
    /// Every scope.
    pub scopes: Vec<Scope>,
}

/// The answer of `GET /scopes/{name}`: the scope and the clients that may use it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeDetail {
    /// The scope.
    #[serde(flatten)]
    pub scope: Scope,
    /// The clients whose `allowed_scopes` hold it.
    pub clients: Vec<ScopeClient>,
}

/// A client that may use a scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeClient {
    /// The client id.
    pub client_id: String,
    /// The client's name.
    pub name: String,
    /// Whether the client may authenticate.
    pub enabled: bool,
    /// Whether the scope is among the client's default scopes.
    pub default: bool,
}

fn named(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("scope {name:?}")
}

fn audit_json(s: &Scope) -> Option<Value> {
    serde_json::to_value(s).ok()
}

async fn refresh(state: &AppState) {
    if let Err(e) = state.registry.reload_scopes(&state.store).await {
        tracing::error!(error = %e, "could not refresh the scope cache; the periodic reload will");
    }
}

/// Creates a scope: validated, stored, cached, audited.
pub(crate) async fn create_scope(
    state: &AppState,
    actor: &Actor,
    new: NewScope,
) -> Result<Scope, ApiError> {
    validate::new_scope_name(&new.name, state.config.scopes.naming)?;
    let mut permissions = new.permissions;
    validate::scope_fields(&new.description, &mut permissions)?;
    let t = now();
    let scope = Scope {
        name: new.name,
        description: new.description,
        permissions,
        created_at: t,
        updated_at: t,
    };
    state
        .store
        .insert_scope(&scope)
        .await
        .map_err(|e| ApiError::from_store(e, named(&scope.name)))?;
    refresh(state).await;
    record(
        state,
        actor,
        "scope.create",
        &scope.name,
        None,
        audit_json(&scope),
    )
    .await;
    Ok(scope)
}

/// Checks `new` as [`create_scope`] would, and that no scope of its name is registered yet;
/// stores nothing.
pub(crate) async fn check_new_scope(state: &AppState, new: &NewScope) -> Result<(), ApiError> {
    validate::new_scope_name(&new.name, state.config.scopes.naming)?;
    validate::scope_fields(&new.description, &mut new.permissions.clone())?;
    match state.store.get_scope(&new.name).await {
        Ok(_) => Err(ApiError::from_store(StoreError::Conflict, named(&new.name))),
        Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Applies `patch` to the scope `name`; unchanged scopes are neither written nor audited.
pub(crate) async fn update_scope(
    state: &AppState,
    actor: &Actor,
    name: &str,
    patch: ScopePatch,
) -> Result<Scope, ApiError> {
    let before = state
        .store
        .get_scope(name)
        .await
        .map_err(|e| ApiError::from_store(e, named(name)))?;
    let mut after = before.clone();
    if let Some(d) = patch.description {
        after.description = d;
    }
    if let Some(p) = patch.permissions {
        after.permissions = p;
    }
    validate::scope_fields(&after.description, &mut after.permissions)?;
    if after.description == before.description && after.permissions == before.permissions {
        return Ok(before);
    }
    after.updated_at = now();
    state
        .store
        .update_scope(&after)
        .await
        .map_err(|e| ApiError::from_store(e, named(name)))?;
    refresh(state).await;
    record(
        state,
        actor,
        "scope.update",
        name,
        audit_json(&before),
        audit_json(&after),
    )
    .await;
    Ok(after)
}

/// `GET /scopes`: every scope.
#[utoipa::path(
    get,
    path = "/scopes",
    operation_id = "listScopes",
    tag = "scopes",
    summary = "List scopes",
    security(("bearer" = ["tessera.scopes.read"])),
    responses(
        (status = 200, description = "success", body = ScopeList)
    )
)]
pub async fn list(
    _auth: Authorized<ScopesRead>,
    State(state): State<SharedState>,
) -> Result<Json<ScopeList>, ApiError> {
    let scopes = state.store.list_scopes().await?;
    Ok(Json(ScopeList { scopes }))
}

/// `POST /scopes`: registers a scope; 201.
#[utoipa::path(
    post,
    path = "/scopes",
    operation_id = "createScope",
    tag = "scopes",
    summary = "Register a scope (service.object.right)",
    security(("bearer" = ["tessera.scopes.write"])),
    request_body = NewScope,
    responses(
        (status = 201, description = "success", body = Scope),
        (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn create(
    auth: Authorized<ScopesWrite>,
    State(state): State<SharedState>,
    ApiJson(new): ApiJson<NewScope>,
) -> Result<(StatusCode, Json<Scope>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_scope(&state, &auth.actor(), new).await?),
    ))
}

/// `GET /scopes/{name}`: the scope, its permissions and the clients that may use it
/// (`default` says whether they get it without asking).
#[utoipa::path(
    get,
    path = "/scopes/{name}",
    operation_id = "getScope",
    tag = "scopes",
    summary = "Show a scope, its permissions and the clients that may use it",
    security(("bearer" = ["tessera.scopes.read"])),
    params(("name" = String, Path, description = "The scope name")),
    responses(
        (status = 200, description = "success", body = ScopeDetail),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn show(
    _auth: Authorized<ScopesRead>,
    State(state): State<SharedState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ScopeDetail>, ApiError> {
    let scope = state
        .store
        .get_scope(&name)
        .await
        .map_err(|e| ApiError::from_store(e, named(&name)))?;
    let clients = state
        .store
        .list_clients()
        .await?
        .into_iter()
        .filter(|c| c.allowed_scopes.contains(&name))
        .map(|c| ScopeClient {
            default: c.default_scopes.contains(&name),
            client_id: c.client_id,
            name: c.name,
            enabled: c.enabled,
        })
        .collect();
    Ok(Json(ScopeDetail { scope, clients }))
}

/// `PATCH /scopes/{name}`: changes the description or the permissions.
#[utoipa::path(
    patch,
    path = "/scopes/{name}",
    operation_id = "updateScope",
    tag = "scopes",
    summary = "Change a scope's description or permissions",
    security(("bearer" = ["tessera.scopes.write"])),
    params(("name" = String, Path, description = "The scope name")),
    request_body = ScopePatch,
    responses(
        (status = 200, description = "success", body = Scope),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn update(
    auth: Authorized<ScopesWrite>,
    State(state): State<SharedState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<ScopePatch>,
) -> Result<Json<Scope>, ApiError> {
    Ok(Json(
        update_scope(&state, &auth.actor(), &name, patch).await?,
    ))
}

/// `DELETE /scopes/{name}`: 204; 409 naming the clients while any may still use the scope, and
/// for Tessera's own admin scopes.
#[utoipa::path(
    delete,
    path = "/scopes/{name}",
    operation_id = "deleteScope",
    tag = "scopes",
    summary = "Delete a scope no client may use",
    security(("bearer" = ["tessera.scopes.write"])),
    params(("name" = String, Path, description = "The scope name")),
    responses(
        (status = 204, description = "done; no body"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn delete(
    auth: Authorized<ScopesWrite>,
    State(state): State<SharedState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if ADMIN_SCOPES.iter().any(|(n, _, _)| *n == name) {
        return Err(ApiError::conflict(format!(
            "{name} is one of Tessera's own admin scopes and cannot be deleted"
        )));
    }
    let before = state
        .store
        .get_scope(&name)
        .await
        .map_err(|e| ApiError::from_store(e, named(&name)))?;
    let users: Vec<String> = state
        .store
        .list_clients()
        .await?
        .into_iter()
        .filter(|c| c.allowed_scopes.contains(&name))
        .map(|c| c.client_id)
        .collect();
    if !users.is_empty() {
        return Err(ApiError::conflict(format!(
            "scope {name} is still allowed to {} client(s): {}; remove it from them first",
            users.len(),
            users
                .iter()
                .map(|u| format!("{u:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    state
        .store
        .delete_scope(&name)
        .await
        .map_err(|e| ApiError::from_store(e, named(&name)))?;
    refresh(&state).await;
    record(
        &state,
        &auth.actor(),
        "scope.delete",
        &name,
        audit_json(&before),
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
