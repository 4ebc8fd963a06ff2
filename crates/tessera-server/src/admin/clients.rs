//! Clients: `GET/POST /clients`, `GET/PATCH/DELETE /clients/{client_id}`,
//! `POST /clients/{client_id}/enable` and `/disable`.
//!
//! A client's secret is generated here (256 random bits behind the `tsec_` prefix), returned in
//! the creation response only, and never readable again; `POST /clients/{id}/secret`
//! ([`super::secrets`]) replaces it.

use super::audit::{Actor, record};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use super::permission::{Authorized, ClientsRead, ClientsWrite};
use super::validate::{self, Limits};
use crate::client_secret;
use crate::crypto::random_id;
use crate::model::{Client, StoredSecret, now};
use crate::state::{AppState, SharedState};
use crate::store::SecretChange;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use tessera_jose::{Algorithm, JwkSet};
use tessera_proto::{ClientAuthMethod, GrantType, TokenFormat};
use utoipa::ToSchema;

/// The prefix of generated client ids.
pub const CLIENT_ID_PREFIX: &str = "tsc_";

fn default_grant_types() -> Vec<GrantType> {
    vec![GrantType::ClientCredentials]
}

/// The body of `POST /clients`: a registration (RFC 7591 §2 names). Only `name` is required.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// Any printable characters; generated (`tsc_` and 22 characters) when absent.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 255)]
    pub client_id: Option<String>,
    /// A name for people.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// A longer description.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// Whether the client may authenticate; default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Grant types; default `["client_credentials"]`.
    #[serde(default = "default_grant_types")]
    #[schema(min_items = 1)]
    pub grant_types: Vec<GrantType>,
    /// Redirection endpoints (authorization code).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Scopes the client may be granted; each must be registered.
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    /// Scopes granted when a request names none; a subset of `allowed_scopes`.
    #[serde(default)]
    pub default_scopes: Vec<String>,
    /// Authentication method; default `client_secret_basic`.
    #[serde(default)]
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// The algorithm client assertions must use.
    #[serde(default)]
    #[schema(schema_with = crate::admin::openapi::fields::assertion_alg)]
    pub token_endpoint_auth_signing_alg: Option<Algorithm>,
    /// Public keys for `private_key_jwt`.
    #[serde(default)]
    #[schema(schema_with = crate::admin::openapi::fields::jwks)]
    pub jwks: Option<JwkSet>,
    /// Where the public keys for `private_key_jwt` are published: https (http only on loopback).
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// `jwt` or `opaque`; the server default when absent.
    #[serde(default)]
    pub access_token_format: Option<TokenFormat>,
    /// Access token lifetime in seconds, at most `tokens.max_lifetime_secs`; the server default
    /// when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub access_token_lifetime: Option<u64>,
    /// `ES256`, `RS256` or `EdDSA`; the server default when absent.
    #[serde(default)]
    #[schema(schema_with = crate::admin::openapi::fields::token_alg)]
    pub access_token_signing_alg: Option<Algorithm>,
    /// Audiences the client may ask for; the first is the default.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Static claims added to every access token; registered claim names are refused.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra_claims: Map<String, Value>,
}

impl NewClient {
    /// The registration this describes, under `client_id`, created at `t`.
    pub fn into_client(self, client_id: String, t: i64) -> Client {
        Client {
            client_id,
            name: self.name,
            description: self.description,
            enabled: self.enabled.unwrap_or(true),
            grant_types: self.grant_types,
            redirect_uris: self.redirect_uris,
            allowed_scopes: self.allowed_scopes,
            default_scopes: self.default_scopes,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            token_endpoint_auth_signing_alg: self.token_endpoint_auth_signing_alg,
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            access_token_format: self.access_token_format,
            access_token_lifetime: self.access_token_lifetime,
            access_token_signing_alg: self.access_token_signing_alg,
            audiences: self.audiences,
            extra_claims: self.extra_claims,
            created_at: t,
            updated_at: t,
        }
    }
}

