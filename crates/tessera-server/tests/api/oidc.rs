//! The `openidconnect` crate as an independent relying party: discovery, the code flow with PKCE
//! and nonce, ID token validation (signature, issuer, audience, nonce, `at_hash`, `auth_time`),
//! the UserInfo endpoint, refresh rotation and reuse detection, code replay, wrong verifier,
//! missing PKCE, redirect URI mismatch, and the device flow's polling answers.

use crate::device::{device_client, poll};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::people::{
    Page, REDIRECT, UserAgent, code_client, code_flow, create_user, wait_for_clock,
};
use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreDeviceAuthorizationResponse,
    CoreErrorResponseType, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl,
    DeviceCodeErrorResponseType, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use std::collections::HashMap;

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn metadata(app: &TestApp) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http())
        .await
        .unwrap()
}

/// Runs the browser part for an authorization URL the crate built; returns the redirect's
/// parameters.
async fn browse(
    app: &TestApp,
    ua: &mut UserAgent,
    url: &openidconnect::url::Url,
    user: &str,
) -> HashMap<String, String> {
    assert!(url.as_str().starts_with(&app.state.issuer));
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let p: Vec<(&str, &str)> = params
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    code_flow(ua, user, &p).await
}

fn assert_grant_error<T: std::fmt::Debug, E: std::fmt::Debug + std::error::Error>(
    r: Result<T, RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>>,
    expected: CoreErrorResponseType,
) {
    match r {
        Err(RequestTokenError::ServerResponse(e)) => assert_eq!(*e.error(), expected, "{e:?}"),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn code_flow_pkce_id_token_userinfo_and_refresh() {
    let app = spawn_app().await;
    let uid = create_user(&app, "olga").await;
    code_client(&app, "spa", true).await;
    let meta = metadata(&app).await;
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("spa".into()), None)
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut ua = UserAgent::new(&app);
    let q = browse(&app, &mut ua, &url, "olga").await;
    assert_eq!(&q["state"], csrf.secret());
    assert_eq!(q["iss"], app.state.issuer);
    let token = client
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .unwrap();
    // The ID token: signature against the JWKS, issuer, audience, expiry, nonce.
    let id_token = token.id_token().expect("an ID token for the openid scope");
    let id_verifier = client.id_token_verifier();
    let claims = id_token.claims(&id_verifier, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), uid);
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.authorized_party().unwrap().as_str(), "spa");
    let expected_hash = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    // A wrong nonce is caught by the relying party.
    assert!(
        id_token
            .claims(&id_verifier, &Nonce::new("other".into()))
            .is_err()
    );
    // UserInfo with profile and email.
    let info: CoreUserInfoClaims = client
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(info.preferred_username().unwrap().as_str(), "olga");
    assert_eq!(info.email().unwrap().as_str(), "olga@example.com");
    assert_eq!(info.email_verified(), Some(true));
    assert_eq!(
        info.name().unwrap().get(None).unwrap().as_str(),
        "OLGA Example"
    );
    // Refresh: rotated; the spent token again revokes the family.
    let rt1 = token.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&rt1)
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    let rt2 = refreshed.refresh_token().unwrap().clone();
    assert_ne!(rt1.secret(), rt2.secret());
    assert_grant_error(
        client
            .exchange_refresh_token(&rt1)
            .unwrap()
            .request_async(&http())
            .await,
        CoreErrorResponseType::InvalidGrant,
    );
    assert_grant_error(
        client
            .exchange_refresh_token(&rt2)
            .unwrap()
            .request_async(&http())
            .await,
        CoreErrorResponseType::InvalidGrant,
    );
    // The access token of the revoked family no longer reads UserInfo.
    let after: Result<CoreUserInfoClaims, _> = client
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async(&http())
        .await;
    assert!(after.is_err());
}

