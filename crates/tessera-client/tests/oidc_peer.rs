//! The token client against a third-party certified server: node `oidc-provider`, installed (npm
//! ci into `testing/oidc-peer/`) and started by this test. A failing install fails the test; it is
//! never skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

#[path = "support/peer.rs"]
mod support_peer;

use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support_peer::peer;
use tessera_client::{
    Algorithm, ClientAuthMethod, Credential, Endpoint, Error, Grant, KeySource, SecretString,
    SigningProfile, TokenCache, TokenSource,
};

const PEER_RESOURCE: &str = "https://api.peer.example/";

fn builder(id: &str) -> tessera_client::CredentialBuilder {
    Credential::builder(
        Endpoint::token_endpoint(peer().token_endpoint()).unwrap(),
        id,
    )
}

fn source(c: Credential) -> TokenSource {
    TokenSource::builder(c)
        .cache(TokenCache::new())
        .build()
        .unwrap()
}

/// Asks the peer's introspection endpoint (RFC 7662) whether a token is active.
async fn introspect(token: &str) -> Value {
    let p = peer();
    reqwest::Client::new()
        .post(format!("{}/token/introspection", p.issuer()))
        .header(
            "authorization",
            tessera_proto::basic::encode("resource-server", "resource-server-secret-9a8b7c6d5e4f"),
        )
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn stats() -> Value {
    reqwest::get(format!("{}/_peer/stats", peer().issuer()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn assert_active(token: &str, client_id: &str) {
    let i = introspect(token).await;
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["client_id"], client_id, "{i}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_four_authentication_methods() {
    let basic = builder("basic-client")
        .client_secret(SecretString::from("basic-secret-7c1f0a9e5d3b4c2a8e6f"))
        .scopes(["api:read"])
        .build()
        .unwrap();
    let post = builder("post-client")
        .client_secret(SecretString::from("post-secret-2b8d4f6a1c3e5a7b9d0f"))
        .auth_method(ClientAuthMethod::ClientSecretPost)
        .scopes(["api:read"])
        .build()
        .unwrap();
    let jwt_secret = "jwt-secret-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let jwt256 = builder("jwt-client")
        .client_secret(SecretString::from(jwt_secret))
        .auth_method(ClientAuthMethod::ClientSecretJwt)
        .build()
        .unwrap();
    let jwt512 = builder("jwt-client")
        .client_secret(SecretString::from(jwt_secret))
        .client_assertion(SigningProfile::new(
            Algorithm::HS512,
            KeySource::ClientSecret,
        ))
        .build()
        .unwrap();
    let pk = peer().ready["pkjwt_private_jwk"].to_string();
    let pkjwt = builder("pkjwt-client")
        .client_assertion(SigningProfile::new(
            Algorithm::ES256,
            KeySource::Jwk(SecretString::from(pk)),
        ))
        .build()
        .unwrap();
    for (cred, id) in [
        (basic, "basic-client"),
        (post, "post-client"),
        (jwt256, "jwt-client"),
        (jwt512, "jwt-client"),
        (pkjwt, "pkjwt-client"),
    ] {
        let method = cred.auth_method();
        let s = source(cred);
        let t = s
            .token()
            .await
            .unwrap_or_else(|e| panic!("{id} with {method}: {e}"));
        assert_active(t.secret(), id).await;
        // A second request gets a fresh assertion (oidc-provider refuses a replayed jti).
        let t2 = s
            .force_refresh()
            .await
            .unwrap_or_else(|e| panic!("{id} again: {e}"));
        assert_ne!(t.secret(), t2.secret());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn special_characters_in_id_and_secret() {
    // oidc-provider decodes Basic credentials as RFC 6749 §2.3.1 says; it only accepts printable
    // ASCII (VSCHAR, RFC 6749 Appendix A) in ids and secrets, so non-ASCII is tested on the mock.
    let secret = "se:cr%et +plus/~ 42=&";
    let basic = builder("special:client %id+1 /x")
        .client_secret(SecretString::from(secret))
        .build()
        .unwrap();
    let t = source(basic).token().await.unwrap();
    assert_active(t.secret(), "special:client %id+1 /x").await;
    let post = builder("special-post:client %id+1")
        .client_secret(SecretString::from(secret))
        .auth_method(ClientAuthMethod::ClientSecretPost)
        .build()
        .unwrap();
    let t = source(post).token().await.unwrap();
    assert_active(t.secret(), "special-post:client %id+1").await;
    // The raw switch is what a non-conforming server wants; this one refuses it.
    let raw = builder("special:client %id+1 /x")
        .client_secret(SecretString::from(secret))
        .basic_encoding(tessera_client::BasicEncoding::Raw)
        .build()
        .unwrap();
    let err = source(raw).token().await.unwrap_err();
    assert!(err.code().is_some(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_jwt_access_token_for_a_resource() {
    let cred = builder("basic-client")
        .client_secret(SecretString::from("basic-secret-7c1f0a9e5d3b4c2a8e6f"))
        .scopes(["api:read", "api:write"])
        .resource(PEER_RESOURCE)
        .build()
        .unwrap();
    let f = source(cred).fetch_uncached().await.unwrap();
    assert_eq!(f.lifetime, Duration::from_secs(300));
    assert_eq!(f.response.scope.as_deref(), Some("api:read api:write"));
    let claims: Value = tessera_jose::UnverifiedJws::parse(&f.response.access_token)
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(claims["aud"], PEER_RESOURCE);
    assert_eq!(claims["client_id"], "basic-client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_and_refresh() {
    let before = stats().await;
    let cred = builder("basic-client")
        .client_secret(SecretString::from("basic-secret-7c1f0a9e5d3b4c2a8e6f"))
        .grant(Grant::Password {
            username: "bob@example.com".into(),
            password: SecretString::from("b0b p@ss:wörd"),
        })
        .scopes(["openid", "offline_access"])
        .build()
        .unwrap();
    let s = source(cred);
    let t1 = s.token().await.unwrap();
    let t2 = s.force_refresh().await.unwrap();
    assert_ne!(t1.secret(), t2.secret());
    assert_active(t2.secret(), "basic-client").await;
    let after = stats().await;
    let count = |v: &Value, g: &str| v["grants"][g].as_u64().unwrap_or(0);
    assert_eq!(count(&after, "password") - count(&before, "password"), 1);
    assert!(
        count(&after, "refresh_token") > count(&before, "refresh_token"),
        "the second token came from the refresh token: {after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_cause_with_the_servers_description() {
    let wrong_secret = builder("basic-client")
        .client_secret(SecretString::from("wrong"))
        .build()
        .unwrap();
    let err = source(wrong_secret).token().await.unwrap_err();
    assert!(matches!(err, Error::OAuth { status: 401, .. }), "{err:?}");
    assert_eq!(err.label(), "invalid_client");
    // oidc-provider keeps the detail to itself and says only this.
    assert!(
        err.to_string().contains("client authentication failed"),
        "{err}"
    );

    let wrong_method = builder("pkjwt-client")
        .client_secret(SecretString::from("a-secret"))
        .build()
        .unwrap();
    let err = source(wrong_method).token().await.unwrap_err();
    assert_eq!(err.label(), "invalid_client");

    let bad_scope = builder("post-client")
        .client_secret(SecretString::from("post-secret-2b8d4f6a1c3e5a7b9d0f"))
        .auth_method(ClientAuthMethod::ClientSecretPost)
        .scopes(["api:write"])
        .build()
        .unwrap();
    let err = source(bad_scope).token().await.unwrap_err();
    assert_eq!(err.label(), "invalid_scope");
    assert!(err.is_permanent());

    let bad_user = builder("basic-client")
        .client_secret(SecretString::from("basic-secret-7c1f0a9e5d3b4c2a8e6f"))
        .grant(Grant::Password {
            username: "alice".into(),
            password: SecretString::from("nope"),
        })
        .build()
        .unwrap();
    let err = source(bad_user).token().await.unwrap_err();
    assert_eq!(err.label(), "invalid_grant");
    assert!(
        err.to_string().contains("grant request is invalid"),
        "{err}"
    );

    let unknown_resource = builder("basic-client")
        .client_secret(SecretString::from("basic-secret-7c1f0a9e5d3b4c2a8e6f"))
        .resource("https://not-registered.example/")
        .build()
        .unwrap();
    let err = source(unknown_resource).token().await.unwrap_err();
    assert_eq!(err.label(), "invalid_target");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_and_one_request_for_many_callers() {
    let cred = Credential::builder(Endpoint::issuer(peer().issuer()).unwrap(), "basic-client")
        .client_secret(SecretString::from("basic-secret-7c1f0a9e5d3b4c2a8e6f"))
        .scopes(["api:write"])
        .build()
        .unwrap();
    let s = source(cred);
    assert_eq!(
        s.token_endpoint().await.unwrap().as_str(),
        peer().token_endpoint()
    );
    let before = stats().await["token_requests"].as_u64().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    let tokens = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..200 {
        let s = s.clone();
        let tokens = Arc::clone(&tokens);
        tasks.spawn(async move {
            let t = s.token().await.unwrap();
            tokens.lock().unwrap().push(t.secret().to_owned());
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let t0 = Instant::now();
    let after = loop {
        // The counter is read over HTTP; other tests of this binary may run at the same time,
        // so count only requests whose token we were given.
        let a = stats().await["token_requests"].as_u64().unwrap();
        if a > before || t0.elapsed() > Duration::from_secs(5) {
            break a;
        }
    };
    assert!(after > before);
    let tokens = tokens.lock().unwrap();
    assert_eq!(tokens.len(), 200);
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "one token for all callers"
    );
}
