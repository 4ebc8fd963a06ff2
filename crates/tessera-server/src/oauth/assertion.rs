//! Client authentication by JWT assertion: `client_secret_jwt` and `private_key_jwt`
//! (RFC 7523 §3, OpenID Connect Core §9), and the key lookup, signature and claim checks it
//! shares with the JWT bearer grant (`grants::jwt_bearer`).

use crate::registry::ClientEntry;
use crate::state::AppState;
use crate::store::StoreError;
use secrecy::ExposeSecret;
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

/// The `sub` (client id) of an assertion and the method its header's `alg` makes it
/// (`client_secret_jwt` for `HS…`, `private_key_jwt` otherwise), read before verification to
/// find the client and to name the method in the audit log and the server log.
pub fn claimed_client(assertion: &str) -> Option<(String, ClientAuthMethod)> {
    let jws = UnverifiedJws::parse(assertion).ok()?;
    let claims: Map<String, Value> = jws.claims().ok()?;
    let id = claims
        .get("sub")
        .or_else(|| claims.get("iss"))
        .and_then(Value::as_str)?;
    let method = if jws.header.alg.starts_with("HS") {
        ClientAuthMethod::ClientSecretJwt
    } else {
        ClientAuthMethod::PrivateKeyJwt
    };
    Some((id.to_owned(), method))
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
    // The algorithm says which method the assertion is: an HMAC one is client_secret_jwt, any
    // other private_key_jwt. The client must list that method.
    let method = if alg.is_hmac() {
        ClientAuthMethod::ClientSecretJwt
    } else {
        ClientAuthMethod::PrivateKeyJwt
    };
    if !c.accepts(method) {
        let jwt_methods: Vec<ClientAuthMethod> = c
            .token_endpoint_auth_methods
            .iter()
            .copied()
            .filter(|m| {
                matches!(
                    m,
                    ClientAuthMethod::ClientSecretJwt | ClientAuthMethod::PrivateKeyJwt
                )
            })
            .collect();
        return Err(AssertionError::Unproven(match jwt_methods.as_slice() {
            [ClientAuthMethod::ClientSecretJwt] => format!(
                "client_secret_jwt assertions are signed with HS256, HS384 or HS512, not {alg}"
            ),
            [ClientAuthMethod::PrivateKeyJwt] => format!(
                "private_key_jwt assertions are signed with the client's private key, not {alg}"
            ),
            _ => format!(
                "the client is registered for {}, not a JWT assertion",
                c.auth_methods_text()
            ),
        }));
    }
    if let Some(registered) = c.token_endpoint_auth_signing_alg
        && registered != alg
    {
        return Err(AssertionError::Unproven(format!(
            "the client is registered for {registered} assertions, this one is {alg}"
        )));
    }
    let candidates: Vec<VerifyingKey> = if method == ClientAuthMethod::ClientSecretJwt {
        let live: Vec<&str> = client
            .secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|e| e > crate::model::now()))
            .filter_map(|s| s.plain.as_ref())
            .map(|p| p.expose_secret())
            .collect();
        let needed = hmac_output_bits(alg);
        let strong: Vec<VerifyingKey> = live
            .iter()
            .filter(|p| secret_bits(p) >= needed)
            .map(|p| VerifyingKey::hmac(p.as_bytes()))
            .collect();
        if strong.is_empty() && !live.is_empty() {
            let most = live.iter().map(|p| secret_bits(p)).max().unwrap_or(0);
            return Err(AssertionError::Unproven(format!(
                "the client's secret is too weak for {alg}: RFC 7518 §3.2 wants an HMAC key at least as long as the hash output ({needed} bits), the secret carries at most {most}; sign with HS256 or set a longer secret"
            )));
        }
        strong
    } else {
        let kid = jws.header.kid.as_deref();
        keys_for_kid(
            registered_public_keys(state, client, kid)
                .await
                .map_err(AssertionError::Unproven)?,
            kid,
        )
    };
    if candidates.is_empty() {
        return Err(AssertionError::Unproven(
            "no registered key can verify the client_assertion".into(),
        ));
    }
    if !signed_by_any(&jws, &candidates, alg) {
        return Err(AssertionError::Unproven(
            "the client_assertion signature does not verify".into(),
        ));
    }
    check_claims(state, c.client_id.as_str(), &jws, audiences).await
}

