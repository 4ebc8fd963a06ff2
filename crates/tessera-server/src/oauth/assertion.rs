//! Client authentication by JWT assertion: `client_secret_jwt` and `private_key_jwt`
//! (RFC 7523 §3, OpenID Connect Core §9).

use crate::registry::ClientEntry;
use crate::state::AppState;
use crate::store::StoreError;
use serde_json::{Map, Value};
use tessera_jose::{Algorithm, UnverifiedJws, VerifyingKey};
use tessera_proto::ClientAuthMethod;

/// Why an assertion was refused.
#[derive(Debug)]
pub enum AssertionError {
    /// The assertion is not acceptable; the text says why. Only once its signature verified,
    /// so the caller proved it holds the client's key and may be told.
    Invalid(String),
    /// The assertion does not fit the client's registration, or its signature does not verify:
    /// the caller proved nothing, and the text describes the registration (which method, which
    /// algorithm, whether the client exists at all), so it is for the server log only.
    Unproven(String),
    /// The replay check could not reach the store.
    Store(StoreError),
}

impl From<String> for AssertionError {
    fn from(s: String) -> Self {
        Self::Invalid(s)
    }
}

impl From<&str> for AssertionError {
    fn from(s: &str) -> Self {
        Self::Invalid(s.to_owned())
    }
}

/// The `sub` (client id) of an assertion, read before verification to find the client.
pub fn claimed_client_id(assertion: &str) -> Option<String> {
    let jws = UnverifiedJws::parse(assertion).ok()?;
    let claims: Map<String, Value> = jws.claims().ok()?;
    claims
        .get("sub")
        .or_else(|| claims.get("iss"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Verifies an assertion for `client`: algorithm fits the registration, signature, `iss` = `sub`
/// = client id, `aud` names one of `audiences`, `exp` present and not too far ahead, `nbf` and
/// `iat` not in the future, `jti` present and never seen before. The error says what failed:
/// [`AssertionError::Unproven`] up to the signature, [`AssertionError::Invalid`] after it.
pub async fn verify(
    state: &AppState,
    client: &ClientEntry,
    assertion: &str,
    audiences: &[&str],
) -> Result<(), AssertionError> {
    let c = &client.client;
    let jws = UnverifiedJws::parse(assertion)
        .map_err(|e| AssertionError::Unproven(format!("client_assertion: {e}")))?;
    let alg = jws
        .header
        .algorithm()
        .map_err(|e| AssertionError::Unproven(format!("client_assertion: {e}")))?;
    let method = c.token_endpoint_auth_method;
    match method {
        ClientAuthMethod::ClientSecretJwt if !alg.is_hmac() => {
            return Err(AssertionError::Unproven(format!(
                "client_secret_jwt assertions are signed with HS256, HS384 or HS512, not {alg}"
            )));
        }
        ClientAuthMethod::PrivateKeyJwt if alg.is_hmac() => {
            return Err(AssertionError::Unproven(format!(
                "private_key_jwt assertions are signed with the client's private key, not {alg}"
            )));
        }
        ClientAuthMethod::ClientSecretJwt | ClientAuthMethod::PrivateKeyJwt => {}
        other => {
            return Err(AssertionError::Unproven(format!(
                "the client is registered for {other}, not a JWT assertion"
            )));
        }
    }
    if let Some(registered) = c.token_endpoint_auth_signing_alg
        && registered != alg
    {
        return Err(AssertionError::Unproven(format!(
            "the client is registered for {registered} assertions, this one is {alg}"
        )));
    }
    let candidates: Vec<VerifyingKey> = if method == ClientAuthMethod::ClientSecretJwt {
        client
            .secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|e| e > crate::model::now()))
            .filter_map(|s| s.plain.as_ref())
            .map(|p| VerifyingKey::hmac(p.expose().as_bytes()))
            .collect()
    } else {
        let kid = jws.header.kid.as_deref();
        let mut keys = client.jwks_keys.clone();
        if let Some(uri) = &c.jwks_uri {
            keys.extend(
                state
                    .remote_jwks
                    .keys(uri, kid)
                    .await
                    .map_err(AssertionError::Unproven)?,
            );
        }
        keys.into_iter()
            .filter(|k| kid.is_none_or(|want| k.kid().is_none_or(|have| have == want)))
            .collect()
    };
    if candidates.is_empty() {
        return Err(AssertionError::Unproven(
            "no registered key can verify the client_assertion".into(),
        ));
    }
    if !candidates.iter().any(|k| jws.verify(k, &[alg]).is_ok()) {
        return Err(AssertionError::Unproven(
            "the client_assertion signature does not verify".into(),
        ));
    }
    check_claims(state, c.client_id.as_str(), &jws, alg, audiences).await
}

async fn check_claims(
    state: &AppState,
    client_id: &str,
    jws: &UnverifiedJws<'_>,
    _alg: Algorithm,
    audiences: &[&str],
) -> Result<(), AssertionError> {
    let claims: Map<String, Value> = jws.claims().map_err(|e| e.to_string())?;
    let s = |name: &str| claims.get(name).and_then(Value::as_str);
    let n = |name: &str| claims.get(name).and_then(Value::as_i64);
    if s("iss") != Some(client_id) || s("sub") != Some(client_id) {
        return Err(AssertionError::from(
            "the client_assertion's iss and sub must both be the client id",
        ));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(&a.as_str()),
        Some(Value::Array(v)) => v
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.contains(&a)),
        _ => false,
    };
    if !aud_ok {
        return Err(AssertionError::from(format!(
            "the client_assertion's aud must be the issuer or the endpoint URL ({})",
            audiences.join(" or ")
        )));
    }
    let cfg = &state.config.client_auth;
    let skew = cfg.clock_skew_secs as i64;
    let now = crate::model::now();
    let exp = n("exp").ok_or("the client_assertion has no exp")?;
    if exp + skew <= now {
        return Err(AssertionError::from(format!(
            "the client_assertion expired {} s ago (check the client's clock)",
            now - exp
        )));
    }
    if exp > now + cfg.assertion_max_lifetime_secs as i64 + skew {
        return Err(AssertionError::from(format!(
            "the client_assertion's exp is {} s ahead; at most {} s is accepted (check the client's clock)",
            exp - now,
            cfg.assertion_max_lifetime_secs
        )));
    }
    if let Some(nbf) = n("nbf")
        && nbf > now + skew
    {
        return Err(AssertionError::from(
            "the client_assertion is not valid yet (nbf is in the future; check the client's clock)",
        ));
    }
    if let Some(iat) = n("iat")
        && iat > now + skew
    {
        return Err(AssertionError::from(
            "the client_assertion's iat is in the future (check the client's clock)",
        ));
    }
    let jti = s("jti").ok_or("the client_assertion has no jti")?;
    if jti.is_empty() || jti.len() > 256 {
        return Err(AssertionError::from(
            "the client_assertion's jti must be 1 to 256 characters",
        ));
    }
    match state.store.use_assertion(client_id, jti, exp + skew).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AssertionError::from(
            "the client_assertion's jti was already used (replay)",
        )),
        Err(e) => Err(AssertionError::Store(e)),
    }
}
