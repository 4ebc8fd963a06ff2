//! `tessera db export` / `tessera db import`: a whole installation as one JSON document, to move
//! from SQLite to PostgreSQL and back. Secrets stay hashed, signing keys and `client_secret_jwt`
//! secrets stay encrypted: the target server must run with the same master key.

use crate::crypto::Keys;
use crate::model::{AuditEvent, Client, Scope, StoredKey, StoredSecret, StoredToken, now};
use crate::store::export::RevokedJwt;
use crate::store::people_export::People;
use crate::store::{AuditQuery, Store, StoreError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The value of `format` in an export.
pub const FORMAT: &str = "tessera-export";
/// The export format's version.
pub const VERSION: u32 = 1;

/// The export document (documented in `docs/scaling.md`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Export {
    /// Always `tessera-export`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// When it was made.
    pub exported_at: i64,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Clients (no secrets).
    pub clients: Vec<Client>,
    /// Secret rows: hashes, and encryptions for `client_secret_jwt`.
    pub client_secrets: Vec<SecretRow>,
    /// Signing keys, private parts encrypted.
    pub signing_keys: Vec<KeyRow>,
    /// Unexpired opaque tokens (hashes only).
    pub opaque_tokens: Vec<TokenRow>,
    /// Unexpired revoked JWT ids.
    pub revoked_jwts: Vec<RevokedJwt>,
    /// The audit log, oldest first.
    pub audit_log: Vec<AuditEvent>,
    /// Users, consents and unexpired refresh token families with their tokens (absent in
    /// exports made before they were carried).
    #[serde(default, flatten)]
    pub people: People,
}

/// A client secret row, binary fields in base64.
#[derive(Debug, Serialize, Deserialize)]
pub struct SecretRow {
    /// Row id.
    pub id: String,
    /// Client.
    pub client_id: String,
    /// HMAC, base64.
    pub hash: String,
    /// Encrypted secret, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Imported by an admin rather than generated (absent in exports made before it was kept).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
}

/// A signing key row, the encrypted private key in base64.
#[derive(Debug, Serialize, Deserialize)]
pub struct KeyRow {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: String,
    /// Encrypted PKCS#8, base64.
    pub encrypted_pkcs8: String,
    /// Public JWK (JSON text).
    pub public_jwk: String,
    /// Created.
    pub created_at: i64,
    /// Signs from.
    pub activates_at: i64,
    /// Stopped signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
    /// Leaves the JWKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_at: Option<i64>,
}

/// An opaque token row, the hash in base64.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenRow {
    /// HMAC of the token, base64.
    pub hash: String,
    /// Token id.
    pub jti: String,
    /// Client.
    pub client_id: String,
    /// Subject.
    pub sub: String,
    /// Scope.
    pub scope: String,
    /// Audiences (JSON array text).
    pub aud: String,
    /// Issued.
    pub iat: i64,
    /// Expires.
    pub exp: i64,
    /// Revoked.
    pub revoked: bool,
    /// Extra claims (JSON object text).
    pub extra: String,
}

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The document is not an export this version reads.
    #[error("not a Tessera export: {0}")]
    Format(String),
    /// The target already holds data.
    #[error(
        "the target database is not empty ({clients} clients, {scopes} scopes, {keys} keys); import only into a fresh database (tessera db migrate creates one)"
    )]
    NotEmpty {
        /// Clients.
        clients: i64,
        /// Scopes.
        scopes: i64,
        /// Keys.
        keys: i64,
    },
    /// The signing keys were encrypted under another master key.
    #[error(
        "the export's signing keys cannot be decrypted with this server's master key; run the import with the master key of the exporting server"
    )]
    WrongMasterKey,
}

fn b64(v: &[u8]) -> String {
    STANDARD.encode(v)
}

fn unb64(s: &str) -> Result<Vec<u8>, TransferError> {
    STANDARD
        .decode(s)
        .map_err(|e| TransferError::Format(format!("bad base64: {e}")))
}

