//! The JWT bearer authorization grant (RFC 7523 §2.1, §3), with assertions built by an
//! independent JOSE library (jsonwebtoken): a configured issuer with a `jwks_file` and one with a
//! `jwks_uri`, a self-issued assertion, and every refusal.

use crate::admin::AdminApi;
use crate::helpers::{ClientSpec, TestApp, jwt_claims, spawn_app_with};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use std::path::Path;
use tessera_jose::{Algorithm, JwkSet, SigningKey, to_pem};
use tessera_proto::{ClientAuthMethod, GrantType};
use tessera_server::config::TrustedIssuer;
use tessera_server::model::now;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const IDP: &str = "https://idp.example.com";

/// A key pair: ours (for its public JWK), the same key for jsonwebtoken, and its algorithm there.
fn keypair(alg: Algorithm, kid: &str) -> (SigningKey, EncodingKey, jsonwebtoken::Algorithm) {
    let ours = SigningKey::generate(alg).unwrap().with_kid(kid);
    let pem = to_pem("PRIVATE KEY", ours.pkcs8_der().unwrap());
    let ek = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    (ours, ek, alg.as_str().parse().unwrap())
}

fn jwks(keys: &[&SigningKey]) -> JwkSet {
    JwkSet {
        keys: keys.iter().map(|k| k.public_jwk().unwrap()).collect(),
    }
}

fn sign(
    alg: jsonwebtoken::Algorithm,
    kid: Option<&str>,
    claims: &Value,
    key: &EncodingKey,
) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&h, claims, key).unwrap()
}

fn claims(iss: &str, sub: &str, aud: &str, exp_in: i64, jti: &str) -> Value {
    json!({"iss": iss, "sub": sub, "aud": aud, "exp": now() + exp_in, "iat": now(), "jti": jti})
}

fn issuer_with_file(issuer: &str, file: &Path) -> TrustedIssuer {
    TrustedIssuer {
        issuer: issuer.to_owned(),
        jwks_uri: None,
        jwks_file: Some(file.to_owned()),
        algorithms: vec![],
        audience: vec![],
        subject_prefix: None,
        client_id: None,
    }
}

/// A client allowed the jwt-bearer grant (Basic authentication), with `core.data.read` (default)
/// and `core.data.write`.
fn bearer_client(id: &str) -> ClientSpec {
    let mut spec =
        ClientSpec::new(id).scopes(&["core.data.read", "core.data.write"], &["core.data.read"]);
    spec.grant_types = vec![GrantType::JwtBearer];
    spec
}

async fn exchange(
    app: &TestApp,
    assertion: &str,
    basic: (&str, &str),
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("grant_type", GRANT), ("assertion", assertion)];
    form.extend_from_slice(extra);
    app.token(&form, Some(basic)).await
}

/// Asserts a successful exchange; returns the response body.
async fn granted(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none(), "{body}");
    body
}

