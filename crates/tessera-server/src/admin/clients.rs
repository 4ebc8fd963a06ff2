//! Clients: `GET/POST /clients`, `GET/PATCH/DELETE /clients/{client_id}`,
//! `POST /clients/{client_id}/enable` and `/disable`.
//!
//! A client's secret is generated here (random bits behind the `tsec_` prefix, see
//! [`crate::client_secret::generate`]), returned in the creation response only, and never
//! readable again; `POST /clients/{id}/secret`
//! ([`super::secrets`]) replaces it.

use super::audit::{Actor, record};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::permission::{Authorized, ClientsRead, ClientsWrite};
use super::validate::{self, Limits};
use crate::client_secret;
use crate::crypto::random_id;
use crate::model::{Client, StoredSecret, now};
use crate::state::{AppState, SharedState};
use crate::store::{SecretChange, StoreError};
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
    /// The authentication methods the client may use (one or more; `none` alone for a public
    /// client). Also read as `token_endpoint_auth_method` (a single name or a list). Default:
    /// `["client_secret_basic", "client_secret_post"]`, the secret in either place.
    #[serde(
        default,
        alias = "token_endpoint_auth_method",
        deserialize_with = "crate::model::auth_methods::optional_one_or_many"
    )]
    #[schema(min_items = 1)]
    pub token_endpoint_auth_methods: Option<Vec<ClientAuthMethod>>,
    /// A secret to import (brought from another system, for a migration): 8 to 512 characters,
    /// stored as a keyed hash like a generated one, never shown back, and marked as imported
    /// until it is rotated. Absent: a secret is generated and returned once.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 8, max_length = 512)]
    pub client_secret: Option<SecretString>,
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
    /// Whether authorization requests must carry PKCE; `false` only for a confidential client
    /// (a migration aid); absent: the server's `authorize.require_pkce` (true by default).
    #[serde(default)]
    pub require_pkce: Option<bool>,
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
            token_endpoint_auth_methods: self
                .token_endpoint_auth_methods
                .unwrap_or_else(|| crate::model::auth_methods::SECRET_DEFAULT.to_vec()),
            token_endpoint_auth_signing_alg: self.token_endpoint_auth_signing_alg,
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            access_token_format: self.access_token_format,
            access_token_lifetime: self.access_token_lifetime,
            access_token_signing_alg: self.access_token_signing_alg,
            audiences: self.audiences,
            require_pkce: self.require_pkce,
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
    /// New authentication methods (the whole list; also read as `token_endpoint_auth_method`, a
    /// single name or a list). A change that needs a secret the client does not hold in the right
    /// form (adding `client_secret_jwt`, or a secret method to a client that had none) issues a
    /// new secret, returned once in the response.
    #[serde(
        default,
        alias = "token_endpoint_auth_method",
        deserialize_with = "crate::model::auth_methods::optional_one_or_many"
    )]
    pub token_endpoint_auth_methods: Option<Vec<ClientAuthMethod>>,
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
    /// Whether PKCE is required, or `null` for the server's `authorize.require_pkce`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    pub require_pkce: Option<Option<bool>>,
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
            token_endpoint_auth_methods,
            token_endpoint_auth_signing_alg,
            jwks,
            jwks_uri,
            access_token_format,
            access_token_lifetime,
            access_token_signing_alg,
            audiences,
            require_pkce,
            extra_claims
        );
        // New methods make an assertion algorithm registered for the old ones meaningless; drop
        // it unless the patch set one.
        if !alg_given && let Some(a) = c.token_endpoint_auth_signing_alg {
            let fits = if a.is_hmac() {
                c.accepts(ClientAuthMethod::ClientSecretJwt)
            } else {
                c.accepts(ClientAuthMethod::PrivateKeyJwt)
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
    /// Whether one of them was imported rather than generated (rotate it to clear this).
    pub imported_secret: bool,
}

/// When a client secret was issued and until when it works.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretValidity {
    /// Issue time, seconds since the epoch.
    pub created_at: i64,
    /// End of its grace period after a rotation; `null` while it is the current secret.
    pub expires_at: Option<i64>,
    /// Whether an admin imported it rather than Tessera generating it: rotate it.
    pub imported: bool,
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
    check_with(state, c, &[]).await
}

