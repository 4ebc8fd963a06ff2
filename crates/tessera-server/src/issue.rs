//! Minting access tokens: RFC 9068 JWTs signed with the ring's current key, or opaque tokens of
//! which only a keyed hash is stored.

use crate::crypto::random_bytes;
use crate::model::{StoredToken, now};
use crate::registry::ClientEntry;
use crate::state::AppState;
use crate::store::StoreError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};
use tessera_jose::Algorithm;
use tessera_proto::jwt::Audience;
use tessera_proto::{ScopeSet, TokenFormat};

/// Prefix of opaque access tokens, so leak scanners can find them.
pub const OPAQUE_PREFIX: &str = "tat_";

/// What to put in an access token.
#[derive(Debug)]
pub struct Grant<'a> {
    /// The client.
    pub client: &'a ClientEntry,
    /// Subject: the client id, or the user.
    pub sub: &'a str,
    /// Granted scopes.
    pub scope: &'a ScopeSet,
    /// Audiences.
    pub aud: Vec<String>,
    /// Time of the user's authentication.
    pub auth_time: Option<i64>,
}

/// An issued access token.
#[derive(Debug)]
pub struct Issued {
    /// The token.
    pub token: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// Token id.
    pub jti: String,
}

/// Why a token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// No signing key for the algorithm.
    #[error("no signing key for {0}")]
    NoKey(Algorithm),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// Storing an opaque token failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The claims of a JWT access token (RFC 9068 §2.2), as serialized into its payload; also built
/// by [`crate::token_size`] to measure a client's largest token.
#[derive(Serialize)]
pub(crate) struct Claims<'a> {
    pub(crate) iss: &'a str,
    pub(crate) sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) aud: Option<Audience>,
    pub(crate) exp: i64,
    pub(crate) iat: i64,
    pub(crate) jti: &'a str,
    pub(crate) client_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub(crate) scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) auth_time: Option<i64>,
    #[serde(flatten)]
    pub(crate) extra: &'a Map<String, Value>,
}

/// A fresh token id: 128 random bits.
pub fn new_jti() -> Result<String, IssueError> {
    let b = random_bytes::<16>().map_err(|e| IssueError::Sign(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

/// Issues an access token for `grant` in the client's format.
pub async fn access_token(state: &AppState, grant: &Grant<'_>) -> Result<Issued, IssueError> {
    let c = &grant.client.client;
    let lifetime = c
        .access_token_lifetime
        .unwrap_or(state.config.tokens.default_lifetime_secs)
        .clamp(1, state.config.tokens.max_lifetime_secs);
    let iat = now();
    let exp = iat + lifetime as i64;
    let jti = new_jti()?;
    let scope = grant.scope.to_string();
    let format = c
        .access_token_format
        .unwrap_or(state.config.tokens.default_format);
    let token = match format {
        TokenFormat::Jwt => {
            let alg = c
                .access_token_signing_alg
                .unwrap_or(state.config.tokens.signing_alg);
            let keys = state.keyring.current();
            let signer = keys.signers.get(&alg).ok_or(IssueError::NoKey(alg))?;
            let claims = Claims {
                iss: &state.issuer,
                sub: grant.sub,
                aud: Audience::from_vec(grant.aud.clone()),
                exp,
                iat,
                jti: &jti,
                client_id: &c.client_id,
                scope: &scope,
                auth_time: grant.auth_time,
                extra: &c.extra_claims,
            };
            let payload =
                serde_json::to_vec(&claims).map_err(|e| IssueError::Sign(e.to_string()))?;
            signer
                .key
                .sign_with_encoded_header(&signer.at_header, &payload)
                .map_err(|e| IssueError::Sign(e.to_string()))?
        }
        TokenFormat::Opaque => {
            let raw = random_bytes::<32>().map_err(|e| IssueError::Sign(e.to_string()))?;
            let token = format!("{OPAQUE_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
            let row = StoredToken {
                hash: state.keys.hash(&token),
                jti: jti.clone(),
                client_id: c.client_id.clone(),
                sub: grant.sub.to_owned(),
                scope,
                aud: serde_json::to_string(&grant.aud)
                    .map_err(|e| IssueError::Sign(e.to_string()))?,
                iat,
                exp,
                revoked: false,
                extra: serde_json::to_string(&c.extra_claims)
                    .map_err(|e| IssueError::Sign(e.to_string()))?,
            };
            // Boxed: the store's future would otherwise enlarge every JWT request's.
            Box::pin(state.opaque.write(row)).await?;
            token
        }
    };
    Ok(Issued {
        token,
        expires_in: lifetime,
        jti,
    })
}