/// Asserts a refusal with `status` and `code` whose description does not quote `assertion` (nor
/// any of its three parts); returns the description.
async fn refused(r: reqwest::Response, status: u16, code: &str, assertion: &str) -> String {
    let got = r.status().as_u16();
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (got, body["error"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    let d = body["error_description"].as_str().unwrap_or("").to_owned();
    assert!(!d.is_empty(), "{body}");
    for part in std::iter::once(assertion).chain(assertion.split('.')) {
        assert!(
            part.len() < 8 || !d.contains(part),
            "the description quotes the assertion: {d}"
        );
    }
    d
}

#[tokio::test]
async fn a_configured_issuer_with_a_jwks_file() {
    let (key, ek, alg) = keypair(Algorithm::ES256, "idp-1");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.jwks.json");
    std::fs::write(&file, serde_json::to_vec(&jwks(&[&key])).unwrap()).unwrap();
    let app = spawn_app_with(|c| c.jwt_bearer.issuers = vec![issuer_with_file(IDP, &file)]).await;
    let secret = app.register_client(bearer_client("svc")).await;
    let basic = ("svc", secret.as_str());
    let te = app.token_url();

    // The grant is announced.
    let m: Value = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        m["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == GRANT),
        "{m}"
    );

    let a = sign(
        alg,
        Some("idp-1"),
        &claims(IDP, "alice@idp", &te, 60, "f1"),
        &ek,
    );
    let body = granted(exchange(&app, &a, basic, &[]).await).await;
    assert_eq!(body["scope"], "core.data.read");
    let t = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(t["sub"], "alice@idp");
    assert_eq!(t["client_id"], "svc");
    assert_eq!(t["iss"], app.base);
    assert_eq!(t["aud"], app.base);
    assert_eq!(t["scope"], "core.data.read");

    // The issuer identifier is an accepted audience too; jti is optional; a requested scope
    // among the allowed ones is granted as asked.
    let no_jti = json!({"iss": IDP, "sub": "bob@idp", "aud": [app.base.as_str(), "https://other/"], "exp": now() + 60});
    let body = granted(
        exchange(
            &app,
            &sign(alg, Some("idp-1"), &no_jti, &ek),
            basic,
            &[("scope", "core.data.write")],
        )
        .await,
    )
    .await;
    assert_eq!(body["scope"], "core.data.write");
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["sub"],
        "bob@idp"
    );

    // A scope the client may not have is invalid_scope, as in the other grants.
    let a = sign(
        alg,
        Some("idp-1"),
        &claims(IDP, "alice@idp", &te, 60, "f2"),
        &ek,
    );
    refused(
        exchange(&app, &a, basic, &[("scope", "core.data.admin")]).await,
        400,
        "invalid_scope",
        &a,
    )
    .await;
}

#[tokio::test]
async fn a_configured_issuer_with_a_jwks_uri_an_algorithm_list_an_audience_and_a_subject_prefix() {
    let (rsa, rsa_ek, _) = keypair(Algorithm::RS256, "rsa-1");
    let (ed, ed_ek, _) = keypair(Algorithm::EdDSA, "ed-1");
    let set = serde_json::to_value(jwks(&[&rsa, &ed])).unwrap();
    let fetched = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = fetched.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let j = set.clone();
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { axum::Json(j) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let partner = "https://partner.example";
    let audience = "https://tessera.example/for-partners";
    let app = spawn_app_with(|c| {
        c.jwt_bearer.issuers = vec![TrustedIssuer {
            issuer: partner.to_owned(),
            jwks_uri: Some(format!("http://{addr}/jwks")),
            jwks_file: None,
            algorithms: vec![Algorithm::RS256],
            audience: vec![audience.to_owned()],
            subject_prefix: Some("partner:".to_owned()),
            client_id: None,
        }]
    })
    .await;
    let secret = app.register_client(bearer_client("svc")).await;
    let basic = ("svc", secret.as_str());
    let rs = jsonwebtoken::Algorithm::RS256;

    let a = sign(
        rs,
        Some("rsa-1"),
        &claims(partner, "partner:carol", audience, 60, "u1"),
        &rsa_ek,
    );
    let body = granted(exchange(&app, &a, basic, &[]).await).await;
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["sub"],
        "partner:carol"
    );
    assert!(fetched.load(std::sync::atomic::Ordering::SeqCst) >= 1);

    // The configured audience replaces the default ones.
    let a = sign(
        rs,
        Some("rsa-1"),
        &claims(partner, "partner:carol", &app.token_url(), 60, "u2"),
        &rsa_ek,
    );
    let d = refused(
        exchange(&app, &a, basic, &[]).await,
        400,
        "invalid_grant",
        &a,
    )
    .await;
    assert!(d.contains("aud") && d.contains(audience), "{d}");
    // EdDSA is in the JWKS but not among the issuer's algorithms.
    let a = sign(
        jsonwebtoken::Algorithm::EdDSA,
        Some("ed-1"),
        &claims(partner, "partner:carol", audience, 60, "u3"),
        &ed_ek,
    );
    let d = refused(
        exchange(&app, &a, basic, &[]).await,
        400,
        "invalid_grant",
        &a,
    )
    .await;
    assert!(d.contains("EdDSA"), "{d}");
    // The issuer speaks only for its own subjects.
    let a = sign(
        rs,
        Some("rsa-1"),
        &claims(partner, "svc", audience, 60, "u4"),
        &rsa_ek,
    );
    let d = refused(
        exchange(&app, &a, basic, &[]).await,
        400,
        "invalid_grant",
        &a,
    )
    .await;
    assert!(d.contains("partner:"), "{d}");
}

#[tokio::test]
async fn a_self_issued_assertion_is_signed_by_a_key_the_client_registered() {
    let app = spawn_app_with(|_| {}).await;
    let (key, ek, alg) = keypair(Algorithm::ES256, "sa-1");
    let mut spec = bearer_client("sa");
    spec.jwks = Some(jwks(&[&key]));
    let secret = app.register_client(spec).await;
    let other_secret = app.register_client(bearer_client("other")).await;
    let te = app.token_url();

    // As a Google service account: iss is the client, sub the subject it acts for.
    let a = sign(
        alg,
        Some("sa-1"),
        &claims("sa", "user-42", &te, 60, "s1"),
        &ek,
    );
    let body = granted(exchange(&app, &a, ("sa", &secret), &[]).await).await;
    let t = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        (t["sub"].as_str(), t["client_id"].as_str()),
        (Some("user-42"), Some("sa"))
    );

    // Another client cannot trade it: the assertion's issuer is not that client.
    let a = sign(
        alg,
        Some("sa-1"),
        &claims("sa", "user-42", &te, 60, "s2"),
        &ek,
    );
    let d = refused(
        exchange(&app, &a, ("other", &other_secret), &[]).await,
        400,
        "invalid_grant",
        &a,
    )
    .await;
    assert!(d.contains("iss"), "{d}");
    // A client without registered keys has nothing to verify its own assertions with.
    let a = sign(
        alg,
        Some("sa-1"),
        &claims("other", "user-42", &te, 60, "s3"),
        &ek,
    );
    let d = refused(
        exchange(&app, &a, ("other", &other_secret), &[]).await,
        400,
        "invalid_grant",
        &a,
    )
    .await;
    assert!(d.contains("jwks"), "{d}");
    // An HS256 assertion keyed by the client's own secret is refused: never HMAC.
    let a = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims("sa", "user-42", &te, 60, "s4"),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let d = refused(
        exchange(&app, &a, ("sa", &secret), &[]).await,
        400,
        "invalid_grant",
        &a,
    )
    .await;
    assert!(d.contains("HS256"), "{d}");
}

