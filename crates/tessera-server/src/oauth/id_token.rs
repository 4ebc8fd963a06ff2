//! OpenID Connect ID tokens (Core §2, §3.1.3.6): always RS256, which every OpenID Connect client
//! must accept, with `nonce`, `auth_time`, `azp` and `at_hash`.

use crate::issue::IssueError;
use crate::model::now;
use crate::state::AppState;
use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use tessera_jose::Algorithm;

/// What goes into an ID token.
#[derive(Debug)]
pub struct IdTokenInput<'a> {
    /// The user id (`sub`).
    pub sub: &'a str,
    /// The client (`aud` and `azp`).
    pub client_id: &'a str,
    /// When the user authenticated.
    pub auth_time: i64,
    /// The `nonce` of the authorization request.
    pub nonce: Option<&'a str>,
    /// The access token issued with it, for `at_hash`.
    pub access_token: &'a str,
    /// Lifetime in seconds.
    pub lifetime: u64,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: String,
    azp: &'a str,
}

/// `at_hash` (Core §3.1.3.6): the left half of the SHA-256 of the access token, base64url.
pub fn at_hash(access_token: &str) -> String {
    let d = digest::digest(&digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

/// Signs an ID token with the current RS256 key.
pub fn sign(state: &AppState, input: &IdTokenInput<'_>) -> Result<String, IssueError> {
    let keys = state.keyring.current();
    let signer = keys
        .signers
        .get(&Algorithm::RS256)
        .ok_or(IssueError::NoKey(Algorithm::RS256))?;
    let iat = now();
    let claims = Claims {
        iss: &state.issuer,
        sub: input.sub,
        aud: input.client_id,
        exp: iat + input.lifetime as i64,
        iat,
        auth_time: input.auth_time,
        nonce: input.nonce,
        at_hash: at_hash(input.access_token),
        azp: input.client_id,
    };
    let payload = serde_json::to_vec(&claims).map_err(|e| IssueError::Sign(e.to_string()))?;
    signer
        .key
        .sign_with_encoded_header(&signer.jwt_header, &payload)
        .map_err(|e| IssueError::Sign(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::at_hash;

    #[test]
    fn at_hash_of_the_core_spec_example() {
        // OpenID Connect Core, Appendix A.3 (access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
