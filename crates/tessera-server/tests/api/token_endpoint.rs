//! The token endpoint with the client credentials grant: success shapes and every error.

use crate::helpers::{ClientSpec, assert_oauth_error, jwt_claims, spawn_app, spawn_app_with};
use serde_json::Value;
use tessera_proto::{ClientAuthMethod, GrantType, TokenFormat};

#[tokio::test]
async fn issues_an_rfc9068_jwt_with_basic_authentication() {
    let app = spawn_app().await;
    let secret = app
        .register_client(
            ClientSpec::new("billing")
                .scopes(&["core.accounting.read"], &["core.accounting.read"])
                .audiences(&["https://api.example/"]),
        )
        .await;
    let resp = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", &secret)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "core.accounting.read");
    let token = body["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &tessera_jose::b64_decode(token.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].is_string());
    let c = jwt_claims(token);
    assert_eq!(c["iss"], app.base);
    assert_eq!(c["sub"], "billing");
    assert_eq!(c["client_id"], "billing");
    assert_eq!(c["aud"], "https://api.example/");
    assert_eq!(c["scope"], "core.accounting.read");
    assert!(c["jti"].as_str().is_some_and(|j| j.len() >= 16));
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 600);
}

#[tokio::test]
async fn client_secret_post_and_per_client_settings() {
    let app = spawn_app().await;
    let mut spec = ClientSpec::new("poster")
        .method(ClientAuthMethod::ClientSecretPost)
        .scopes(&["core.orders.read"], &[]);
    spec.lifetime = Some(120);
    spec.signing_alg = Some(tessera_jose::Algorithm::RS256);
    spec.extra_claims.insert("tenant".into(), "acme".into());
    let secret = app.register_client(spec).await;
    let resp = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "poster"),
                ("client_secret", &secret),
                ("scope", "core.orders.read"),
            ],
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["expires_in"], 120);
    let token = body["access_token"].as_str().unwrap();
    let c = jwt_claims(token);
    assert_eq!(c["tenant"], "acme");
    assert_eq!(
        c["aud"], app.base,
        "no audience configured: the issuer is the default"
    );
    let header: Value = serde_json::from_slice(
        &tessera_jose::b64_decode(token.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS256");
    // A Basic client may not use POST authentication.
    let basic_secret = app.register_client(ClientSpec::new("basic-only")).await;
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "basic-only"),
                ("client_secret", &basic_secret),
            ],
            None,
        )
        .await;
    let h = assert_oauth_error(r, 401, "invalid_client").await;
    // No Basic attempt, no Basic challenge (RFC 6749 §5.2).
    assert!(!h.contains_key("www-authenticate"), "{h:?}");
}

