//! Independent client code against the server: the `oauth2` and `openidconnect` crates run the
//! client credentials grant and discovery; `jsonwebtoken` verifies issued tokens against the
//! served JWKS.

use crate::helpers::{ClientSpec, spawn_app};
use oauth2::TokenResponse as _;
use serde_json::Value;
use tessera_proto::ClientAuthMethod;

fn http() -> oauth2::reqwest::Client {
    oauth2::reqwest::ClientBuilder::new()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn oauth2_crate_client_credentials_basic_and_post() {
    let app = spawn_app().await;
    let basic = app
        .register_client(ClientSpec::new("o2-basic").scopes(&["core.accounting.read"], &[]))
        .await;
    let post = app
        .register_client(
            ClientSpec::new("o2-post")
                .method(ClientAuthMethod::ClientSecretPost)
                .scopes(&["core.accounting.read"], &[]),
        )
        .await;
    for (id, secret, auth) in [
        ("o2-basic", basic, oauth2::AuthType::BasicAuth),
        ("o2-post", post, oauth2::AuthType::RequestBody),
    ] {
        let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(id.into()))
            .set_client_secret(oauth2::ClientSecret::new(secret))
            .set_token_uri(oauth2::TokenUrl::new(app.token_url()).unwrap())
            .set_auth_type(auth);
        let tok = client
            .exchange_client_credentials()
            .add_scope(oauth2::Scope::new("core.accounting.read".into()))
            .request_async(&http())
            .await
            .unwrap();
        assert_eq!(*tok.token_type(), oauth2::basic::BasicTokenType::Bearer);
        assert_eq!(tok.expires_in().unwrap().as_secs(), 600);
        assert_eq!(tok.scopes().unwrap()[0].as_str(), "core.accounting.read");
        // An error comes back as a parsed RFC 6749 error.
        let bad = oauth2::basic::BasicClient::new(oauth2::ClientId::new(id.into()))
            .set_client_secret(oauth2::ClientSecret::new("wrong".into()))
            .set_token_uri(oauth2::TokenUrl::new(app.token_url()).unwrap())
            .set_auth_type(if id == "o2-basic" {
                oauth2::AuthType::BasicAuth
            } else {
                oauth2::AuthType::RequestBody
            });
        match bad
            .exchange_client_credentials()
            .request_async(&http())
            .await
        {
            Err(oauth2::RequestTokenError::ServerResponse(e)) => {
                assert_eq!(
                    *e.error(),
                    oauth2::basic::BasicErrorResponseType::InvalidClient
                );
            }
            other => panic!("expected invalid_client, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn openidconnect_discovery_and_client_credentials() {
    use openidconnect::core::{CoreClient, CoreProviderMetadata};
    let app = spawn_app().await;
    let secret = app
        .register_client(
            ClientSpec::new("oidc").scopes(&["core.accounting.read"], &["core.accounting.read"]),
        )
        .await;
    let metadata = CoreProviderMetadata::discover_async(
        openidconnect::IssuerUrl::new(app.base.clone()).unwrap(),
        &http(),
    )
    .await
    .unwrap();
    assert_eq!(metadata.token_endpoint().unwrap().as_str(), app.token_url());
    assert!(!metadata.jwks().keys().is_empty());
    let client = CoreClient::from_provider_metadata(
        metadata,
        openidconnect::ClientId::new("oidc".into()),
        Some(openidconnect::ClientSecret::new(secret)),
    );
    let tok = client
        .exchange_client_credentials()
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    use openidconnect::OAuth2TokenResponse as _;
    assert!(!tok.access_token().secret().is_empty());
}

#[tokio::test]
async fn jsonwebtoken_verifies_issued_tokens_against_the_served_jwks() {
    let app = spawn_app().await;
    for alg in [
        tessera_jose::Algorithm::ES256,
        tessera_jose::Algorithm::RS256,
        tessera_jose::Algorithm::EdDSA,
    ] {
        let id = format!("v-{alg}");
        let mut spec = ClientSpec::new(&id).audiences(&["https://api.example/"]);
        spec.signing_alg = Some(alg);
        let secret = app.register_client(spec).await;
        let t = app.cc_token(&id, &secret, &[]).await;
        let token = t["access_token"].as_str().unwrap();
        let jwks: jsonwebtoken::jwk::JwkSet = app
            .http
            .get(app.url("/oauth2/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let mut v = jsonwebtoken::Validation::new(alg.as_str().parse().unwrap());
        v.set_audience(&["https://api.example/"]);
        v.set_issuer(&[app.base.as_str()]);
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Value>(
            token,
            &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
            &v,
        )
        .unwrap();
        assert_eq!(data.claims["client_id"], id);
    }
}
