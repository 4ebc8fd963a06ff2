//! `/admin/api/v1/clients`: the life of a client, every validation error, chosen ids with
//! awkward characters, disabling and deleting, and persistence across a restart.

use super::{AdminApi, admin_url};
use crate::admin::restart_config;
use crate::helpers::{assert_oauth_error, jwt_claims, spawn_app, start};
use serde_json::{Value, json};
use tessera_jose::{Algorithm, SigningKey};
use tessera_server::model::now;

fn public_jwk(alg: Algorithm) -> Value {
    let key = SigningKey::generate(alg)
        .unwrap()
        .with_kid(format!("k-{alg}"));
    serde_json::to_value(key.public_jwk().unwrap()).unwrap()
}

#[tokio::test]
async fn a_client_from_creation_to_deletion() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    api.scope("core.accounting.read").await;
    api.scope("core.accounting.write").await;
    let created = api
        .post(
            &["clients"],
            json!({
                "name": "billing",
                "description": "Bills customers",
                "allowed_scopes": ["core.accounting.read", "core.accounting.write"],
                "default_scopes": ["core.accounting.read"],
                "audiences": ["https://api.example.com/"],
                "access_token_lifetime": 120,
                "extra_claims": {"tenant": "acme"}
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let c = &created.body;
    let id = c["client_id"].as_str().unwrap().to_owned();
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    // Generated id: tsc_ and 22 base64url characters; secret: tsec_ and 256 bits.
    assert!(id.starts_with("tsc_") && id.len() == 26, "{id}");
    assert!(
        id[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert!(
        secret.starts_with("tsec_") && secret.len() >= 5 + 43,
        "{secret}"
    );
    assert_eq!(c["grant_types"], json!(["client_credentials"]));
    // Created without a method: the secret is accepted in the Authorization header or the body.
    assert_eq!(
        c["token_endpoint_auth_methods"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert!(c.get("token_endpoint_auth_method").is_none());
    assert_eq!(c["enabled"], true);
    assert_eq!(created.headers["cache-control"], "no-store");

    // The secret works at once, and the token carries the registration.
    let t = app.cc_token(&id, &secret, &[]).await;
    assert_eq!(t["expires_in"], 120);
    assert_eq!(t["scope"], "core.accounting.read");
    let claims = jwt_claims(t["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://api.example.com/");
    assert_eq!(claims["tenant"], "acme");

    // Listed and shown, never with the secret.
    let list = api.get(&["clients"]).await;
    assert!(
        list.ok()["clients"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["client_id"] == id.as_str())
    );
    let shown = api.get(&["clients", &id]).await;
    let shown = shown.ok();
    assert_eq!(shown["name"], "billing");
    assert_eq!(shown["secrets"].as_array().unwrap().len(), 1);
    assert!(shown["secrets"][0]["expires_at"].is_null());
    assert!(!shown.to_string().contains(&secret));
    assert!(!list.body.to_string().contains(&secret));
    assert!(shown.get("client_secret").is_none());

    // PATCH changes only what it names; null returns a setting to the server default.
    let patched = api
        .patch(
            &["clients", &id],
            json!({"name": "billing v2", "default_scopes": ["core.accounting.write"], "access_token_lifetime": null}),
        )
        .await;
    let p = patched.ok();
    assert_eq!(p["name"], "billing v2");
    assert_eq!(p["description"], "Bills customers");
    assert!(p.get("access_token_lifetime").is_none());
    assert!(
        p.get("client_secret").is_none(),
        "no new secret for a settings change"
    );
    let t = app.cc_token(&id, &secret, &[]).await;
    assert_eq!(t["scope"], "core.accounting.write");
    assert_eq!(t["expires_in"], 600);

    // Deleted: refused at once, gone from the API.
    let d = api.delete(&["clients", &id]).await;
    assert_eq!(d.status, 204);
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some((&id, &secret)),
        )
        .await;
    let h = assert_oauth_error(r, 401, "invalid_client").await;
    assert!(
        h.get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    api.get(&["clients", &id])
        .await
        .assert_error(404, "not_found", "does not exist");
    api.delete(&["clients", &id])
        .await
        .assert_error(404, "not_found", "does not exist");

    // Audited: create, update, delete, with before and after, and no secret anywhere.
    let events = api.audit_of(&id).await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["client.delete", "client.update", "client.create"]);
    for e in &events {
        assert_eq!(e["actor"], app.admin_id.as_str());
        assert_eq!(e["remote_addr"], "127.0.0.1");
        assert!(!e.to_string().contains(&secret), "secret in audit: {e}");
        assert!(!e.to_string().contains("tsec_"), "secret in audit: {e}");
    }
    assert!(events[2]["before"].is_null());
    assert_eq!(events[2]["after"]["name"], "billing");
    assert_eq!(events[1]["before"]["name"], "billing");
    assert_eq!(events[1]["after"]["name"], "billing v2");
    assert_eq!(events[0]["before"]["name"], "billing v2");
    assert!(events[0]["after"].is_null());
}

#[tokio::test]
async fn chosen_ids_may_hold_any_printable_character() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    api.scope("core.things.read").await;
    for id in [
        "urn:example:client",
        "100%",
        "a+b",
        "with space",
        "žluťoučký kůň €",
        "a/b",
        "x?y#z",
        "&=;",
    ] {
        let (got, secret) = api
            .client(json!({"client_id": id, "name": "awkward", "allowed_scopes": ["core.things.read"], "default_scopes": ["core.things.read"]}))
            .await;
        assert_eq!(got, id);
        // RFC 6749 §2.3.1: id and secret form-urlencoded before base64.
        let t = app.cc_token(id, &secret, &[]).await;
        assert_eq!(
            jwt_claims(t["access_token"].as_str().unwrap())["client_id"],
            id
        );
        // The path segment is percent-decoded.
        assert_eq!(api.get(&["clients", id]).await.ok()["client_id"], id);
        api.post(&["clients", id, "disable"], json!({})).await.ok();
        assert_oauth_error(
            app.token(&[("grant_type", "client_credentials")], Some((id, &secret)))
                .await,
            401,
            "invalid_client",
        )
        .await;
    }
    // A taken id is a conflict, and nothing changes.
    api.post(&["clients"], json!({"client_id": "a+b", "name": "again"}))
        .await
        .assert_error(409, "conflict", "already exists");
    assert_eq!(api.get(&["clients", "a+b"]).await.body["name"], "awkward");
}

/// Each bad input is refused with 400 and a sentence naming the problem; none changes anything.
#[tokio::test]
async fn every_validation_error_is_clear_and_changes_nothing() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    api.scope("core.a.read").await;
    api.scope("core.b.read").await;
    let ec = public_jwk(Algorithm::ES256);
    let mut private = ec.clone();
    private["d"] = json!("c2VjcmV0LXByaXZhdGUtcGFydA");
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "missing field `name`"),
        (json!({"name": ""}), "name must be"),
        (json!({"name": "   "}), "name must be"),
        (
            json!({"name": "x", "client_id": ""}),
            "client_id must be 1 to 255",
        ),
        (
            json!({"name": "x", "client_id": "x".repeat(256)}),
            "client_id must be 1 to 255",
        ),
        (
            json!({"name": "x", "client_id": "a\u{1}b"}),
            "control characters",
        ),
        (json!({"name": "x", "client_id": ".."}), "client_id"),
        (
            json!({"name": "x", "unknown": 1}),
            "unknown field `unknown`",
        ),
        (
            json!({"name": "x", "grant_types": []}),
            "grant_types may not be empty",
        ),
        (
            json!({"name": "x", "grant_types": ["magic"]}),
            "unknown grant type",
        ),
        (
            json!({"name": "x", "grant_types": ["authorization_code"]}),
            "redirect_uri",
        ),
        (
            json!({"name": "x", "grant_types": ["refresh_token"]}),
            "refresh_token alone",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "none"}),
            "confidential",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "magic"}),
            "unknown client authentication method",
        ),
        (
            json!({"name": "x", "allowed_scopes": ["Not A Scope"]}),
            "service.object.right",
        ),
        (
            json!({"name": "x", "allowed_scopes": ["core.unknown.read"]}),
            "not registered: core.unknown.read",
        ),
        (
            json!({"name": "x", "allowed_scopes": ["core.a.read"], "default_scopes": ["core.b.read"]}),
            "default_scopes must be among allowed_scopes",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt"}),
            "private_key_jwt needs",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [private]}}),
            "private key material",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": []}}),
            "jwks has no keys",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}}),
            "not a usable public key",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [ec]}, "jwks_uri": "https://example.com/jwks"}),
            "both",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://example.com/jwks"}),
            "must use https",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "not a url"}),
            "not a URL",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "client_secret_jwt", "token_endpoint_auth_signing_alg": "ES256"}),
            "does not fit client_secret_jwt",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [ec]}, "token_endpoint_auth_signing_alg": "HS256"}),
            "does not fit private_key_jwt",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [ec]}, "token_endpoint_auth_signing_alg": "RS256"}),
            "no key in jwks can verify RS256",
        ),
        (
            json!({"name": "x", "token_endpoint_auth_signing_alg": "HS256"}),
            "applies only to client_secret_jwt and private_key_jwt",
        ),
        (
            json!({"name": "x", "access_token_lifetime": 0}),
            "access_token_lifetime must be between 1 and 86400",
        ),
        (
            json!({"name": "x", "access_token_lifetime": 86_401}),
            "access_token_lifetime must be between 1 and 86400",
        ),
        (
            json!({"name": "x", "access_token_lifetime": -5}),
            "invalid value",
        ),
        (
            json!({"name": "x", "access_token_signing_alg": "HS256"}),
            "not offered",
        ),
        (
            json!({"name": "x", "access_token_signing_alg": "XX999"}),
            "unknown variant",
        ),
        (
            json!({"name": "x", "access_token_format": "paper"}),
            "paper",
        ),
        (
            json!({"name": "x", "redirect_uris": ["/relative/cb"]}),
            "not an absolute URI",
        ),
        (
            json!({"name": "x", "redirect_uris": ["https://app.example.com/cb#top"]}),
            "fragment",
        ),
        (
            json!({"name": "x", "redirect_uris": ["javascript:alert(1)"]}),
            "scheme is not allowed",
        ),
        (json!({"name": "x", "audiences": [""]}), "audiences"),
        (json!({"name": "x", "audiences": ["ok", 5]}), "invalid type"),
        (
            json!({"name": "x", "extra_claims": {"sub": "someone-else"}}),
            "may not be overridden",
        ),
        (
            json!({"name": "x", "extra_claims": {"big": "x".repeat(9000)}}),
            "extra_claims is",
        ),
        (
            json!({"name": "x", "extra_claims": ["not", "an", "object"]}),
            "invalid type",
        ),
    ];
    let before = api.get(&["clients"]).await.body;
    let audit_before = api.get(&["audit"]).await.body["events"]
        .as_array()
        .unwrap()
        .len();
    for (body, needle) in &cases {
        let a = api.post(&["clients"], body.clone()).await;
        assert_eq!(a.status, 400, "{body} → {}", a.body);
        a.assert_error(400, "invalid_request", needle);
        let d = a.body["error_description"].as_str().unwrap();
        assert!(
            !d.contains("c2VjcmV0LXByaXZhdGUtcGFydA"),
            "the private key is echoed: {d}"
        );
    }
    assert_eq!(api.get(&["clients"]).await.body, before);
    assert_eq!(
        api.get(&["audit"]).await.body["events"]
            .as_array()
            .unwrap()
            .len(),
        audit_before
    );

    // http jwks_uri is accepted on loopback only.
    api.client(json!({"name": "pk", "client_id": "pk", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://127.0.0.1:9/jwks.json"})).await;
    // The same rules apply to a change, checked on the whole result; a refused change leaves the
    // client as it was.
    let (id, _) = api.client(json!({"name": "patched", "allowed_scopes": ["core.a.read"], "default_scopes": ["core.a.read"]})).await;
    let shown = api.get(&["clients", &id]).await.body;
    let patches: Vec<(Value, &str)> = vec![
        (
            json!({"allowed_scopes": ["core.b.read"]}),
            "default_scopes must be among allowed_scopes",
        ),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
            "private_key_jwt needs",
        ),
        (json!({"name": ""}), "name must be"),
        (json!({"client_id": "renamed"}), "unknown field `client_id`"),
        (
            json!({"access_token_lifetime": 100_000}),
            "access_token_lifetime",
        ),
        (
            json!({"grant_types": ["client_credentials", "authorization_code"]}),
            "redirect_uri",
        ),
        (
            json!({"extra_claims": {"scope": "everything"}}),
            "may not be overridden",
        ),
    ];
    for (body, needle) in patches {
        api.patch(&["clients", &id], body)
            .await
            .assert_error(400, "invalid_request", needle);
    }
    assert_eq!(api.get(&["clients", &id]).await.body, shown);
    api.patch(&["clients", "nobody"], json!({"name": "x"}))
        .await
        .assert_error(404, "not_found", "nobody");
}

#[tokio::test]
async fn disabled_clients_are_refused_at_once_and_enabled_ones_accepted_again() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (id, secret) = api.client(json!({"name": "svc", "client_id": "svc"})).await;
    app.cc_token(&id, &secret, &[]).await;
    let d = api.post(&["clients", "svc", "disable"], json!({})).await;
    assert_eq!(d.ok()["enabled"], false);
    let h = assert_oauth_error(
        app.token(
            &[("grant_type", "client_credentials")],
            Some((&id, &secret)),
        )
        .await,
        401,
        "invalid_client",
    )
    .await;
    assert!(h.get("www-authenticate").is_some());
    // Also by client_secret_post.
    let r = app
        .form_post(
            "/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    // Disabling again changes nothing and logs nothing.
    api.post(&["clients", "svc", "disable"], json!({}))
        .await
        .ok();
    let e = api.post(&["clients", "svc", "enable"], json!({})).await;
    assert_eq!(e.ok()["enabled"], true);
    app.cc_token(&id, &secret, &[]).await;
    let events = api.audit_of("svc").await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["client.enable", "client.disable", "client.create"]
    );
    assert_eq!(events[1]["before"]["enabled"], true);
    assert_eq!(events[1]["after"]["enabled"], false);
    // PATCH can disable too.
    api.patch(&["clients", "svc"], json!({"enabled": false}))
        .await
        .ok();
    assert_oauth_error(
        app.token(
            &[("grant_type", "client_credentials")],
            Some((&id, &secret)),
        )
        .await,
        401,
        "invalid_client",
    )
    .await;
    // An admin cannot lock itself out.
    let me = app.admin_id.clone();
    api.post(&["clients", &me, "disable"], json!({}))
        .await
        .assert_error(409, "conflict", "itself");
    api.patch(&["clients", &me], json!({"enabled": false}))
        .await
        .assert_error(409, "conflict", "itself");
    api.delete(&["clients", &me])
        .await
        .assert_error(409, "conflict", "itself");
    api.post(&["clients", "nobody", "enable"], json!({}))
        .await
        .assert_error(404, "not_found", "nobody");
    api.post(&["clients", "nobody", "disable"], json!({}))
        .await
        .assert_error(404, "not_found", "nobody");
}

