//! The console's own client registration, made or put right when somebody starts signing in to
//! the console (so an installation nobody signs in to has no such client): a public
//! client (PKCE, no secret) of the authorization code grant, returning to `{issuer}/admin/callback`,
//! asking only for `openid`, its access tokens for an audience nothing accepts
//! ([`CONSOLE_AUDIENCE`]). The authorization endpoint asks no consent for it
//! ([`is_first_party`]).

use crate::model::{AuditEvent, Client, now};
use crate::state::AppState;
use crate::store::StoreError;
use tessera_proto::{ClientAuthMethod, GrantType, TokenFormat};

/// The console's client id.
pub const CLIENT_ID: &str = "tessera-console";

/// The audience of the console's access tokens: the admin API refuses them, and the console
/// reads only who signed in from them.
pub const CONSOLE_AUDIENCE: &str = "urn:tessera:console";

/// Where the authorization endpoint sends the console's codes.
pub fn redirect_uri(state: &AppState) -> String {
    format!("{}/admin/callback", state.issuer)
}

/// Whether `client_id` is Tessera's own console, which is asked no consent.
pub fn is_first_party(client_id: &str) -> bool {
    client_id == CLIENT_ID
}

/// The registration the console needs.
fn wanted(state: &AppState, created_at: i64) -> Client {
    Client {
        client_id: CLIENT_ID.into(),
        name: "Tessera console".into(),
        description: "Tessera's own console at /admin/; managed by the server, which restores this registration at every start.".into(),
        enabled: true,
        grant_types: vec![GrantType::AuthorizationCode],
        redirect_uris: vec![redirect_uri(state)],
        allowed_scopes: vec!["openid".into()],
        default_scopes: vec!["openid".into()],
        token_endpoint_auth_methods: vec![ClientAuthMethod::None],
        // A public client: PKCE whatever `authorize.require_pkce` says.
        require_pkce: Some(true),
        token_endpoint_auth_signing_alg: None,
        jwks: None,
        jwks_uri: None,
        access_token_format: Some(TokenFormat::Jwt),
        access_token_lifetime: Some(60),
        access_token_signing_alg: None,
        audiences: vec![CONSOLE_AUDIENCE.into()],
        extra_claims: Default::default(),
        created_at,
        updated_at: now(),
    }
}

/// Whether two registrations are the same but for their times and enabled flag.
fn same(a: &Client, b: &Client) -> bool {
    let mut a = a.clone();
    a.created_at = b.created_at;
    a.updated_at = b.updated_at;
    a.enabled = b.enabled;
    a == *b
}

/// Creates the console's client, or puts it back as it must be (after a change of issuer, or a
/// change by hand) except for its enabled flag; audited as `bootstrap`. Answers at once from
/// memory when the registration is already right.
pub async fn ensure(state: &AppState) -> Result<(), String> {
    let t = now();
    if let Some(entry) = state.registry.client(CLIENT_ID)
        && same(&wanted(state, t), &entry.client)
    {
        return Ok(());
    }
    let (before, action) = match state.store.get_client(CLIENT_ID).await {
        Ok(c) => (Some(c), "client.update"),
        Err(StoreError::NotFound) => (None, "client.create"),
        Err(e) => return Err(e.to_string()),
    };
    let mut client = wanted(state, before.as_ref().map_or(t, |b| b.created_at));
    match &before {
        Some(b) => {
            // Disabling the console's client turns the console off, and that stays so.
            client.enabled = b.enabled;
            if same(&client, b) {
                state
                    .registry
                    .refresh_client(&state.store, &state.keys, CLIENT_ID)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(());
            }
            state
                .store
                .update_client(&client)
                .await
                .map_err(|e| e.to_string())?;
        }
        None => match state.store.insert_client(&client, None).await {
            Ok(()) => {}
            // Another instance created it at the same moment.
            Err(StoreError::Conflict) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        },
    }
    state
        .registry
        .reload_client(&state.store, &state.keys, CLIENT_ID)
        .await
        .map_err(|e| e.to_string())?;
    state
        .audit_now(AuditEvent {
            id: 0,
            at: t,
            actor: "bootstrap".into(),
            action: action.into(),
            target: CLIENT_ID.into(),
            before: before.and_then(|b| serde_json::to_value(b).ok()),
            after: serde_json::to_value(&client).ok(),
            remote_addr: None,
        })
        .await;
    Ok(())
}