/// Reads a field that may be absent (leave as is), `null` (clear) or a value (set).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The body of `PATCH /clients/{client_id}`: the fields to change. Lists replace the whole list;
/// optional settings take `null` to return to the server default.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// Enable or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// New grant types.
    #[serde(default)]
    pub grant_types: Option<Vec<GrantType>>,
    /// New redirect URIs.
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    /// New allowed scopes.
    #[serde(default)]
    pub allowed_scopes: Option<Vec<String>>,
    /// New default scopes.
    #[serde(default)]
    pub default_scopes: Option<Vec<String>>,
    /// New authentication method. A change that needs a secret the client does not hold in the
    /// right form (to `client_secret_jwt`, or from `private_key_jwt` to a secret method) issues a
    /// new secret, returned once in the response.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    /// New assertion algorithm, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = crate::admin::openapi::fields::assertion_alg_or_null)]
    pub token_endpoint_auth_signing_alg: Option<Option<Algorithm>>,
    /// New JWKS, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = crate::admin::openapi::fields::jwks_or_null)]
    pub jwks: Option<Option<JwkSet>>,
    /// New JWKS URI, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub jwks_uri: Option<Option<String>>,
    /// New token format, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<TokenFormat>)]
    pub access_token_format: Option<Option<TokenFormat>>,
    /// New token lifetime, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u64>, minimum = 1)]
    pub access_token_lifetime: Option<Option<u64>>,
    /// New token signing algorithm, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = crate::admin::openapi::fields::token_alg_or_null)]
    pub access_token_signing_alg: Option<Option<Algorithm>>,
    /// New audiences.
    #[serde(default)]
    pub audiences: Option<Vec<String>>,
    /// New extra claims (the whole object).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub extra_claims: Option<Map<String, Value>>,
}

impl ClientPatch {
    /// `c` with the changes applied (not yet validated).
    pub fn apply(self, mut c: Client) -> Client {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { c.$f = v; } )* };
        }
        let alg_given = self.token_endpoint_auth_signing_alg.is_some();
        set!(
            name,
            description,
            enabled,
            grant_types,
            redirect_uris,
            allowed_scopes,
            default_scopes,
            token_endpoint_auth_method,
            token_endpoint_auth_signing_alg,
            jwks,
            jwks_uri,
            access_token_format,
            access_token_lifetime,
            access_token_signing_alg,
            audiences,
            extra_claims
        );
        // A new method makes an assertion algorithm registered for the old one meaningless;
        // drop it unless the patch set one.
        if !alg_given {
            let fits = match (
                c.token_endpoint_auth_method,
                c.token_endpoint_auth_signing_alg,
            ) {
                (_, None) => true,
                (ClientAuthMethod::ClientSecretJwt, Some(a)) => a.is_hmac(),
                (ClientAuthMethod::PrivateKeyJwt, Some(a)) => !a.is_hmac(),
                _ => false,
            };
            if !fits {
                c.token_endpoint_auth_signing_alg = None;
            }
        }
        c
    }
}

/// A client as the API shows it, with its secret when one was just issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientWithSecret {
    /// The registration.
    #[serde(flatten)]
    pub client: Client,
    /// Present only when a secret was just issued: shown this once, never readable again.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose")]
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<SecretString>,
}

/// The answer of `GET /clients`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    /// Every client.
    pub clients: Vec<Client>,
}

/// The answer of `GET /clients/{client_id}`: the registration and its secrets' validity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientDetail {
    /// The registration.
    #[serde(flatten)]
    pub client: Client,
    /// The client's secrets that still work (never the secrets themselves).
    pub secrets: Vec<SecretValidity>,
}

/// When a client secret was issued and until when it works.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretValidity {
    /// Issue time, seconds since the epoch.
    pub created_at: i64,
    /// End of its grace period after a rotation; `null` while it is the current secret.
    pub expires_at: Option<i64>,
}

fn expose<S: serde::Serializer>(s: &Option<SecretString>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_str(s.expose_secret()),
        None => ser.serialize_none(),
    }
}

/// The registration as audit JSON: the client has no secret in it.
pub(crate) fn audit_json(c: &Client) -> Option<Value> {
    serde_json::to_value(c).ok()
}

/// The names of the registered scopes, read from the store (not the cache, which another
/// instance may not have refreshed yet).
pub(crate) async fn registered_scopes(state: &AppState) -> Result<BTreeSet<String>, ApiError> {
    Ok(state
        .store
        .list_scopes()
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect())
}

/// Validates `c` against the server's scopes and limits.
pub(crate) async fn check(state: &AppState, c: &mut Client) -> Result<(), ApiError> {
    let registered = registered_scopes(state).await?;
    validate::client(
        c,
        Limits {
            registered_scopes: &registered,
            max_lifetime_secs: state.config.tokens.max_lifetime_secs,
        },
    )
}

