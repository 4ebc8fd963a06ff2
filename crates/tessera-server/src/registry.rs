//! Clients and scopes in memory, so that authenticating a client and issuing it a JWT touch no
//! database. Every admin write refreshes the entry it changed; a periodic full reload is the
//! safety net that also lets several instances converge.

use crate::crypto::Keys;
use crate::model::{Client, Scope, StoredSecret, now};
use crate::store::changes::Change;
use crate::store::{Store, StoreError};
use arc_swap::ArcSwap;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::Arc;
use tessera_jose::VerifyingKey;
use tessera_proto::ScopeSet;

/// A secret as the registry holds it: the hash, and for `client_secret_jwt` the secret itself.
pub struct SecretEntry {
    /// HMAC of the secret.
    pub hash: Vec<u8>,
    /// The secret (decrypted), only for `client_secret_jwt`.
    pub plain: Option<SecretString>,
    /// When it stops working, if it was rotated out.
    pub expires_at: Option<i64>,
    /// Whether an admin imported it rather than Tessera generating it.
    pub imported: bool,
}

/// A client with everything needed to authenticate it and issue it tokens.
pub struct ClientEntry {
    /// The registration.
    pub client: Client,
    /// Unexpired secrets, newest first.
    pub secrets: Vec<SecretEntry>,
    /// Keys from the registered JWKS (`private_key_jwt`).
    pub jwks_keys: Vec<VerifyingKey>,
    /// Scopes the client may be granted.
    pub allowed_scopes: ScopeSet,
    /// Scopes granted when the request names none.
    pub default_scopes: ScopeSet,
}

impl std::fmt::Debug for ClientEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientEntry")
            .field("client_id", &self.client.client_id)
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl ClientEntry {
    fn build(client: Client, secrets: &[StoredSecret], keys: &Keys) -> Self {
        let jwks_keys = client
            .jwks
            .as_ref()
            .map(|set| {
                set.keys
                    .iter()
                    .filter_map(|k| VerifyingKey::from_jwk(k).ok())
                    .collect()
            })
            .unwrap_or_default();
        // Only client_secret_jwt needs a secret in plain (to check the HMAC of assertions); an
        // encrypted copy any other client might still have is never decrypted.
        let recoverable = client.secret_recoverable();
        let secrets = secrets
            .iter()
            .filter(|s| s.client_id == client.client_id)
            .map(|s| SecretEntry {
                hash: s.hash.clone(),
                plain: s.encrypted.as_ref().filter(|_| recoverable).and_then(|e| {
                    keys.decrypt(&secret_aad(&s.client_id, &s.id), e)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .map(SecretString::from)
                }),
                expires_at: s.expires_at,
                imported: s.imported,
            })
            .collect();
        Self {
            allowed_scopes: ScopeSet::from_names(client.allowed_scopes.iter().cloned()),
            default_scopes: ScopeSet::from_names(client.default_scopes.iter().cloned()),
            client,
            secrets,
            jwks_keys,
        }
    }

    /// Whether the client's secret matches one of its unexpired secrets.
    pub fn check_secret(&self, keys: &Keys, presented: &str, t: i64) -> bool {
        self.match_secret(keys, presented, t).is_some()
    }

    /// The unexpired secret `presented` matches, if any.
    pub fn match_secret(&self, keys: &Keys, presented: &str, t: i64) -> Option<&SecretEntry> {
        // Hash once; compare against each stored hash in constant time.
        let h = keys.hash(presented);
        let mut found = None;
        for s in &self.secrets {
            if s.expires_at.is_none_or(|e| e > t) && crate::crypto::ct_eq(&h, &s.hash) {
                found = Some(s);
            }
        }
        found
    }
}

/// The associated data binding an encrypted client secret to its row.
pub fn secret_aad(client_id: &str, secret_id: &str) -> String {
    format!("client-secret:{client_id}:{secret_id}")
}

