//! The `oauth2` block of an upstream with other client authentication methods than Basic, and
//! with the `jwt-bearer` grant, against Tessera's server: `private_key_jwt` (RFC 7523 §2.2, with
//! the key in a PEM file), `client_secret_post` (RFC 6749 §2.3.1), and the `jwt-bearer` grant
//! (RFC 7523 §2.1) with a self-issued assertion signed from a signing profile, both with Basic
//! (`jwt_signing_profile` signs the grant assertion, as in Couper) and with `private_key_jwt`
//! (`assertion_signing_profile` signs it).

use crate::gw;
use crate::tessera::{ClientSpec, eventually};
use crate::world::{BILLING_AUD, BILLING_SCOPE, World, world};
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tessera_jose::{Algorithm, JwkSet, SigningKey};
use tessera_proto::{ClientAuthMethod, GrantType};

/// Serves the world with `oauth2` on the `billing` upstream and checks that the upstream's guard
/// accepts the token the gateway puts on a request: Tessera's, for `client_id`, the audience and
/// the scope, obtained once. Returns the running gateway and what the upstream saw of the token.
async fn the_upstream_gets_a_token_of(
    w: &World,
    client_id: &str,
    oauth2: &str,
) -> (gw::InProcess, Value) {
    let g = gw::start(&w.dir.write_config(&w.config_with(oauth2, ""))).await;
    let http = reqwest::Client::new();
    eventually("readiness", Duration::from_secs(15), || async {
        let r = http.get(g.url("/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    let mut last = Value::Null;
    for _ in 0..3 {
        let r = http.get(g.url("/billing/api/echo")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["client_id"], client_id, "{body}");
        assert_eq!(body["aud"], serde_json::json!([BILLING_AUD]));
        assert!(body["scope"].as_str().unwrap().contains(BILLING_SCOPE));
        last = body;
    }
    assert_eq!(w.api.seen.jtis.lock().len(), 3);
    assert_eq!(
        w.tessera.token_requests(client_id).await,
        1,
        "one token, cached"
    );
    (g, last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_gets_the_upstream_a_token_from_tessera() {
    let w = world(None).await;
    let id = format!("{}-pk", w.gateway_id);
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("gw-pk-1");
    let jwks = JwkSet {
        keys: vec![key.public_jwk().unwrap()],
    };
    w.tessera
        .register_client(
            ClientSpec::new(&id)
                .method(ClientAuthMethod::PrivateKeyJwt)
                .jwks(jwks)
                .scopes(&[BILLING_SCOPE], &[BILLING_SCOPE])
                .audiences(&[BILLING_AUD]),
        )
        .await;
    let pem = tessera_jose::to_pem("PRIVATE KEY", key.pkcs8_der().unwrap());
    let key_file = w.dir.secret("gateway-key.pem", &pem);
    let oauth2 = format!(
        r#"
[upstreams.billing.oauth2]
token_endpoint = "{te}"
client_id = "{id}"
token_endpoint_auth_method = "private_key_jwt"
scope = "{BILLING_SCOPE}"
audience = "{BILLING_AUD}"

[upstreams.billing.oauth2.jwt_signing_profile]
signature_algorithm = "ES256"
key_file = "{key}"
kid = "gw-pk-1"
"#,
        te = w.tessera.token_endpoint(),
        key = key_file.display(),
    );
    the_upstream_gets_a_token_of(&w, &id, &oauth2)
        .await
        .0
        .stop()
        .await;

    // A key Tessera does not know for the client: no token, and the upstream is never called.
    let other = SigningKey::generate(Algorithm::ES256).unwrap();
    let pem = tessera_jose::to_pem("PRIVATE KEY", other.pkcs8_der().unwrap());
    std::fs::write(&key_file, pem).unwrap();
    let g = gw::start(&w.dir.write_config(&w.config_with(&oauth2, ""))).await;
    let r = reqwest::get(g.url("/billing/api/echo")).await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "token_unavailable", "{body}");
    assert_eq!(w.api.seen.jtis.lock().len(), 3);
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_post_gets_the_upstream_a_token_from_tessera() {
    let w = world(None).await;
    let id = format!("{}-post", w.gateway_id);
    let secret = w
        .tessera
        .register_client(
            ClientSpec::new(&id)
                .method(ClientAuthMethod::ClientSecretPost)
                .scopes(&[BILLING_SCOPE], &[BILLING_SCOPE])
                .audiences(&[BILLING_AUD]),
        )
        .await;
    let secret_file = w.dir.secret("gateway-post.secret", &secret);
    let oauth2 = format!(
        r#"
[upstreams.billing.oauth2]
token_endpoint = "{te}"
client_id = "{id}"
client_secret = {{ file = "{secret}" }}
token_endpoint_auth_method = "client_secret_post"
scope = "{BILLING_SCOPE}"
audience = "{BILLING_AUD}"
"#,
        te = w.tessera.token_endpoint(),
        secret = secret_file.display(),
    );
    the_upstream_gets_a_token_of(&w, &id, &oauth2)
        .await
        .0
        .stop()
        .await;
}

/// A PEM file in the world's folder holding `key`'s private key.
fn pem_file(w: &World, name: &str, key: &SigningKey) -> std::path::PathBuf {
    w.dir.secret(
        name,
        &tessera_jose::to_pem("PRIVATE KEY", key.pkcs8_der().unwrap()),
    )
}

/// After the upstream's `401`, the gateway drops the token and gets a new one: with a new
/// assertion, since Tessera refuses a `jti` it has seen. The upstream then sees a second token
/// for the same subject.
async fn a_401_gets_a_token_from_a_fresh_assertion(
    w: &World,
    g: &gw::InProcess,
    client_id: &str,
    subject: &str,
) {
    w.api.seen.flaky_left.store(1, Ordering::Relaxed);
    let r = reqwest::get(g.url("/billing/api/flaky")).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(w.tessera.token_requests(client_id).await, 2);
    let jtis = w.api.seen.jtis.lock().clone();
    assert_eq!(jtis.len(), 5, "three echoes, the 401 and its replay");
    assert_eq!(jtis[2], jtis[3], "the 401 was for the cached token");
    assert_ne!(jtis[3], jtis[4], "the replay carried a new token");
    let r = reqwest::get(g.url("/billing/api/echo")).await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["jti"], jtis[4].as_str(), "{body}");
    assert_eq!(body["sub"], subject, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_bearer_grant_gets_the_upstream_a_token_for_the_assertion_subject() {
    let w = world(None).await;
    let id = format!("{}-jb", w.gateway_id);
    let subject = "svc:reporting";
    // The client signs its own assertions (iss = its client id) with a key it registered.
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("gw-jb-1");
    let secret = w
        .tessera
        .register_client(
            ClientSpec::new(&id)
                .jwks(JwkSet {
                    keys: vec![key.public_jwk().unwrap()],
                })
                .scopes(&[BILLING_SCOPE], &[BILLING_SCOPE])
                .audiences(&[BILLING_AUD]),
        )
        .await;
    w.tessera
        .set_grant_types(&id, &[GrantType::JwtBearer])
        .await;
    let secret_file = w.dir.secret("gateway-jb.secret", &secret);
    let key_file = pem_file(&w, "gateway-jb.pem", &key);
    // Basic client authentication: jwt_signing_profile signs the grant assertion (Couper).
    let oauth2 = format!(
        r#"
[upstreams.billing.oauth2]
token_endpoint = "{te}"
client_id = "{id}"
client_secret = {{ file = "{secret}" }}
grant_type = "urn:ietf:params:oauth:grant-type:jwt-bearer"
scope = "{BILLING_SCOPE}"
audience = "{BILLING_AUD}"

[upstreams.billing.oauth2.jwt_signing_profile]
signature_algorithm = "ES256"
key_file = "{key}"
kid = "gw-jb-1"
subject = "{subject}"
ttl = "30s"
"#,
        te = w.tessera.token_endpoint(),
        secret = secret_file.display(),
        key = key_file.display(),
    );
    let (g, body) = the_upstream_gets_a_token_of(&w, &id, &oauth2).await;
    assert_eq!(
        body["sub"], subject,
        "a token for the assertion's subject: {body}"
    );
    a_401_gets_a_token_from_a_fresh_assertion(&w, &g, &id, subject).await;
    g.stop().await;

    // A key the client did not register: Tessera refuses the assertion (invalid_grant), no
    // token, and the upstream is never called.
    let other = SigningKey::generate(Algorithm::ES256).unwrap();
    pem_file(&w, "gateway-jb.pem", &other);
    let g = gw::start(&w.dir.write_config(&w.config_with(&oauth2, ""))).await;
    let r = reqwest::get(g.url("/billing/api/echo")).await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "token_unavailable", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("(invalid_grant)"),
        "{body}"
    );
    assert_eq!(w.api.seen.jtis.lock().len(), 6);
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_bearer_grant_with_private_key_jwt_and_an_assertion_signing_profile() {
    let w = world(None).await;
    let id = format!("{}-jb-pk", w.gateway_id);
    let subject = "svc:batch";
    // One key authenticates the client, another signs the grant assertions; both registered.
    let client_key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("gw-client");
    let assertion_key = SigningKey::generate(Algorithm::RS256)
        .unwrap()
        .with_kid("gw-assert");
    w.tessera
        .register_client(
            ClientSpec::new(&id)
                .method(ClientAuthMethod::PrivateKeyJwt)
                .jwks(JwkSet {
                    keys: vec![
                        client_key.public_jwk().unwrap(),
                        assertion_key.public_jwk().unwrap(),
                    ],
                })
                .scopes(&[BILLING_SCOPE], &[BILLING_SCOPE])
                .audiences(&[BILLING_AUD]),
        )
        .await;
    w.tessera
        .set_grant_types(&id, &[GrantType::JwtBearer])
        .await;
    let oauth2 = format!(
        r#"
[upstreams.billing.oauth2]
token_endpoint = "{te}"
client_id = "{id}"
token_endpoint_auth_method = "private_key_jwt"
grant_type = "urn:ietf:params:oauth:grant-type:jwt-bearer"
scope = "{BILLING_SCOPE}"
audience = "{BILLING_AUD}"

[upstreams.billing.oauth2.jwt_signing_profile]
signature_algorithm = "ES256"
key_file = "{client_key}"
kid = "gw-client"

[upstreams.billing.oauth2.assertion_signing_profile]
signature_algorithm = "RS256"
key_file = "{assertion_key}"
kid = "gw-assert"
subject = "{subject}"
"#,
        te = w.tessera.token_endpoint(),
        client_key = pem_file(&w, "gateway-client.pem", &client_key).display(),
        assertion_key = pem_file(&w, "gateway-assert.pem", &assertion_key).display(),
    );
    let (g, body) = the_upstream_gets_a_token_of(&w, &id, &oauth2).await;
    assert_eq!(
        body["sub"], subject,
        "a token for the assertion's subject: {body}"
    );
    a_401_gets_a_token_from_a_fresh_assertion(&w, &g, &id, subject).await;
    g.stop().await;
}