/// Refreshes the in-memory entry after a write, so the change takes effect at once.
pub(crate) async fn refresh(state: &AppState, client_id: &str) {
    if let Err(e) = state
        .registry
        .reload_client(&state.store, &state.keys, client_id)
        .await
    {
        tracing::error!(error = %e, client_id, "could not refresh the client cache; the periodic reload will");
    }
}

fn not_found(id: &str) -> impl FnOnce() -> String + '_ {
    move || format!("client {id:?}")
}

/// A new secret for `client_id` and the row storing it.
pub(crate) fn new_secret(
    state: &AppState,
    client_id: &str,
    method: ClientAuthMethod,
) -> Result<(SecretString, StoredSecret), ApiError> {
    client_secret::generate(&state.keys, client_id, method).map_err(ApiError::internal)
}

/// Creates a client: validated, stored with its first secret, cached, audited.
pub(crate) async fn create_client(
    state: &AppState,
    actor: &Actor,
    new: NewClient,
    secret: Option<SecretString>,
) -> Result<ClientWithSecret, ApiError> {
    let id = match &new.client_id {
        Some(id) => id.clone(),
        None => random_id(CLIENT_ID_PREFIX).map_err(ApiError::internal)?,
    };
    let mut c = new.into_client(id, now());
    check(state, &mut c).await?;
    let method = c.token_endpoint_auth_method;
    let (shown, row) = if method.uses_secret() {
        match secret {
            // A secret given from outside (setup file): stored, not shown back.
            Some(given) => {
                let row =
                    client_secret::stored(&state.keys, &c.client_id, method, given.expose_secret())
                        .map_err(ApiError::internal)?;
                (None, Some(row))
            }
            None => {
                let (s, row) = new_secret(state, &c.client_id, method)?;
                (Some(s), Some(row))
            }
        }
    } else {
        (None, None)
    };
    state
        .store
        .insert_client(&c, row.as_ref())
        .await
        .map_err(|e| ApiError::from_store(e, not_found(&c.client_id)))?;
    refresh(state, &c.client_id).await;
    record(
        state,
        actor,
        "client.create",
        &c.client_id,
        None,
        audit_json(&c),
    )
    .await;
    Ok(ClientWithSecret {
        client: c,
        client_secret: shown,
    })
}

/// How a change of authentication method affects the stored secrets.
pub(crate) fn secret_change_for(old: ClientAuthMethod, new: ClientAuthMethod) -> SecretNeed {
    if old == new {
        SecretNeed::Keep
    } else if !new.uses_secret() {
        SecretNeed::DeleteAll
    } else if !old.uses_secret() || new == ClientAuthMethod::ClientSecretJwt {
        // No secret yet, or one stored only as a hash where client_secret_jwt needs it encrypted.
        SecretNeed::New
    } else if old == ClientAuthMethod::ClientSecretJwt {
        // The secret stays, but only client_secret_jwt may keep a recoverable copy of it.
        SecretNeed::DropEncrypted
    } else {
        SecretNeed::Keep
    }
}

/// What a method change needs of the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretNeed {
    Keep,
    /// The secrets stay, as hashes only: their encrypted copies are deleted.
    DropEncrypted,
    New,
    DeleteAll,
}

/// Stores a changed registration `after` (validated by the caller) in place of `before`,
/// with the secret changes its method needs; caches and audits it.
pub(crate) async fn store_update(
    state: &AppState,
    actor: &Actor,
    before: &Client,
    mut after: Client,
    action: &str,
) -> Result<ClientWithSecret, ApiError> {
    after.updated_at = now();
    let need = secret_change_for(
        before.token_endpoint_auth_method,
        after.token_endpoint_auth_method,
    );
    let mut shown = None;
    let row;
    let change = match need {
        SecretNeed::Keep => SecretChange::Keep,
        SecretNeed::DropEncrypted => SecretChange::DropEncrypted,
        SecretNeed::DeleteAll => SecretChange::DeleteAll,
        SecretNeed::New => {
            let (s, r) = new_secret(state, &after.client_id, after.token_endpoint_auth_method)?;
            shown = Some(s);
            row = r;
            SecretChange::Replace(&row)
        }
    };
    state
        .store
        .update_client_with_secrets(&after, change)
        .await
        .map_err(|e| ApiError::from_store(e, not_found(&after.client_id)))?;
    refresh(state, &after.client_id).await;
    record(
        state,
        actor,
        action,
        &after.client_id,
        audit_json(before),
        audit_json(&after),
    )
    .await;
    if need != SecretNeed::Keep {
        let what = match need {
            SecretNeed::New => "issued",
            SecretNeed::DropEncrypted => "kept; its encrypted copy deleted",
            _ => "deleted",
        };
        record(
            state,
            actor,
            "client.secret_rotate",
            &after.client_id,
            None,
            Some(json!({ "reason": "token_endpoint_auth_method changed", "secret": what })),
        )
        .await;
    }
    Ok(ClientWithSecret {
        client: after,
        client_secret: shown,
    })
}

