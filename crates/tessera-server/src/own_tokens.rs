//! Checking tokens this server issued: JWTs by signature against the ring, opaque ones by their
//! stored hash; both against revocation.

use crate::issue::OPAQUE_PREFIX;
use crate::keyring::SIGNING_ALGORITHMS;
use crate::model::now;
use crate::state::AppState;
use crate::store::StoreError;
use serde_json::{Map, Value};
use tessera_jose::UnverifiedJws;
use tessera_proto::jwt::ACCESS_TOKEN_TYP;

/// An access token this server issued and that is active.
#[derive(Debug, Clone)]
pub struct ActiveToken {
    /// Its claims (for opaque tokens, rebuilt from the stored row).
    pub claims: Map<String, Value>,
    /// Token id.
    pub jti: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Expiry.
    pub exp: i64,
    /// Whether it is a JWT (else opaque).
    pub is_jwt: bool,
}

/// A JWT access token signed by one of this server's keys and issued by it, not yet expired;
/// revocation is not checked here.
pub fn verify_jwt_signature(state: &AppState, token: &str) -> Option<ActiveToken> {
    let jws = UnverifiedJws::parse(token).ok()?;
    if jws.header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
        return None;
    }
    let keys = state.keyring.current();
    let key = keys.verifiers.get(jws.header.kid.as_deref()?)?;
    jws.verify(key, &SIGNING_ALGORITHMS).ok()?;
    let claims: Map<String, Value> = jws.claims().ok()?;
    if claims.get("iss").and_then(Value::as_str) != Some(state.issuer.as_str()) {
        return None;
    }
    let exp = claims.get("exp").and_then(Value::as_i64)?;
    if exp <= now() {
        return None;
    }
    Some(ActiveToken {
        jti: claims.get("jti").and_then(Value::as_str)?.to_owned(),
        client_id: claims.get("client_id").and_then(Value::as_str)?.to_owned(),
        exp,
        claims,
        is_jwt: true,
    })
}

/// Whether the client a token was issued to is still registered and enabled: a deleted or
/// disabled client's tokens stop being active at once, whatever their `exp`.
pub fn client_active(state: &AppState, client_id: &str) -> bool {
    state
        .registry
        .client(client_id)
        .is_some_and(|c| c.client.enabled)
}

/// The token if it is one of ours and active (signature or stored row, expiry, revocation, and
/// its client registered and enabled).
pub async fn lookup(state: &AppState, token: &str) -> Result<Option<ActiveToken>, StoreError> {
    if token.starts_with(OPAQUE_PREFIX) {
        let Some(row) = state.store.get_token(&state.keys.hash(token)).await? else {
            return Ok(None);
        };
        if row.revoked || row.exp <= now() {
            return Ok(None);
        }
        if !client_active(state, &row.client_id) {
            return Ok(None);
        }
        let mut claims: Map<String, Value> = serde_json::from_str(&row.extra).unwrap_or_default();
        let aud: Vec<String> = serde_json::from_str(&row.aud).unwrap_or_default();
        claims.insert("iss".into(), state.issuer.clone().into());
        claims.insert("sub".into(), row.sub.clone().into());
        claims.insert("client_id".into(), row.client_id.clone().into());
        if !row.scope.is_empty() {
            claims.insert("scope".into(), row.scope.clone().into());
        }
        claims.insert("exp".into(), row.exp.into());
        claims.insert("iat".into(), row.iat.into());
        claims.insert("jti".into(), row.jti.clone().into());
        match aud.len() {
            0 => {}
            1 => {
                claims.insert("aud".into(), aud[0].clone().into());
            }
            _ => {
                claims.insert("aud".into(), aud.into());
            }
        }
        return Ok(Some(ActiveToken {
            claims,
            jti: row.jti,
            client_id: row.client_id,
            exp: row.exp,
            is_jwt: false,
        }));
    }
    let Some(active) = verify_jwt_signature(state, token) else {
        return Ok(None);
    };
    if !client_active(state, &active.client_id) {
        return Ok(None);
    }
    if state.store.is_jwt_revoked(&active.jti).await? {
        return Ok(None);
    }
    Ok(Some(active))
}
