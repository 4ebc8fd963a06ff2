//! JWT access token validation (RFC 9068 §4, RFC 8725 §3): header (`alg` allow-list, `typ`,
//! `crit`), claims (`iss`, `aud`, `exp`, `nbf`, `iat`), then the signature.
//!
//! The checks that need no key run first, so a token that would be refused anyway never causes a
//! JWKS refetch nor costs a signature check.

use crate::config::TypPolicy;
use crate::error::TokenError;
use crate::jwks::KeySet;
use crate::token::{TokenSource, VerifiedToken};
use serde_json::{Map, Value};
use tessera_jose::{Algorithm, JoseError, UnverifiedJws};

/// What a JWT access token must satisfy.
pub(crate) struct JwtPolicy {
    pub(crate) issuer: String,
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) leeway: i64,
    pub(crate) typ: TypPolicy,
}

/// A JWS whose header and claims passed; its signature is not checked yet.
pub(crate) struct Prechecked<'t> {
    jws: UnverifiedJws<'t>,
    alg: Algorithm,
    claims: VerifiedToken,
}

impl JwtPolicy {
    /// Header and claims checks at time `now` (seconds since the epoch).
    pub(crate) fn precheck<'t>(
        &self,
        jws: UnverifiedJws<'t>,
        now: i64,
    ) -> Result<Prechecked<'t>, TokenError> {
        // RFC 7515 §4.1.11: a `crit` the recipient does not understand makes the JWS invalid.
        if jws.header.crit.is_some() {
            return Err(TokenError::Crit);
        }
        // RFC 8725 §3.1: only allow-listed algorithms; `none` does not even parse.
        let alg = jws.header.algorithm().map_err(|_| TokenError::Algorithm)?;
        if !self.algorithms.contains(&alg) {
            return Err(TokenError::Algorithm);
        }
        // RFC 9068 §4 / RFC 8725 §3.11: explicit typing.
        if !self.typ.accepts(jws.header.typ.as_deref()) {
            return Err(TokenError::Typ);
        }
        let claims: Map<String, Value> = jws
            .claims()
            .map_err(|_| TokenError::Malformed("the claims are not a JSON object"))?;
        let source = TokenSource::Jwt {
            alg,
            kid: jws.header.kid.clone(),
        };
        let claims = VerifiedToken::from_claims(claims, source)?;
        if claims.issuer() != Some(self.issuer.as_str()) {
            return Err(TokenError::Issuer);
        }
        if !claims
            .audience()
            .iter()
            .any(|a| self.audiences.iter().any(|ok| ok == a))
        {
            return Err(TokenError::Audience);
        }
        check_times(&claims, now, self.leeway, true)?;
        Ok(Prechecked { jws, alg, claims })
    }
}

/// `exp`, `nbf` and `iat` against `now` with `leeway` seconds (RFC 7519 §4.1.4–4.1.6).
pub(crate) fn check_times(
    t: &VerifiedToken,
    now: i64,
    leeway: i64,
    exp_required: bool,
) -> Result<(), TokenError> {
    match t.expires_at_unix() {
        Some(exp) if now >= exp.saturating_add(leeway) => return Err(TokenError::Expired),
        None if exp_required => return Err(TokenError::Claim("exp")),
        _ => {}
    }
    if t.not_before_unix()
        .is_some_and(|nbf| nbf > now.saturating_add(leeway))
    {
        return Err(TokenError::NotYetValid);
    }
    if t.issued_at_unix()
        .is_some_and(|iat| iat > now.saturating_add(leeway))
    {
        return Err(TokenError::IssuedInFuture);
    }
    Ok(())
}

impl Prechecked<'_> {
    /// The header `kid`.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.jws.header.kid.as_deref()
    }

    /// The header `alg`, already allowed.
    pub(crate) fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Checks the signature with the candidate keys of `keys`; the claims are released only if one
    /// verifies.
    pub(crate) fn verify_with(self, keys: &KeySet) -> Result<VerifiedToken, TokenError> {
        let mut tried = false;
        let mut verified = false;
        for key in keys.candidates(self.kid(), self.alg) {
            tried = true;
            match self.jws.verify(key, &[self.alg]) {
                Ok(_) => {
                    verified = true;
                    break;
                }
                Err(JoseError::BadSignature | JoseError::KeyMismatch(_)) => continue,
                Err(JoseError::UnsupportedAlgorithm(_)) => return Err(TokenError::Algorithm),
                Err(_) => return Err(TokenError::BadSignature),
            }
        }
        if verified {
            return Ok(self.claims);
        }
        Err(if tried {
            TokenError::BadSignature
        } else {
            TokenError::UnknownKey
        })
    }
}