#[tokio::test]
async fn scopes_default_subset_and_unknown() {
    let app = spawn_app().await;
    let secret = app
        .register_client(
            ClientSpec::new("s").scopes(&["core.a.read", "core.a.write"], &["core.a.read"]),
        )
        .await;
    let t = app.cc_token("s", &secret, &[]).await;
    assert_eq!(t["scope"], "core.a.read");
    let t = app
        .cc_token("s", &secret, &[("scope", "core.a.write core.a.read")])
        .await;
    assert_eq!(t["scope"], "core.a.read core.a.write");
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "core.a.read core.b.read"),
            ],
            Some(("s", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_scope").await;
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "core.a.read  core.a.write"),
            ],
            Some(("s", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_scope").await;
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "bad\"scope"),
            ],
            Some(("s", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_scope").await;
}

#[tokio::test]
async fn resource_and_audience_select_aud() {
    let app = spawn_app().await;
    let secret = app
        .register_client(ClientSpec::new("r").audiences(&[
            "https://a.example/",
            "https://b.example/",
            "orders-api",
        ]))
        .await;
    let t = app.cc_token("r", &secret, &[]).await;
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["aud"],
        "https://a.example/"
    );
    let t = app
        .cc_token("r", &secret, &[("resource", "https://b.example/")])
        .await;
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["aud"],
        "https://b.example/"
    );
    let t = app
        .cc_token(
            "r",
            &secret,
            &[
                ("resource", "https://a.example/"),
                ("resource", "https://b.example/"),
            ],
        )
        .await;
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["aud"],
        serde_json::json!(["https://a.example/", "https://b.example/"])
    );
    let t = app
        .cc_token("r", &secret, &[("audience", "orders-api")])
        .await;
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["aud"],
        "orders-api"
    );
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("resource", "https://evil.example/"),
            ],
            Some(("r", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_target").await;
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("resource", "not-absolute"),
            ],
            Some(("r", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "invalid_target").await;
}

#[tokio::test]
async fn request_errors_are_exact() {
    let app = spawn_app().await;
    let secret = app.register_client(ClientSpec::new("c1")).await;
    let basic = Some(("c1", secret.as_str()));
    // Missing grant_type.
    assert_oauth_error(
        app.token(&[("scope", "x")], basic).await,
        400,
        "invalid_request",
    )
    .await;
    // Unknown grant type.
    assert_oauth_error(
        app.token(&[("grant_type", "magic")], basic).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    // Repeated parameter.
    assert_oauth_error(
        app.token(
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            basic,
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    // Wrong content type.
    let r = app
        .http
        .post(app.token_url())
        .header("content-type", "application/json")
        .header("authorization", tessera_proto::basic::encode("c1", &secret))
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
    // Malformed Authorization header.
    for bad in ["Basic !!!notbase64", "Basic Y2xpZW50", "Basic"] {
        let r = app
            .http
            .post(app.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", bad)
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        assert_oauth_error(r, 400, "invalid_request").await;
    }
    // Two authentication methods in one request.
    assert_oauth_error(
        app.token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "c1"),
                ("client_secret", &secret),
            ],
            basic,
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    // No authentication at all: 401 without a challenge (the client did not try Basic; RFC 6749
    // §5.2 asks for the challenge only after an Authorization header).
    let h = assert_oauth_error(
        app.token(&[("grant_type", "client_credentials")], None)
            .await,
        401,
        "invalid_client",
    )
    .await;
    assert!(!h.contains_key("www-authenticate"), "{h:?}");
    // A wrong secret in the body: no challenge either.
    let h = assert_oauth_error(
        app.token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "c1"),
                ("client_secret", "wrong"),
            ],
            None,
        )
        .await,
        401,
        "invalid_client",
    )
    .await;
    assert!(!h.contains_key("www-authenticate"), "{h:?}");
    // Wrong secret, unknown client.
    let h = assert_oauth_error(
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("c1", "wrong")),
        )
        .await,
        401,
        "invalid_client",
    )
    .await;
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
    assert_oauth_error(
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("nobody", "x")),
        )
        .await,
        401,
        "invalid_client",
    )
    .await;
    // Oversized body.
    let big = format!("grant_type=client_credentials&x={}", "a".repeat(100_000));
    let r = app
        .http
        .post(app.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // The unread rest of the body makes the connection unusable: the client is told so.
    assert_eq!(r.headers()["connection"], "close");
    // Wrong method.
    let r = app.http.get(app.token_url()).send().await.unwrap();
    assert_eq!(r.status(), 405);
    // Still works after all that.
    app.cc_token("c1", &secret, &[]).await;
}

#[tokio::test]
async fn grant_not_allowed_disabled_and_public_clients() {
    let app = spawn_app().await;
    let mut spec = ClientSpec::new("code-only");
    spec.grant_types = vec![GrantType::AuthorizationCode];
    let secret = app.register_client(spec).await;
    assert_oauth_error(
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("code-only", &secret)),
        )
        .await,
        400,
        "unauthorized_client",
    )
    .await;
    let mut spec = ClientSpec::new("off");
    spec.enabled = false;
    let secret = app.register_client(spec).await;
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("off", &secret)),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(body["error_description"], "the client is disabled");
}

#[tokio::test]
async fn basic_credentials_are_form_urldecoded() {
    let app = spawn_app().await;
    let id = "a:b%c+d é/ü";
    let secret = app.register_client(ClientSpec::new(id)).await;
    let t = app.cc_token(id, &secret, &[]).await;
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["client_id"],
        id
    );
}