/// The public keys a client registered: those of its `jwks`, and those published at its
/// `jwks_uri` (fetched, or refetched when none has the key id `kid`). The error, about fetching
/// the `jwks_uri`, is for the server log.
pub async fn registered_public_keys(
    state: &AppState,
    client: &ClientEntry,
    kid: Option<&str>,
) -> Result<Vec<VerifyingKey>, String> {
    let mut keys = client.jwks_keys.clone();
    if let Some(uri) = &client.client.jwks_uri {
        keys.extend(state.remote_jwks.keys(uri, kid).await?);
    }
    Ok(keys)
}

/// The keys of `keys` that may have signed a JWS whose header names the key id `kid`: all of
/// them when it names none, else those with that `kid` or with none.
pub fn keys_for_kid(keys: Vec<VerifyingKey>, kid: Option<&str>) -> Vec<VerifyingKey> {
    keys.into_iter()
        .filter(|k| kid.is_none_or(|want| k.kid().is_none_or(|have| have == want)))
        .collect()
}

/// Whether one of `keys` verifies the signature of `jws` made with `alg` (and only `alg`).
pub fn signed_by_any(jws: &UnverifiedJws<'_>, keys: &[VerifyingKey], alg: Algorithm) -> bool {
    keys.iter().any(|k| jws.verify(k, &[alg]).is_ok())
}

async fn check_claims(
    state: &AppState,
    client_id: &str,
    jws: &UnverifiedJws<'_>,
    audiences: &[&str],
) -> Result<(), AssertionError> {
    let claims: Map<String, Value> = jws.claims().map_err(|e| e.to_string())?;
    let s = |name: &str| claims.get(name).and_then(Value::as_str);
    if s("iss") != Some(client_id) || s("sub") != Some(client_id) {
        return Err(AssertionError::from(
            "the client_assertion's iss and sub must both be the client id",
        ));
    }
    check_shared_claims(
        state,
        &claims,
        &ClaimRules {
            name: "client_assertion",
            audiences,
            jti_required: true,
            replay_key: client_id,
            lifetime_from_iat: false,
        },
    )
    .await
}

/// How [`check_shared_claims`] checks one kind of assertion.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRules<'a> {
    /// The parameter that carried the assertion, to name it in messages (`client_assertion`,
    /// `assertion`).
    pub name: &'a str,
    /// The accepted `aud` values: one of them must be in the assertion's `aud`.
    pub audiences: &'a [&'a str],
    /// Whether `jti` is required (client authentication) or checked only when present.
    pub jti_required: bool,
    /// Who the `jti` is unique for: the assertion's issuer (RFC 7519 §4.1.7). Client assertions
    /// and self-issued grant assertions share the client id, so one JWT serves once in either role.
    pub replay_key: &'a str,
    /// Whether, with an `iat`, the whole lifetime `exp` − `iat` must fit
    /// `client_auth.assertion_max_lifetime_secs` (RFC 7523 §3 item 6: an assertion issued long
    /// ago may be refused), not only what is left of it.
    pub lifetime_from_iat: bool,
}

