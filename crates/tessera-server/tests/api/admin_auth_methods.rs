//! A client's list of token endpoint authentication methods (`token_endpoint_auth_methods`), an
//! admin-imported secret (a migration aid, marked until rotated) and the per-client
//! `require_pkce`, through the admin API and at every endpoint that authenticates clients.

use super::AdminApi;
use crate::helpers::{TestApp, assert_oauth_error, spawn_app};
use crate::people::{PASSWORD, REDIRECT, UserAgent, authorize_url, create_user, pkce};
use serde_json::{Value, json};

const HS256_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client credentials request with the secret in the body, as Coupa's and Curity's
/// documentation send it.
async fn post_auth(
    app: &TestApp,
    path: &str,
    id: &str,
    secret: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("client_id", id), ("client_secret", secret)];
    form.extend_from_slice(extra);
    app.form_post(path, &form, None).await
}

async fn metric(app: &TestApp, name: &str) -> u64 {
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
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[tokio::test]
async fn a_client_accepts_exactly_the_methods_it_lists() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let cc = [("grant_type", "client_credentials")];

    // Created without a method: the secret works in the Authorization header and in the body.
    let (both, both_secret) = api.client(json!({"name": "coupa"})).await;
    assert_eq!(
        app.token(&cc, Some((&both, &both_secret))).await.status(),
        200
    );
    let r = post_auth(&app, "/oauth2/token", &both, &both_secret, &cc).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    // The single name of RFC 7591 still reads, as a one-item list.
    let (basic, basic_secret) = api
        .client(json!({"name": "b", "token_endpoint_auth_method": "client_secret_basic"}))
        .await;
    let shown = api.get(&["clients", &basic]).await;
    assert_eq!(
        shown.ok()["token_endpoint_auth_methods"],
        json!(["client_secret_basic"])
    );
    assert_eq!(
        app.token(&cc, Some((&basic, &basic_secret))).await.status(),
        200
    );
    // Refused in the body (no Basic attempt, so no Basic challenge).
    let h = assert_oauth_error(
        post_auth(&app, "/oauth2/token", &basic, &basic_secret, &cc).await,
        401,
        "invalid_client",
    )
    .await;
    assert!(!h.contains_key("www-authenticate"));

    // Only the body.
    let (post, post_secret) = api
        .client(json!({"name": "p", "token_endpoint_auth_methods": ["client_secret_post"]}))
        .await;
    let h = assert_oauth_error(
        app.token(&cc, Some((&post, &post_secret))).await,
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
    assert_eq!(
        post_auth(&app, "/oauth2/token", &post, &post_secret, &cc)
            .await
            .status(),
        200
    );
    // Introspection and revocation authenticate the same way.
    let token = app.cc_token(&both, &both_secret, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .form_post(
            "/oauth2/introspect",
            &[("token", &token)],
            Some((&post, &post_secret)),
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let r = post_auth(
        &app,
        "/oauth2/introspect",
        &post,
        &post_secret,
        &[("token", &token)],
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = app
        .form_post(
            "/oauth2/revoke",
            &[("token", &token)],
            Some((&post, &post_secret)),
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let r = post_auth(
        &app,
        "/oauth2/revoke",
        &basic,
        &basic_secret,
        &[("token", &token)],
    )
    .await;
    assert_oauth_error(r, 401, "invalid_client").await;

    // The device authorization endpoint too.
    let (device, device_secret) = api
        .client(json!({"name": "tv", "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"], "token_endpoint_auth_methods": ["client_secret_basic"]}))
        .await;
    let r = post_auth(
        &app,
        "/oauth2/device_authorization",
        &device,
        &device_secret,
        &[],
    )
    .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    let r = app
        .form_post(
            "/oauth2/device_authorization",
            &[],
            Some((&device, &device_secret)),
        )
        .await;
    assert_eq!(r.status(), 200);

    // Adding client_secret_jwt issues a new secret (it must be kept encrypted); Basic and the
    // assertion both work with it, the body does not.
    let p = api
        .patch(
            &["clients", &basic],
            json!({"token_endpoint_auth_methods": ["client_secret_basic", "client_secret_jwt"]}),
        )
        .await;
    let new_secret = p.ok()["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(
        p.body["token_endpoint_auth_methods"],
        json!(["client_secret_basic", "client_secret_jwt"])
    );
    assert_eq!(
        app.token(&cc, Some((&basic, &new_secret))).await.status(),
        200
    );
    let claims = json!({"iss": basic, "sub": basic, "aud": app.token_url(), "exp": tessera_server::model::now() + 60, "jti": "m1"});
    let assertion = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(new_secret.as_bytes()),
    )
    .unwrap();
    let r = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", HS256_ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    assert_oauth_error(
        post_auth(&app, "/oauth2/token", &basic, &new_secret, &cc).await,
        401,
        "invalid_client",
    )
    .await;

    // Malformed lists change nothing.
    let before = api.get(&["clients"]).await.body;
    for (body, needle) in [
        (
            json!({"name": "x", "token_endpoint_auth_methods": []}),
            "may not be empty",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_methods": ["none", "client_secret_basic"]}),
            "cannot be combined",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_methods": ["client_secret_basic", "magic"]}),
            "unknown client authentication method",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "client_secret_basic", "token_endpoint_auth_methods": ["client_secret_post"]}),
            "duplicate field",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_methods": ["client_secret_jwt", "private_key_jwt"], "jwks_uri": "https://x.example/jwks", "token_endpoint_auth_signing_alg": "HS256"}),
            "both",
        ),
    ] {
        api.post(&["clients"], body.clone())
            .await
            .assert_error(400, "invalid_request", needle);
    }
    let a = api
        .patch(
            &["clients", &post],
            json!({"token_endpoint_auth_methods": []}),
        )
        .await;
    a.assert_error(400, "invalid_request", "may not be empty");
    assert_eq!(api.get(&["clients"]).await.body, before);
}

