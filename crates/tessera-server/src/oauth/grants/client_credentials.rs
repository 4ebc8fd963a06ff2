//! The client credentials grant (RFC 6749 §4.4): the client acts for itself.

use super::common::{access_token_only, choose_audiences, choose_scopes};
use crate::issue::Grant;
use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use tessera_proto::{FormParams, TokenResponse};

/// Issues an access token to an authenticated confidential client. No refresh token
/// (RFC 6749 §4.4.3).
pub async fn handle(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    if client.client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "the client credentials grant is only for confidential clients (RFC 6749 §4.4)",
        ));
    }
    let scope = choose_scopes(state, client, form)?;
    let aud = choose_audiences(state, client, form)?;
    let grant = Grant {
        client,
        sub: &client.client.client_id,
        scope: &scope,
        aud,
        auth_time: None,
    };
    let (resp, _) = access_token_only(state, &grant).await?;
    Ok(resp)
}
