//! client_secret_jwt and private_key_jwt, with assertions built by an independent JOSE library
//! (jsonwebtoken).

use crate::helpers::{
    ClientSpec, TestApp, assert_oauth_error, jwt_claims, spawn_app, spawn_app_with,
};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tessera_jose::{Algorithm, JwkSet, SigningKey, to_pem};
use tessera_proto::ClientAuthMethod;
use tessera_server::model::now;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn claims(id: &str, aud: &str, exp_in: i64, jti: &str) -> Value {
    json!({"iss": id, "sub": id, "aud": aud, "exp": now() + exp_in, "iat": now(), "jti": jti})
}

async fn send(app: &TestApp, assertion: &str) -> reqwest::Response {
    app.token(
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn client_secret_jwt_with_hs256() {
    let app = spawn_app().await;
    let secret = app
        .register_client(ClientSpec::new("hs").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let key = EncodingKey::from_secret(secret.as_bytes());
    let sign = |c: &Value| {
        jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::HS256), c, &key).unwrap()
    };
    let ok = sign(&claims("hs", &app.token_url(), 60, "j1"));
    let r = send(&app, &ok).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        jwt_claims(
            r.json::<Value>().await.unwrap()["access_token"]
                .as_str()
                .unwrap()
        )["sub"],
        "hs"
    );
    // The same jti again is a replay.
    assert_oauth_error(send(&app, &ok).await, 401, "invalid_client").await;
    // The issuer is an accepted audience too.
    assert_eq!(
        send(&app, &sign(&claims("hs", &app.base, 60, "j2")))
            .await
            .status(),
        200
    );
    // A wrong secret.
    let bad = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims("hs", &app.base, 60, "j3"),
        &EncodingKey::from_secret(b"not the secret at all, clearly"),
    )
    .unwrap();
    assert_oauth_error(send(&app, &bad).await, 401, "invalid_client").await;
    // A client_secret_jwt client may not send its secret in plain.
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("hs", &secret)),
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

/// The only description a caller who proved nothing gets (docs/configuration.md).
const GENERIC: &str = "client authentication failed";

