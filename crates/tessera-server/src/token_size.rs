//! The largest access token a client can get, built and signed as the token endpoint would and
//! measured, so that a client whose tokens no guard would accept (`tokens.max_jwt_bytes`, the
//! guards' 16 KiB by default) is refused when it is registered rather than when it is used.

use crate::issue::{Claims, new_jti};
use crate::model::{Client, now};
use crate::oauth::grants::jwt_bearer::MAX_SUBJECT_CHARS;
use crate::state::AppState;
use tessera_proto::jwt::Audience;
use tessera_proto::{GrantType, ScopeSet, TokenFormat};

/// The length of a user id (`usr_` and 22 characters), the `sub` of tokens issued to people.
const USER_ID_LEN: usize = 26;

/// The widest character: four bytes of UTF-8, written as is in JSON.
const WIDEST_CHAR: char = '\u{10FFFF}';

/// Whether the client can get tokens for a person (whose id is the `sub` and who has an
/// `auth_time`).
fn has_user_grants(c: &Client) -> bool {
    c.grant_types.iter().any(|g| {
        matches!(
            g,
            GrantType::AuthorizationCode
                | GrantType::DeviceCode
                | GrantType::Password
                | GrantType::RefreshToken
        )
    })
}

/// The longest `sub` the client's tokens can carry: its id (client credentials), a user id
/// (grants made by people), or an assertion's subject (jwt-bearer: up to 255 characters of four
/// bytes each).
fn longest_subject(c: &Client) -> String {
    let mut candidates = Vec::new();
    if c.grant_types.contains(&GrantType::ClientCredentials) {
        candidates.push(c.client_id.clone());
    }
    if has_user_grants(c) {
        candidates.push("u".repeat(USER_ID_LEN));
    }
    if c.grant_types.contains(&GrantType::JwtBearer) {
        candidates.push(std::iter::repeat_n(WIDEST_CHAR, MAX_SUBJECT_CHARS).collect());
    }
    candidates
        .into_iter()
        .max_by_key(String::len)
        .unwrap_or_else(|| c.client_id.clone())
}

/// The size in bytes of the largest JWT access token `c` can be issued: every allowed scope, every
/// audience (or the default one), its static claims, the longest subject, `auth_time` when people
/// sign in for it, signed with the key that would sign it. `None` for opaque tokens, whose size
/// does not depend on the client, and when no key of the client's algorithm is loaded.
pub fn largest_access_token(state: &AppState, c: &Client) -> Result<Option<usize>, String> {
    let format = c
        .access_token_format
        .unwrap_or(state.config.tokens.default_format);
    if format == TokenFormat::Opaque {
        return Ok(None);
    }
    let alg = c
        .access_token_signing_alg
        .unwrap_or(state.config.tokens.signing_alg);
    let keys = state.keyring.current();
    let Some(signer) = keys.signers.get(&alg) else {
        tracing::warn!(alg = %alg, client_id = %c.client_id, "no signing key to measure the client's largest token with");
        return Ok(None);
    };
    let aud = if c.audiences.is_empty() {
        vec![
            state
                .config
                .tokens
                .default_audience
                .for_client(&state.issuer, &c.client_id),
        ]
    } else {
        c.audiences.clone()
    };
    let scope = ScopeSet::from_names(c.allowed_scopes.iter().cloned()).to_string();
    let sub = longest_subject(c);
    let iat = now();
    let lifetime = c
        .access_token_lifetime
        .unwrap_or(state.config.tokens.default_lifetime_secs)
        .clamp(1, state.config.tokens.max_lifetime_secs);
    let jti = new_jti().map_err(|e| e.to_string())?;
    let claims = Claims {
        iss: &state.issuer,
        sub: &sub,
        aud: Audience::from_vec(aud),
        exp: iat + lifetime as i64,
        iat,
        jti: &jti,
        client_id: &c.client_id,
        scope: &scope,
        auth_time: has_user_grants(c).then_some(iat),
        extra: &c.extra_claims,
    };
    let payload = serde_json::to_vec(&claims).map_err(|e| e.to_string())?;
    let token = signer
        .key
        .sign_with_encoded_header(&signer.at_header, &payload)
        .map_err(|e| e.to_string())?;
    Ok(Some(token.len()))
}

/// Refuses a client whose largest access token would exceed `tokens.max_jwt_bytes`, saying how
/// large it would be and what makes it so.
pub fn check(state: &AppState, c: &Client) -> Result<(), String> {
    let limit = state.config.tokens.max_jwt_bytes;
    match largest_access_token(state, c)? {
        Some(size) if size > limit => Err(format!(
            "the client's largest access token would be {size} bytes (with all its {} allowed \
             scopes, {} audiences, its extra_claims and the longest subject), more than \
             tokens.max_jwt_bytes ({limit} bytes), beyond which guards refuse tokens: allow fewer \
             or shorter scopes, audiences or claims, use opaque tokens, or raise \
             tokens.max_jwt_bytes together with the guards' limit",
            c.allowed_scopes.len(),
            c.audiences.len().max(1),
        )),
        _ => Ok(()),
    }
}