/// Whether two registrations differ in anything but their timestamps.
pub(crate) fn same_settings(a: &Client, b: &Client) -> bool {
    let strip = |c: &Client| Client {
        created_at: 0,
        updated_at: 0,
        ..c.clone()
    };
    strip(a) == strip(b)
}

async fn load(state: &AppState, id: &str) -> Result<Client, ApiError> {
    state
        .store
        .get_client(id)
        .await
        .map_err(|e| ApiError::from_store(e, not_found(id)))
}

fn refuse_self(actor: &Actor, id: &str, what: &str) -> Result<(), ApiError> {
    if actor.id == id {
        return Err(ApiError::conflict(format!(
            "you are authenticated as {id:?}: an admin client cannot {what} itself; use another admin client"
        )));
    }
    Ok(())
}

/// `GET /clients`: every client.
#[utoipa::path(
    get,
    path = "/clients",
    operation_id = "listClients",
    tag = "clients",
    summary = "List clients",
    security(("bearer" = ["tessera.clients.read"])),
    responses(
        (status = 200, description = "success", body = ClientList)
    )
)]
pub async fn list(
    _auth: Authorized<ClientsRead>,
    State(state): State<SharedState>,
) -> Result<Json<ClientList>, ApiError> {
    let clients = state.store.list_clients().await?;
    Ok(Json(ClientList { clients }))
}

