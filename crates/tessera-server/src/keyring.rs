//! The signing keys in memory: which key signs for each algorithm now, and the published JWKS.
//!
//! Keys live encrypted in the store. A key is published from its creation and signs from its
//! `activates_at`; a rotation creates the next key `publish_ahead_secs` before it signs, so every
//! verifier's cached JWKS knows it first, and retires the old key, which stays published until
//! every token it signed has expired. The ring re-reads the table periodically, so activation
//! happens on time and every instance follows the same schedule.

use crate::crypto::{Keys, random_id};
use crate::model::{StoredKey, now};
use crate::store::changes::Change;
use crate::store::{Store, StoreError};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;
use tessera_jose::{Algorithm, JwkSet, SigningKey, VerifyingKey};

/// The algorithms Tessera keeps a key for.
pub const SIGNING_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA];

/// A key that signs access tokens, with its encoded `at+jwt` and `JWT` headers ready.
#[derive(Debug)]
pub struct Signer {
    /// The key.
    pub key: SigningKey,
    /// base64url of `{"alg":…,"typ":"at+jwt","kid":…}`.
    pub at_header: String,
    /// base64url of `{"alg":…,"typ":"JWT","kid":…}`.
    pub jwt_header: String,
}

/// One consistent view of the keys.
#[derive(Debug, Default)]
pub struct KeyState {
    /// The signer of each algorithm.
    pub signers: HashMap<Algorithm, Arc<Signer>>,
    /// Public keys of every published key, by kid.
    pub verifiers: HashMap<String, VerifyingKey>,
    /// The published JWKS, serialized.
    pub jwks_json: String,
    /// Stored rows, for `tessera key list`.
    pub rows: Vec<KeyInfo>,
}

/// What `tessera key list` and the admin API show of a key.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Key)]
pub struct KeyInfo {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: String,
    /// `next` (published, not yet signing), `active`, or `retired` (published, not signing).
    #[schema(schema_with = crate::admin::openapi::fields::key_state)]
    pub state: &'static str,
    /// Creation time.
    pub created_at: i64,
    /// When it starts (or started) signing.
    pub activates_at: i64,
    /// When it stopped signing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
    /// When it leaves the JWKS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove_at: Option<i64>,
}

/// Why keys could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored key could not be decrypted or parsed.
    #[error("signing key {kid}: {reason}")]
    Bad {
        /// Key id.
        kid: String,
        /// Why.
        reason: String,
    },
    /// No key could be made.
    #[error("cannot create a signing key: {0}")]
    Create(String),
}

/// The key ring, swapped atomically on reload.
#[derive(Debug)]
pub struct KeyRing {
    state: ArcSwap<KeyState>,
    origin: String,
    /// Serializes reloads so an older read never replaces a newer one.
    reloading: tokio::sync::Mutex<()>,
}

impl Default for KeyRing {
    fn default() -> Self {
        Self::new("local")
    }
}

/// The associated data binding an encrypted signing key to its kid.
pub(crate) fn key_aad(kid: &str) -> String {
    format!("signing-key:{kid}")
}