/// The `error_description` of a 401 `invalid_client` answer.
async fn generic_refusal(r: reqwest::Response) -> String {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    body["error_description"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn assertions_that_prove_nothing_learn_nothing_about_the_client() {
    let app = spawn_app().await;
    let te = app.token_url();
    app.register_client(ClientSpec::new("basic")).await;
    let hs_secret = app
        .register_client(ClientSpec::new("hs").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let (key, ek, their_alg) = rsa_or_ec(Algorithm::ES256);
    let mut spec = ClientSpec::new("pk").method(ClientAuthMethod::PrivateKeyJwt);
    spec.jwks = Some(JwkSet {
        keys: vec![key.public_jwk().unwrap()],
    });
    app.register_client(spec).await;
    let hs = |id: &str, jti: &str, secret: &[u8]| {
        jsonwebtoken::encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims(id, &te, 60, jti),
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let wrong = b"a secret that is not the client's one, clearly";
    let cases = [
        // A client registered for client_secret_basic.
        ("basic", hs("basic", "1", wrong)),
        // No such client: the answer every other case must be indistinguishable from.
        ("unknown", hs("nobody", "2", wrong)),
        // client_secret_jwt with a wrong secret, and with an asymmetric algorithm.
        ("hs wrong secret", hs("hs", "3", wrong)),
        (
            "hs with ES256",
            jsonwebtoken::encode(&Header::new(their_alg), &claims("hs", &te, 60, "4"), &ek)
                .unwrap(),
        ),
        // private_key_jwt with an HMAC.
        ("pk with HS256", hs("pk", "5", wrong)),
    ];
    for (what, assertion) in cases {
        assert_eq!(
            generic_refusal(send(&app, &assertion).await).await,
            GENERIC,
            "{what}"
        );
    }
    // Once the signature verifies, the caller proved it holds the key and is told what is
    // wrong with the assertion.
    let expired = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims("hs", &te, -600, "6"),
        &EncodingKey::from_secret(hs_secret.as_bytes()),
    )
    .unwrap();
    let d = generic_refusal(send(&app, &expired).await).await;
    assert!(d.contains("expired"), "{d}");
}

fn rsa_or_ec(alg: Algorithm) -> (SigningKey, EncodingKey, jsonwebtoken::Algorithm) {
    let ours = SigningKey::generate(alg)
        .unwrap()
        .with_kid(format!("kid-{alg}"));
    let pem = to_pem("PRIVATE KEY", ours.pkcs8_der().unwrap());
    let ek = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    (ours, ek, alg.as_str().parse().unwrap())
}

#[tokio::test]
async fn private_key_jwt_checks_every_claim() {
    let app = spawn_app().await;
    let (key, ek, their_alg) = rsa_or_ec(Algorithm::ES256);
    let mut spec = ClientSpec::new("pk").method(ClientAuthMethod::PrivateKeyJwt);
    spec.jwks = Some(JwkSet {
        keys: vec![key.public_jwk().unwrap()],
    });
    spec.auth_signing_alg = Some(Algorithm::ES256);
    app.register_client(spec).await;
    let mut header = Header::new(their_alg);
    header.kid = Some("kid-ES256".into());
    let sign = |c: &Value| jsonwebtoken::encode(&header, c, &ek).unwrap();
    let te = app.token_url();
    assert_eq!(
        send(&app, &sign(&claims("pk", &te, 60, "a")))
            .await
            .status(),
        200
    );
    // Each broken claim is refused with a reason.
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"iss": "pk", "sub": "pk", "aud": te, "iat": now(), "jti": "b"}),
            "exp",
        ),
        (
            json!({"iss": "pk", "sub": "pk", "aud": te, "exp": now() + 3700, "jti": "c"}),
            "ahead",
        ),
        (
            json!({"iss": "pk", "sub": "pk", "aud": te, "exp": now() - 600, "jti": "d"}),
            "expired",
        ),
        (
            json!({"iss": "pk", "sub": "pk", "aud": "https://elsewhere/", "exp": now() + 60, "jti": "e"}),
            "aud",
        ),
        (
            json!({"iss": "pk", "sub": "pk", "aud": te, "exp": now() + 60}),
            "jti",
        ),
        (
            json!({"iss": "someone", "sub": "pk", "aud": te, "exp": now() + 60, "jti": "f"}),
            "iss",
        ),
        (
            json!({"iss": "pk", "sub": "pk", "aud": te, "exp": now() + 60, "nbf": now() + 600, "jti": "g"}),
            "nbf",
        ),
    ];
    for (c, word) in cases {
        let r = send(&app, &sign(&c)).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (401, Some("invalid_client")),
            "{c}"
        );
        assert!(
            body["error_description"].as_str().unwrap().contains(word),
            "{word}: {body}"
        );
    }
    // Another algorithm than the registered one: the caller proved nothing, so it learns
    // nothing about the registration (not even that the client exists).
    let (_k2, ek2, alg2) = rsa_or_ec(Algorithm::RS256);
    let other =
        jsonwebtoken::encode(&Header::new(alg2), &claims("pk", &te, 60, "h"), &ek2).unwrap();
    assert_eq!(generic_refusal(send(&app, &other).await).await, GENERIC);
    // Missing client_assertion_type.
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion", &sign(&claims("pk", &te, 60, "i"))),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_request").await;
    // A wrong type.
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:x"),
                ("client_assertion", &sign(&claims("pk", &te, 60, "j"))),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn private_key_jwt_with_rs256_eddsa_and_a_jwks_uri() {
    let app = spawn_app().await;
    let (rsa, rsa_ek, _) = rsa_or_ec(Algorithm::RS256);
    let (ed, ed_ek, _) = rsa_or_ec(Algorithm::EdDSA);
    let jwks = json!({"keys": [rsa.public_jwk().unwrap(), ed.public_jwk().unwrap()]});
    // Serve the JWKS from a small HTTP server on loopback.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let j = jwks.clone();
            async move { axum::Json(j) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut spec = ClientSpec::new("remote").method(ClientAuthMethod::PrivateKeyJwt);
    spec.jwks_uri = Some(format!("http://{addr}/jwks"));
    app.register_client(spec).await;
    let te = app.token_url();
    let mut h = Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some("kid-RS256".into());
    let a = jsonwebtoken::encode(&h, &claims("remote", &te, 60, "r1"), &rsa_ek).unwrap();
    assert_eq!(send(&app, &a).await.status(), 200);
    let mut h = Header::new(jsonwebtoken::Algorithm::EdDSA);
    h.kid = Some("kid-EdDSA".into());
    let a = jsonwebtoken::encode(&h, &claims("remote", &te, 60, "r2"), &ed_ek).unwrap();
    assert_eq!(send(&app, &a).await.status(), 200);
    // HS256 "signed" with the public key is refused for a private_key_jwt client.
    let forged = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims("remote", &te, 60, "r3"),
        &EncodingKey::from_secret(b"public key bytes"),
    )
    .unwrap();
    assert_oauth_error(send(&app, &forged).await, 401, "invalid_client").await;
}

