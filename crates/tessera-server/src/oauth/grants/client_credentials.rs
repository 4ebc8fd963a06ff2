//! The client credentials grant (RFC 6749 §4.4): the client acts for itself.

use super::common::{choose_audiences, choose_scopes};
use crate::issue::{self, Grant};
use crate::oauth::error::OAuthError;
use crate::registry::ClientEntry;
use crate::state::AppState;
use tessera_proto::{ClientAuthMethod, FormParams, TokenResponse};

/// Issues an access token to an authenticated confidential client. No refresh token
/// (RFC 6749 §4.4.3).
pub async fn handle(
    state: &AppState,
    client: &ClientEntry,
    form: &FormParams,
) -> Result<TokenResponse, OAuthError> {
    if client.client.token_endpoint_auth_method == ClientAuthMethod::None {
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
    let issued = issue::access_token(state, &grant)
        .await
        .map_err(|e| match e {
            issue::IssueError::Store(s) => OAuthError::from(s),
            other => {
                tracing::error!(error = %other, "could not issue a token");
                OAuthError::server_error("the server could not issue a token")
            }
        })?;
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer".into(),
        expires_in: Some(issued.expires_in),
        refresh_token: None,
        scope: (!scope.is_empty()).then(|| scope.to_string()),
        id_token: None,
    })
}