#[tokio::test]
async fn an_imported_secret_works_is_marked_listed_and_cleared_by_rotation() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let cc = [("grant_type", "client_credentials")];
    let before = api.get(&["clients"]).await.body;
    // Too short: refused, nothing created.
    api.post(
        &["clients"],
        json!({"name": "c", "client_secret": "1234567"}),
    )
    .await
    .assert_error(400, "invalid_request", "8 to 512 characters");
    // A method without a secret cannot take one.
    api.post(
        &["clients"],
        json!({"name": "c", "client_secret": "12345678", "token_endpoint_auth_methods": ["private_key_jwt"], "jwks_uri": "https://x.example/jwks"}),
    )
    .await
    .assert_error(400, "invalid_request", "uses no client secret");
    // An HMAC key for client_secret_jwt must be as long as the hash output.
    api.post(
        &["clients"],
        json!({"name": "c", "client_secret": "only-16-bytes-xx", "token_endpoint_auth_methods": ["client_secret_jwt"]}),
    )
    .await
    .assert_error(400, "invalid_request", "32 bytes for HS256");
    assert_eq!(api.get(&["clients"]).await.body, before);

    // Curity lets an admin type the secret: imported here, never shown back.
    let created = api
        .post(
            &["clients"],
            json!({"name": "curity", "client_id": "curity", "client_secret": "curity-1"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(
        created.body.get("client_secret").is_none(),
        "{}",
        created.body
    );
    let shown = api.get(&["clients", "curity"]).await;
    assert_eq!(shown.ok()["imported_secret"], true);
    assert_eq!(shown.body["secrets"][0]["imported"], true);
    let (generated, generated_secret) = api.client(json!({"name": "gen"})).await;
    assert_eq!(
        api.get(&["clients", &generated]).await.body["imported_secret"],
        false
    );

    // It authenticates (Basic and body), and each use is counted.
    let counted = metric(&app, "tessera_imported_secret_auth_total").await;
    assert_eq!(
        app.token(&cc, Some(("curity", "curity-1"))).await.status(),
        200
    );
    assert_eq!(
        post_auth(&app, "/oauth2/token", "curity", "curity-1", &cc)
            .await
            .status(),
        200
    );
    app.cc_token(&generated, &generated_secret, &[]).await;
    assert_eq!(
        metric(&app, "tessera_imported_secret_auth_total").await,
        counted + 2
    );

    // The list filter finds the clients still using one.
    let ids = |v: &Value| -> Vec<String> {
        v["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let url = |q: &str| format!("{}?{q}", app.url("/admin/api/v1/clients"));
    let get = |q: String| app.http.get(q).bearer_auth(&api.token).send();
    let v: Value = get(url("imported_secret=true"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&v), ["curity"]);
    let v: Value = get(url("imported_secret=false"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!ids(&v).contains(&"curity".to_owned()) && ids(&v).contains(&generated));
    let r = get(url("imported_secret=maybe")).await.unwrap();
    assert_eq!(r.status(), 400);

    // Replaced by another imported secret: still marked, the old one stops.
    let r = api
        .post(
            &["clients", "curity", "secret"],
            json!({"client_secret": "curity-2-x"}),
        )
        .await;
    assert_eq!(r.ok()["imported"], true);
    assert!(r.body.get("client_secret").is_none());
    assert_oauth_error(
        app.token(&cc, Some(("curity", "curity-1"))).await,
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(
        app.token(&cc, Some(("curity", "curity-2-x")))
            .await
            .status(),
        200
    );
    api.post(
        &["clients", "curity", "secret"],
        json!({"client_secret": "short"}),
    )
    .await
    .assert_error(400, "invalid_request", "8 to 512 characters");
    // Rotated to a generated secret: the mark is gone.
    let r = api.post(&["clients", "curity", "secret"], json!({})).await;
    assert_eq!(r.ok()["imported"], false);
    let fresh = r.body["client_secret"].as_str().unwrap().to_owned();
    assert!(fresh.starts_with("tsec_"));
    assert_eq!(
        api.get(&["clients", "curity"]).await.body["imported_secret"],
        false
    );
    let v: Value = get(url("imported_secret=true"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ids(&v).is_empty(), "{v}");
    assert_eq!(app.token(&cc, Some(("curity", &fresh))).await.status(), 200);
}

/// The authorization request of a confidential client `id`, without PKCE.
async fn authorize_without_pkce(
    app: &TestApp,
    id: &str,
) -> std::collections::HashMap<String, String> {
    let mut ua = UserAgent::new(app);
    let mut page = ua
        .visit(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "s1"),
        ]))
        .await;
    if page.body.contains("action=\"/login\"") {
        page = ua.submit_login(&page, "pat", PASSWORD).await;
    }
    if page.body.contains("name=\"decision\"") {
        page = ua.decide(&page, true).await;
    }
    assert_eq!(page.status, 303, "{}", page.body);
    page.redirect_params()
}

#[tokio::test]
async fn require_pkce_is_a_per_client_setting_for_confidential_clients() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    create_user(&app, "pat").await;
    let code_client = |id: &str, extra: Value| {
        let mut body = json!({"name": id, "client_id": id, "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT], "allowed_scopes": ["openid"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    // A public client may not be let off PKCE.
    api.post(
        &["clients"],
        code_client(
            "spa",
            json!({"token_endpoint_auth_methods": ["none"], "require_pkce": false}),
        ),
    )
    .await
    .assert_error(400, "invalid_request", "only for a confidential client");

    // By default a confidential client needs PKCE too.
    let (_, strict_secret) = api.client(code_client("strict", json!({}))).await;
    let q = authorize_without_pkce(&app, "strict").await;
    assert_eq!(q["error"], "invalid_request", "{q:?}");
    assert!(q["error_description"].contains("PKCE"));
    assert!(!strict_secret.is_empty());

    // Coupa's authorization URL carries no PKCE: its client is let off, and counted.
    let (_, coupa_secret) = api
        .client(code_client("coupa-web", json!({"require_pkce": false})))
        .await;
    assert_eq!(
        api.get(&["clients", "coupa-web"]).await.body["require_pkce"],
        false
    );
    let counted = metric(&app, "tessera_authorize_without_pkce_total").await;
    let q = authorize_without_pkce(&app, "coupa-web").await;
    assert_eq!(q["state"], "s1");
    let code = q.get("code").unwrap_or_else(|| panic!("{q:?}"));
    assert_eq!(
        metric(&app, "tessera_authorize_without_pkce_total").await,
        counted + 1
    );
    let r = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
            ],
            Some(("coupa-web", &coupa_secret)),
        )
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    // With PKCE it still works, and is checked.
    let (verifier, challenge) = pkce();
    let mut ua = UserAgent::new(&app);
    ua.sign_in("pat").await;
    let q = crate::people::code_flow(
        &mut ua,
        "pat",
        &[
            ("response_type", "code"),
            ("client_id", "coupa-web"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (status, body) = crate::people::exchange(
        &app,
        "coupa-web",
        Some(&coupa_secret),
        &q["code"],
        &verifier,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Back to the server default (null), PKCE is required again.
    let p = api
        .patch(&["clients", "coupa-web"], json!({"require_pkce": null}))
        .await;
    assert!(p.ok().get("require_pkce").is_none());
    let q = authorize_without_pkce(&app, "coupa-web").await;
    assert_eq!(q["error"], "invalid_request");
    // A confidential client turned public keeps no exemption.
    api.patch(&["clients", "coupa-web"], json!({"require_pkce": false}))
        .await
        .ok();
    api.patch(
        &["clients", "coupa-web"],
        json!({"token_endpoint_auth_methods": ["none"]}),
    )
    .await
    .assert_error(400, "invalid_request", "only for a confidential client");
}