/// Validates `c` as [`check`] does, counting `also` as registered scopes: for a client checked
/// before the scopes it needs are created (the console creates a scope from the client form only
/// once the client would be accepted with it).
pub(crate) async fn check_with(
    state: &AppState,
    c: &mut Client,
    also: &[String],
) -> Result<(), ApiError> {
    let mut registered = registered_scopes(state).await?;
    registered.extend(also.iter().cloned());
    validate::client(
        c,
        Limits {
            registered_scopes: &registered,
            max_lifetime_secs: state.config.tokens.max_lifetime_secs,
            scope_naming: state.config.scopes.naming,
        },
    )?;
    crate::token_size::check(state, c).map_err(ApiError::invalid)
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

/// A new secret for `client_id` and the row storing it (`recoverable`: also encrypted, for
/// `client_secret_jwt`).
pub(crate) fn new_secret(
    state: &AppState,
    client_id: &str,
    recoverable: bool,
) -> Result<(SecretString, StoredSecret), ApiError> {
    client_secret::generate(&state.keys, client_id, recoverable).map_err(ApiError::internal)
}

/// Checks a secret to import: 8 to 512 characters; for `client_secret_jwt` (`recoverable`) also
/// at least 32 bytes, the shortest HMAC key HS256 accepts (RFC 7518 §3.2).
pub(crate) fn check_imported(plain: &SecretString, recoverable: bool) -> Result<(), ApiError> {
    client_secret::check_imported(plain.expose_secret())
        .map_err(|e| ApiError::invalid_field("client_secret", e))?;
    let n = plain.expose_secret().len();
    if recoverable && n < 32 {
        return Err(ApiError::invalid_field(
            "client_secret",
            format!(
                "client_secret: client_secret_jwt signs with the secret as an HMAC key, which must be at \
             least as long as the hash output (RFC 7518 §3.2): 32 bytes for HS256; this one has {n}"
            ),
        ));
    }
    Ok(())
}

/// The row storing a secret an admin imported, after checking it (see [`check_imported`]).
pub(crate) fn imported_secret(
    state: &AppState,
    client_id: &str,
    recoverable: bool,
    plain: &SecretString,
) -> Result<StoredSecret, ApiError> {
    check_imported(plain, recoverable)?;
    client_secret::stored(
        &state.keys,
        client_id,
        recoverable,
        plain.expose_secret(),
        true,
    )
    .map_err(ApiError::internal)
}

/// A secret given to the server rather than generated by it.
#[derive(Debug, Clone)]
pub(crate) enum GivenSecret {
    /// From the setup file (`secret_env`, `secret_file`): 32 characters or more, managed there.
    Managed(SecretString),
    /// Imported by an admin for a migration: 8 characters or more, marked until rotated.
    Imported(SecretString),
}

impl GivenSecret {
    /// The secret.
    pub(crate) fn secret(&self) -> &SecretString {
        match self {
            Self::Managed(s) | Self::Imported(s) => s,
        }
    }

    /// The row storing it for `client_id`.
    pub(crate) fn row(
        &self,
        state: &AppState,
        client_id: &str,
        recoverable: bool,
    ) -> Result<StoredSecret, ApiError> {
        match self {
            Self::Managed(s) => client_secret::stored(
                &state.keys,
                client_id,
                recoverable,
                s.expose_secret(),
                false,
            )
            .map_err(ApiError::internal),
            Self::Imported(s) => imported_secret(state, client_id, recoverable, s),
        }
    }
}

/// Creates a client: validated, stored with its first secret, cached, audited. The secret is
/// `given` (setup file), else the registration's imported `client_secret`, else generated and
/// returned once.
pub(crate) async fn create_client(
    state: &AppState,
    actor: &Actor,
    mut new: NewClient,
    given: Option<GivenSecret>,
) -> Result<ClientWithSecret, ApiError> {
    let id = match &new.client_id {
        Some(id) => id.clone(),
        None => random_id(CLIENT_ID_PREFIX).map_err(ApiError::internal)?,
    };
    let given = given.or_else(|| new.client_secret.take().map(GivenSecret::Imported));
    let mut c = new.into_client(id, now());
    check(state, &mut c).await?;
    let (shown, row) = match (c.uses_secret(), given) {
        // A secret given from outside: stored, not shown back.
        (true, Some(given)) => (
            None,
            Some(given.row(state, &c.client_id, c.secret_recoverable())?),
        ),
        (true, None) => {
            let (s, row) = new_secret(state, &c.client_id, c.secret_recoverable())?;
            (Some(s), Some(row))
        }
        (false, Some(_)) => {
            return Err(ApiError::invalid_field(
                "client_secret",
                format!(
                    "client_secret: {} uses no client secret; remove it",
                    c.auth_methods_text()
                ),
            ));
        }
        (false, None) => (None, None),
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

/// Checks `new` as [`create_client`] would, counting `also` as registered scopes, and that its
/// client id is free; stores nothing.
pub(crate) async fn check_new(
    state: &AppState,
    new: &NewClient,
    also: &[String],
) -> Result<(), ApiError> {
    let id = match &new.client_id {
        Some(id) => {
            match state.store.get_client(id).await {
                Ok(_) => return Err(ApiError::from_store(StoreError::Conflict, not_found(id))),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
            id.clone()
        }
        None => random_id(CLIENT_ID_PREFIX).map_err(ApiError::internal)?,
    };
    let mut c = new.clone().into_client(id, now());
    check_with(state, &mut c, also).await
}

/// Applies `patch` to the client `id` as `actor`: validated, stored with the secret changes its
/// methods need, cached, audited as `client.update`; a registration left as it was is neither
/// written nor audited. The admin API's `PATCH /clients/{client_id}` and the console's edit form.
pub(crate) async fn update_client(
    state: &AppState,
    actor: &Actor,
    id: &str,
    patch: ClientPatch,
) -> Result<ClientWithSecret, ApiError> {
    let before = load(state, id).await?;
    if patch.enabled == Some(false) {
        refuse_self(actor, id, "disable")?;
    }
    let mut after = patch.apply(before.clone());
    check(state, &mut after).await?;
    if same_settings(&before, &after) {
        return Ok(ClientWithSecret {
            client: before,
            client_secret: None,
        });
    }
    store_update(state, actor, &before, after, "client.update").await
}

/// Checks `patch` on the client `id` as [`update_client`] would, counting `also` as registered
/// scopes; stores nothing.
pub(crate) async fn check_update(
    state: &AppState,
    id: &str,
    patch: &ClientPatch,
    also: &[String],
) -> Result<(), ApiError> {
    let mut after = patch.clone().apply(load(state, id).await?);
    check_with(state, &mut after, also).await
}

/// How a change of authentication methods affects the stored secrets.
pub(crate) fn secret_change_for(old: &Client, new: &Client) -> SecretNeed {
    let (old_secret, new_secret) = (old.uses_secret(), new.uses_secret());
    let (old_jwt, new_jwt) = (old.secret_recoverable(), new.secret_recoverable());
    if !new_secret {
        if old_secret {
            SecretNeed::DeleteAll
        } else {
            SecretNeed::Keep
        }
    } else if !old_secret || (new_jwt && !old_jwt) {
        // No secret yet, or one stored only as a hash where client_secret_jwt needs it encrypted.
        SecretNeed::New
    } else if old_jwt && !new_jwt {
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
    let need = secret_change_for(before, &after);
    let mut shown = None;
    let row;
    let change = match need {
        SecretNeed::Keep => SecretChange::Keep,
        SecretNeed::DropEncrypted => SecretChange::DropEncrypted,
        SecretNeed::DeleteAll => SecretChange::DeleteAll,
        SecretNeed::New => {
            let (s, r) = new_secret(state, &after.client_id, after.secret_recoverable())?;
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
            Some(json!({ "reason": "token_endpoint_auth_methods changed", "secret": what })),
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

/// The query of `GET /clients`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClientListQuery {
    /// `true`: only the clients that still authenticate with an imported secret (to rotate);
    /// `false`: only those that do not.
    pub imported_secret: Option<bool>,
}

/// `GET /clients`: every client, or those with (or without) an imported secret.
#[utoipa::path(
    get,
    path = "/clients",
    operation_id = "listClients",
    tag = "clients",
    summary = "List clients",
    security(("bearer" = ["tessera.clients.read"])),
    params(ClientListQuery),
    responses(
        (status = 200, description = "success", body = ClientList),
        (status = 400, body = ErrorBody)
    )
)]
pub async fn list(
    _auth: Authorized<ClientsRead>,
    State(state): State<SharedState>,
    ApiQuery(q): ApiQuery<ClientListQuery>,
) -> Result<Json<ClientList>, ApiError> {
    let mut clients = state.store.list_clients().await?;
    if let Some(want) = q.imported_secret {
        let imported: BTreeSet<String> = state
            .store
            .all_client_secrets(now())
            .await?
            .into_iter()
            .filter(|s| s.imported)
            .map(|s| s.client_id)
            .collect();
        clients.retain(|c| imported.contains(&c.client_id) == want);
    }
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
            imported: s.imported,
        })
        .collect::<Vec<_>>();
    let imported_secret = secrets.iter().any(|s| s.imported);
    Ok(Json(ClientDetail {
        client,
        secrets,
        imported_secret,
    }))
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
    Ok(Json(
        update_client(&state, &auth.actor(), &id, patch).await?,
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
    delete_client(&state, &auth.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the client `id` as `actor`, with its secrets, its opaque tokens and its refresh token
/// families; audited as `client.delete`. The admin API's `DELETE /clients/{client_id}` and the
/// console's delete page.
pub(crate) async fn delete_client(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Client, ApiError> {
    refuse_self(actor, id, "delete")?;
    let before = load(state, id).await?;
    state
        .store
        .delete_client(id)
        .await
        .map_err(|e| ApiError::from_store(e, not_found(id)))?;
    refresh(state, id).await;
    // Its refresh token families end too, so that a client registered again under the same id
    // does not inherit them.
    let revoked = state
        .store
        .revoke_families(None, None, Some(id), now())
        .await?;
    state.store.revoke_access_tokens(&revoked).await?;
    record(state, actor, "client.delete", id, audit_json(&before), None).await;
    Ok(before)
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

    fn with(methods: &[ClientAuthMethod]) -> Client {
        let mut c = NewClient {
            client_id: None,
            name: "x".into(),
            description: String::new(),
            enabled: None,
            grant_types: default_grant_types(),
            redirect_uris: vec![],
            allowed_scopes: vec![],
            default_scopes: vec![],
            token_endpoint_auth_methods: None,
            client_secret: None,
            token_endpoint_auth_signing_alg: None,
            jwks: None,
            jwks_uri: None,
            access_token_format: None,
            access_token_lifetime: None,
            access_token_signing_alg: None,
            audiences: vec![],
            require_pkce: None,
            extra_claims: Map::new(),
        }
        .into_client("x".into(), 0);
        c.token_endpoint_auth_methods = methods.to_vec();
        c
    }

    #[test]
    fn method_changes() {
        use ClientAuthMethod::*;
        let change =
            |a: &[ClientAuthMethod], b: &[ClientAuthMethod]| secret_change_for(&with(a), &with(b));
        assert_eq!(
            change(&[ClientSecretBasic], &[ClientSecretPost]),
            SecretNeed::Keep
        );
        assert_eq!(
            change(&[ClientSecretBasic], &[ClientSecretBasic, ClientSecretPost]),
            SecretNeed::Keep
        );
        assert_eq!(
            change(&[ClientSecretBasic], &[ClientSecretJwt]),
            SecretNeed::New
        );
        assert_eq!(
            change(&[ClientSecretPost], &[ClientSecretPost, ClientSecretJwt]),
            SecretNeed::New
        );
        assert_eq!(
            change(&[PrivateKeyJwt], &[ClientSecretBasic]),
            SecretNeed::New
        );
        assert_eq!(
            change(&[PrivateKeyJwt], &[PrivateKeyJwt, ClientSecretBasic]),
            SecretNeed::New
        );
        assert_eq!(
            change(&[ClientSecretPost], &[PrivateKeyJwt]),
            SecretNeed::DeleteAll
        );
        assert_eq!(change(&[None], &[PrivateKeyJwt]), SecretNeed::Keep);
        assert_eq!(
            change(&[ClientSecretJwt], &[ClientSecretBasic]),
            SecretNeed::DropEncrypted
        );
        assert_eq!(
            change(&[ClientSecretJwt, PrivateKeyJwt], &[ClientSecretPost]),
            SecretNeed::DropEncrypted
        );
    }

    #[test]
    fn a_client_without_methods_takes_the_secret_in_either_place() -> Result<(), serde_json::Error>
    {
        let p: NewClient = serde_json::from_str(r#"{"name": "n"}"#)?;
        let c = p.into_client("n".into(), 0);
        assert_eq!(
            c.token_endpoint_auth_methods,
            [
                ClientAuthMethod::ClientSecretBasic,
                ClientAuthMethod::ClientSecretPost
            ]
        );
        let p: NewClient =
            serde_json::from_str(r#"{"name": "n", "token_endpoint_auth_method": "none"}"#)?;
        assert_eq!(
            p.token_endpoint_auth_methods,
            Some(vec![ClientAuthMethod::None])
        );
        let p: NewClient = serde_json::from_str(
            r#"{"name": "n", "token_endpoint_auth_methods": ["client_secret_post", "private_key_jwt"]}"#,
        )?;
        assert_eq!(
            p.token_endpoint_auth_methods,
            Some(vec![
                ClientAuthMethod::ClientSecretPost,
                ClientAuthMethod::PrivateKeyJwt
            ])
        );
        Ok(())
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let p: ClientPatch =
            serde_json::from_str(r#"{"access_token_lifetime": null}"#).unwrap_or_default();
        assert_eq!(p.access_token_lifetime, Some(None));
        assert_eq!(p.access_token_format, None);
    }
}
