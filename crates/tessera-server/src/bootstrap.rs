//! First start: Tessera's own admin scopes and the bootstrap admin client, whose credential is
//! written to a file only its owner can read.

use crate::client_secret;
use crate::model::{AuditEvent, Client, Scope, now};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tessera_proto::{ClientAuthMethod, GrantType, TokenFormat};

/// The audience of admin API tokens: the admin API accepts no other.
pub const ADMIN_AUDIENCE: &str = "urn:tessera:admin";

/// Tessera's own scopes, with the admin API permissions behind each.
pub const ADMIN_SCOPES: [(&str, &str, &[&str]); 10] = [
    (
        "tessera.clients.read",
        "Read client registrations",
        &[
            "GET /admin/api/v1/clients",
            "GET /admin/api/v1/clients/{client_id}",
        ],
    ),
    (
        "tessera.clients.write",
        "Create, change, disable and delete clients and reset their secrets",
        &[
            "POST /admin/api/v1/clients",
            "PATCH /admin/api/v1/clients/{client_id}",
            "DELETE /admin/api/v1/clients/{client_id}",
            "POST /admin/api/v1/clients/{client_id}/secret",
        ],
    ),
    (
        "tessera.scopes.read",
        "Read scopes and their permissions",
        &[
            "GET /admin/api/v1/scopes",
            "GET /admin/api/v1/scopes/{name}",
        ],
    ),
    (
        "tessera.scopes.write",
        "Create, change and delete scopes",
        &[
            "POST /admin/api/v1/scopes",
            "PATCH /admin/api/v1/scopes/{name}",
            "DELETE /admin/api/v1/scopes/{name}",
        ],
    ),
    (
        "tessera.audit.read",
        "Read the audit log",
        &["GET /admin/api/v1/audit"],
    ),
    (
        "tessera.keys.read",
        "List signing keys",
        &["GET /admin/api/v1/keys"],
    ),
    (
        "tessera.keys.write",
        "Rotate and retire signing keys",
        &[
            "POST /admin/api/v1/keys/rotate",
            "POST /admin/api/v1/keys/{kid}/retire",
        ],
    ),
    (
        "tessera.users.read",
        "Read users and their consents",
        &[
            "GET /admin/api/v1/users",
            "GET /admin/api/v1/users/{user}",
            "GET /admin/api/v1/users/{user}/consents",
        ],
    ),
    (
        "tessera.users.write",
        "Create, change, disable and delete users, set their passwords and withdraw their consents",
        &[
            "POST /admin/api/v1/users",
            "PATCH /admin/api/v1/users/{user}",
            "DELETE /admin/api/v1/users/{user}",
            "POST /admin/api/v1/users/{user}/password",
            "DELETE /admin/api/v1/users/{user}/consents",
        ],
    ),
    (
        "tessera.tokens.introspect",
        "Introspect any token (for resource servers)",
        &["POST /oauth2/introspect"],
    ),
];

/// The bootstrap credential file's contents.
#[derive(Serialize, Deserialize)]
pub struct CredentialFile {
    /// The issuer.
    pub issuer: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The admin API's base URL.
    pub admin_api: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
}

impl std::fmt::Debug for CredentialFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialFile")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Creates what is missing; returns the credential file's path when it was written now.
pub async fn run(state: &AppState) -> anyhow_like::Result<Option<PathBuf>> {
    let t = now();
    for (name, description, perms) in ADMIN_SCOPES {
        if state.registry.scope(name).is_none() {
            let scope = Scope {
                name: name.to_owned(),
                description: description.to_owned(),
                permissions: perms.iter().map(|p| (*p).to_owned()).collect(),
                created_at: t,
                updated_at: t,
            };
            match state.store.insert_scope(&scope).await {
                Ok(()) | Err(crate::store::StoreError::Conflict) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    state
        .registry
        .reload_scopes(&state.store)
        .await
        .map_err(|e| e.to_string())?;
    let id = state.config.admin.bootstrap_client_id.clone();
    if state.registry.client(&id).is_some() {
        return Ok(None);
    }
    let all: Vec<String> = ADMIN_SCOPES
        .iter()
        .filter(|(n, _, _)| *n != "tessera.tokens.introspect")
        .map(|(n, _, _)| (*n).to_owned())
        .collect();
    let client = Client {
        client_id: id.clone(),
        name: "Tessera bootstrap admin".into(),
        description: "Created on first start; used by the tessera CLI. Rotate its secret or replace it with your own admin clients.".into(),
        enabled: true,
        grant_types: vec![GrantType::ClientCredentials],
        redirect_uris: vec![],
        allowed_scopes: all.clone(),
        default_scopes: all,
        token_endpoint_auth_method: ClientAuthMethod::ClientSecretBasic,
        token_endpoint_auth_signing_alg: None,
        jwks: None,
        jwks_uri: None,
        access_token_format: Some(TokenFormat::Jwt),
        access_token_lifetime: Some(300),
        access_token_signing_alg: None,
        audiences: vec![ADMIN_AUDIENCE.into()],
        extra_claims: Default::default(),
        created_at: t,
        updated_at: t,
    };
    let (secret, row) =
        client_secret::generate(&state.keys, &id, client.token_endpoint_auth_method)
            .map_err(|e| e.to_string())?;
    match state.store.insert_client(&client, Some(&row)).await {
        Ok(()) => {}
        // Another instance created it at the same moment.
        Err(crate::store::StoreError::Conflict) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let file = state.config.credentials_file();
    let contents = CredentialFile {
        issuer: state.issuer.clone(),
        token_endpoint: state.token_endpoint.clone(),
        admin_api: format!("{}/admin/api/v1", state.issuer),
        client_id: id.clone(),
        client_secret: secret.expose().to_owned(),
    };
    let json = serde_json::to_vec_pretty(&contents).map_err(|e| e.to_string())?;
    crate::fsutil::write_private(&file, &json)
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    state
        .registry
        .reload_client(&state.store, &state.keys, &id)
        .await
        .map_err(|e| e.to_string())?;
    state.audit(AuditEvent {
        id: 0,
        at: t,
        actor: "bootstrap".into(),
        action: "client.create".into(),
        target: id,
        before: None,
        after: serde_json::to_value(&client).ok(),
        remote_addr: None,
    });
    Ok(Some(file))
}

/// Results with a message.
pub mod anyhow_like {
    /// A result whose error is a sentence.
    pub type Result<T> = std::result::Result<T, String>;
}
