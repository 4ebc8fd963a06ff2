//! The token client against Tessera's own server (in this process, real HTTP on loopback): the
//! four client authentication methods, Basic encoding of awkward characters, discovery at both
//! well-known URLs, `expires_in` against the JWT's `exp`, 1,000 cold callers making one request
//! (counted by the server), the password grant followed by the refresh token grant, the
//! middleware against a guard-protected API, the jwt-bearer grant with assertions signed from a
//! signing profile (a configured trusted issuer and a self-issued assertion), and the diagnoses
//! of `tessera token validate`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    dead_code
)]

#[path = "../../tessera-gateway/tests/gateway/tessera.rs"]
mod tessera;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tessera::{ClientSpec, Tessera, metric_sum, tessera, tessera_with};
use tessera_client::{
    Algorithm, BasicEncoding, BearerMiddleware, ClientAuthMethod, Credential, Endpoint, Error,
    Grant, GrantType, JwtBearerAssertion, KeySource, SecretString, SigningProfile, TokenCache,
    TokenSource,
};
use tessera_guard::{Clock, Guard, GuardConfig, IntrospectionConfig};
use tessera_jose::{JwkSet, SigningKey};
use tessera_server::config::TrustedIssuer;

const SCOPE: &str = "core.accounting.read";
const API: &str = "https://api.example/";

fn source(credential: Credential) -> TokenSource {
    TokenSource::builder(credential)
        .cache(TokenCache::new())
        .build()
        .unwrap()
}

fn claims(token: &str) -> Value {
    tessera_jose::UnverifiedJws::parse(token)
        .unwrap()
        .claims()
        .unwrap()
}

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

