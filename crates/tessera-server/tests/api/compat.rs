//! Migration aids (docs/migrating.md), each driven over HTTP with the vendor's request as its
//! documentation writes it (host and credentials replaced): the vendors' endpoint addresses
//! (`compat.profiles`) and `http.path_aliases`.

use crate::helpers::{
    ClientSpec, TestApp, assert_oauth_error, jwt_claims, spawn_app, spawn_app_with,
};
use serde_json::Value;
use tessera_proto::{ClientAuthMethod, GrantType};
use tessera_server::compat::{Endpoint, PathAliases, Profile};
use tessera_server::config::Config;

/// The value of the alias counter for `path` and `source` in `/metrics` (0 when absent).
pub async fn alias_count(app: &TestApp, path: &str, source: &str) -> u64 {
    metric(
        app,
        &format!("tessera_compat_alias_requests_total{{path=\"{path}\",source=\"{source}\"}}"),
    )
    .await
}

/// The value of a counter line `series` (name and labels as Prometheus writes them) in
/// `/metrics`, 0 when absent. Labels are written in sorted order.
pub async fn metric(app: &TestApp, series: &str) -> u64 {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<u64>().ok())
        .unwrap_or(0)
}

fn with_profiles(profiles: &[Profile]) -> impl FnOnce(&mut Config) {
    let profiles = profiles.to_vec();
    move |c| c.compat.profiles = profiles
}