#[tokio::test]
async fn replay_wrong_verifier_missing_pkce_and_redirect_mismatch() {
    let app = spawn_app().await;
    create_user(&app, "pia").await;
    code_client(&app, "spa", true).await;
    let meta = metadata(&app).await;
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("spa".into()), None)
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let mut ua = UserAgent::new(&app);
    let start = |c: &CoreClient<_, _, _, _, _, _>| {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, _) = c
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .url();
        (url, verifier)
    };
    // Code replay.
    let (url, verifier) = start(&client);
    let q = browse(&app, &mut ua, &url, "pia").await;
    let code = AuthorizationCode::new(q["code"].clone());
    client
        .exchange_code(code.clone())
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
        .request_async(&http())
        .await
        .unwrap();
    assert_grant_error(
        client
            .exchange_code(code)
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http())
            .await,
        CoreErrorResponseType::InvalidGrant,
    );
    // Wrong verifier.
    let (url, _) = start(&client);
    let q = browse(&app, &mut ua, &url, "pia").await;
    let (_, other) = PkceCodeChallenge::new_random_sha256();
    assert_grant_error(
        client
            .exchange_code(AuthorizationCode::new(q["code"].clone()))
            .unwrap()
            .set_pkce_verifier(other)
            .request_async(&http())
            .await,
        CoreErrorResponseType::InvalidGrant,
    );
    // Redirect URI mismatch at the token endpoint.
    let (url, verifier) = start(&client);
    let q = browse(&app, &mut ua, &url, "pia").await;
    let elsewhere = client
        .clone()
        .set_redirect_uri(RedirectUrl::new("https://app.example/elsewhere".into()).unwrap());
    assert_grant_error(
        elsewhere
            .exchange_code(AuthorizationCode::new(q["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http())
            .await,
        CoreErrorResponseType::InvalidGrant,
    );
    // Missing PKCE: the public client is sent back with invalid_request.
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let p = ua
        .get(&format!("{}?{}", url.path(), url.query().unwrap()))
        .await;
    assert_eq!(p.redirect_params()["error"], "invalid_request");
    // Redirect URI mismatch at the authorization endpoint: an error page, no redirect.
    let (url, _) = start(&elsewhere);
    let p = ua
        .get(&format!("{}?{}", url.path(), url.query().unwrap()))
        .await;
    assert_eq!(p.status, 400);
    assert!(p.location().is_none());
}

/// An authorization URL built by the crate for the public client `spa` (`openid`, PKCE, a
/// nonce), with `prompt` when given; and the `state` in it.
async fn spa_url(
    app: &TestApp,
    prompt: Option<CoreAuthPrompt>,
) -> (openidconnect::url::Url, CsrfToken) {
    let client =
        CoreClient::from_provider_metadata(metadata(app).await, ClientId::new("spa".into()), None)
            .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    if let Some(p) = prompt {
        req = req.add_prompt(p);
    }
    let (url, state, _) = req.url();
    (url, state)
}

/// `page` sends the browser straight back to the client with `login_required` (OpenID Connect
/// Core §3.1.2.6), its `state` and `iss`: no sign-in page, no code.
fn assert_login_required(app: &TestApp, page: &Page, state: &CsrfToken) {
    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    let q = page.redirect_params();
    assert_eq!(q["error"], "login_required", "{q:?}");
    assert_eq!(&q["state"], state.secret());
    assert_eq!(q["iss"], app.state.issuer);
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn prompt_none_without_a_session_answers_login_required() {
    let app = spawn_app().await;
    create_user(&app, "rui").await;
    code_client(&app, "spa", true).await;
    // rui signs in and consents in one browser; there prompt=none answers with a code.
    let mut signed_in = UserAgent::new(&app);
    let (url, _) = spa_url(&app, None).await;
    browse(&app, &mut signed_in, &url, "rui").await;
    let (url, _) = spa_url(&app, Some(CoreAuthPrompt::None)).await;
    let page = signed_in.get(url.as_str()).await;
    assert!(page.redirect_params().contains_key("code"), "{page:?}");
    // Another browser, without a session: login_required, not the sign-in page.
    let mut other = UserAgent::new(&app);
    let (url, state) = spa_url(&app, Some(CoreAuthPrompt::None)).await;
    let page = other.get(url.as_str()).await;
    assert_login_required(&app, &page, &state);
}

#[tokio::test]
async fn prompt_none_after_the_session_expired_answers_login_required() {
    let app = spawn_app_with(|c| c.sessions.lifetime_secs = 1).await;
    create_user(&app, "sol").await;
    code_client(&app, "spa", true).await;
    let mut ua = UserAgent::new(&app);
    ua.sign_in("sol").await;
    // Started at or before `signed_in_by`, the session has ended once the clock reads one second
    // more. (Were it still valid, the answer would be consent_required: sol never consented.)
    let signed_in_by = tessera_server::model::now();
    wait_for_clock(signed_in_by + 1).await;
    let (url, state) = spa_url(&app, Some(CoreAuthPrompt::None)).await;
    let page = ua.get(url.as_str()).await;
    assert_login_required(&app, &page, &state);
}

#[tokio::test]
async fn device_flow_polling_answers() {
    let app = spawn_app_with(|c| c.device.interval_secs = 1).await;
    create_user(&app, "quin").await;
    device_client(&app).await;
    let meta = metadata(&app).await;
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("tv".into()), None)
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(format!("{}/oauth2/device_authorization", app.base))
                .unwrap(),
        );
    // Approved while the crate polls (it sees authorization_pending, then the tokens).
    let details: CoreDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("offline_access".into()))
        .request_async(&http())
        .await
        .unwrap();
    let code = details.user_code().secret().clone();
    let approver = {
        let mut ua = UserAgent::new(&app);
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
            ua.sign_in("quin").await;
            let confirm = ua.visit(&format!("/device?user_code={code}")).await;
            assert!(
                ua.decide(&confirm, true)
                    .await
                    .body
                    .contains("Device connected")
            );
        }
    };
    let (token, ()) = tokio::join!(
        async {
            client
                .exchange_device_access_token(&details)
                .unwrap()
                .request_async(&http(), tokio::time::sleep, None)
                .await
        },
        approver
    );
    let token = token.unwrap();
    assert!(token.id_token().is_some(), "the crate asked for openid");
    assert!(token.refresh_token().is_some());
    // Denied: access_denied.
    let details: CoreDeviceAuthorizationResponse = client
        .exchange_device_code()
        .request_async(&http())
        .await
        .unwrap();
    let mut ua = UserAgent::new(&app);
    ua.sign_in("quin").await;
    let confirm = ua
        .visit(&format!(
            "/device?user_code={}",
            details.user_code().secret()
        ))
        .await;
    ua.decide(&confirm, false).await;
    match client
        .exchange_device_access_token(&details)
        .unwrap()
        .request_async(&http(), tokio::time::sleep, None)
        .await
    {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), DeviceCodeErrorResponseType::AccessDenied)
        }
        other => panic!("expected access_denied, got {other:?}"),
    }
    // Polled too fast (by hand): slow_down, parsed by the crate's error type.
    let details: CoreDeviceAuthorizationResponse = client
        .exchange_device_code()
        .request_async(&http())
        .await
        .unwrap();
    poll(&app, details.device_code().secret()).await;
    let body: openidconnect::DeviceCodeErrorResponse = poll(&app, details.device_code().secret())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(*body.error(), DeviceCodeErrorResponseType::SlowDown);
}