#[tokio::test]
async fn a_private_key_jwt_client_signs_both_and_one_jwt_serves_once_in_either_role() {
    let app = spawn_app_with(|_| {}).await;
    let (key, ek, alg) = keypair(Algorithm::ES256, "pk-1");
    let mut spec = bearer_client("pk").method(ClientAuthMethod::PrivateKeyJwt);
    spec.grant_types = vec![GrantType::JwtBearer, GrantType::ClientCredentials];
    spec.jwks = Some(jwks(&[&key]));
    app.register_client(spec).await;
    let te = app.token_url();
    let client_assertion =
        |jti: &str| sign(alg, Some("pk-1"), &claims("pk", "pk", &te, 60, jti), &ek);
    // A self-issued grant assertion whose sub is the client: it could pass for a client assertion.
    let grant_assertion = sign(alg, Some("pk-1"), &claims("pk", "pk", &te, 60, "both"), &ek);
    let r = app
        .token(
            &[
                ("grant_type", GRANT),
                ("assertion", &grant_assertion),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", &client_assertion("ca-1")),
            ],
            None,
        )
        .await;
    granted(r).await;
    // The same JWT as a client assertion afterwards is a replay.
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", &grant_assertion),
            ],
            None,
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("replay"),
        "{body}"
    );
}

