//! Issuer discovery (RFC 8414 / OpenID Connect Discovery).

use crate::mock::Mock;
use tessera_client::{Credential, Endpoint, Error, SecretString, TokenCache, TokenSource};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_is_resolved_through_its_metadata_once() {
    let mock = Mock::start().await;
    *mock.state.metadata.lock() = Some(serde_json::json!({
        "issuer": mock.base,
        "token_endpoint": mock.token_url(),
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    }));
    let cred = Credential::builder(Endpoint::issuer(&mock.base).unwrap(), "c")
        .client_secret(SecretString::from("s"))
        .build()
        .unwrap();
    let source = TokenSource::builder(cred)
        .cache(TokenCache::new())
        .build()
        .unwrap();
    assert_eq!(
        source.token_endpoint().await.unwrap().as_str(),
        mock.token_url()
    );
    assert_eq!(source.token().await.unwrap().secret(), "tok-0");
    assert_eq!(source.force_refresh().await.unwrap().secret(), "tok-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_for_another_issuer_is_refused() {
    let mock = Mock::start().await;
    *mock.state.metadata.lock() = Some(serde_json::json!({
        "issuer": "https://evil.example",
        "token_endpoint": "https://evil.example/token",
    }));
    let cred = Credential::builder(Endpoint::issuer(&mock.base).unwrap(), "c")
        .client_secret(SecretString::from("s"))
        .build()
        .unwrap();
    let source = TokenSource::builder(cred)
        .cache(TokenCache::new())
        .build()
        .unwrap();
    let err = source.token().await.unwrap_err();
    assert!(matches!(err, Error::Discovery { .. }), "{err:?}");
    assert!(err.to_string().contains("evil.example"), "{err}");
    assert_eq!(mock.token_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_metadata_at_all_is_a_discovery_error() {
    let mock = Mock::start().await;
    let cred = Credential::builder(Endpoint::issuer(&mock.base).unwrap(), "c")
        .client_secret(SecretString::from("s"))
        .build()
        .unwrap();
    let source = TokenSource::builder(cred)
        .cache(TokenCache::new())
        .build()
        .unwrap();
    let err = source.token().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("openid-configuration") && text.contains("oauth-authorization-server"),
        "{text}"
    );
}