/// The `client.auth_failed` audit events about `target`, waiting (with a deadline) for `n`.
async fn auth_failures(app: &TestApp, target: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let events = app
            .state
            .store
            .list_audit(&tessera_server::store::AuditQuery {
                target: Some(target.into()),
                action: Some("client.auth_failed".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        if events.len() >= n {
            return events.into_iter().filter_map(|e| e.after).collect();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "audit events not written"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn failed_assertions_are_audited_under_the_method_their_alg_names() {
    let app = spawn_app().await;
    let te = app.token_url();
    app.register_client(ClientSpec::new("hs-audit").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let bad = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims("hs-audit", &te, 60, "a1"),
        &EncodingKey::from_secret(b"a secret that is not the client's one, clearly"),
    )
    .unwrap();
    generic_refusal(send(&app, &bad).await).await;
    let after = auth_failures(&app, "hs-audit", 1).await;
    assert_eq!(after[0]["method"], "client_secret_jwt", "{after:?}");
    // An asymmetric one is private_key_jwt, registered client or not.
    let (_, ek, alg) = rsa_or_ec(Algorithm::ES256);
    let pk =
        jsonwebtoken::encode(&Header::new(alg), &claims("pk-audit", &te, 60, "a2"), &ek).unwrap();
    generic_refusal(send(&app, &pk).await).await;
    let after = auth_failures(&app, "pk-audit", 1).await;
    assert_eq!(after[0]["method"], "private_key_jwt", "{after:?}");
}

/// Replaces `client_id`'s secret with `plain` (a `client_secret_jwt` client's: kept encrypted), as
/// a secret set from outside, and reloads the client.
async fn set_secret(app: &TestApp, client_id: &str, plain: &str) {
    let row = tessera_server::client_secret::stored(&app.state.keys, client_id, true, plain, false)
        .unwrap();
    app.state
        .store
        .replace_client_secret(&row, now())
        .await
        .unwrap();
    app.state
        .registry
        .reload_client(&app.state.store, &app.state.keys, client_id)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_hmac_longer_than_the_secret_is_refused() {
    let app = spawn_app().await;
    let te = app.token_url();
    // A client_secret_jwt client's generated secret carries 512 bits: every HMAC algorithm.
    let generated = app
        .register_client(ClientSpec::new("hs-len").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let signed = |alg: jsonwebtoken::Algorithm, jti: &str, secret: &str| {
        jsonwebtoken::encode(
            &Header::new(alg),
            &claims("hs-len", &te, 60, jti),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    use jsonwebtoken::Algorithm::{HS256, HS384, HS512};
    for (i, alg) in [HS256, HS384, HS512].into_iter().enumerate() {
        let r = send(&app, &signed(alg, &format!("g{i}"), &generated)).await;
        assert_eq!(r.status(), 200, "{alg:?}");
    }
    // A secret of 32 bytes (set from outside) is an HS256 key: not HS384 or HS512 (RFC 7518 §3.2).
    let secret = "s".repeat(32);
    set_secret(&app, "hs-len", &secret).await;
    for (i, alg) in [HS384, HS512].into_iter().enumerate() {
        let d = generic_refusal(send(&app, &signed(alg, &format!("w{i}"), &secret)).await).await;
        assert_eq!(d, GENERIC);
    }
    let after = auth_failures(&app, "hs-len", 2).await;
    for a in &after {
        let reason = a["reason"].as_str().unwrap();
        assert!(reason.contains("too weak for HS"), "{reason}");
    }
    assert_eq!(
        send(&app, &signed(HS256, "ok", &secret)).await.status(),
        200
    );
    // A given secret of 64 bytes is long enough for HS512.
    let long = "k".repeat(64);
    set_secret(&app, "hs-len", &long).await;
    assert_eq!(
        send(&app, &signed(HS512, "long", &long)).await.status(),
        200
    );
    let d = generic_refusal(send(&app, &signed(HS512, "short", &long[..63])).await).await;
    assert_eq!(d, GENERIC);
}

/// Time claims at the ends of what JSON numbers hold are refused with `invalid_client`, never an
/// overflow (tests build with overflow checks, where one would panic and answer nothing).
#[tokio::test]
async fn extreme_time_claims_are_refused_without_overflow() {
    // Many refusals in a row from one address: not the failure limit's business here.
    let app =
        spawn_app_with(|c| c.rate_limit.failed_auth_per_client_and_address_per_minute = 1000).await;
    let te = app.token_url();
    let secret = app
        .register_client(ClientSpec::new("hs-time").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let extremes = [
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e300),
        json!(-1e300),
        json!(f64::MAX),
        json!(1.5),
    ];
    let mut n = 0;
    for claim in ["exp", "iat", "nbf"] {
        for v in &extremes {
            n += 1;
            let mut c = claims("hs-time", &te, 60, &format!("t{n}"));
            c[claim] = v.clone();
            let a = jsonwebtoken::encode(
                &Header::new(jsonwebtoken::Algorithm::HS256),
                &c,
                &EncodingKey::from_secret(secret.as_bytes()),
            )
            .unwrap();
            let r = send(&app, &a).await;
            if claim != "exp" && *v == json!(i64::MIN) {
                // Issued, or valid, long before 1970: nothing wrong with that.
                assert_eq!(r.status(), 200, "{claim} = {v}");
                continue;
            }
            let d = generic_refusal(r).await;
            assert!(d.contains(claim), "{claim} = {v}: {d}");
        }
    }
}

/// Authlib signs client assertions with `exp = iat + 3600`: the default
/// `client_auth.assertion_max_lifetime_secs` (3600, FAPI 2.0's limit) accepts them; one hour and a
/// second more (with no clock skew allowed) is refused.
#[tokio::test]
async fn an_assertion_valid_for_one_hour_is_accepted_by_default_and_longer_is_not() {
    let app = spawn_app().await;
    assert_eq!(
        app.state.config.client_auth.assertion_max_lifetime_secs,
        3600
    );
    let secret = app
        .register_client(ClientSpec::new("authlib").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let key = EncodingKey::from_secret(secret.as_bytes());
    let sign = |c: &Value| {
        jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::HS256), c, &key).unwrap()
    };
    let te = app.token_url();
    let r = send(&app, &sign(&claims("authlib", &te, 3600, "hour"))).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    // Beyond the hour and the clock skew allowance: refused.
    let r = send(&app, &sign(&claims("authlib", &te, 3600 + 31, "longer"))).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("at most 3600 s"),
        "{body}"
    );

    let strict = spawn_app_with(|c| c.client_auth.clock_skew_secs = 0).await;
    let secret = strict
        .register_client(ClientSpec::new("authlib").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let key = EncodingKey::from_secret(secret.as_bytes());
    let sign = |c: &Value| {
        jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::HS256), c, &key).unwrap()
    };
    let te = strict.token_url();
    // Timestamps are whole seconds: an assertion made for 3601 s may land 3600 s ahead when the
    // second turns between making it and checking it; 3602 s never does.
    let r = send(&strict, &sign(&claims("authlib", &te, 3602, "over"))).await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let r = send(&strict, &sign(&claims("authlib", &te, 3599, "under"))).await;
    assert_eq!(r.status(), 200);
}