#[tokio::test]
async fn failed_authentication_is_rate_limited_and_audited() {
    let app = spawn_app_with(|c| {
        c.rate_limit.failed_auth_per_client_and_address_per_minute = 3;
        c.rate_limit.failed_auth_per_address_per_minute = 100;
    })
    .await;
    let secret = app.register_client(ClientSpec::new("victim")).await;
    let mut limited = None;
    for _ in 0..6 {
        let r = app
            .token(
                &[("grant_type", "client_credentials")],
                Some(("victim", "guess")),
            )
            .await;
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 401);
    }
    let r = limited.expect("429 after the allowance");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // Even the right secret waits now.
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("victim", &secret)),
        )
        .await;
    assert_eq!(r.status(), 429);
    // Another client is not affected.
    let other = app.register_client(ClientSpec::new("bystander")).await;
    app.cc_token("bystander", &other, &[]).await;
    // Failures are in the audit log, without the guessed secret.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let events = app
            .state
            .store
            .list_audit(&tessera_server::store::AuditQuery {
                target: Some("victim".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        if events
            .iter()
            .filter(|e| e.action == "client.auth_failed")
            .count()
            >= 3
        {
            let text = serde_json::to_string(&events).unwrap();
            assert!(!text.contains("guess"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "audit events not written"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn opaque_tokens_are_stored_hashed_and_survive_restart() {
    let app = spawn_app().await;
    let secret = app
        .register_client(
            ClientSpec::new("o")
                .format(TokenFormat::Opaque)
                .audiences(&["orders"]),
        )
        .await;
    let t = app.cc_token("o", &secret, &[]).await;
    let token = t["access_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tat_") && token.len() >= 4 + 43);
    // Only the keyed hash is stored.
    let row = app
        .state
        .store
        .get_token(&app.state.keys.hash(&token))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.hash, token.as_bytes());
    let db = std::fs::read(app.data_dir.join("tessera.db")).unwrap_or_default();
    let wal = std::fs::read(app.data_dir.join("tessera.db-wal")).unwrap_or_default();
    let needle = token.as_bytes();
    assert!(
        !db.windows(needle.len()).any(|w| w == needle)
            && !wal.windows(needle.len()).any(|w| w == needle)
    );
    // Restart on the same data: the token, the client and the keys are still there.
    let config = app.state.config.clone();
    let jwks_before: Value = app
        .http
        .get(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = app.stop().await;
    let mut config = config;
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.issuer = None;
    let app2 = crate::helpers::start(config).await;
    let r = app2
        .form_post(
            "/oauth2/introspect",
            &[("token", &token)],
            Some(("o", &secret)),
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["aud"], "orders");
    let jwks_after: Value = app2
        .http
        .get(app2.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks_before, jwks_after);
    app2.cc_token("o", &secret, &[]).await;
    drop(dir);
}

#[tokio::test]
async fn key_rotation_publishes_before_signing() {
    let app = spawn_app_with(|c| c.keys.publish_ahead_secs = 3600).await;
    let secret = app.register_client(ClientSpec::new("k")).await;
    let before = app.cc_token("k", &secret, &[]).await;
    let kid_before = header_kid(before["access_token"].as_str().unwrap());
    let s = &app.state;
    let new = s
        .keyring
        .rotate(
            &s.store,
            &s.keys,
            &[tessera_jose::Algorithm::ES256],
            3600,
            86_400,
        )
        .await
        .unwrap();
    let jwks: Value = app
        .http
        .get(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(kids.contains(&new[0].as_str()) && kids.contains(&kid_before.as_str()));
    // Published, but the old key still signs.
    let t = app.cc_token("k", &secret, &[]).await;
    assert_eq!(header_kid(t["access_token"].as_str().unwrap()), kid_before);
    // Rotating with no publication delay: the new key signs at once, the old stays published.
    let newer = s
        .keyring
        .rotate(
            &s.store,
            &s.keys,
            &[tessera_jose::Algorithm::ES256],
            0,
            86_400,
        )
        .await
        .unwrap();
    let t = app.cc_token("k", &secret, &[]).await;
    assert_eq!(header_kid(t["access_token"].as_str().unwrap()), newer[0]);
    let jwks: Value = app
        .http
        .get(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid_before.as_str())
    );
    // A token signed by the retired key still introspects as active.
    let r = app
        .form_post(
            "/oauth2/introspect",
            &[("token", before["access_token"].as_str().unwrap())],
            Some(("k", &secret)),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
}

fn header_kid(token: &str) -> String {
    let h: Value = serde_json::from_slice(
        &tessera_jose::b64_decode(token.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    h["kid"].as_str().unwrap().to_owned()
}

/// The token handler's future is moved (copied) several times per request by axum and tower: the
/// grants other than client credentials, and the rare paths that fetch keys or write to the store,
/// are boxed so that the future a client credentials request moves stays small.
#[tokio::test]
async fn the_token_handler_future_stays_small() {
    let app = spawn_app().await;
    let fut = tessera_server::oauth::token::token(
        axum::extract::State(app.state.clone()),
        tessera_server::net::RemoteAddr(std::net::Ipv4Addr::LOCALHOST.into()),
        None,
        axum::extract::RawQuery(None),
        axum::http::HeaderMap::new(),
        axum::body::Body::empty(),
    );
    let size = std::mem::size_of_val(&fut);
    eprintln!("token handler future: {size} bytes");
    assert!(size <= 2048, "the token handler's future is {size} bytes");
}

/// Five failed attempts for `victim` from the address `forwarded` (sent as `X-Forwarded-For`);
/// the statuses.
async fn failures_from(app: &crate::helpers::TestApp, forwarded: &str) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = app
            .http
            .post(app.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", forwarded)
            .header(
                "authorization",
                tessera_proto::basic::encode("victim", "guess"),
            )
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn the_per_address_limit_counts_the_forwarded_address_only_when_trusted() {
    for trusted in [true, false] {
        let app = spawn_app_with(|c| {
            c.http.trust_forwarded_for = trusted;
            c.rate_limit.failed_auth_per_client_and_address_per_minute = 1000;
            c.rate_limit.failed_auth_per_address_per_minute = 3;
        })
        .await;
        app.register_client(ClientSpec::new("victim")).await;
        let first = failures_from(&app, "192.0.2.1").await;
        assert_eq!(first, [401, 401, 401, 429, 429], "trusted: {trusted}");
        let second = failures_from(&app, "192.0.2.2").await;
        if trusted {
            // Another forwarded address has its own allowance.
            assert_eq!(second, [401, 401, 401, 429, 429]);
        } else {
            // The header is ignored: it is the same peer, already over its allowance.
            assert_eq!(second, [429; 5]);
        }
    }
}

#[tokio::test]
async fn tokens_are_issued_over_http2_as_over_http1() {
    let app = spawn_app().await;
    let secret = app.register_client(ClientSpec::new("h2")).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = h2
        .post(app.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", tessera_proto::basic::encode("h2", &secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    // Errors too, with the same headers as over HTTP/1.1.
    let r = h2
        .post(app.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", tessera_proto::basic::encode("h2", "wrong"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
}

/// 40 requests at once, half multiplexed on one HTTP/2 connection and half over HTTP/1.1
/// connections, and 5 requests pipelined on one HTTP/1.1 connection, are all answered.
#[tokio::test]
async fn token_requests_at_once_are_all_answered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let secret = app.register_client(ClientSpec::new("many")).await;
    let auth = tessera_proto::basic::encode("many", &secret);
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let h1 = reqwest::Client::new();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..40 {
        let client = if i % 2 == 0 { h2.clone() } else { h1.clone() };
        let (url, auth) = (app.token_url(), auth.clone());
        set.spawn(async move {
            let r = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", auth)
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            (r.version(), r.status().as_u16())
        });
    }
    let all = tokio::time::timeout(std::time::Duration::from_secs(30), set.join_all())
        .await
        .expect("every answer leaves");
    assert!(all.iter().all(|(_, status)| *status == 200), "{all:?}");
    let over_h2 = all
        .iter()
        .filter(|(v, _)| *v == reqwest::Version::HTTP_2)
        .count();
    assert_eq!(over_h2, 20);

    let body = "grant_type=client_credentials";
    let one = format!(
        "POST /oauth2/token HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(one.repeat(5).as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let read_five = async {
        let mut buf = [0u8; 16384];
        while String::from_utf8_lossy(&got)
            .matches("HTTP/1.1 200")
            .count()
            < 5
        {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed after {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read_five)
        .await
        .expect("every pipelined answer leaves");
}

/// `http.threading = "shared"` is still accepted (it has no effect): tokens, errors and the admin
/// API answer as with the default.
#[tokio::test]
async fn tokens_are_issued_with_connections_on_the_shared_runtime() {
    let app =
        spawn_app_with(|c| c.http.threading = tessera_server::config::Threading::Shared).await;
    let secret = app.register_client(ClientSpec::new("shared")).await;
    let token = app.cc_token("shared", &secret, &[]).await;
    let claims = jwt_claims(token["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], "shared");
    let r = app
        .form_post(
            "/oauth2/token",
            &[("grant_type", "client_credentials")],
            Some(("shared", "wrong")),
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    assert!(app.admin_token().await.len() > 20);
    app.stop().await;
}