async fn client(t: &Tessera, spec: ClientSpec) -> String {
    t.register_client(spec.scopes(&[SCOPE], &[SCOPE]).audiences(&[API]))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_four_client_authentication_methods() {
    let t = tessera().await;
    let endpoint = || Endpoint::token_endpoint(&t.token_endpoint()).unwrap();

    let basic = client(&t, ClientSpec::new("m-basic")).await;
    let post = client(
        &t,
        ClientSpec::new("m-post").method(ClientAuthMethod::ClientSecretPost),
    )
    .await;
    // client_secret_jwt: the server keeps this secret encrypted to check the HMAC.
    let jwt = client(
        &t,
        ClientSpec::new("m-jwt").method(ClientAuthMethod::ClientSecretJwt),
    )
    .await;
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("pk-1");
    let jwks = JwkSet {
        keys: vec![key.public_jwk().unwrap()],
    };
    client(
        &t,
        ClientSpec::new("m-pk")
            .method(ClientAuthMethod::PrivateKeyJwt)
            .jwks(jwks),
    )
    .await;

    let credentials = [
        Credential::builder(endpoint(), "m-basic")
            .client_secret(SecretString::from(basic))
            .build()
            .unwrap(),
        Credential::builder(endpoint(), "m-post")
            .auth_method(ClientAuthMethod::ClientSecretPost)
            .client_secret(SecretString::from(post))
            .build()
            .unwrap(),
        Credential::builder(endpoint(), "m-jwt")
            .auth_method(ClientAuthMethod::ClientSecretJwt)
            .client_secret(SecretString::from(jwt.clone()))
            .client_assertion(SigningProfile::new(
                Algorithm::HS256,
                KeySource::ClientSecret,
            ))
            .build()
            .unwrap(),
        Credential::builder(endpoint(), "m-pk")
            .auth_method(ClientAuthMethod::PrivateKeyJwt)
            .client_assertion(SigningProfile::new(
                Algorithm::ES256,
                KeySource::Key(Arc::new(key)),
            ))
            .build()
            .unwrap(),
    ];
    for c in credentials {
        let id = c.client_id().to_owned();
        let token = source(c)
            .token()
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let cl = claims(token.secret());
        assert_eq!(cl["client_id"], id.as_str());
        assert_eq!(cl["aud"], API);
        assert_eq!(t.token_requests(&id).await, 1, "{id}");
    }

    // A wrong HMAC key is refused as invalid_client, without retries.
    let wrong = Credential::builder(endpoint(), "m-jwt")
        .auth_method(ClientAuthMethod::ClientSecretJwt)
        .client_secret(SecretString::from(format!("{jwt}x")))
        .client_assertion(SigningProfile::new(
            Algorithm::HS256,
            KeySource::ClientSecret,
        ))
        .build()
        .unwrap();
    match source(wrong).token().await {
        Err(e) => assert!(
            matches!(e.cause(), Error::OAuth { .. }) && e.to_string().contains("invalid_client"),
            "{e}"
        ),
        Ok(_) => panic!("a wrong secret was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_with_awkward_characters_in_id_and_secret() {
    let t = tessera().await;
    let id = "svc:a%b+c d-é";
    let secret = "p:a%s+s w-ö€/=";
    client(&t, ClientSpec::new(id).secret(secret)).await;
    let cred = Credential::builder(Endpoint::token_endpoint(&t.token_endpoint()).unwrap(), id)
        .client_secret(SecretString::from(secret))
        .build()
        .unwrap();
    let token = source(cred.clone()).token().await.unwrap();
    assert_eq!(claims(token.secret())["client_id"], id);
    // Sent raw (RFC 7617 style), the same characters do not authenticate: the encoding matters.
    let raw = source(cred.with_basic_encoding(BasicEncoding::Raw));
    let e = raw.token().await.unwrap_err();
    assert!(
        e.to_string().contains("invalid_client") || e.to_string().contains("invalid_request"),
        "{e}"
    );
    // The same secret in the body.
    let post = cred
        .with_auth_method(ClientAuthMethod::ClientSecretPost)
        .unwrap();
    // The server registered the client for Basic: the body method is refused.
    assert!(source(post).token().await.is_err());
}

/// A front for Tessera that can hide its OpenID Connect discovery document, counts the
/// metadata requests by path and keeps the body of every token request.
struct Front {
    target: parking_lot::Mutex<String>,
    hide_oidc: AtomicBool,
    oidc_hits: AtomicU64,
    oauth_hits: AtomicU64,
    token_bodies: parking_lot::Mutex<Vec<Vec<u8>>>,
    http: reqwest::Client,
}

/// Starts a front on 127.0.0.1:0 (its target set later); returns it and its URL.
async fn front() -> (Arc<Front>, String) {
    let front = Arc::new(Front {
        target: parking_lot::Mutex::new(String::new()),
        hide_oidc: AtomicBool::new(false),
        oidc_hits: AtomicU64::new(0),
        oauth_hits: AtomicU64::new(0),
        token_bodies: parking_lot::Mutex::new(Vec::new()),
        http: reqwest::Client::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .fallback(forward)
        .with_state(Arc::clone(&front));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (front, url)
}

async fn forward(State(f): State<Arc<Front>>, req: Request) -> Response {
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if pq.starts_with("/.well-known/openid-configuration") {
        f.oidc_hits.fetch_add(1, Ordering::SeqCst);
        if f.hide_oidc.load(Ordering::SeqCst) {
            return http::StatusCode::NOT_FOUND.into_response();
        }
    }
    if pq.starts_with("/.well-known/oauth-authorization-server") {
        f.oauth_hits.fetch_add(1, Ordering::SeqCst);
    }
    let target = f.target.lock().clone();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    if pq.starts_with("/oauth2/token") {
        f.token_bodies.lock().push(body.to_vec());
    }
    let mut headers = parts.headers.clone();
    headers.remove(http::header::HOST);
    let resp = f
        .http
        .request(parts.method, format!("{target}{pq}"))
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let mut out = Response::new(axum::body::Body::from(bytes));
    *out.status_mut() = status;
    for (k, v) in &headers {
        if k != http::header::TRANSFER_ENCODING && k != http::header::CONTENT_LENGTH {
            out.headers_mut().append(k, v.clone());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_at_both_well_known_urls() {
    let (front, issuer) = front().await;
    // Tessera names the front as its issuer, so discovery through the front is consistent.
    let i = issuer.clone();
    let t = tessera_with(move |c| c.issuer = Some(i)).await;
    *front.target.lock() = t.base.clone();
    let secret = client(&t, ClientSpec::new("d-client")).await;
    let cred = || {
        Credential::builder(Endpoint::issuer(&issuer).unwrap(), "d-client")
            .client_secret(SecretString::from(secret.clone()))
            .build()
            .unwrap()
    };

    let s = source(cred());
    s.token().await.unwrap();
    assert_eq!(
        s.token_endpoint().await.unwrap().as_str(),
        format!("{issuer}/oauth2/token")
    );
    assert_eq!(front.oidc_hits.load(Ordering::SeqCst), 1);
    assert_eq!(front.oauth_hits.load(Ordering::SeqCst), 0);

    // Without the OpenID Connect document, RFC 8414's is used.
    front.hide_oidc.store(true, Ordering::SeqCst);
    let s = source(cred());
    s.token().await.unwrap();
    assert_eq!(front.oidc_hits.load(Ordering::SeqCst), 2);
    assert_eq!(front.oauth_hits.load(Ordering::SeqCst), 1);
    assert_eq!(t.token_requests("d-client").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expires_in_agrees_with_the_jwt_exp() {
    let t = tessera().await;
    let secret = client(&t, ClientSpec::new("e-client").lifetime(120)).await;
    let cred = Credential::builder(
        Endpoint::token_endpoint(&t.token_endpoint()).unwrap(),
        "e-client",
    )
    .client_secret(SecretString::from(secret))
    .build()
    .unwrap();
    let s = source(cred);
    let before = unix_now();
    let fetched = s.fetch_uncached().await.unwrap();
    let after = unix_now();
    assert_eq!(fetched.response.expires_in, Some(120));
    assert_eq!(fetched.lifetime, Duration::from_secs(120));
    let cl = claims(&fetched.response.access_token);
    let (iat, exp) = (cl["iat"].as_i64().unwrap(), cl["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 120);
    assert!(
        iat >= before - 1 && iat <= after + 1,
        "iat {iat} not now ({before}…{after})"
    );
    let token = s.token().await.unwrap();
    let left = token.expires_in().as_secs();
    assert!((118..=120).contains(&left), "{left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_cold_callers_make_one_token_request() {
    let t = tessera().await;
    let secret = client(&t, ClientSpec::new("c-client")).await;
    let cred = Credential::builder(
        Endpoint::token_endpoint(&t.token_endpoint()).unwrap(),
        "c-client",
    )
    .client_secret(SecretString::from(secret))
    .build()
    .unwrap();
    let cache = TokenCache::new();
    let barrier = Arc::new(tokio::sync::Barrier::new(1000));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        // Each caller builds its own source from an equal credential: they share the entry.
        let s = TokenSource::builder(cred.clone())
            .cache(cache.clone())
            .build()
            .unwrap();
        let b = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            s.token().await
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap());
    }
    assert!(tokens.iter().all(|x| x.same_as(&tokens[0])));
    assert_eq!(t.token_requests("c-client").await, 1);
}

/// Successful token requests of `client_id` with `grant`, as the server counts them.
async fn grants_counted(t: &Tessera, client_id: &str, grant: GrantType) -> u64 {
    let text = reqwest::get(format!("{}/metrics", t.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metric_sum(
        &text,
        "tessera_token_requests_total",
        &[
            &format!("client=\"{client_id}\""),
            &format!("grant=\"{}\"", grant.as_str()),
            "outcome=\"success\"",
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_grant_then_the_refresh_token_grant_on_force_refresh() {
    let t = tessera().await;
    let secret = client(&t, ClientSpec::new("p-client")).await;
    // A client allowed the password and refresh_token grants (none is by default).
    let mut c = t.state.store.get_client("p-client").await.unwrap();
    c.grant_types = vec![GrantType::Password, GrantType::RefreshToken];
    t.state.store.update_client(&c).await.unwrap();
    t.state
        .registry
        .reload_client(&t.state.store, &t.state.keys, "p-client")
        .await
        .unwrap();
    let password = "correct horse battery staple";
    let user = tessera_server::users::ops::create(
        &t.state,
        tessera_server::users::NewUser {
            username: tessera_server::users::Username::parse("alice").unwrap(),
            password: Some(secrecy::SecretString::from(password)),
            password_temporary: false,
            email: String::new(),
            email_verified: false,
            display_name: "Alice".into(),
            enabled: None,
            role: None,
        },
    )
    .await
    .unwrap();
    let cred = |password: &str| {
        Credential::builder(
            Endpoint::token_endpoint(&t.token_endpoint()).unwrap(),
            "p-client",
        )
        .client_secret(SecretString::from(secret.clone()))
        .grant(Grant::Password {
            username: "alice".into(),
            password: SecretString::from(password),
        })
        .scopes([SCOPE])
        .build()
        .unwrap()
    };

    let s = source(cred(password));
    let first = s.token().await.unwrap();
    let cl = claims(first.secret());
    assert_eq!(cl["sub"], user.id.as_str(), "a token for the user");
    assert_eq!(cl["client_id"], "p-client");
    assert_eq!(grants_counted(&t, "p-client", GrantType::Password).await, 1);
    assert_eq!(
        grants_counted(&t, "p-client", GrantType::RefreshToken).await,
        0
    );

    // force_refresh uses the refresh token the server returned, not the password again; and the
    // rotated refresh token it gets back serves the next refresh.
    for n in 1..=2 {
        let next = s.force_refresh().await.unwrap();
        assert!(!next.same_as(&first));
        assert_eq!(claims(next.secret())["sub"], user.id.as_str());
        assert_eq!(
            grants_counted(&t, "p-client", GrantType::RefreshToken).await,
            n,
            "refresh {n}"
        );
        assert_eq!(grants_counted(&t, "p-client", GrantType::Password).await, 1);
    }
    assert!(s.cached().is_some());

    // A wrong password is invalid_grant, not retried.
    let e = source(cred("wrong password!")).token().await.unwrap_err();
    assert_eq!(e.code().map(|c| c.as_str()), Some("invalid_grant"), "{e}");
    assert!(matches!(e, Error::OAuth { .. }), "not retried: {e:?}");
}

/// The issuer of the jwt-bearer tests' configured trusted issuer.
const PARTNER_IDP: &str = "https://idp.partner.example";

/// The `assertion` of every token request the front saw, in order.
fn assertions_seen(front: &Front) -> Vec<String> {
    front
        .token_bodies
        .lock()
        .iter()
        .filter_map(|b| {
            form_urlencoded::parse(b)
                .find(|(k, _)| k == "assertion")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

/// Tessera behind a front that reads the token requests; Tessera names the front as its issuer,
/// so the assertions' default `aud` (the front's token endpoint) is its own token endpoint.
/// `f` adjusts the rest of its configuration.
async fn tessera_behind_front(
    f: impl FnOnce(&mut tessera_server::config::Config),
) -> (Tessera, Arc<Front>, String) {
    let (front, url) = front().await;
    let issuer = url.clone();
    let t = tessera_with(move |c| {
        c.issuer = Some(issuer);
        f(c);
    })
    .await;
    *front.target.lock() = t.base.clone();
    assert_eq!(t.state.token_endpoint, format!("{url}/oauth2/token"));
    (t, front, format!("{url}/oauth2/token"))
}

/// A confidential (Basic) client allowed only the jwt-bearer grant; returns its secret.
async fn jwt_bearer_client(t: &Tessera, spec: ClientSpec) -> String {
    let id = spec.client_id.clone();
    let secret = client(t, spec).await;
    t.set_grant_types(&id, &[GrantType::JwtBearer]).await;
    secret
}

fn jwt_bearer_credential(
    token_endpoint: &str,
    client_id: &str,
    secret: &str,
    profile: SigningProfile,
) -> Credential {
    Credential::builder(Endpoint::token_endpoint(token_endpoint).unwrap(), client_id)
        .client_secret(SecretString::from(secret))
        .grant(Grant::JwtBearer(JwtBearerAssertion::Signed(profile)))
        .scopes([SCOPE])
        .build()
        .unwrap()
}

/// What a jwt-bearer token source is expected to do.
struct Expected<'a> {
    client_id: &'a str,
    secret: &'a str,
    /// The assertions' `iss` and `sub`, and the `kid` of their header.
    iss: &'a str,
    sub: &'a str,
    kid: Option<&'a str>,
    /// The key that must have signed them.
    key: &'a SigningKey,
}

/// Gets a token with `cred`, then a new one with `force_refresh`, through the front. Both are for
/// the assertion's subject and the client; each came from its own assertion (signed by the key,
/// with the expected `iss`, `sub`, `kid`, the front's token endpoint as `aud`, a 60-second
/// lifetime and a `jti` of its own); and the server refuses either assertion a second time.
async fn two_tokens_from_fresh_assertions(
    t: &Tessera,
    front: &Front,
    token_endpoint: &str,
    cred: Credential,
    want: &Expected<'_>,
) {
    let before = front.token_bodies.lock().len();
    let s = source(cred);
    let first = s.token().await.unwrap();
    let second = s.force_refresh().await.unwrap();
    assert!(!second.same_as(&first), "force_refresh got a new token");
    let mut token_jtis = Vec::new();
    for token in [&first, &second] {
        let cl = claims(token.secret());
        assert_eq!(cl["sub"], want.sub, "a token for the assertion's subject");
        assert_eq!(cl["client_id"], want.client_id, "{cl}");
        assert_eq!(cl["aud"], API, "{cl}");
        assert_eq!(cl["scope"], SCOPE, "{cl}");
        token_jtis.push(cl["jti"].as_str().unwrap().to_owned());
    }
    assert_ne!(token_jtis[0], token_jtis[1]);
    assert_eq!(
        grants_counted(t, want.client_id, GrantType::JwtBearer).await,
        2
    );

    let seen = assertions_seen(front);
    assert_eq!(seen.len(), before + 2, "one token request per token");
    let seen = &seen[before..];
    let verifying = want.key.verifying_key().unwrap();
    let mut assertion_jtis = Vec::new();
    for a in seen {
        let jws = tessera_jose::UnverifiedJws::parse(a).unwrap();
        jws.verify(&verifying, &[want.key.alg()])
            .expect("the assertion is signed with the profile's key");
        assert_eq!(jws.header.kid.as_deref(), want.kid);
        let cl: Value = jws.claims().unwrap();
        assert_eq!(cl["iss"], want.iss, "{cl}");
        assert_eq!(cl["sub"], want.sub, "{cl}");
        assert_eq!(cl["aud"], token_endpoint, "{cl}");
        assert_eq!(
            cl["exp"].as_i64().unwrap() - cl["iat"].as_i64().unwrap(),
            60,
            "{cl}"
        );
        assertion_jtis.push(cl["jti"].as_str().unwrap().to_owned());
    }
    assert_ne!(
        assertion_jtis[0], assertion_jtis[1],
        "each token request carries a fresh assertion"
    );

    // The server remembers each jti: the same assertion again is a replay.
    for a in seen {
        let r = reqwest::Client::new()
            .post(t.token_endpoint())
            .basic_auth(want.client_id, Some(want.secret))
            .form(&[
                ("grant_type", GrantType::JwtBearer.as_str()),
                ("assertion", a),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "{body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("already used"),
            "{body}"
        );
    }
    assert_eq!(
        grants_counted(t, want.client_id, GrantType::JwtBearer).await,
        2
    );
}

/// An assertion signed with a key the server does not know for its issuer: one request, refused
/// with `invalid_grant` saying the signature does not verify, and not retried.
async fn a_wrong_key_is_invalid_grant_without_retry(front: &Front, cred: Credential) {
    let before = front.token_bodies.lock().len();
    let e = source(cred).token().await.unwrap_err();
    assert!(matches!(e, Error::OAuth { .. }), "not retried: {e:?}");
    assert_eq!(e.code().map(|c| c.as_str()), Some("invalid_grant"), "{e}");
    assert!(e.is_permanent(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("invalid_grant") && text.contains("signature does not verify"),
        "{text}"
    );
    assert_eq!(front.token_bodies.lock().len(), before + 1, "one request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_bearer_grant_with_a_configured_issuer_and_a_pem_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("partner-1");
    let jwks_file = dir.path().join("partner.jwks.json");
    let jwks = JwkSet {
        keys: vec![key.public_jwk().unwrap()],
    };
    std::fs::write(&jwks_file, serde_json::to_vec(&jwks).unwrap()).unwrap();
    let key_file = dir.path().join("partner.pem");
    std::fs::write(
        &key_file,
        tessera_jose::to_pem("PRIVATE KEY", key.pkcs8_der().unwrap()),
    )
    .unwrap();
    let trusted = TrustedIssuer {
        issuer: PARTNER_IDP.to_owned(),
        jwks_uri: None,
        jwks_file: Some(jwks_file),
        algorithms: vec![Algorithm::ES256],
        audience: vec![],
        subject_prefix: Some("partner:".to_owned()),
        client_id: None,
    };
    let (t, front, te) = tessera_behind_front(move |c| c.jwt_bearer.issuers = vec![trusted]).await;
    let secret = jwt_bearer_client(&t, ClientSpec::new("jb-partner")).await;
    let profile = |key: KeySource| {
        let mut p = SigningProfile::new(Algorithm::ES256, key);
        p.issuer = Some(PARTNER_IDP.to_owned());
        p.subject = Some("partner:alice".to_owned());
        p.kid = Some("partner-1".to_owned());
        p
    };

    two_tokens_from_fresh_assertions(
        &t,
        &front,
        &te,
        jwt_bearer_credential(
            &te,
            "jb-partner",
            &secret,
            profile(KeySource::PemFile(key_file)),
        ),
        &Expected {
            client_id: "jb-partner",
            secret: &secret,
            iss: PARTNER_IDP,
            sub: "partner:alice",
            kid: Some("partner-1"),
            key: &key,
        },
    )
    .await;

    // Another key under the same kid: the issuer's JWKS does not verify it.
    let other = SigningKey::generate(Algorithm::ES256).unwrap();
    let pem = tessera_jose::to_pem("PRIVATE KEY", other.pkcs8_der().unwrap());
    a_wrong_key_is_invalid_grant_without_retry(
        &front,
        jwt_bearer_credential(
            &te,
            "jb-partner",
            &secret,
            profile(KeySource::Pem(SecretString::from(pem))),
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_bearer_grant_with_a_self_issued_assertion() {
    let (t, front, te) = tessera_behind_front(|_| {}).await;
    let key = SigningKey::generate(Algorithm::EdDSA)
        .unwrap()
        .with_kid("self-1");
    let jwks = JwkSet {
        keys: vec![key.public_jwk().unwrap()],
    };
    let secret = jwt_bearer_client(&t, ClientSpec::new("jb-self").jwks(jwks)).await;
    let profile = |key: Arc<SigningKey>| {
        // iss defaults to the client id: a self-issued assertion.
        let mut p = SigningProfile::new(Algorithm::EdDSA, KeySource::Key(key));
        p.subject = Some("user-42".to_owned());
        p
    };
    let key = Arc::new(key);

    two_tokens_from_fresh_assertions(
        &t,
        &front,
        &te,
        jwt_bearer_credential(&te, "jb-self", &secret, profile(Arc::clone(&key))),
        &Expected {
            client_id: "jb-self",
            secret: &secret,
            iss: "jb-self",
            sub: "user-42",
            kid: Some("self-1"),
            key: &key,
        },
    )
    .await;

    // A key the client did not register, under the registered kid.
    let other = SigningKey::generate(Algorithm::EdDSA)
        .unwrap()
        .with_kid("self-1");
    a_wrong_key_is_invalid_grant_without_retry(
        &front,
        jwt_bearer_credential(&te, "jb-self", &secret, profile(Arc::new(other))),
    )
    .await;
}

/// A profile's `kid` names the key in the assertion's header whatever the key source
/// (`SigningProfile::kid`: "The `kid` header"). With `KeySource::Key`, `Signer::load` returns the
/// key as it is and the profile's `kid` is dropped, so the header names the key's own `kid` and
/// Tessera finds no registered key for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_kid_names_a_loaded_key_in_the_assertion_header() {
    let (t, front, te) = tessera_behind_front(|_| {}).await;
    // Loaded with a local kid; registered at the server under the kid the profile names.
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("local-name");
    let mut public = key.public_jwk().unwrap();
    public.kid = Some("published-1".to_owned());
    let secret = jwt_bearer_client(
        &t,
        ClientSpec::new("jb-kid").jwks(JwkSet { keys: vec![public] }),
    )
    .await;
    let mut profile = SigningProfile::new(Algorithm::ES256, KeySource::Key(Arc::new(key)));
    profile.subject = Some("user-7".to_owned());
    profile.kid = Some("published-1".to_owned());
    let result = source(jwt_bearer_credential(&te, "jb-kid", &secret, profile))
        .token()
        .await;
    let seen = assertions_seen(&front);
    let header_kid = seen.last().and_then(|a| {
        tessera_jose::UnverifiedJws::parse(a)
            .unwrap()
            .header
            .kid
            .clone()
    });
    assert_eq!(header_kid.as_deref(), Some("published-1"));
    let token = result.unwrap();
    assert_eq!(claims(token.secret())["sub"], "user-7");
}

/// An API protected by tessera-guard, answering `ok`.
async fn guarded_api(guard: Guard) -> String {
    let app = Router::new()
        .route("/items", get(|| async { "ok" }))
        .route_layer(guard.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/items")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_refetches_once_after_a_revoked_token() {
    let t = tessera().await;
    let secret = client(&t, ClientSpec::new("r-client").opaque()).await;
    let rs_secret = t
        .register_client(ClientSpec::new("r-api").scopes(&["tessera.tokens.introspect"], &[]))
        .await;
    let guard = Guard::connect(
        GuardConfig::new(t.issuer())
            .audience(API)
            .introspection(IntrospectionConfig::new("r-api", rs_secret)),
    )
    .await
    .unwrap();
    let url = guarded_api(guard).await;
    let cred = Credential::builder(
        Endpoint::token_endpoint(&t.token_endpoint()).unwrap(),
        "r-client",
    )
    .client_secret(SecretString::from(secret.clone()))
    .build()
    .unwrap();
    let s = source(cred);
    let first = s.token().await.unwrap();
    // Revoke it at the server (RFC 7009); the cache still holds it.
    let r = reqwest::Client::new()
        .post(format!("{}/oauth2/revoke", t.base))
        .basic_auth("r-client", Some(&secret))
        .form(&[("token", first.secret())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let api = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(BearerMiddleware::new(s.clone()))
        .build();
    let r = api.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(t.token_requests("r-client").await, 2, "one refetch");
    assert!(!s.token().await.unwrap().same_as(&first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_gives_up_after_retries_plus_one_fetches_for_expired_tokens() {
    let t = tessera().await;
    let secret = client(&t, ClientSpec::new("x-client")).await;
    // The API's clock is an hour ahead: every token looks expired to it.
    let clock = Clock::manual(unix_now() + 3600);
    let guard = Guard::connect(
        GuardConfig::new(t.issuer())
            .audience(API)
            .clock(clock.clone()),
    )
    .await
    .unwrap();
    let url = guarded_api(guard).await;
    let cred = Credential::builder(
        Endpoint::token_endpoint(&t.token_endpoint()).unwrap(),
        "x-client",
    )
    .client_secret(SecretString::from(secret))
    .build()
    .unwrap();
    let api = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(BearerMiddleware::new(source(cred)))
        .build();
    let r = api.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(
        t.token_requests("x-client").await,
        2,
        "retries (1) + 1 fetches, no loop"
    );
    // Back to the right time: the next request succeeds.
    clock.set(unix_now());
    let r = api.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// The `tessera` binary next to this test's executable (`cargo test --workspace` builds it).
fn tessera_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir.join("tessera");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p tessera; cargo test --workspace does)",
        bin.display()
    );
    bin
}

fn validate(args: &[&str], secret: &str) -> Value {
    let out = std::process::Command::new(tessera_bin())
        .args(["token", "validate", "--json"])
        .args(args)
        .env("TEST_SECRET", secret)
        .env_remove("TESSERA_PROFILE")
        .env_remove("TESSERA_CREDENTIALS_FILE")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(out.status.success(), v["ok"] == true, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tessera_token_validate_diagnoses_against_tessera() {
    let t = tessera().await;
    let te = t.token_endpoint();
    let basic = client(&t, ClientSpec::new("v-basic")).await;
    let post = client(
        &t,
        ClientSpec::new("v-post").method(ClientAuthMethod::ClientSecretPost),
    )
    .await;
    client(&t, ClientSpec::new("v-pct").secret("bad%FFsecret")).await;
    let base = |id: &'static str| {
        vec![
            "--token-endpoint",
            te.as_str(),
            "--client-id",
            id,
            "--client-secret-env",
            "TEST_SECRET",
        ]
    };

    let v = tokio::task::block_in_place(|| validate(&base("v-basic"), &basic));
    assert_eq!(v["diagnosis"], "ok", "{v}");

    let v = tokio::task::block_in_place(|| validate(&base("v-basic"), "wrong-secret"));
    assert_eq!(v["diagnosis"], "invalid_client", "{v}");

    let mut args = base("v-basic");
    args.extend(["--scope", "not.granted.scope"]);
    let v = tokio::task::block_in_place(|| validate(&args, &basic));
    assert_eq!(v["diagnosis"], "invalid_scope", "{v}");

    // Registered for client_secret_post, tried with Basic.
    let v = tokio::task::block_in_place(|| validate(&base("v-post"), &post));
    assert_eq!(v["diagnosis"], "wrong_auth_method", "{v}");

    // Raw Basic credentials with `%FF`: the server form-decodes them (RFC 6749
    // §2.3.1) into bytes that are not UTF-8, and says the request is malformed.
    let mut args = base("v-pct");
    args.push("--basic-raw");
    let v = tokio::task::block_in_place(|| validate(&args, "bad%FFsecret"));
    assert_eq!(v["diagnosis"], "invalid_request", "{v}");
}
