//! The `oauth2` block of an upstream with other client authentication methods than Basic, against
//! Tessera's server: `private_key_jwt` (RFC 7523 §2.2, with the key in a PEM file) and
//! `client_secret_post` (RFC 6749 §2.3.1). Tessera's token endpoint has no `jwt-bearer` grant
//! (RFC 7523 §2.1), so that grant is not tried against it here.

use crate::gw;
use crate::tessera::{ClientSpec, eventually};
use crate::world::{BILLING_AUD, BILLING_SCOPE, World, world};
use serde_json::Value;
use std::time::Duration;
use tessera_jose::{Algorithm, JwkSet, SigningKey};
use tessera_proto::ClientAuthMethod;

/// Serves the world with `oauth2` on the `billing` upstream and checks that the upstream's guard
/// accepts the token the gateway puts on a request: Tessera's, for `client_id`, the audience and
/// the scope, obtained once.
async fn the_upstream_gets_a_token_of(w: &World, client_id: &str, oauth2: &str) {
    let g = gw::start(&w.dir.write_config(&w.config_with(oauth2, ""))).await;
    let http = reqwest::Client::new();
    eventually("readiness", Duration::from_secs(15), || async {
        let r = http.get(g.url("/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    for _ in 0..3 {
        let r = http.get(g.url("/billing/api/echo")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["client_id"], client_id, "{body}");
        assert_eq!(body["aud"], serde_json::json!([BILLING_AUD]));
        assert!(body["scope"].as_str().unwrap().contains(BILLING_SCOPE));
    }
    assert_eq!(w.api.seen.jtis.lock().len(), 3);
    assert_eq!(
        w.tessera.token_requests(client_id).await,
        1,
        "one token, cached"
    );
    g.stop().await;
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
    the_upstream_gets_a_token_of(&w, &id, &oauth2).await;

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
    the_upstream_gets_a_token_of(&w, &id, &oauth2).await;
}
