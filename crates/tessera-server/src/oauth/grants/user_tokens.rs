//! The tokens of a grant made by a person: an access token for the user (`sub` = user id,
//! `auth_time`), an ID token when `openid` was granted, and a refresh token when the client may
//! have one — for OpenID Connect requests only with `offline_access` (Core §11). Refresh tokens
//! come in families: the first starts one, each rotation adds the next (RFC 9700 §4.14.2).

use crate::crypto::random_token;
use crate::issue::{self, Grant};
use crate::model::now;
use crate::oauth::error::OAuthError;
use crate::oauth::grants::common::issue_error;
use crate::oauth::id_token::{self, IdTokenInput};
use crate::registry::ClientEntry;
use crate::state::AppState;
use crate::store::grants::{IssuedAccess, RefreshFamily};
use crate::users::User;
use tessera_proto::{GrantType, ScopeSet, TokenResponse};

/// Prefix of refresh tokens, so leak scanners can find them.
pub const REFRESH_PREFIX: &str = "trt_";

/// What to do about a refresh token.
#[derive(Debug)]
pub enum Refresh<'a> {
    /// Start a family when the client may have refresh tokens.
    StartIfAllowed,
    /// Add the next token to this family (rotation).
    Rotate(&'a RefreshFamily),
}

/// A grant made by a person.
#[derive(Debug)]
pub struct UserGrant<'a> {
    /// The client.
    pub client: &'a ClientEntry,
    /// The user.
    pub user: &'a User,
    /// Granted scopes.
    pub scope: &'a ScopeSet,
    /// Audiences of the access token.
    pub aud: Vec<String>,
    /// When the user authenticated.
    pub auth_time: i64,
    /// The OpenID Connect nonce of the authorization request.
    pub nonce: Option<&'a str>,
    /// Refresh token handling.
    pub refresh: Refresh<'a>,
}

/// What was issued.
#[derive(Debug)]
pub struct UserTokens {
    /// The token response.
    pub response: TokenResponse,
    /// The access token's id, client and expiry (to revoke it on code replay).
    pub access: IssuedAccess,
    /// The refresh token family, when a refresh token was issued.
    pub family_id: Option<String>,
}

/// Whether the client gets a refresh token for `scope`.
pub fn refresh_allowed(client: &ClientEntry, scope: &ScopeSet) -> bool {
    client.client.grant_types.contains(&GrantType::RefreshToken)
        && (!scope.contains("openid") || scope.contains("offline_access"))
}

/// Issues the tokens of `g`.
pub async fn issue(state: &AppState, g: UserGrant<'_>) -> Result<UserTokens, OAuthError> {
    let issued = issue::access_token(
        state,
        &Grant {
            client: g.client,
            sub: &g.user.id,
            scope: g.scope,
            aud: g.aud.clone(),
            auth_time: Some(g.auth_time),
        },
    )
    .await
    .map_err(issue_error)?;
    let t = now();
    let client_id = &g.client.client.client_id;
    let access = IssuedAccess {
        jti: issued.jti.clone(),
        client_id: client_id.clone(),
        exp: t + issued.expires_in as i64,
    };
    let id_token = if g.scope.contains("openid") {
        Some(
            id_token::sign(
                state,
                &IdTokenInput {
                    sub: &g.user.id,
                    client_id,
                    auth_time: g.auth_time,
                    nonce: g.nonce,
                    access_token: &issued.token,
                    lifetime: issued.expires_in,
                },
            )
            .map_err(issue_error)?,
        )
    } else {
        None
    };
    let cfg = &state.config.refresh_tokens;
    let (refresh_token, family_id) = match g.refresh {
        Refresh::StartIfAllowed if refresh_allowed(g.client, g.scope) => {
            let token = random_token(REFRESH_PREFIX)
                .map_err(|_| OAuthError::server_error("the random source failed"))?;
            let family = RefreshFamily {
                id: crate::crypto::random_id("rtf_")
                    .map_err(|_| OAuthError::server_error("the random source failed"))?,
                client_id: client_id.clone(),
                user_id: g.user.id.clone(),
                scope: g.scope.to_string(),
                aud: serde_json::to_string(&g.aud)
                    .map_err(|_| OAuthError::server_error("could not encode the audience"))?,
                auth_time: g.auth_time,
                created_at: t,
                absolute_expires_at: t + cfg.absolute_lifetime_secs as i64,
                revoked_at: None,
            };
            let expires = (t + cfg.idle_lifetime_secs as i64).min(family.absolute_expires_at);
            state
                .store
                .insert_refresh_family(&family, &state.keys.hash(&token), expires, &access)
                .await?;
            (Some(token), Some(family.id))
        }
        Refresh::StartIfAllowed => (None, None),
        Refresh::Rotate(family) => {
            let token = random_token(REFRESH_PREFIX)
                .map_err(|_| OAuthError::server_error("the random source failed"))?;
            let expires = (t + cfg.idle_lifetime_secs as i64).min(family.absolute_expires_at);
            let added = state
                .store
                .insert_refresh_token(&state.keys.hash(&token), &family.id, t, expires, &access)
                .await?;
            if !added {
                // A reuse of a token of this family was detected while this rotation was
                // issuing: the family is revoked, and the store revoked this access token too.
                tracing::warn!(client_id = %client_id, user_id = %g.user.id, family = %family.id, "refresh token family revoked during a rotation; the tokens of the rotation are revoked");
                return Err(OAuthError::invalid_grant("the refresh token was revoked"));
            }
            (Some(token), Some(family.id.clone()))
        }
    };
    Ok(UserTokens {
        response: TokenResponse {
            access_token: issued.token,
            token_type: "Bearer".into(),
            expires_in: Some(issued.expires_in),
            refresh_token,
            scope: (!g.scope.is_empty()).then(|| g.scope.to_string()),
            id_token,
        },
        access,
        family_id,
    })
}

/// The enabled user `user_id`, else `invalid_grant` (the grant no longer stands).
pub async fn active_user(state: &AppState, user_id: &str) -> Result<User, OAuthError> {
    match state.store.get_user(user_id).await? {
        Some(u) if u.enabled => Ok(u),
        _ => Err(OAuthError::invalid_grant(
            "the user of this grant is disabled or deleted",
        )),
    }
}