/// The checks every assertion shares once its signature verified (RFC 7523 §3, items 3 to 7):
/// `aud` names one of the accepted audiences; `exp` present, not past and at most
/// `client_auth.assertion_max_lifetime_secs` ahead (and, when the rules ask, issued for no longer
/// than that); `nbf` and `iat` not in the future (all with
/// `client_auth.clock_skew_secs` of leeway); a `jti` (1 to 256 characters) never seen before from
/// this issuer while the assertion is unexpired, which records it. Every error is
/// [`AssertionError::Invalid`] (the text never quotes the assertion) or, for the replay store,
/// [`AssertionError::Store`].
pub async fn check_shared_claims(
    state: &AppState,
    claims: &Map<String, Value>,
    rules: &ClaimRules<'_>,
) -> Result<(), AssertionError> {
    let name = rules.name;
    let audiences = rules.audiences;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(&a.as_str()),
        Some(Value::Array(v)) => v
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.contains(&a)),
        _ => false,
    };
    if !aud_ok {
        let mut shown: Vec<&str> = Vec::new();
        for a in audiences {
            if !shown.contains(a) {
                shown.push(a);
            }
        }
        return Err(AssertionError::from(format!(
            "the {name}'s aud must name this server: {}",
            shown.join(" or ")
        )));
    }
    let cfg = &state.config.client_auth;
    // Claim values are anything a signer chose: every sum and difference below saturates, so
    // extreme values are refused as out of range and never overflow.
    let skew = i64::try_from(cfg.clock_skew_secs).unwrap_or(i64::MAX);
    let max_lifetime = i64::try_from(cfg.assertion_max_lifetime_secs).unwrap_or(i64::MAX);
    let now = crate::model::now();
    let exp = numeric_date(claims, "exp", name)?.ok_or_else(|| format!("the {name} has no exp"))?;
    if exp.saturating_add(skew) <= now {
        return Err(AssertionError::from(format!(
            "the {name} expired {} s ago (check the signer's clock)",
            now.saturating_sub(exp)
        )));
    }
    if exp > now.saturating_add(max_lifetime).saturating_add(skew) {
        return Err(AssertionError::from(format!(
            "the {name}'s exp is {} s ahead; at most {} s is accepted: sign it to expire sooner (or check the signer's clock)",
            exp.saturating_sub(now),
            cfg.assertion_max_lifetime_secs
        )));
    }
    let iat = numeric_date(claims, "iat", name)?;
    if rules.lifetime_from_iat
        && let Some(iat) = iat
        && exp.saturating_sub(iat) > max_lifetime.saturating_add(skew)
    {
        return Err(AssertionError::from(format!(
            "the {name} was issued for {} s (exp - iat); at most {} s is accepted",
            exp.saturating_sub(iat),
            cfg.assertion_max_lifetime_secs
        )));
    }
    if numeric_date(claims, "nbf", name)?.is_some_and(|nbf| nbf > now.saturating_add(skew)) {
        return Err(AssertionError::from(format!(
            "the {name} is not valid yet (nbf is in the future; check the signer's clock)"
        )));
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(skew)) {
        return Err(AssertionError::from(format!(
            "the {name}'s iat is in the future (check the signer's clock)"
        )));
    }
    let jti = match claims.get("jti") {
        None if !rules.jti_required => return Ok(()),
        None => return Err(AssertionError::from(format!("the {name} has no jti"))),
        Some(v) => v.as_str().unwrap_or_default(),
    };
    if jti.is_empty() || jti.len() > 256 {
        return Err(AssertionError::from(format!(
            "the {name}'s jti must be a string of 1 to 256 characters"
        )));
    }
    match state
        .store
        .use_assertion(rules.replay_key, jti, exp.saturating_add(skew))
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(AssertionError::from(format!(
            "the {name}'s jti was already used (replay)"
        ))),
        Err(e) => Err(AssertionError::Store(e)),
    }
}

/// The time claim `claim` (RFC 7519 §2 NumericDate) of the assertion `name`, when present: a whole
/// number of seconds that fits an `i64`. Anything else (a fraction, a string, a number out of
/// range such as `1e300` or 2^64 − 1) is refused rather than read as absent.
fn numeric_date(
    claims: &Map<String, Value>,
    claim: &str,
    name: &str,
) -> Result<Option<i64>, AssertionError> {
    match claims.get(claim) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            AssertionError::from(format!(
                "the {name}'s {claim} must be a whole number of seconds since 1970 (RFC 7519 NumericDate)"
            ))
        }),
    }
}

/// The length of the output of an HMAC algorithm, in bits: the least key strength RFC 7518 §3.2
/// accepts for it.
fn hmac_output_bits(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 384,
        Algorithm::HS512 => 512,
        _ => 256,
    }
}

/// The bits of key a client secret gives an HMAC, as RFC 7518 §3.2 counts them: 8 per byte, except
/// for a secret of the form this server generates (the `tsec_` prefix and base64url random bytes),
/// which carries 6 per character after the prefix (258 bits for a generated one, 516 for a
/// `client_secret_jwt` client's).
fn secret_bits(secret: &str) -> usize {
    match secret.strip_prefix(crate::client_secret::SECRET_PREFIX) {
        Some(body)
            if body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            body.len().saturating_mul(6)
        }
        _ => secret.len().saturating_mul(8),
    }
}