/// The in-memory registry.
#[derive(Default)]
pub struct Registry {
    clients: ArcSwap<HashMap<String, Arc<ClientEntry>>>,
    scopes: ArcSwap<HashMap<String, Scope>>,
    origin: String,
    /// Held while a reload reads the store and swaps its result in, so that a full reload that
    /// read before a change can never overwrite the fresher entry a concurrent refresh put in.
    reloading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("clients", &self.clients.load().len())
            .field("scopes", &self.scopes.load().len())
            .finish()
    }
}

impl Registry {
    /// An empty registry for the instance `origin` (named in its change announcements).
    pub fn new(origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            ..Self::default()
        }
    }

    /// The client with this id, if registered.
    pub fn client(&self, client_id: &str) -> Option<Arc<ClientEntry>> {
        self.clients.load().get(client_id).cloned()
    }

    /// The scope with this name, if registered.
    pub fn scope(&self, name: &str) -> Option<Scope> {
        self.scopes.load().get(name).cloned()
    }

    /// Every registered scope name.
    pub fn scope_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.scopes.load().keys().cloned().collect();
        v.sort();
        v
    }

    /// Re-reads every client and scope.
    pub async fn reload_all(&self, store: &Store, keys: &Keys) -> Result<(), StoreError> {
        let _serial = self.reloading.lock().await;
        let t = now();
        let clients = store.list_clients().await?;
        let secrets = store.all_client_secrets(t).await?;
        let scopes = store.list_scopes().await?;
        let mut by_client: HashMap<&str, Vec<StoredSecret>> = HashMap::new();
        for s in &secrets {
            by_client
                .entry(s.client_id.as_str())
                .or_default()
                .push(s.clone());
        }
        let map = clients
            .into_iter()
            .map(|c| {
                let s = by_client
                    .get(c.client_id.as_str())
                    .cloned()
                    .unwrap_or_default();
                (
                    c.client_id.clone(),
                    Arc::new(ClientEntry::build(c, &s, keys)),
                )
            })
            .collect();
        self.clients.store(Arc::new(map));
        self.scopes.store(Arc::new(
            scopes.into_iter().map(|s| (s.name.clone(), s)).collect(),
        ));
        Ok(())
    }

    /// Re-reads one client after a change made here, and tells the other instances.
    pub async fn reload_client(
        &self,
        store: &Store,
        keys: &Keys,
        client_id: &str,
    ) -> Result<(), StoreError> {
        self.refresh_client(store, keys, client_id).await?;
        let change = Change::Client {
            id: client_id.to_owned(),
        };
        if let Err(e) = store.announce(&self.origin, change).await {
            tracing::warn!(error = %e, "could not announce a client change; other instances catch up at their next full reload");
        }
        Ok(())
    }

    /// Re-reads one client (removing it when it no longer exists).
    pub async fn refresh_client(
        &self,
        store: &Store,
        keys: &Keys,
        client_id: &str,
    ) -> Result<(), StoreError> {
        let _serial = self.reloading.lock().await;
        let t = now();
        let entry = match store.get_client(client_id).await {
            Ok(c) => {
                let secrets = store.client_secrets(client_id, t).await?;
                Some(Arc::new(ClientEntry::build(c, &secrets, keys)))
            }
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        self.clients.rcu(|m| {
            let mut m = HashMap::clone(m);
            match &entry {
                Some(e) => {
                    m.insert(client_id.to_owned(), e.clone());
                }
                None => {
                    m.remove(client_id);
                }
            }
            m
        });
        Ok(())
    }

    /// Re-reads the scopes after a change made here, and tells the other instances.
    pub async fn reload_scopes(&self, store: &Store) -> Result<(), StoreError> {
        self.refresh_scopes(store).await?;
        if let Err(e) = store.announce(&self.origin, Change::Scopes).await {
            tracing::warn!(error = %e, "could not announce a scope change; other instances catch up at their next full reload");
        }
        Ok(())
    }

    /// Re-reads the scopes.
    pub async fn refresh_scopes(&self, store: &Store) -> Result<(), StoreError> {
        let _serial = self.reloading.lock().await;
        let scopes = store.list_scopes().await?;
        self.scopes.store(Arc::new(
            scopes.into_iter().map(|s| (s.name.clone(), s)).collect(),
        ));
        Ok(())
    }
}