#[tokio::test]
async fn every_refusal_says_why_without_quoting_the_assertion() {
    let (key, ek, alg) = keypair(Algorithm::ES256, "idp-1");
    // Another key under the same kid: its signatures do not verify.
    let (_stranger, stranger_ek, _) = keypair(Algorithm::ES256, "idp-1");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.jwks.json");
    std::fs::write(&file, serde_json::to_vec(&jwks(&[&key])).unwrap()).unwrap();
    let app = spawn_app_with(|c| c.jwt_bearer.issuers = vec![issuer_with_file(IDP, &file)]).await;
    let secret = app.register_client(bearer_client("svc")).await;
    let cc_secret = app.register_client(ClientSpec::new("cc")).await;
    let basic = ("svc", secret.as_str());
    let te = app.token_url();
    let good = |c: &Value| sign(alg, Some("idp-1"), c, &ek);

    // (what, assertion, a word the description must hold)
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown issuer",
            good(&claims("https://evil.example", "alice", &te, 60, "r1")),
            "iss",
        ),
        (
            "bad signature",
            sign(
                alg,
                Some("idp-1"),
                &claims(IDP, "alice", &te, 60, "r2"),
                &stranger_ek,
            ),
            "signature",
        ),
        (
            "wrong aud",
            good(&claims(
                IDP,
                "alice",
                "https://elsewhere.example/token",
                60,
                "r3",
            )),
            "aud",
        ),
        (
            "expired",
            good(&claims(IDP, "alice", &te, -600, "r4")),
            "expired",
        ),
        (
            "too far ahead",
            good(&claims(IDP, "alice", &te, 3700, "r5")),
            "ahead",
        ),
        (
            "issued long ago",
            good(
                &json!({"iss": IDP, "sub": "alice", "aud": te, "iat": now() - 3600, "exp": now() + 60}),
            ),
            "exp - iat",
        ),
        (
            "missing sub",
            good(&json!({"iss": IDP, "aud": te, "exp": now() + 60, "jti": "r6"})),
            "sub",
        ),
        (
            "missing exp",
            good(&json!({"iss": IDP, "sub": "alice", "aud": te, "jti": "r7"})),
            "exp",
        ),
        (
            "nbf in the future",
            good(
                &json!({"iss": IDP, "sub": "alice", "aud": te, "exp": now() + 120, "nbf": now() + 90, "jti": "r8"}),
            ),
            "nbf",
        ),
        (
            "HMAC",
            jsonwebtoken::encode(
                &Header::new(jsonwebtoken::Algorithm::HS256),
                &claims(IDP, "alice", &te, 60, "r9"),
                &EncodingKey::from_secret(b"anyone can make up a shared secret"),
            )
            .unwrap(),
            "HS256",
        ),
        ("not a JWT", "not.a-jwt-at-all".to_owned(), "JWT"),
    ];
    for (what, a, word) in &cases {
        let d = refused(exchange(&app, a, basic, &[]).await, 400, "invalid_grant", a).await;
        assert!(d.contains(word), "{what}: {d}");
    }

    // A jti is refused while the assertion is unexpired.
    let a = good(&claims(IDP, "alice", &te, 60, "once"));
    granted(exchange(&app, &a, basic, &[]).await).await;
    let d = refused(
        exchange(&app, &a, basic, &[]).await,
        400,
        "invalid_grant",
        &a,
    )
    .await;
    assert!(d.contains("replay"), "{d}");

    // A client not allowed the grant.
    let a = good(&claims(IDP, "alice", &te, 60, "r10"));
    let d = refused(
        exchange(&app, &a, ("cc", &cc_secret), &[]).await,
        400,
        "unauthorized_client",
        &a,
    )
    .await;
    assert!(d.contains(GRANT), "{d}");
    // The assertion missing, or sent twice.
    let r = app.token(&[("grant_type", GRANT)], Some(basic)).await;
    let d = refused(r, 400, "invalid_request", &a).await;
    assert!(d.contains("assertion"), "{d}");
    let r = app
        .token(
            &[("grant_type", GRANT), ("assertion", &a), ("assertion", &a)],
            Some(basic),
        )
        .await;
    refused(r, 400, "invalid_request", &a).await;
    // No client authentication at all.
    let r = app
        .token(&[("grant_type", GRANT), ("assertion", &a)], None)
        .await;
    refused(r, 401, "invalid_client", &a).await;
    // None of those spent the jti: the assertion still works once.
    granted(exchange(&app, &a, basic, &[]).await).await;
}

