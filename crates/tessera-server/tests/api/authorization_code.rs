//! The authorization code flow over plain HTTP (RFC 6749 §4.1, RFC 7636, RFC 9207, RFC 8252):
//! sign-in, consent, the redirect back, the token request, and every refusal.

use crate::helpers::{ClientSpec, assert_oauth_error, jwt_claims, spawn_app, spawn_app_with};
use crate::people::{
    PASSWORD, REDIRECT, UserAgent, authorize_url, code_client, code_flow, create_user, exchange,
    is_active, pkce, resource_server, wait_for_clock,
};
use tessera_proto::TokenFormat;
use tessera_server::model::now;

#[tokio::test]
async fn code_flow_with_pkce_state_and_iss() {
    let app = spawn_app().await;
    let uid = create_user(&app, "alice").await;
    code_client(&app, "spa", true).await;
    let (verifier, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    // Not signed in: the authorization endpoint sends the browser to the sign-in page.
    let first = ua
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("scope", "core.accounting.read"),
            ("state", "xyz"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]))
        .await;
    assert_eq!(first.status, 303);
    assert!(
        first
            .location()
            .unwrap()
            .starts_with("/login?return_to=%2Foauth2%2Fauthorize%3F")
    );
    let login = ua.follow(first).await;
    assert!(
        login.body.contains("test spa"),
        "the sign-in page names the client"
    );
    // Signing in leads to the consent page, which names the client and the scope.
    let consent = ua.submit_login(&login, "Alice", PASSWORD).await;
    assert_eq!(consent.status, 200);
    assert!(
        consent
            .body
            .contains("Allow test spa to access your account?"),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("test scope core.accounting.read"));
    let done = ua.decide(&consent, true).await;
    assert_eq!(done.status, 303);
    let p = done.redirect_params();
    assert!(done.location().unwrap().starts_with(REDIRECT));
    assert_eq!(p["state"], "xyz");
    assert_eq!(p["iss"], app.state.issuer);
    let (status, body) = exchange(&app, "spa", None, &p["code"], &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "core.accounting.read");
    assert!(
        body.get("id_token").is_none(),
        "no openid scope, no ID token"
    );
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], uid);
    assert_eq!(claims["client_id"], "spa");
    assert!(claims["auth_time"].as_i64().is_some());
    // The consent is remembered: the next request goes straight back with a code.
    let (_, challenge2) = pkce();
    let again = ua
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("scope", "core.accounting.read"),
            ("code_challenge", &challenge2),
            ("code_challenge_method", "S256"),
        ]))
        .await;
    assert_eq!(again.status, 303);
    assert!(again.location().unwrap().starts_with(REDIRECT));
    assert!(again.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn unknown_client_and_bad_redirect_uri_get_an_error_page_never_a_redirect() {
    let app = spawn_app().await;
    code_client(&app, "spa", true).await;
    let (_, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    for (client, redirect) in [
        ("nobody", REDIRECT),
        ("spa", "https://evil.example/callback"),
        ("spa", "https://app.example/callback/extra"),
    ] {
        let p = ua
            .get(&authorize_url(&[
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", redirect),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ]))
            .await;
        assert_eq!(p.status, 400, "{client} {redirect}");
        assert!(p.location().is_none());
        assert!(
            p.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(p.body.contains("role=\"alert\""));
    }
}

#[tokio::test]
async fn request_errors_go_back_to_the_redirect_uri() {
    let app = spawn_app().await;
    code_client(&app, "spa", true).await;
    let (_, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    let base = [
        ("client_id", "spa"),
        ("redirect_uri", REDIRECT),
        ("state", "s1"),
    ];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("response_type", "token"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
            "unsupported_response_type",
        ),
        (vec![("response_type", "code")], "invalid_request"),
        (
            vec![
                ("response_type", "code"),
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("response_type", "code"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("scope", "core.payroll.write"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("response_type", "code"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("prompt", "none"),
            ],
            "login_required",
        ),
    ];
    for (extra, code) in cases {
        let mut params = base.to_vec();
        params.extend(extra);
        let p = ua.get(&authorize_url(&params)).await;
        assert_eq!(p.status, 303, "{code}: {}", p.body);
        let q = p.redirect_params();
        assert_eq!(q["error"], code);
        assert_eq!(q["state"], "s1");
        assert_eq!(q["iss"], app.state.issuer);
        assert!(!q["error_description"].is_empty());
    }
}

#[tokio::test]
async fn confidential_clients_need_pkce_by_default_and_authenticate() {
    let app = spawn_app().await;
    create_user(&app, "bob").await;
    let secret = code_client(&app, "web", false).await.unwrap();
    let mut ua = UserAgent::new(&app);
    let p = ua
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", REDIRECT),
        ]))
        .await;
    assert_eq!(p.redirect_params()["error"], "invalid_request");
    let (verifier, challenge) = pkce();
    let q = code_flow(
        &mut ua,
        "bob",
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    // Without the client's secret the code is worth nothing.
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
                ("client_id", "web"),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let (status, body) = exchange(&app, "web", Some(&secret), &q["code"], &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].as_str().unwrap().starts_with("trt_"));
}

#[tokio::test]
async fn code_replay_is_refused_and_revokes_what_the_code_gave() {
    let app = spawn_app().await;
    let rs = resource_server(&app).await;
    create_user(&app, "carol").await;
    code_client(&app, "spa", true).await;
    let (verifier, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    let q = code_flow(
        &mut ua,
        "carol",
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("scope", "core.accounting.read"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (status, first) = exchange(&app, "spa", None, &q["code"], &verifier).await;
    assert_eq!(status, 200);
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert!(is_active(&app, &rs, access).await);
    let (status, second) = exchange(&app, "spa", None, &q["code"], &verifier).await;
    assert_eq!(status, 400);
    assert_eq!(second["error"], "invalid_grant");
    assert!(
        !is_active(&app, &rs, access).await,
        "the access token from the replayed code is revoked"
    );
    let r = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", "spa"),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
}

async fn dan_code(ua: &mut UserAgent, challenge: &str) -> String {
    let p = [
        ("response_type", "code"),
        ("client_id", "spa"),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    code_flow(ua, "dan", &p).await["code"].clone()
}

#[tokio::test]
async fn token_request_must_match_verifier_redirect_uri_and_client() {
    let app = spawn_app().await;
    create_user(&app, "dan").await;
    code_client(&app, "spa", true).await;
    code_client(&app, "other", true).await;
    let mut ua = UserAgent::new(&app);
    // Wrong verifier.
    let (_, challenge) = pkce();
    let code = dan_code(&mut ua, &challenge).await;
    let (wrong, _) = pkce();
    let (status, body) = exchange(&app, "spa", None, &code, &wrong).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Missing verifier.
    let (_, challenge) = pkce();
    let code = dan_code(&mut ua, &challenge).await;
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", "spa"),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    // Another redirect URI.
    let (verifier, challenge) = pkce();
    let code = dan_code(&mut ua, &challenge).await;
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example/other"),
                ("code_verifier", &verifier),
                ("client_id", "spa"),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    // Another client.
    let (verifier, challenge) = pkce();
    let code = dan_code(&mut ua, &challenge).await;
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
                ("client_id", "other"),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    // A made-up code.
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", "tac_nope"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
                ("client_id", "spa"),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
}

#[tokio::test]
async fn loopback_redirects_may_use_any_port() {
    let app = spawn_app().await;
    create_user(&app, "erin").await;
    code_client(&app, "cli", true).await;
    let (verifier, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    let redirect = "http://127.0.0.1:53124/native";
    let q = code_flow(
        &mut ua,
        "erin",
        &[
            ("response_type", "code"),
            ("client_id", "cli"),
            ("redirect_uri", redirect),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", redirect),
                ("code_verifier", &verifier),
                ("client_id", "cli"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let p = ua
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", "cli"),
            ("redirect_uri", "http://127.0.0.1:53124/other"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]))
        .await;
    assert_eq!(p.status, 400, "another path is not the registered URI");
}

#[tokio::test]
async fn deny_wrong_password_csrf_and_page_headers() {
    let app = spawn_app().await;
    create_user(&app, "fay").await;
    code_client(&app, "spa", true).await;
    let (_, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    let url = authorize_url(&[
        ("response_type", "code"),
        ("client_id", "spa"),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let first = ua.get(&url).await;
    let cookie = first
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag on an http issuer"
    );
    let login = ua.follow(first).await;
    for h in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "cache-control",
    ] {
        assert!(login.headers.contains_key(h), "missing {h}");
    }
    assert_eq!(login.headers["x-frame-options"], "DENY");
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && !csp.contains("script-src")
            && csp.contains("default-src 'none'")
    );
    assert!(!login.body.contains("<script"));
    // Wrong password: the form again, with an alert.
    let wrong = ua.submit_login(&login, "fay", "not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("role=\"alert\""));
    // A post without the CSRF token is refused.
    let no_csrf = ua
        .post("/login", &[("username", "fay"), ("password", PASSWORD)])
        .await;
    assert_eq!(no_csrf.status, 400);
    assert!(
        ua.get("/logout").await.body.contains("You are signed out"),
        "not signed in by the forged post"
    );
    // Deny: access_denied back at the client.
    let consent = ua.submit_login(&wrong, "fay", PASSWORD).await;
    let denied = ua.decide(&consent, false).await;
    let q = denied.redirect_params();
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st");
}

#[tokio::test]
async fn a_code_used_after_it_expired_is_refused_with_invalid_grant() {
    // The shortest lifetime the configuration allows.
    let app = spawn_app_with(|c| c.authorize.code_lifetime_secs = 1).await;
    create_user(&app, "hal").await;
    code_client(&app, "spa", true).await;
    let (verifier, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    let q = code_flow(
        &mut ua,
        "hal",
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    // Issued at or before `issued_by`, the code has expired once the clock reads one second more.
    let issued_by = now();
    wait_for_clock(issued_by + 1).await;
    let (status, body) = exchange(&app, "spa", None, &q["code"], &verifier).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("expired")),
        "{body}"
    );
}

/// The attributes of each `Set-Cookie` header of `page` (lower case, after the name and value).
fn cookie_attributes(page: &crate::people::Page) -> Vec<Vec<String>> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| {
            v.to_str()
                .unwrap()
                .split(';')
                .skip(1)
                .map(|a| a.trim().to_ascii_lowercase())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_issuer_is_https() {
    // The issuer is https (as behind a TLS-terminating proxy); the test still talks plain HTTP
    // to the loopback address the server listens on.
    let app = spawn_app_with(|c| c.issuer = Some("https://login.example".into())).await;
    assert_eq!(app.state.issuer, "https://login.example");
    create_user(&app, "ida").await;
    code_client(&app, "spa", true).await;
    let (_, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    let check = |step: &str, page: &crate::people::Page| {
        let cookies = cookie_attributes(page);
        assert_eq!(cookies.len(), 1, "{step}: one Set-Cookie, got {cookies:?}");
        for attr in ["secure", "httponly", "samesite=lax", "path=/"] {
            assert!(
                cookies[0].iter().any(|a| a == attr),
                "{step}: {attr} missing from {cookies:?}"
            );
        }
    };
    // A new browser gets its cookie from the authorization endpoint.
    let first = ua
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("state", "sec"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]))
        .await;
    check("first visit", &first);
    // Signing in replaces the cookie's value: still Secure.
    let login = ua.follow(first).await;
    let signed_in = ua
        .post(
            "/login",
            &[
                ("csrf", &login.input("csrf").unwrap()),
                ("return_to", &login.input("return_to").unwrap()),
                ("username", "ida"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    check("sign-in", &signed_in);
    let consent = ua.follow(signed_in).await;
    let done = ua.decide(&consent, true).await;
    let q = done.redirect_params();
    assert!(q.contains_key("code"));
    assert_eq!(q["iss"], "https://login.example");
    // So does signing out.
    let logout = ua.get("/logout").await;
    let out = ua
        .post("/logout", &[("csrf", &logout.input("csrf").unwrap())])
        .await;
    check("sign-out", &out);
}

#[tokio::test]
async fn prompt_login_consent_none_and_max_age() {
    let app = spawn_app().await;
    create_user(&app, "gus").await;
    code_client(&app, "spa", true).await;
    let (_, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut p: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("code_challenge_method", "S256"),
        ];
        p.extend_from_slice(extra);
        p
    };
    let mut params = with(&[]);
    params.push(("code_challenge", &challenge));
    code_flow(&mut ua, "gus", &params).await;
    // Signed in and consented: prompt=none answers with a code.
    let mut p = with(&[("prompt", "none")]);
    p.push(("code_challenge", &challenge));
    let r = ua.get(&authorize_url(&p)).await;
    assert!(r.redirect_params().contains_key("code"));
    // prompt=consent shows the consent page again.
    let mut p = with(&[("prompt", "consent")]);
    p.push(("code_challenge", &challenge));
    let r = ua.get(&authorize_url(&p)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("name=\"decision\""));
    // prompt=login and max_age=0 send the user to sign in again, then come back with a code.
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let mut p = with(&[extra]);
        p.push(("code_challenge", &challenge));
        let r = ua.get(&authorize_url(&p)).await;
        assert!(r.location().unwrap().starts_with("/login"), "{extra:?}");
        let login = ua.follow(r).await;
        let back = ua.submit_login(&login, "gus", PASSWORD).await;
        assert!(
            back.redirect_params().contains_key("code"),
            "{extra:?}: {}",
            back.body
        );
    }
    // A forged sign-in marker does not stand in for signing in again.
    let forged = format!("{}.AAAA", tessera_server::model::now());
    let mut p = with(&[("prompt", "login")]);
    p.push(("code_challenge", &challenge));
    p.push(("tessera_login_after", &forged));
    let r = ua.get(&authorize_url(&p)).await;
    assert!(r.location().unwrap().starts_with("/login"));
    // Not consented for openid: prompt=none gives consent_required.
    let mut p = with(&[("prompt", "none"), ("scope", "openid")]);
    p.push(("code_challenge", &challenge));
    let r = ua.get(&authorize_url(&p)).await;
    assert_eq!(r.redirect_params()["error"], "consent_required");
}

#[tokio::test]
async fn pages_answer_503_with_retry_after_while_the_database_is_unavailable() {
    let app = spawn_app().await;
    create_user(&app, "erin").await;
    let mut ua = UserAgent::new(&app);
    ua.sign_in("erin").await;
    for path in ["/login", "/device", "/logout"] {
        assert_eq!(ua.get(path).await.status, 200, "{path}");
    }
    // The database goes away: each page reading the session says so, and when to come back,
    // as the API does (RFC 9110 §10.2.3).
    // An opaque token is stored when issued: the API's answer needs the database too.
    let opaque = app
        .register_client(ClientSpec::new("opaque").format(TokenFormat::Opaque))
        .await;
    app.state.store.close().await;
    let api = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("opaque", &opaque)),
        )
        .await;
    assert_eq!(api.status(), 503);
    let api_retry = api.headers().get("retry-after").cloned();
    assert!(api_retry.is_some());
    for path in ["/login", "/device", "/logout"] {
        let page = ua.get(path).await;
        assert_eq!(page.status, 503, "{path}: {}", page.body);
        assert!(page.body.contains("Try again shortly"), "{path}");
        let retry = page.headers.get("retry-after");
        assert_eq!(retry, api_retry.as_ref(), "{path}: the same as the API");
    }
}

/// RFC 8707 §2 at the authorization endpoint: a `resource` the client may not use goes back to
/// the client as `invalid_target`; a registered one goes with the code into the token's `aud`,
/// and the token request may narrow the resources, not add to them.
#[tokio::test]
async fn resource_at_authorize_is_checked_and_carried_into_aud() {
    const API: &str = "https://api.example/";
    const OTHER: &str = "https://other.example/";
    let app = spawn_app().await;
    create_user(&app, "rose").await;
    let mut spec = ClientSpec::new("rs-spa")
        .method(tessera_proto::ClientAuthMethod::None)
        .scopes(&["core.accounting.read"], &["core.accounting.read"])
        .audiences(&[API, OTHER]);
    spec.grant_types = vec![tessera_proto::GrantType::AuthorizationCode];
    spec.redirect_uris = vec![REDIRECT.into()];
    app.register_client(spec).await;
    let mut ua = UserAgent::new(&app);
    ua.sign_in("rose").await;
    let flow = async |ua: &mut UserAgent, resources: &[&str], challenge: &str| {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", "rs-spa"),
            ("redirect_uri", REDIRECT),
            ("state", "st"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        params.extend(resources.iter().map(|r| ("resource", *r)));
        code_flow(ua, "rose", &params).await
    };
    // Unregistered, or not an absolute URI: back to the client with invalid_target.
    for bad in [
        "https://unknown.example/",
        "api.example",
        "https://api.example/#frag",
    ] {
        let (_, challenge) = pkce();
        let q = flow(&mut ua, &[bad], &challenge).await;
        assert_eq!(q["error"], "invalid_target", "{bad}: {q:?}");
        assert_eq!(q["state"], "st");
        assert!(!q.contains_key("code"));
    }
    let (_, challenge) = pkce();
    let q = flow(&mut ua, &[API, "https://unknown.example/"], &challenge).await;
    assert_eq!(q["error"], "invalid_target", "{q:?}");

    // A registered resource: the token's aud, without naming it again.
    let (verifier, challenge) = pkce();
    let q = flow(&mut ua, &[OTHER], &challenge).await;
    let (status, body) = exchange(&app, "rs-spa", None, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["aud"],
        OTHER
    );
    // Two: the token request may narrow them...
    let (verifier, challenge) = pkce();
    let q = flow(&mut ua, &[API, OTHER], &challenge).await;
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
                ("client_id", "rs-spa"),
                ("resource", API),
            ],
            None,
        )
        .await;
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["aud"],
        API,
        "{body}"
    );
    // ...but not add one the authorization request did not name.
    let (verifier, challenge) = pkce();
    let q = flow(&mut ua, &[API], &challenge).await;
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
                ("client_id", "rs-spa"),
                ("resource", OTHER),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_target").await;
    // No resource at all: the client's first audience.
    let (verifier, challenge) = pkce();
    let q = flow(&mut ua, &[], &challenge).await;
    let (status, body) = exchange(&app, "rs-spa", None, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["aud"],
        API
    );
}