/// `POST /clients`: registers a client; answers 201 with the client and its `client_secret`,
/// shown this once.
#[utoipa::path(
    post,
    path = "/clients",
    operation_id = "createClient",
    tag = "clients",
    summary = "Register a client; the response carries its secret, shown this once",
    security(("bearer" = ["tessera.clients.write"])),
    request_body = NewClient,
    responses(
        (status = 201, description = "success", body = ClientWithSecret),
        (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn create(
    auth: Authorized<ClientsWrite>,
    State(state): State<SharedState>,
    ApiJson(new): ApiJson<NewClient>,
) -> Result<(StatusCode, Json<ClientWithSecret>), ApiError> {
    let created = create_client(&state, &auth.actor(), new, None).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /clients/{client_id}`: one client, with the validity of its secrets (never the secrets).
#[utoipa::path(
    get,
    path = "/clients/{client_id}",
    operation_id = "getClient",
    tag = "clients",
    summary = "Show a client and the validity of its secrets",
    security(("bearer" = ["tessera.clients.read"])),
    params(("client_id" = String, Path, description = "The client id, percent-encoded as one path segment (it may hold any printable character)")),
    responses(
        (status = 200, description = "success", body = ClientDetail),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn show(
    _auth: Authorized<ClientsRead>,
    State(state): State<SharedState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ClientDetail>, ApiError> {
    let client = load(&state, &id).await?;
    let t = now();
    let secrets = state
        .store
        .client_secrets(&id, t)
        .await?
        .iter()
        .map(|s| SecretValidity {
            created_at: s.created_at,
            expires_at: s.expires_at,
        })
        .collect();
    Ok(Json(ClientDetail { client, secrets }))
}

/// `PATCH /clients/{client_id}`: changes the fields given. The response carries
/// `client_secret` only when the change of method issued a new secret.
#[utoipa::path(
    patch,
    path = "/clients/{client_id}",
    operation_id = "updateClient",
    tag = "clients",
    summary = "Change a client's settings (lists replace; null returns to the default)",
    security(("bearer" = ["tessera.clients.write"])),
    params(("client_id" = String, Path, description = "The client id, percent-encoded as one path segment (it may hold any printable character)")),
    request_body = ClientPatch,
    responses(
        (status = 200, description = "success", body = ClientWithSecret),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn update(
    auth: Authorized<ClientsWrite>,
    State(state): State<SharedState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<ClientPatch>,
) -> Result<Json<ClientWithSecret>, ApiError> {
    let actor = auth.actor();
    let before = load(&state, &id).await?;
    if patch.enabled == Some(false) {
        refuse_self(&actor, &id, "disable")?;
    }
    let mut after = patch.apply(before.clone());
    check(&state, &mut after).await?;
    if same_settings(&before, &after) {
        return Ok(Json(ClientWithSecret {
            client: before,
            client_secret: None,
        }));
    }
    Ok(Json(
        store_update(&state, &actor, &before, after, "client.update").await?,
    ))
}

/// `DELETE /clients/{client_id}`: removes the client, its secrets and its opaque tokens; it is
/// refused (`invalid_client`) at once. 204.
#[utoipa::path(
    delete,
    path = "/clients/{client_id}",
    operation_id = "deleteClient",
    tag = "clients",
    summary = "Delete a client, its secrets and its opaque tokens",
    security(("bearer" = ["tessera.clients.write"])),
    params(("client_id" = String, Path, description = "The client id, percent-encoded as one path segment (it may hold any printable character)")),
    responses(
        (status = 204, description = "done; no body"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn delete(
    auth: Authorized<ClientsWrite>,
    State(state): State<SharedState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let actor = auth.actor();
    refuse_self(&actor, &id, "delete")?;
    let before = load(&state, &id).await?;
    state
        .store
        .delete_client(&id)
        .await
        .map_err(|e| ApiError::from_store(e, not_found(&id)))?;
    refresh(&state, &id).await;
    record(
        &state,
        &actor,
        "client.delete",
        &id,
        audit_json(&before),
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables or disables a client as `actor`, audited as `client.enable` / `client.disable`: the
/// admin API's `POST /clients/{client_id}/enable|disable` and the console's buttons.
pub async fn set_enabled(
    state: &AppState,
    actor: &Actor,
    id: &str,
    enabled: bool,
) -> Result<Client, ApiError> {
    if !enabled {
        refuse_self(actor, id, "disable")?;
    }
    let before = load(state, id).await?;
    if before.enabled == enabled {
        return Ok(before);
    }
    let after = Client {
        enabled,
        ..before.clone()
    };
    let action = if enabled {
        "client.enable"
    } else {
        "client.disable"
    };
    Ok(store_update(state, actor, &before, after, action)
        .await?
        .client)
}

/// `POST /clients/{client_id}/enable`: the client may authenticate again.
#[utoipa::path(
    post,
    path = "/clients/{client_id}/enable",
    operation_id = "enableClient",
    tag = "clients",
    summary = "Let a client authenticate again",
    security(("bearer" = ["tessera.clients.write"])),
    params(("client_id" = String, Path, description = "The client id, percent-encoded as one path segment (it may hold any printable character)")),
    responses(
        (status = 200, description = "success", body = Client),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn enable(
    auth: Authorized<ClientsWrite>,
    State(state): State<SharedState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Client>, ApiError> {
    Ok(Json(set_enabled(&state, &auth.actor(), &id, true).await?))
}

/// `POST /clients/{client_id}/disable`: the client is refused (`invalid_client`) from now on;
/// its registration and secrets are kept.
#[utoipa::path(
    post,
    path = "/clients/{client_id}/disable",
    operation_id = "disableClient",
    tag = "clients",
    summary = "Refuse a client from now on (invalid_client)",
    security(("bearer" = ["tessera.clients.write"])),
    params(("client_id" = String, Path, description = "The client id, percent-encoded as one path segment (it may hold any printable character)")),
    responses(
        (status = 200, description = "success", body = Client),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn disable(
    auth: Authorized<ClientsWrite>,
    State(state): State<SharedState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Client>, ApiError> {
    Ok(Json(set_enabled(&state, &auth.actor(), &id, false).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_changes() {
        use ClientAuthMethod::*;
        assert_eq!(
            secret_change_for(ClientSecretBasic, ClientSecretPost),
            SecretNeed::Keep
        );
        assert_eq!(
            secret_change_for(ClientSecretBasic, ClientSecretJwt),
            SecretNeed::New
        );
        assert_eq!(
            secret_change_for(PrivateKeyJwt, ClientSecretBasic),
            SecretNeed::New
        );
        assert_eq!(
            secret_change_for(ClientSecretPost, PrivateKeyJwt),
            SecretNeed::DeleteAll
        );
        assert_eq!(
            secret_change_for(ClientSecretJwt, ClientSecretBasic),
            SecretNeed::DropEncrypted
        );
        assert_eq!(
            secret_change_for(ClientSecretJwt, ClientSecretPost),
            SecretNeed::DropEncrypted
        );
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let p: ClientPatch =
            serde_json::from_str(r#"{"access_token_lifetime": null}"#).unwrap_or_default();
        assert_eq!(p.access_token_lifetime, Some(None));
        assert_eq!(p.access_token_format, None);
    }
}
