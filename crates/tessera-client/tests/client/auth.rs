//! Client authentication methods and grants, as the token endpoint sees them.

use crate::mock::{Mock, Reply};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tessera_client::{
    Algorithm, BasicEncoding, ClientAuthMethod, Credential, Endpoint, Grant, JwtBearerAssertion,
    KeySource, LifetimePolicy, LifetimeSource, SecretString, SigningProfile, TokenCache,
    TokenSource,
};
use tessera_jose::SigningKey;

/// Characters RFC 6749 Appendix B encoding must survive: `:`, `%`, `+`, space, non-ASCII.
const SPECIAL_ID: &str = "id:with%percent+plus space/é日本";
const SPECIAL_SECRET: &str = "sec:ret%25+ +/ü€=&";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_are_form_urlencoded_before_base64() {
    let mock = Mock::start().await;
    let source = mock.source(mock.credential(SPECIAL_ID, SPECIAL_SECRET));
    source.token().await.unwrap();
    let req = &mock.recorded()[0];
    let header = req.header("authorization").unwrap();
    // What a server that follows RFC 6749 §2.3.1 decodes.
    let (id, secret) = tessera_proto::basic::decode(header).unwrap();
    assert_eq!((id.as_str(), secret.as_str()), (SPECIAL_ID, SPECIAL_SECRET));
    assert_eq!(
        header,
        tessera_proto::basic::encode(SPECIAL_ID, SPECIAL_SECRET)
    );
    // Not the raw form.
    assert_ne!(
        header,
        tessera_proto::basic::encode_raw(SPECIAL_ID, SPECIAL_SECRET)
    );
    // Basic puts nothing of the credential in the body.
    assert_eq!(req.param("client_id"), None);
    assert_eq!(req.param("client_secret"), None);
    assert_eq!(req.param("grant_type"), Some("client_credentials"));
    assert_eq!(req.header("accept"), Some("application/json"));
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raw_basic_switch_joins_id_and_secret_unencoded() {
    let mock = Mock::start().await;
    let cred = Credential::builder(
        Endpoint::token_endpoint(&mock.token_url()).unwrap(),
        SPECIAL_ID,
    )
    .client_secret(SecretString::from(SPECIAL_SECRET))
    .basic_encoding(BasicEncoding::Raw)
    .build()
    .unwrap();
    mock.source(cred).token().await.unwrap();
    let header = mock.recorded()[0]
        .header("authorization")
        .unwrap()
        .to_owned();
    assert_eq!(
        header,
        tessera_proto::basic::encode_raw(SPECIAL_ID, SPECIAL_SECRET)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_post_sends_id_and_secret_in_the_body() {
    let mock = Mock::start().await;
    let cred = Credential::builder(
        Endpoint::token_endpoint(&mock.token_url()).unwrap(),
        SPECIAL_ID,
    )
    .client_secret(SecretString::from(SPECIAL_SECRET))
    .auth_method(ClientAuthMethod::ClientSecretPost)
    .scopes(["core.accounting.read", "core.accounting.write"])
    .resource("https://api.example/")
    .resource("https://api2.example/")
    .audience("aud-1")
    .param("tenant", "t 1")
    .build()
    .unwrap();
    mock.source(cred).token().await.unwrap();
    let req = &mock.recorded()[0];
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.param("client_id"), Some(SPECIAL_ID));
    assert_eq!(req.param("client_secret"), Some(SPECIAL_SECRET));
    assert_eq!(
        req.param("scope"),
        Some("core.accounting.read core.accounting.write")
    );
    let resources: Vec<_> = req
        .form
        .iter()
        .filter(|(k, _)| k == "resource")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(resources, ["https://api.example/", "https://api2.example/"]);
    assert_eq!(req.param("audience"), Some("aud-1"));
    assert_eq!(req.param("tenant"), Some("t 1"));
}

fn claims_of(token: &str) -> Value {
    tessera_jose::UnverifiedJws::parse(token)
        .unwrap()
        .claims()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_jwt_signs_a_fresh_assertion_per_request() {
    let mock = Mock::start().await;
    let secret = "a-long-shared-secret-for-hmac-0123456789abcdef";
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let cred = Credential::builder(
            Endpoint::token_endpoint(&mock.token_url()).unwrap(),
            "jwt-client",
        )
        .client_secret(SecretString::from(secret))
        .auth_method(ClientAuthMethod::ClientSecretJwt)
        .client_assertion(SigningProfile::new(alg, KeySource::ClientSecret))
        .build()
        .unwrap();
        let source = mock.source(cred);
        source.token().await.unwrap();
        source.force_refresh().await.unwrap();
    }
    let mut jtis = HashSet::new();
    for (req, alg) in mock.recorded().iter().zip([
        jsonwebtoken::Algorithm::HS256,
        jsonwebtoken::Algorithm::HS256,
        jsonwebtoken::Algorithm::HS384,
        jsonwebtoken::Algorithm::HS384,
        jsonwebtoken::Algorithm::HS512,
        jsonwebtoken::Algorithm::HS512,
    ]) {
        assert_eq!(
            req.param("client_assertion_type"),
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        );
        assert_eq!(req.param("client_secret"), None);
        assert_eq!(req.header("authorization"), None);
        let assertion = req.param("client_assertion").unwrap();
        // Verified by a third-party JOSE library.
        let mut v = jsonwebtoken::Validation::new(alg);
        v.set_audience(&[mock.token_url()]);
        v.set_issuer(&["jwt-client"]);
        let data = jsonwebtoken::decode::<Value>(
            assertion,
            &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
            &v,
        )
        .unwrap();
        let c = data.claims;
        assert_eq!(c["sub"], "jwt-client");
        assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 60);
        assert!(
            jtis.insert(c["jti"].as_str().unwrap().to_owned()),
            "jti reused"
        );
    }
    assert_eq!(jtis.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_with_every_asymmetric_algorithm() {
    let mock = Mock::start().await;
    let algs = [
        (Algorithm::RS256, jsonwebtoken::Algorithm::RS256),
        (Algorithm::RS384, jsonwebtoken::Algorithm::RS384),
        (Algorithm::RS512, jsonwebtoken::Algorithm::RS512),
        (Algorithm::PS256, jsonwebtoken::Algorithm::PS256),
        (Algorithm::ES256, jsonwebtoken::Algorithm::ES256),
        (Algorithm::ES384, jsonwebtoken::Algorithm::ES384),
        (Algorithm::EdDSA, jsonwebtoken::Algorithm::EdDSA),
    ];
    for (i, (alg, jwt_alg)) in algs.into_iter().enumerate() {
        let key = SigningKey::generate(alg)
            .unwrap()
            .with_kid(format!("k-{i}"));
        let public = key.public_jwk().unwrap();
        let mut profile = SigningProfile::new(alg, KeySource::Key(Arc::new(key)));
        profile.lifetime = Duration::from_secs(30);
        profile.audience = Some("https://issuer.example".into());
        profile.claims.insert("tenant".into(), Value::from("t1"));
        profile
            .claims
            .insert("iss".into(), Value::from("cannot-override"));
        profile
            .headers
            .insert("x5t#S256".into(), Value::from("abc"));
        let cred = Credential::builder(
            Endpoint::token_endpoint(&mock.token_url()).unwrap(),
            "pk-client",
        )
        .client_assertion(profile)
        .build()
        .unwrap();
        assert_eq!(cred.auth_method(), ClientAuthMethod::PrivateKeyJwt);
        mock.source(cred).token().await.unwrap();
        let rec = mock.recorded();
        let req = rec.last().unwrap();
        let assertion = req.param("client_assertion").unwrap();
        let header = jsonwebtoken::decode_header(assertion).unwrap();
        assert_eq!(header.alg, jwt_alg);
        assert_eq!(header.kid.as_deref(), Some(format!("k-{i}").as_str()));
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(serde_json::to_value(&public).unwrap()).unwrap();
        let mut v = jsonwebtoken::Validation::new(jwt_alg);
        v.set_audience(&["https://issuer.example"]);
        let c = jsonwebtoken::decode::<Value>(
            assertion,
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
            &v,
        )
        .unwrap_or_else(|e| panic!("{alg}: {e}"))
        .claims;
        assert_eq!(c["iss"], "pk-client", "{alg}: iss cannot be overridden");
        assert_eq!(c["sub"], "pk-client");
        assert_eq!(c["tenant"], "t1");
        assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 30);
        assert_eq!(req.param("client_id"), Some("pk-client"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assertion_keys_from_pem_file_inline_pem_and_jwk_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let pem = tessera_jose::to_pem("PRIVATE KEY", key.pkcs8_der().unwrap());
    let pem_path = dir.path().join("key.pem");
    std::fs::write(&pem_path, &pem).unwrap();
    let ed = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let ed_pem = tessera_jose::to_pem("PRIVATE KEY", ed.pkcs8_der().unwrap());
    let hmac_secret = b"an-hmac-key-from-a-jwk-file-0123456789";
    let jwk_path = dir.path().join("key.json");
    std::fs::write(
        &jwk_path,
        serde_json::json!({"kty": "oct", "k": tessera_jose::b64_encode(hmac_secret), "kid": "oct-1"}).to_string(),
    )
    .unwrap();
    let mock = Mock::start().await;
    for (alg, source) in [
        (Algorithm::ES256, KeySource::PemFile(pem_path.clone())),
        (Algorithm::EdDSA, KeySource::Pem(SecretString::from(ed_pem))),
        (Algorithm::HS256, KeySource::JwkFile(jwk_path.clone())),
    ] {
        let cred = Credential::builder(Endpoint::token_endpoint(&mock.token_url()).unwrap(), "pk")
            .client_assertion(SigningProfile::new(alg, source))
            .build()
            .unwrap();
        mock.source(cred).token().await.unwrap();
    }
    let recs = mock.recorded();
    let verify = |assertion: &str, k: &SigningKey| {
        let vk = k.verifying_key().unwrap();
        tessera_jose::UnverifiedJws::parse(assertion)
            .unwrap()
            .verify(&vk, &[k.alg()])
            .unwrap();
    };
    verify(recs[0].param("client_assertion").unwrap(), &key);
    verify(recs[1].param("client_assertion").unwrap(), &ed);
    verify(
        recs[2].param("client_assertion").unwrap(),
        &SigningKey::hmac(Algorithm::HS256, hmac_secret).unwrap(),
    );
    let h = jsonwebtoken::decode_header(recs[2].param("client_assertion").unwrap()).unwrap();
    assert_eq!(h.kid.as_deref(), Some("oct-1"), "kid from the JWK");
    // A missing file is a clear configuration error.
    let err = Credential::builder(Endpoint::token_endpoint(&mock.token_url()).unwrap(), "pk")
        .client_assertion(SigningProfile::new(
            Algorithm::ES256,
            KeySource::PemFile(dir.path().join("nope.pem")),
        ))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("nope.pem"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_grant_with_a_given_or_signed_assertion() {
    let mock = Mock::start().await;
    let given = Credential::builder(Endpoint::token_endpoint(&mock.token_url()).unwrap(), "c")
        .client_secret(SecretString::from("s"))
        .grant(Grant::JwtBearer(JwtBearerAssertion::Given(
            SecretString::from("given.assertion.jwt"),
        )))
        .build()
        .unwrap();
    mock.source(given).token().await.unwrap();
    let key = Arc::new(SigningKey::generate(Algorithm::ES256).unwrap());
    let mut profile = SigningProfile::new(Algorithm::ES256, KeySource::Key(Arc::clone(&key)));
    profile.subject = Some("user-42".into());
    let signed = Credential::builder(Endpoint::token_endpoint(&mock.token_url()).unwrap(), "c")
        .client_secret(SecretString::from("s"))
        .grant(Grant::JwtBearer(JwtBearerAssertion::Signed(profile)))
        .build()
        .unwrap();
    let s = mock.source(signed);
    s.token().await.unwrap();
    s.force_refresh().await.unwrap();
    let recs = mock.recorded();
    let gt = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    assert_eq!(recs[0].param("grant_type"), Some(gt));
    assert_eq!(recs[0].param("assertion"), Some("given.assertion.jwt"));
    assert!(
        recs[0].header("authorization").is_some(),
        "the client still authenticates"
    );
    let a1 = claims_of(recs[1].param("assertion").unwrap());
    let a2 = claims_of(recs[2].param("assertion").unwrap());
    assert_eq!(a1["sub"], "user-42");
    assert_eq!(a1["iss"], "c");
    assert_eq!(a1["aud"], Value::from(mock.token_url()));
    assert_ne!(a1["jti"], a2["jti"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_then_refresh_token_then_fallback() {
    let mock = Mock::start().await;
    mock.on_token(|req, n| match req.param("grant_type") {
        Some("password") => Reply::json(
            200,
            serde_json::json!({"access_token": format!("tok-{n}"), "token_type": "bearer", "expires_in": "3600", "refresh_token": format!("rt-{n}")}),
        ),
        // The first refresh works (no new refresh token: keep the old one); the second is refused.
        Some("refresh_token") if req.param("refresh_token") == Some("rt-0") && n == 1 => {
            Reply::token(&format!("tok-{n}"), 3600)
        }
        Some("refresh_token") => Reply::json(400, serde_json::json!({"error": "invalid_grant", "error_description": "refresh token revoked"})),
        _ => Reply::json(400, serde_json::json!({"error": "unsupported_grant_type"})),
    });
    let cred = Credential::builder(Endpoint::token_endpoint(&mock.token_url()).unwrap(), "c")
        .client_secret(SecretString::from("s"))
        .grant(Grant::Password {
            username: "alice".into(),
            password: SecretString::from("p@ss w:rd"),
        })
        .build()
        .unwrap();
    let source = mock.source(cred);
    let t0 = source.token().await.unwrap();
    assert_eq!(
        t0.lifetime(),
        Duration::from_secs(3600),
        "expires_in as a string"
    );
    let t1 = source.force_refresh().await.unwrap();
    assert_eq!(t1.secret(), "tok-1");
    // Refresh refused: falls back to the password grant.
    let t3 = source.force_refresh().await.unwrap();
    assert_eq!(t3.secret(), "tok-3");
    let recs = mock.recorded();
    let grants: Vec<_> = recs
        .iter()
        .map(|r| r.param("grant_type").unwrap().to_owned())
        .collect();
    assert_eq!(
        grants,
        ["password", "refresh_token", "refresh_token", "password"]
    );
    assert_eq!(recs[0].param("username"), Some("alice"));
    assert_eq!(recs[0].param("password"), Some("p@ss w:rd"));
    assert_eq!(
        recs[2].param("refresh_token"),
        Some("rt-0"),
        "the old refresh token was kept"
    );
    assert!(
        recs[1].header("authorization").is_some(),
        "refresh authenticates the client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifetime_from_expires_in_jwt_exp_default_and_cap() {
    let mock = Mock::start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let key = SigningKey::hmac(Algorithm::HS256, b"k").unwrap();
    let jwt = key
        .encode(Some("at+jwt"), &serde_json::json!({"exp": now + 600}))
        .unwrap();
    mock.on_token(move |_, n| match n {
        0 => Reply::json(200, serde_json::json!({"access_token": "a", "token_type": "Bearer", "expires_in": 120})),
        1 => Reply::json(200, serde_json::json!({"access_token": "b", "token_type": "Bearer", "expires_in": "90"})),
        2 => Reply::json(200, serde_json::json!({"access_token": jwt, "token_type": "Bearer"})),
        3 => Reply::json(200, serde_json::json!({"access_token": "opaque", "token_type": "Bearer"})),
        _ => Reply::json(200, serde_json::json!({"access_token": "long", "token_type": "Bearer", "expires_in": 999_999})),
    });
    let source = TokenSource::builder(mock.credential("c", "s"))
        .cache(TokenCache::new())
        .lifetime(LifetimePolicy {
            default_lifetime: Duration::from_secs(77),
            max_lifetime: Duration::from_secs(3600),
        })
        .build()
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let f = source.fetch_uncached().await.unwrap();
        seen.push((f.lifetime.as_secs(), f.lifetime_source));
    }
    assert_eq!(seen[0], (120, LifetimeSource::ExpiresIn));
    assert_eq!(seen[1], (90, LifetimeSource::ExpiresIn));
    assert!(
        seen[2].0 > 590 && seen[2].0 <= 600 && seen[2].1 == LifetimeSource::JwtExp,
        "{:?}",
        seen[2]
    );
    assert_eq!(seen[3], (77, LifetimeSource::Default));
    assert_eq!(seen[4], (3600, LifetimeSource::Capped));
}