/// Reads the whole installation.
pub async fn export(store: &Store) -> Result<Export, TransferError> {
    let t = now();
    let mut audit = Vec::new();
    let mut before_id = None;
    loop {
        let page = store
            .list_audit(&AuditQuery {
                before_id,
                limit: Some(1000),
                ..Default::default()
            })
            .await?;
        let Some(last) = page.last() else { break };
        before_id = Some(last.id);
        audit.extend(page);
    }
    audit.reverse();
    Ok(Export {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: t,
        scopes: store.list_scopes().await?,
        clients: store.list_clients().await?,
        client_secrets: store
            .all_client_secrets(t)
            .await?
            .into_iter()
            .map(|s| SecretRow {
                id: s.id,
                client_id: s.client_id,
                hash: b64(&s.hash),
                encrypted: s.encrypted.as_deref().map(b64),
                created_at: s.created_at,
                expires_at: s.expires_at,
                imported: s.imported,
            })
            .collect(),
        signing_keys: store
            .list_keys(t)
            .await?
            .into_iter()
            .map(|k| KeyRow {
                kid: k.kid,
                alg: k.alg,
                encrypted_pkcs8: b64(&k.encrypted_pkcs8),
                public_jwk: k.public_jwk,
                created_at: k.created_at,
                activates_at: k.activates_at,
                retired_at: k.retired_at,
                remove_at: k.remove_at,
            })
            .collect(),
        opaque_tokens: store
            .all_tokens(t)
            .await?
            .into_iter()
            .map(|r| TokenRow {
                hash: b64(&r.hash),
                jti: r.jti,
                client_id: r.client_id,
                sub: r.sub,
                scope: r.scope,
                aud: r.aud,
                iat: r.iat,
                exp: r.exp,
                revoked: r.revoked,
                extra: r.extra,
            })
            .collect(),
        revoked_jwts: store.all_revoked_jwts(t).await?,
        audit_log: audit,
        people: store.export_people(t).await?,
    })
}

/// Writes an export into an empty store, after checking the master key fits.
pub async fn import(
    store: &Store,
    keys: &Keys,
    doc: &Export,
) -> Result<ImportSummary, TransferError> {
    if doc.format != FORMAT || doc.version != VERSION {
        return Err(TransferError::Format(format!(
            "format {:?} version {} (this version reads {FORMAT} version {VERSION})",
            doc.format, doc.version
        )));
    }
    let (clients, scopes, keys_n) = store.row_counts().await?;
    if clients + scopes + keys_n > 0 {
        return Err(TransferError::NotEmpty {
            clients,
            scopes,
            keys: keys_n,
        });
    }
    for u in &doc.people.users {
        if let Some(r) = &u.role {
            crate::users::Role::parse(r)
                .map_err(|e| TransferError::Format(format!("user {:?}: {e}", u.username)))?;
        }
    }
    for k in &doc.signing_keys {
        let enc = unb64(&k.encrypted_pkcs8)?;
        if keys
            .decrypt(&crate::keyring::key_aad(&k.kid), &enc)
            .is_err()
        {
            return Err(TransferError::WrongMasterKey);
        }
    }
    for s in &doc.scopes {
        store.insert_scope(s).await?;
    }
    for c in &doc.clients {
        store.insert_client(c, None).await?;
    }
    for s in &doc.client_secrets {
        store
            .insert_secret(&StoredSecret {
                id: s.id.clone(),
                client_id: s.client_id.clone(),
                hash: unb64(&s.hash)?,
                encrypted: s.encrypted.as_deref().map(unb64).transpose()?,
                created_at: s.created_at,
                expires_at: s.expires_at,
                imported: s.imported,
            })
            .await?;
    }
    for k in &doc.signing_keys {
        store
            .insert_key(&StoredKey {
                kid: k.kid.clone(),
                alg: k.alg.clone(),
                encrypted_pkcs8: unb64(&k.encrypted_pkcs8)?,
                public_jwk: k.public_jwk.clone(),
                created_at: k.created_at,
                activates_at: k.activates_at,
                retired_at: k.retired_at,
                remove_at: k.remove_at,
            })
            .await?;
    }
    let mut tokens = Vec::with_capacity(doc.opaque_tokens.len());
    for r in &doc.opaque_tokens {
        tokens.push(StoredToken {
            hash: unb64(&r.hash)?,
            jti: r.jti.clone(),
            client_id: r.client_id.clone(),
            sub: r.sub.clone(),
            scope: r.scope.clone(),
            aud: r.aud.clone(),
            iat: r.iat,
            exp: r.exp,
            revoked: r.revoked,
            extra: r.extra.clone(),
        });
    }
    for chunk in tokens.chunks(500) {
        store.insert_tokens(chunk).await?;
    }
    for r in &doc.revoked_jwts {
        store.revoke_jwt(&r.jti, &r.client_id, r.exp).await?;
    }
    for e in &doc.audit_log {
        store.append_audit(e).await?;
    }
    store.import_people(&doc.people).await?;
    Ok(ImportSummary {
        scopes: doc.scopes.len(),
        clients: doc.clients.len(),
        keys: doc.signing_keys.len(),
        opaque_tokens: doc.opaque_tokens.len(),
        audit_events: doc.audit_log.len(),
        users: doc.people.users.len(),
        consents: doc.people.consents.len(),
        refresh_families: doc.people.refresh_families.len(),
    })
}

/// What an import wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    /// Scopes.
    pub scopes: usize,
    /// Clients.
    pub clients: usize,
    /// Signing keys.
    pub keys: usize,
    /// Opaque tokens.
    pub opaque_tokens: usize,
    /// Audit events.
    pub audit_events: usize,
    /// Users.
    pub users: usize,
    /// Consents.
    pub consents: usize,
    /// Refresh token families.
    pub refresh_families: usize,
}
