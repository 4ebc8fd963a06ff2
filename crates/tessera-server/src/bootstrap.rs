//! First start: Tessera's own admin scopes and the bootstrap admin client, whose credential is
//! written to a file only its owner can read — before the client is stored, so that no failure
//! or crash in between can leave a client whose secret nobody has.

use crate::client_secret;
use crate::crypto::random_id;
use crate::model::{AuditEvent, Client, Scope, now};
use crate::registry::ClientEntry;
use crate::state::AppState;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
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
    let file = state.config.credentials_file();
    if let Some(entry) = state.registry.client(&id) {
        if file.exists() {
            return Ok(None);
        }
        if recover_pending(state, &entry, &file) {
            return Ok(Some(file));
        }
        // Not an error: in a cluster only the instance that created the client wrote the file.
        tracing::info!(client_id = %id, path = %file.display(), "the bootstrap admin client exists and its credential file is not here; it was written where the client was created: share it, or reset the client's secret with another admin client");
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
        token_endpoint_auth_methods: vec![ClientAuthMethod::ClientSecretBasic],
        token_endpoint_auth_signing_alg: None,
        jwks: None,
        jwks_uri: None,
        access_token_format: Some(TokenFormat::Jwt),
        access_token_lifetime: Some(300),
        access_token_signing_alg: None,
        audiences: vec![ADMIN_AUDIENCE.into()],
        require_pkce: None,
        extra_claims: Default::default(),
        created_at: t,
        updated_at: t,
    };
    let (secret, row) = client_secret::generate(&state.keys, &id, client.secret_recoverable())
        .map_err(|e| e.to_string())?;
    // The credential is on disk before the client is stored, under a name of its own: a start
    // that fails or dies after storing the client leaves it there, and the next start moves it
    // into place (see `recover_pending`).
    let contents = CredentialFile {
        issuer: state.issuer.clone(),
        token_endpoint: state.token_endpoint.clone(),
        admin_api: format!("{}/admin/api/v1", state.issuer),
        client_id: id.clone(),
        client_secret: secret.expose_secret().to_owned(),
    };
    let json = serde_json::to_vec_pretty(&contents).map_err(|e| e.to_string())?;
    let pending = pending_path(&file).map_err(|e| e.to_string())?;
    crate::fsutil::write_private(&pending, &json)
        .map_err(|e| format!("cannot write {}: {e}", pending.display()))?;
    match state.store.insert_client(&client, Some(&row)).await {
        Ok(()) => {}
        // Another instance created it at the same moment: this secret is worth nothing.
        Err(crate::store::StoreError::Conflict) => {
            remove_quietly(&pending);
            return Ok(None);
        }
        // The client may have been stored all the same (a timeout after the commit): the
        // pending credential stays, for the next start to move into place if its secret works.
        Err(e) => return Err(e.to_string()),
    }
    std::fs::rename(&pending, &file).map_err(|e| {
        format!(
            "cannot write {}: {e}; the credential is kept in {} and moved there at the next start",
            file.display(),
            pending.display()
        )
    })?;
    state
        .registry
        .reload_client(&state.store, &state.keys, &id)
        .await
        .map_err(|e| e.to_string())?;
    state
        .audit_now(AuditEvent {
            id: 0,
            at: t,
            actor: "bootstrap".into(),
            action: "client.create".into(),
            target: id,
            before: None,
            after: serde_json::to_value(&client).ok(),
            remote_addr: None,
        })
        .await;
    Ok(Some(file))
}

/// Where a credential waits until its client is stored: beside the credential file, under a
/// name of its own, so that instances starting at once on a shared folder never write each
/// other's file.
fn pending_path(file: &Path) -> Result<PathBuf, crate::crypto::CryptoError> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "admin-credentials.json".into());
    Ok(file.with_file_name(format!("{name}.{}.pending", random_id("")?)))
}

/// Moves into place a credential left pending by a start that stored the bootstrap client and
/// then failed or died before the credential file was in place, when its secret is one of the
/// client's. Pending files whose secret does not work are removed. Returns whether the file is
/// back.
fn recover_pending(state: &AppState, entry: &ClientEntry, file: &Path) -> bool {
    let Some(name) = file.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return false;
    };
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(listing) = std::fs::read_dir(&dir) else {
        return false;
    };
    let prefix = format!("{name}.");
    let t = now();
    for item in listing.flatten() {
        let path = item.path();
        let fname = item.file_name().to_string_lossy().into_owned();
        if !fname.starts_with(&prefix) || !fname.ends_with(".pending") {
            continue;
        }
        let works = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<CredentialFile>(&b).ok())
            .is_some_and(|c| {
                c.client_id == entry.client.client_id
                    && entry.check_secret(&state.keys, &c.client_secret, t)
            });
        if !works {
            tracing::debug!(path = %path.display(), "removing a pending bootstrap credential that does not work");
            remove_quietly(&path);
            continue;
        }
        match std::fs::rename(&path, file) {
            Ok(()) => {
                tracing::info!(path = %file.display(), "bootstrap admin credential recovered from an interrupted first start");
                return true;
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot move the pending bootstrap admin credential into place");
                return false;
            }
        }
    }
    false
}

fn remove_quietly(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a pending bootstrap credential");
    }
}

/// Results with a message.
pub mod anyhow_like {
    /// A result whose error is a sentence.
    pub type Result<T> = std::result::Result<T, String>;
}