#[tokio::test]
async fn onelogin_addresses_serve_token_introspection_revocation_keys_and_discovery_stays() {
    let app = spawn_app_with(with_profiles(&[Profile::OneLogin])).await;
    let secret = app
        .register_client(ClientSpec::new("ol-app").scopes(&["core.accounting.read"], &[]))
        .await;
    let before = alias_count(&app, "/oidc/2/token", "onelogin").await;
    // OneLogin's client credentials request: Basic credentials, form body.
    for path in ["/oidc/token", "/oidc/2/token"] {
        let r = app
            .form_post(
                path,
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "core.accounting.read"),
                ],
                Some(("ol-app", &secret)),
            )
            .await;
        assert_eq!(r.status(), 200, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_in"].as_u64().is_some());
        let claims = jwt_claims(body["access_token"].as_str().unwrap());
        for c in ["jti", "iss", "iat", "exp", "aud"] {
            assert!(!claims[c].is_null(), "{c} missing: {claims}");
        }
    }
    assert_eq!(
        alias_count(&app, "/oidc/2/token", "onelogin").await,
        before + 1
    );
    // Introspection and revocation at OneLogin's addresses.
    let t = app.cc_token("ol-app", &secret, &[]).await;
    let token = t["access_token"].as_str().unwrap();
    let r = app
        .form_post(
            "/oidc/2/token/introspection",
            &[("token", token), ("token_type_hint", "access_token")],
            Some(("ol-app", &secret)),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
    let r = app
        .form_post(
            "/oidc/token/revocation",
            &[("token", token), ("token_type_hint", "access_token")],
            Some(("ol-app", &secret)),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .form_post(
            "/oidc/token/introspection",
            &[("token", token)],
            Some(("ol-app", &secret)),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["active"], false);
    // The keys at /oidc/certs and /oidc/2/certs are the JWKS.
    let jwks: Value = app
        .http
        .get(app.url("/oauth2/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/oidc/certs", "/oidc/2/certs"] {
        let got: Value = app
            .http
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got, jwks, "{path}");
    }
    // Discovery keeps announcing the standard addresses.
    let meta: Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["token_endpoint"], format!("{}/oauth2/token", app.base));
    assert_eq!(meta["jwks_uri"], format!("{}/oauth2/jwks", app.base));
    // A method the endpoint does not answer is still refused at the alias.
    let r = app.http.get(app.url("/oidc/token")).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn vendor_addresses_are_404_without_their_profile() {
    let app = spawn_app().await;
    let secret = app.register_client(ClientSpec::new("plain")).await;
    for path in [
        "/oidc/token",
        "/oauth/v2/oauth-token",
        "/oauth2/device_authorizations",
    ] {
        let r = app
            .form_post(
                path,
                &[("grant_type", "client_credentials")],
                Some(("plain", &secret)),
            )
            .await;
        assert_eq!(r.status(), 404, "{path}");
    }
}

/// Coupa's authorization URL as its documentation writes it carries no PKCE: at Coupa's address
/// it is served for a confidential client registered with `require_pkce = false`, and refused
/// (`invalid_request`, at the redirect URI) for one that keeps the default.
#[tokio::test]
async fn coupa_authorization_url_without_pkce_for_a_client_that_allows_it() {
    let app = spawn_app_with(with_profiles(&[Profile::Coupa])).await;
    for (id, require_pkce) in [("coupa-web", Some(false)), ("strict-web", None)] {
        let mut spec = ClientSpec::new(id).scopes(&["core.accounting.read"], &[]);
        spec.grant_types = vec![GrantType::AuthorizationCode];
        spec.redirect_uris = vec!["https://app.example/callback".into()];
        spec.require_pkce = require_pkce;
        app.register_client(spec).await;
    }
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |id: &str| {
        app.url(&format!(
            "/oauth2/authorizations/new?client_id={id}&response_type=code\
             &redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&scope=core.accounting.read&state=xyz"
        ))
    };
    let r = no_redirects.get(url("coupa-web")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/login?return_to="), "{to}");
    let r = no_redirects.get(url("strict-web")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(
        to.starts_with("https://app.example/callback?") && to.contains("error=invalid_request"),
        "{to}"
    );
}

#[tokio::test]
async fn coupa_addresses_serve_authorization_and_device_authorization() {
    let app = spawn_app_with(with_profiles(&[Profile::Coupa])).await;
    let mut spec = ClientSpec::new("coupa-tv")
        .method(ClientAuthMethod::None)
        .scopes(&["core.accounting.read"], &["core.accounting.read"]);
    spec.grant_types = vec![GrantType::DeviceCode];
    app.register_client(spec).await;
    let r = app
        .form_post(
            "/oauth2/device_authorizations",
            &[("client_id", "coupa-tv"), ("scope", "core.accounting.read")],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    assert!(d["user_code"].is_string() && d["device_code"].is_string());
    assert_eq!(d["verification_uri"], format!("{}/device", app.base));
    // The authorization address sends the browser to sign in, as the standard one does.
    let mut code = ClientSpec::new("coupa-web").scopes(&["core.accounting.read"], &[]);
    code.grant_types = vec![GrantType::AuthorizationCode];
    code.redirect_uris = vec!["https://app.example/callback".into()];
    app.register_client(code).await;
    let (_, challenge) = crate::people::pkce();
    let query = tessera_proto::form::encode([
        ("client_id", "coupa-web"),
        ("response_type", "code"),
        ("redirect_uri", "https://app.example/callback"),
        ("scope", "core.accounting.read"),
        ("state", "s1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .get(app.url(&format!("/oauth2/authorizations/new?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/login?return_to="), "{to}");
    // An unknown client is refused there exactly as at the standard address.
    let r = no_redirects
        .get(app.url("/oauth2/authorizations/new?client_id=nobody&response_type=code"))
        .send()
        .await
        .unwrap();
    let standard = no_redirects
        .get(app.url("/oauth2/authorize?client_id=nobody&response_type=code"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), standard.status());
}

#[tokio::test]
async fn path_aliases_map_any_address_and_are_counted() {
    let mut aliases = PathAliases::default();
    aliases.0.insert("/auth/token".into(), Endpoint::Token);
    aliases.0.insert("/auth/keys".into(), Endpoint::Jwks);
    let app = spawn_app_with(move |c| c.http.path_aliases = aliases).await;
    let secret = app.register_client(ClientSpec::new("aliased")).await;
    let before = alias_count(&app, "/auth/token", "path_aliases").await;
    let r = app
        .form_post(
            "/auth/token",
            &[("grant_type", "client_credentials")],
            Some(("aliased", &secret)),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Refusals keep their RFC error codes at an alias.
    let r = app
        .form_post(
            "/auth/token",
            &[("grant_type", "client_credentials")],
            Some(("aliased", "wrong")),
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let r = app
        .form_post(
            "/auth/token",
            &[("grant_type", "magic")],
            Some(("aliased", &secret)),
        )
        .await;
    assert_oauth_error(r, 400, "unsupported_grant_type").await;
    assert_eq!(
        alias_count(&app, "/auth/token", "path_aliases").await,
        before + 3
    );
    let keys = app.http.get(app.url("/auth/keys")).send().await.unwrap();
    assert_eq!(keys.status(), 200);
    // The standard address is served as before, and not counted as an alias.
    assert_eq!(
        app.cc_token("aliased", &secret, &[]).await["token_type"],
        "Bearer"
    );
    assert_eq!(
        alias_count(&app, "/auth/token", "path_aliases").await,
        before + 3
    );
}

#[tokio::test]
async fn a_client_assertion_may_name_the_alias_it_was_sent_to() {
    let app = spawn_app_with(with_profiles(&[Profile::Curity])).await;
    let secret = app
        .register_client(ClientSpec::new("cur-jwt").method(ClientAuthMethod::ClientSecretJwt))
        .await;
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let now = tessera_server::model::now();
    let called = app.url("/oauth/v2/oauth-token");
    let assertion = |aud: &str, jti: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"iss": "cur-jwt", "sub": "cur-jwt", "aud": aud,
                "exp": now + 60, "iat": now, "jti": jti}),
            &key,
        )
        .unwrap()
    };
    let send = |path: &'static str, jwt: String| {
        let app = &app;
        async move {
            app.form_post(
                path,
                &[
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &jwt),
                ],
                None,
            )
            .await
        }
    };
    let r = send("/oauth/v2/oauth-token", assertion(&called, "a1")).await;
    assert_eq!(r.status(), 200);
    // The alias's URL is not an audience at the standard address.
    let r = send("/oauth2/token", assertion(&called, "a2")).await;
    assert_oauth_error(r, 401, "invalid_client").await;
}

#[test]
fn an_alias_that_collides_or_names_no_endpoint_stops_the_server_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.toml");
    let load = |body: &str| {
        std::fs::write(&file, body).unwrap();
        Config::load_from(Some(&file), Vec::<(String, String)>::new())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let e = load("[http.path_aliases]\n\"/oauth2/token\" = \"token\"\n");
    assert!(
        e.contains("already the address of the token endpoint"),
        "{e}"
    );
    let e = load("[http.path_aliases]\n\"/healthz\" = \"jwks\"\n");
    assert!(e.contains("already an address of this server"), "{e}");
    let e = load("[http.path_aliases]\n\"/auth/token\" = \"tokens\"\n");
    assert!(
        e.contains("\"tokens\"") && e.contains("introspection"),
        "{e}"
    );
    let e = load(
        "[compat]\nprofiles = [\"onelogin\"]\n[http.path_aliases]\n\"/oidc/me\" = \"token\"\n",
    );
    assert!(
        e.contains("/oidc/me") && e.contains("compat.profiles \"onelogin\""),
        "{e}"
    );
    let e = load("[compat]\nprofiles = [\"keycloak\"]\n");
    assert!(
        e.contains("\"keycloak\"") && e.contains("coupa, onelogin, curity"),
        "{e}"
    );
    // And through the environment, as every setting.
    let env = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
    let c = Config::load_from(None, env("TESSERA_COMPAT_PROFILES", "coupa,curity")).unwrap();
    assert_eq!(c.compat.profiles, [Profile::Coupa, Profile::Curity]);
    let c = Config::load_from(
        None,
        env(
            "TESSERA_HTTP_PATH_ALIASES",
            "/auth/token=token,/auth/keys=jwks",
        ),
    )
    .unwrap();
    assert_eq!(
        c.http.path_aliases.0.get("/auth/keys"),
        Some(&Endpoint::Jwks)
    );
    let e = Config::load_from(None, env("TESSERA_HTTP_PATH_ALIASES", "/metrics=token"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("/metrics"), "{e}");
    let c = Config::load_from(None, env("TESSERA_SCOPES_NAMING", "rfc6749")).unwrap();
    assert_eq!(c.scopes.naming, tessera_proto::ScopeNaming::Rfc6749);
    assert!(Config::load_from(None, env("TESSERA_SCOPES_NAMING", "plain")).is_err());
}

/// A POST with no body to `path_and_query`, as Coupa's documentation sends it.
async fn post_query(app: &TestApp, path_and_query: &str) -> reqwest::Response {
    app.http.post(app.url(path_and_query)).send().await.unwrap()
}

fn query(pairs: &[(&str, &str)]) -> String {
    tessera_proto::form::encode(pairs.iter().copied())
}

#[tokio::test]
async fn coupa_reads_parameters_from_the_query_string_of_a_post() {
    let app = spawn_app_with(with_profiles(&[Profile::Coupa])).await;
    let secret = app
        .register_client(
            ClientSpec::new("coupa-cc")
                .method(ClientAuthMethod::ClientSecretPost)
                .scopes(&["core.accounting.read", "core.accounting.write"], &[]),
        )
        .await;
    let before = metric(
        &app,
        "tessera_compat_query_parameters_total{endpoint=\"token\"}",
    )
    .await;
    // The client credentials request with everything in the query and no body.
    let q = query(&[
        ("client_id", "coupa-cc"),
        ("grant_type", "client_credentials"),
        ("scope", "core.accounting.read core.accounting.write"),
        ("client_secret", &secret),
    ]);
    let r = post_query(&app, &format!("/oauth2/token?{q}")).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["scope"], "core.accounting.read core.accounting.write");
    // With another content type (the body is then not read), and split between query and body.
    let r = app
        .http
        .post(app.url(&format!("/oauth2/token?{q}")))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .http
        .post(app.url(&format!(
            "/oauth2/token?{}",
            query(&[("client_id", "coupa-cc"), ("client_secret", &secret)])
        )))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        metric(
            &app,
            "tessera_compat_query_parameters_total{endpoint=\"token\"}"
        )
        .await,
        before + 3
    );
    // A parameter in both places is refused, and so is one repeated in the query.
    let r = app
        .http
        .post(app.url(&format!("/oauth2/token?{q}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
    let r = post_query(
        &app,
        &format!("/oauth2/token?{q}&scope=core.accounting.read"),
    )
    .await;
    assert_oauth_error(r, 400, "invalid_request").await;
    // Refusals keep their codes.
    let bad = query(&[
        ("client_id", "coupa-cc"),
        ("grant_type", "client_credentials"),
        ("client_secret", "wrong"),
    ]);
    assert_oauth_error(
        post_query(&app, &format!("/oauth2/token?{bad}")).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn coupa_code_and_device_flows_with_parameters_in_the_query() {
    let app = spawn_app_with(with_profiles(&[Profile::Coupa])).await;
    crate::people::create_user(&app, "cora").await;
    let mut spec = ClientSpec::new("coupa-code")
        .method(ClientAuthMethod::ClientSecretPost)
        .scopes(&["core.accounting.read", "offline_access"], &[]);
    spec.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    spec.redirect_uris = vec![crate::people::REDIRECT.into()];
    let secret = app.register_client(spec).await;
    let (verifier, challenge) = crate::people::pkce();
    let mut ua = crate::people::UserAgent::new(&app);
    let p = crate::people::code_flow(
        &mut ua,
        "cora",
        &[
            ("client_id", "coupa-code"),
            ("response_type", "code"),
            ("redirect_uri", crate::people::REDIRECT),
            ("scope", "core.accounting.read offline_access"),
            ("state", "coupa"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let q = query(&[
        ("client_id", "coupa-code"),
        ("client_secret", &secret),
        ("grant_type", "authorization_code"),
        ("code", &p["code"]),
        ("redirect_uri", crate::people::REDIRECT),
        ("code_verifier", &verifier),
    ]);
    let r = post_query(&app, &format!("/oauth2/token?{q}")).await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let q = query(&[
        ("client_id", "coupa-code"),
        ("client_secret", &secret),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
    ]);
    assert_eq!(
        post_query(&app, &format!("/oauth2/token?{q}"))
            .await
            .status(),
        200
    );
    // The device flow at Coupa's address, then polling, all in the query.
    let mut spec = ClientSpec::new("coupa-device")
        .method(ClientAuthMethod::ClientSecretPost)
        .scopes(&["core.accounting.read"], &[]);
    spec.grant_types = vec![GrantType::DeviceCode];
    let secret = app.register_client(spec).await;
    let q = query(&[
        ("client_id", "coupa-device"),
        ("client_secret", &secret),
        ("scope", "core.accounting.read"),
    ]);
    let r = post_query(&app, &format!("/oauth2/device_authorizations?{q}")).await;
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    let q = query(&[
        ("client_id", "coupa-device"),
        ("client_secret", &secret),
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", d["device_code"].as_str().unwrap()),
    ]);
    let r = post_query(&app, &format!("/oauth2/token?{q}")).await;
    assert_oauth_error(r, 400, "authorization_pending").await;
}

#[tokio::test]
async fn without_coupa_parameters_in_the_query_of_a_post_are_refused_not_ignored() {
    let app = spawn_app().await;
    let secret = app
        .register_client(ClientSpec::new("strict").method(ClientAuthMethod::ClientSecretPost))
        .await;
    let q = query(&[
        ("client_id", "strict"),
        ("grant_type", "client_credentials"),
        ("client_secret", &secret),
    ]);
    for path in [
        format!("/oauth2/token?{q}"),
        format!("/oauth2/device_authorization?{q}"),
    ] {
        let r = post_query(&app, &path).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"], "invalid_request");
        let d = body["error_description"].as_str().unwrap();
        assert!(d.contains("query string") && d.contains("body"), "{d}");
    }
    // Also when the body is a good request: the query is not silently dropped.
    let r = app
        .http
        .post(app.url("/oauth2/token?scope=core.accounting.read"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(&[
            ("grant_type", "client_credentials"),
            ("client_id", "strict"),
            ("client_secret", &secret),
        ]))
        .send()
        .await
        .unwrap();
    assert_oauth_error(r, 400, "invalid_request").await;
    // A query of other parameters is ignored, as before.
    let r = app
        .http
        .post(app.url("/oauth2/token?trace=1"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(&[
            ("grant_type", "client_credentials"),
            ("client_id", "strict"),
            ("client_secret", &secret),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn curity_plain_scopes_work_under_rfc6749_naming() {
    let app = spawn_app_with(|c| {
        c.compat.profiles = vec![Profile::Curity];
        c.scopes.naming = tessera_proto::ScopeNaming::Rfc6749;
    })
    .await;
    let api = crate::admin::AdminApi::new(&app).await;
    api.scope("read").await;
    let (_, secret) = api
        .client(serde_json::json!({
            "client_id": "server", "name": "Server",
            "token_endpoint_auth_method": "client_secret_post",
            "allowed_scopes": ["read"],
        }))
        .await;
    // Curity's client credentials request, as its tutorial writes it.
    let r = app
        .http
        .post(app.url("/oauth/v2/oauth-token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id=server&client_secret={secret}&grant_type=client_credentials&scope=read"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["scope"], "read");
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["scope"],
        "read"
    );
    // Curity's introspection address answers for it too.
    let r = app
        .form_post(
            "/oauth/v2/oauth-introspect",
            &[
                ("token", body["access_token"].as_str().unwrap()),
                ("client_id", "server"),
                ("client_secret", &secret),
            ],
            None,
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
    // Not a scope token at all is still refused, with the rule.
    api.post(&["scopes"], serde_json::json!({"name": "a\"b"}))
        .await
        .assert_error(400, "invalid_request", "RFC 6749 §3.3");
    // An unregistered name is an unknown scope.
    let r = app
        .form_post(
            "/oauth/v2/oauth-token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "write"),
                ("client_id", "server"),
                ("client_secret", &secret),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_scope").await;
}

#[tokio::test]
async fn plain_scopes_are_refused_by_default_with_the_setting_named() {
    let app = spawn_app().await;
    let api = crate::admin::AdminApi::new(&app).await;
    api.post(&["scopes"], serde_json::json!({"name": "read"}))
        .await
        .assert_error(400, "invalid_request", "scopes.naming = \"rfc6749\"");
    api.post(
        &["clients"],
        serde_json::json!({"client_id": "c", "name": "C", "allowed_scopes": ["read"]}),
    )
    .await
    .assert_error(400, "invalid_request", "service.object.right");
    let secret = app.register_client(ClientSpec::new("plain")).await;
    let r = app
        .token(
            &[("grant_type", "client_credentials"), ("scope", "read")],
            Some(("plain", &secret)),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");
    let d = body["error_description"].as_str().unwrap();
    assert!(
        d.contains("service.object.right") && d.contains("scopes.naming"),
        "{d}"
    );
    // The setup file follows the setting.
    let file = "[[scopes]]\nname = \"read\"\ndescription = \"Read\"\n";
    let e =
        tessera_server::setup_file::apply_str(&app.state, file, std::path::Path::new("."), &|_| {
            None
        })
        .await
        .err()
        .unwrap_or_default();
    assert!(
        e.contains("scopes[0] (read)") && e.contains("rfc6749"),
        "{e}"
    );
    let relaxed = spawn_app_with(|c| c.scopes.naming = tessera_proto::ScopeNaming::Rfc6749).await;
    let done = tessera_server::setup_file::apply_str(
        &relaxed.state,
        file,
        std::path::Path::new("."),
        &|_| None,
    )
    .await;
    assert!(done.is_ok(), "{done:?}");
    assert!(relaxed.state.registry.scope("read").is_some());
}

#[tokio::test]
async fn the_default_audience_is_the_issuer_the_client_id_or_a_uri() {
    use tessera_server::config::DefaultAudience;
    let issuer_app = spawn_app().await;
    let secret = issuer_app
        .register_client(ClientSpec::new("aud-default"))
        .await;
    let t = issuer_app.cc_token("aud-default", &secret, &[]).await;
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["aud"],
        issuer_app.base
    );
    // OneLogin puts the client id in `aud`.
    let app = spawn_app_with(|c| {
        c.compat.profiles = vec![Profile::OneLogin];
        c.tokens.default_audience = DefaultAudience::ClientId;
    })
    .await;
    let secret = app.register_client(ClientSpec::new("ol-aud")).await;
    let opaque = app
        .register_client(ClientSpec::new("ol-opaque").format(tessera_proto::TokenFormat::Opaque))
        .await;
    let r = app
        .form_post(
            "/oidc/2/token",
            &[("grant_type", "client_credentials")],
            Some(("ol-aud", &secret)),
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["aud"],
        "ol-aud"
    );
    // Opaque tokens introspect with the same audience.
    let t = app.cc_token("ol-opaque", &opaque, &[]).await;
    let r = app
        .form_post(
            "/oidc/2/token/introspection",
            &[("token", t["access_token"].as_str().unwrap())],
            Some(("ol-opaque", &opaque)),
        )
        .await;
    let i: Value = r.json().await.unwrap();
    assert!(
        i["aud"] == "ol-opaque" || i["aud"] == serde_json::json!(["ol-opaque"]),
        "{i}"
    );
    // A client's own audiences still come first.
    let own = app
        .register_client(ClientSpec::new("ol-own").audiences(&["https://api.example/"]))
        .await;
    let t = app.cc_token("ol-own", &own, &[]).await;
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["aud"],
        "https://api.example/"
    );
    // A URI.
    let app = spawn_app_with(|c| {
        c.tokens.default_audience = DefaultAudience::Uri("https://apis.example.com/".into());
    })
    .await;
    let secret = app.register_client(ClientSpec::new("uri-aud")).await;
    let t = app.cc_token("uri-aud", &secret, &[]).await;
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["aud"],
        "https://apis.example.com/"
    );
    // The setting, from the environment, and a bad value refused at start.
    let env = |v: &str| vec![("TESSERA_TOKENS_DEFAULT_AUDIENCE".to_owned(), v.to_owned())];
    let c = Config::load_from(None, env("client_id")).unwrap();
    assert_eq!(c.tokens.default_audience, DefaultAudience::ClientId);
    let c = Config::load_from(None, env("urn:example:apis")).unwrap();
    assert_eq!(
        c.tokens.default_audience,
        DefaultAudience::Uri("urn:example:apis".into())
    );
    for bad in ["clientid", "https://x/#frag", ""] {
        let e = Config::load_from(None, env(bad))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("tokens.default_audience"), "{bad}: {e}");
    }
}

#[tokio::test]
async fn coupas_documented_client_credentials_body_with_a_raw_space_works() {
    let app = spawn_app_with(with_profiles(&[Profile::Coupa])).await;
    let secret = app
        .register_client(
            ClientSpec::new("coupa-doc")
                .method(ClientAuthMethod::ClientSecretPost)
                .scopes(&["core.accounting.read", "core.accounting.write"], &[]),
        )
        .await;
    // curl -d sends the body as written: the space between the scopes is not encoded.
    let r = app
        .http
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id=coupa-doc&grant_type=client_credentials&scope=core.accounting.read core.accounting.write&client_secret={secret}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["scope"], "core.accounting.read core.accounting.write");
    assert_eq!(body["token_type"], "Bearer");
}