impl KeyRing {
    /// An empty ring for the instance `origin` (named in its change announcements).
    pub fn new(origin: impl Into<String>) -> Self {
        Self {
            state: ArcSwap::from_pointee(KeyState::default()),
            origin: origin.into(),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    async fn announce(&self, store: &Store) {
        if let Err(e) = store.announce(&self.origin, Change::Keys).await {
            tracing::warn!(error = %e, "could not announce a key change; other instances catch up at their next reload");
        }
    }

    /// The current view.
    pub fn current(&self) -> arc_swap::Guard<Arc<KeyState>> {
        self.state.load()
    }

    /// Whether every algorithm has a signer.
    pub fn is_ready(&self) -> bool {
        let s = self.state.load();
        SIGNING_ALGORITHMS.iter().all(|a| s.signers.contains_key(a))
    }

    /// Re-reads the keys from the store.
    pub async fn reload(&self, store: &Store, keys: &Keys) -> Result<(), KeyError> {
        let _serial = self.reloading.lock().await;
        let t = now();
        let rows = store.list_keys(t).await?;
        // The newest active key of each algorithm signs: latest `activates_at`, then latest
        // `created_at` (strictly increasing per algorithm, see `create_key`).
        let mut signers: HashMap<Algorithm, ((i64, i64), Arc<Signer>)> = HashMap::new();
        let mut verifiers = HashMap::new();
        let mut jwks = JwkSet::default();
        let mut infos = Vec::new();
        for row in rows {
            let bad = |reason: String| KeyError::Bad {
                kid: row.kid.clone(),
                reason,
            };
            let alg = Algorithm::parse(&row.alg).map_err(|e| bad(e.to_string()))?;
            let jwk: tessera_jose::Jwk =
                serde_json::from_str(&row.public_jwk).map_err(|e| bad(e.to_string()))?;
            let retired = row.retired_at.is_some_and(|r| r <= t);
            let state = if row.activates_at > t {
                "next"
            } else if retired {
                "retired"
            } else {
                "active"
            };
            infos.push(KeyInfo {
                kid: row.kid.clone(),
                alg: row.alg.clone(),
                state,
                created_at: row.created_at,
                activates_at: row.activates_at,
                retired_at: row.retired_at,
                remove_at: row.remove_at,
            });
            verifiers.insert(
                row.kid.clone(),
                VerifyingKey::from_jwk(&jwk).map_err(|e| bad(e.to_string()))?,
            );
            jwks.keys.push(jwk);
            if state == "active"
                && signers
                    .get(&alg)
                    .is_none_or(|(at, _)| *at < (row.activates_at, row.created_at))
            {
                let der = keys
                    .decrypt(&key_aad(&row.kid), &row.encrypted_pkcs8)
                    .map_err(|e| bad(e.to_string()))?;
                let key = SigningKey::from_pkcs8_der(alg, &der)
                    .map_err(|e| bad(e.to_string()))?
                    .with_kid(row.kid.clone());
                let signer = Signer {
                    at_header: key.encoded_header(Some(tessera_proto::jwt::ACCESS_TOKEN_TYP)),
                    jwt_header: key.encoded_header(Some("JWT")),
                    key,
                };
                signers.insert(alg, ((row.activates_at, row.created_at), Arc::new(signer)));
            }
        }
        let jwks_json =
            serde_json::to_string(&jwks).map_err(|e| KeyError::Create(e.to_string()))?;
        self.state.store(Arc::new(KeyState {
            signers: signers.into_iter().map(|(a, (_, s))| (a, s)).collect(),
            verifiers,
            jwks_json,
            rows: infos,
        }));
        Ok(())
    }

    /// Creates a key for each algorithm that has none active or coming, signing at once; used on
    /// first start.
    ///
    /// Instances that start together on one empty database must not each make a set: the keys
    /// are made under a lease, and an instance that finds the lease taken waits for the keys the
    /// holder makes (or for the lease to expire, should the holder die).
    pub async fn ensure_keys(&self, store: &Store, keys: &Keys) -> Result<(), KeyError> {
        let deadline = std::time::Instant::now() + KEY_LEASE_WAIT;
        loop {
            if missing_algorithms(store).await?.is_empty() {
                return self.reload(store, keys).await;
            }
            let t = now();
            if store
                .try_lease(KEY_LEASE, &self.origin, t, t + KEY_LEASE_SECS)
                .await?
            {
                // Check again under the lease: another instance may have made them just before.
                let made = async {
                    let t = now();
                    for alg in missing_algorithms(store).await? {
                        create_key(store, keys, alg, t).await?;
                    }
                    Ok::<(), KeyError>(())
                }
                .await;
                let _ = store.release_lease(KEY_LEASE, &self.origin).await;
                made?;
                self.reload(store, keys).await?;
                self.announce(store).await;
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(KeyError::Create(
                    "another instance holds the signing-key lease and made no keys in time".into(),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Rotates the keys of `algs`: a new key is published now and signs after `publish_ahead`
    /// seconds; the current keys retire then and leave the JWKS `max_token_lifetime` later.
    /// Returns the new key ids.
    pub async fn rotate(
        &self,
        store: &Store,
        keys: &Keys,
        algs: &[Algorithm],
        publish_ahead: i64,
        max_token_lifetime: i64,
    ) -> Result<Vec<String>, KeyError> {
        let t = now();
        let activates = t + publish_ahead;
        let rows = store.list_keys(t).await?;
        let mut kids = Vec::new();
        for &alg in algs {
            for r in rows
                .iter()
                .filter(|r| r.alg == alg.as_str() && r.retired_at.is_none())
            {
                store
                    .retire_key(&r.kid, activates, activates + max_token_lifetime + 60)
                    .await?;
            }
            kids.push(create_key(store, keys, alg, activates).await?);
        }
        self.reload(store, keys).await?;
        self.announce(store).await;
        Ok(kids)
    }

    /// Retires one key now; it stays published until tokens it signed have expired.
    pub async fn retire(
        &self,
        store: &Store,
        keys: &Keys,
        kid: &str,
        max_token_lifetime: i64,
    ) -> Result<(), KeyError> {
        let t = now();
        store
            .retire_key(kid, t, t + max_token_lifetime + 60)
            .await?;
        self.reload(store, keys).await?;
        self.announce(store).await;
        Ok(())
    }
}

/// The lease under which the first signing keys are made.
const KEY_LEASE: &str = "signing-keys-first-start";
/// How long the lease is held at most (generating an RSA key takes well under a second).
const KEY_LEASE_SECS: i64 = 30;
/// How long an instance waits for another's keys before it gives up starting.
const KEY_LEASE_WAIT: std::time::Duration =
    std::time::Duration::from_secs(KEY_LEASE_SECS as u64 + 15);

/// The algorithms with no key signing now or coming.
async fn missing_algorithms(store: &Store) -> Result<Vec<Algorithm>, KeyError> {
    let t = now();
    let rows = store.list_keys(t).await?;
    Ok(SIGNING_ALGORITHMS
        .into_iter()
        .filter(|alg| {
            !rows
                .iter()
                .any(|r| r.alg == alg.as_str() && r.retired_at.is_none_or(|x| x > t))
        })
        .collect())
}

async fn create_key(
    store: &Store,
    keys: &Keys,
    alg: Algorithm,
    activates_at: i64,
) -> Result<String, KeyError> {
    // The algorithm as a prefix: readable in `tessera key list`, and a kid never starts with `-`
    // (which a command line would take for a flag).
    let prefix = format!("{}-", alg.as_str().to_ascii_lowercase());
    let kid = random_id(&prefix).map_err(|e| KeyError::Create(e.to_string()))?;
    let alg2 = alg;
    let key = tokio::task::spawn_blocking(move || SigningKey::generate(alg2))
        .await
        .map_err(|e| KeyError::Create(e.to_string()))?
        .map_err(|e| KeyError::Create(e.to_string()))?
        .with_kid(kid.clone());
    let der = key
        .pkcs8_der()
        .ok_or_else(|| KeyError::Create("no PKCS#8".into()))?;
    let jwk = key
        .public_jwk()
        .ok_or_else(|| KeyError::Create("no public key".into()))?;
    // Two keys of one algorithm created within the same second (a rotation right after the first
    // start) must still be ordered: `created_at` is kept strictly increasing per algorithm.
    let t = now();
    let newest = store
        .list_keys(t)
        .await?
        .iter()
        .filter(|k| k.alg == alg.as_str())
        .map(|k| k.created_at)
        .max();
    let created_at = newest.map_or(t, |n| t.max(n + 1));
    let row = StoredKey {
        kid: kid.clone(),
        alg: alg.as_str().to_owned(),
        encrypted_pkcs8: keys
            .encrypt(&key_aad(&kid), der)
            .map_err(|e| KeyError::Create(e.to_string()))?,
        public_jwk: serde_json::to_string(&jwk).map_err(|e| KeyError::Create(e.to_string()))?,
        created_at,
        activates_at,
        retired_at: None,
        remove_at: None,
    };
    store.insert_key(&row).await?;
    Ok(kid)
}