#[tokio::test]
async fn changing_the_method_issues_a_secret_when_one_is_needed() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (id, secret) = api.client(json!({"name": "m", "client_id": "m"})).await;
    // Basic → post: the same secret, now in the body.
    let p = api
        .patch(
            &["clients", "m"],
            json!({"token_endpoint_auth_method": "client_secret_post"}),
        )
        .await;
    assert!(p.ok().get("client_secret").is_none());
    let r = app
        .form_post(
            "/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    // post → client_secret_jwt: the server must hold the secret encrypted, so a new one is issued.
    let p = api.patch(&["clients", "m"], json!({"token_endpoint_auth_method": "client_secret_jwt", "token_endpoint_auth_signing_alg": "HS256"})).await;
    let new_secret = p.ok()["client_secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("tsec_") && new_secret != secret);
    assert_eq!(p.body["token_endpoint_auth_signing_alg"], "HS256");
    // → private_key_jwt: secrets are dropped, the HMAC algorithm no longer fits and is cleared.
    let p = api
        .patch(&["clients", "m"], json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [public_jwk(Algorithm::EdDSA)]}}))
        .await;
    assert!(p.ok().get("client_secret").is_none());
    assert!(p.body.get("token_endpoint_auth_signing_alg").is_none());
    assert_eq!(api.get(&["clients", "m"]).await.body["secrets"], json!([]));
    api.post(&["clients", "m", "secret"], json!({}))
        .await
        .assert_error(409, "conflict", "no secret");
    // → back to Basic: a new secret, since the client had none.
    let p = api
        .patch(
            &["clients", "m"],
            json!({"token_endpoint_auth_method": "client_secret_basic", "jwks": null}),
        )
        .await;
    let basic_secret = p.ok()["client_secret"].as_str().unwrap().to_owned();
    app.cc_token("m", &basic_secret, &[]).await;
    assert_oauth_error(
        app.token(
            &[("grant_type", "client_credentials")],
            Some(("m", &secret)),
        )
        .await,
        401,
        "invalid_client",
    )
    .await;
    for e in api.audit_of("m").await {
        for s in [&secret, &new_secret, &basic_secret] {
            assert!(!e.to_string().contains(s.as_str()), "secret in audit: {e}");
        }
    }
}