#[tokio::test]
async fn the_admin_api_registers_the_grant_for_confidential_clients_only() {
    let app = spawn_app_with(|_| {}).await;
    let api = AdminApi::new(&app).await;
    let a = api
        .post(
            &["clients"],
            json!({"name": "bearer", "grant_types": [GRANT]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["grant_types"], json!([GRANT]));
    // The short form is accepted too.
    let a = api
        .post(
            &["clients"],
            json!({"name": "short", "grant_types": ["jwt-bearer"]}),
        )
        .await;
    assert_eq!(a.body["grant_types"], json!([GRANT]), "{}", a.body);
    let a = api
        .post(
            &["clients"],
            json!({"name": "public", "grant_types": [GRANT], "token_endpoint_auth_method": "none"}),
        )
        .await;
    a.assert_error(400, "invalid_request", "confidential");
}

/// Time claims at the ends of what JSON numbers hold are refused with `invalid_grant`, never an
/// overflow (tests build with overflow checks, where one would panic and answer nothing).
#[tokio::test]
async fn extreme_time_claims_are_refused_without_overflow() {
    let (key, ek, alg) = keypair(Algorithm::ES256, "idp-x");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.jwks.json");
    std::fs::write(&file, serde_json::to_vec(&jwks(&[&key])).unwrap()).unwrap();
    let app = spawn_app_with(|c| c.jwt_bearer.issuers = vec![issuer_with_file(IDP, &file)]).await;
    let secret = app.register_client(bearer_client("svc-x")).await;
    let basic = ("svc-x", secret.as_str());
    let te = app.token_url();
    let extremes = [
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e300),
        json!(-1e300),
        json!(f64::MAX),
    ];
    let mut n = 0;
    for claim in ["exp", "iat", "nbf"] {
        for v in &extremes {
            n += 1;
            let mut c = claims(IDP, "user-x", &te, 60, &format!("x{n}"));
            c[claim] = v.clone();
            let a = sign(alg, Some("idp-x"), &c, &ek);
            let r = exchange(&app, &a, basic, &[]).await;
            if claim == "nbf" && *v == json!(i64::MIN) {
                // Valid since long before 1970: nothing wrong with that.
                assert_eq!(r.status(), 200);
                continue;
            }
            let d = refused(r, 400, "invalid_grant", &a).await;
            assert!(d.contains(claim), "{claim} = {v}: {d}");
        }
    }
    // The assertion itself is fine: only its times were wrong.
    let a = sign(
        alg,
        Some("idp-x"),
        &claims(IDP, "user-x", &te, 60, "fine"),
        &ek,
    );
    assert_eq!(exchange(&app, &a, basic, &[]).await.status(), 200);
}

/// A jwt-bearer request with no client authentication, as Couper sends it when its `oauth2` block
/// has no `client_id` (RFC 7523 §3.1).
async fn exchange_unauthenticated(
    app: &TestApp,
    assertion: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("grant_type", GRANT), ("assertion", assertion)];
    form.extend_from_slice(extra);
    app.token(&form, None).await
}