#[tokio::test]
async fn leaving_client_secret_jwt_deletes_the_recoverable_copies_of_the_secrets() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (id, first) = api
        .client(json!({"name": "hs", "client_id": "hs", "token_endpoint_auth_method": "client_secret_jwt", "token_endpoint_auth_signing_alg": "HS256"}))
        .await;
    // A rotation with a grace period: two secrets, each stored encrypted as well as hashed.
    let rotated = api
        .post(&["clients", "hs", "secret"], json!({"grace_secs": 3600}))
        .await;
    let second = rotated.ok()["client_secret"].as_str().unwrap().to_owned();
    let stored = app.state.store.client_secrets(&id, now()).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|s| s.encrypted.is_some()));
    for method in ["client_secret_post", "client_secret_basic"] {
        let p = api
            .patch(
                &["clients", "hs"],
                json!({"token_endpoint_auth_method": method}),
            )
            .await;
        assert!(
            p.ok().get("client_secret").is_none(),
            "the secrets are kept"
        );
        // Hashes only from now on: nothing the server (or its database) can read back.
        let stored = app.state.store.client_secrets(&id, now()).await.unwrap();
        assert_eq!(stored.len(), 2, "{method}");
        assert!(
            stored.iter().all(|s| s.encrypted.is_none()),
            "{method}: an encrypted copy is left"
        );
        let entry = app.state.registry.client(&id).unwrap();
        assert!(entry.secrets.iter().all(|s| s.plain.is_none()), "{method}");
    }
    // Both secrets still work, now with Basic.
    app.cc_token(&id, &first, &[]).await;
    app.cc_token(&id, &second, &[]).await;
}

#[tokio::test]
async fn private_key_jwt_clients_have_no_secret() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let a = api
        .post(
            &["clients"],
            json!({"name": "pk", "token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_signing_alg": "ES256", "jwks": {"keys": [public_jwk(Algorithm::ES256)]}}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(a.body.get("client_secret").is_none());
    assert_eq!(a.body["jwks"]["keys"][0]["kty"], "EC");
    assert!(a.body["jwks"]["keys"][0].get("d").is_none());
}

#[tokio::test]
async fn clients_survive_a_restart() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    api.scope("core.accounting.read").await;
    let (id, secret) = api
        .client(json!({"client_id": "keeper", "name": "keeper", "allowed_scopes": ["core.accounting.read"], "default_scopes": ["core.accounting.read"]}))
        .await;
    let (off, off_secret) = api.client(json!({"client_id": "off", "name": "off"})).await;
    api.post(&["clients", "off", "disable"], json!({}))
        .await
        .ok();
    let rotated = api
        .post(
            &["clients", "keeper", "secret"],
            json!({"grace_secs": 3600}),
        )
        .await;
    let new_secret = rotated.ok()["client_secret"].as_str().unwrap().to_owned();
    let config = restart_config(&app, None);
    drop(api);
    let dir = app.stop().await;

    let app = start(config).await;
    let api = AdminApi::new(&app).await;
    // Both secrets of the rotated client work (the old one is in its grace period).
    assert_eq!(
        app.cc_token(&id, &secret, &[]).await["scope"],
        "core.accounting.read"
    );
    app.cc_token(&id, &new_secret, &[]).await;
    // The disabled client is still disabled.
    assert_oauth_error(
        app.token(
            &[("grant_type", "client_credentials")],
            Some((&off, &off_secret)),
        )
        .await,
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(api.get(&["clients", "off"]).await.body["enabled"], false);
    assert_eq!(
        api.get(&["scopes", "core.accounting.read"]).await.body["clients"][0]["client_id"],
        "keeper"
    );
    let actions: Vec<String> = api
        .audit_of("keeper")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["client.secret_rotate", "client.create"]);
    drop(dir);
}

#[tokio::test]
async fn path_segments_are_percent_decoded_once() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    api.client(json!({"client_id": "%41", "name": "literal percent"}))
        .await;
    api.client(json!({"client_id": "A", "name": "letter"}))
        .await;
    // %2541 is the id "%41", not "A".
    assert_eq!(
        api.get(&["clients", "%41"]).await.ok()["name"],
        "literal percent"
    );
    let url = admin_url(&app, &["clients", "A"]);
    let r = app
        .http
        .get(url)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "letter");
}