#[tokio::test]
async fn an_issuer_that_acts_as_a_client_needs_no_client_authentication() {
    let (key, ek, alg) = keypair(Algorithm::ES256, "gw-1");
    let (other, other_ek, _) = keypair(Algorithm::ES256, "other-1");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gw.jwks.json");
    std::fs::write(&file, serde_json::to_vec(&jwks(&[&key])).unwrap()).unwrap();
    let unbound = dir.path().join("unbound.jwks.json");
    std::fs::write(&unbound, serde_json::to_vec(&jwks(&[&other])).unwrap()).unwrap();
    let app = spawn_app_with(|c| {
        let mut bound = issuer_with_file("couper-gateway", &file);
        bound.client_id = Some("couper-svc".into());
        c.jwt_bearer.issuers = vec![bound, issuer_with_file("unbound-idp", &unbound)];
    })
    .await;
    let secret = app.register_client(bearer_client("couper-svc")).await;
    let te = app.token_url();

    // The assertion alone: the token is the bound client's, for the assertion's subject.
    let a = sign(
        alg,
        Some("gw-1"),
        &claims("couper-gateway", "user-42", &te, 60, "u1"),
        &ek,
    );
    let body =
        granted(exchange_unauthenticated(&app, &a, &[("scope", "core.data.write")]).await).await;
    let c = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "user-42");
    assert_eq!(c["client_id"], "couper-svc");
    assert_eq!(body["scope"], "core.data.write");
    // With the bound client's id alone, too (RFC 7523 §3.1 allows client_id).
    let a = sign(
        alg,
        Some("gw-1"),
        &claims("couper-gateway", "user-42", &te, 60, "u2"),
        &ek,
    );
    granted(exchange_unauthenticated(&app, &a, &[("client_id", "couper-svc")]).await).await;
    // And the client may still authenticate.
    let a = sign(
        alg,
        Some("gw-1"),
        &claims("couper-gateway", "user-42", &te, 60, "u3"),
        &ek,
    );
    granted(exchange(&app, &a, ("couper-svc", &secret), &[]).await).await;

    // The assertion is verified as ever: a wrong key, a replay.
    let forged = sign(
        alg,
        Some("gw-1"),
        &claims("couper-gateway", "user-42", &te, 60, "u4"),
        &other_ek,
    );
    refused(
        exchange_unauthenticated(&app, &forged, &[]).await,
        400,
        "invalid_grant",
        &forged,
    )
    .await;
    let a = sign(
        alg,
        Some("gw-1"),
        &claims("couper-gateway", "user-42", &te, 60, "u1"),
        &ek,
    );
    refused(
        exchange_unauthenticated(&app, &a, &[]).await,
        400,
        "invalid_grant",
        &a,
    )
    .await;
    // Naming another client is refused.
    let a = sign(
        alg,
        Some("gw-1"),
        &claims("couper-gateway", "user-42", &te, 60, "u5"),
        &ek,
    );
    refused(
        exchange_unauthenticated(&app, &a, &[("client_id", "someone-else")]).await,
        400,
        "invalid_request",
        &a,
    )
    .await;
    // An issuer that names no client still needs client authentication.
    let a = sign(
        alg,
        Some("other-1"),
        &claims("unbound-idp", "user-42", &te, 60, "u6"),
        &other_ek,
    );
    refused(
        exchange_unauthenticated(&app, &a, &[]).await,
        401,
        "invalid_client",
        &a,
    )
    .await;
    // So does a self-issued assertion.
    let a = sign(
        alg,
        Some("gw-1"),
        &claims("couper-svc", "couper-svc", &te, 60, "u7"),
        &ek,
    );
    refused(
        exchange_unauthenticated(&app, &a, &[]).await,
        401,
        "invalid_client",
        &a,
    )
    .await;

    // A disabled bound client, and one not allowed the grant, are refused.
    let mut c = app.state.store.get_client("couper-svc").await.unwrap();
    c.grant_types = vec![GrantType::ClientCredentials];
    app.state.store.update_client(&c).await.unwrap();
    app.state
        .registry
        .reload_client(&app.state.store, &app.state.keys, "couper-svc")
        .await
        .unwrap();
    let a = sign(
        alg,
        Some("gw-1"),
        &claims("couper-gateway", "user-42", &te, 60, "u8"),
        &ek,
    );
    refused(
        exchange_unauthenticated(&app, &a, &[]).await,
        400,
        "unauthorized_client",
        &a,
    )
    .await;
    c.enabled = false;
    app.state.store.update_client(&c).await.unwrap();
    app.state
        .registry
        .reload_client(&app.state.store, &app.state.keys, "couper-svc")
        .await
        .unwrap();
    let a = sign(
        alg,
        Some("gw-1"),
        &claims("couper-gateway", "user-42", &te, 60, "u9"),
        &ek,
    );
    refused(
        exchange_unauthenticated(&app, &a, &[]).await,
        401,
        "invalid_client",
        &a,
    )
    .await;
}
