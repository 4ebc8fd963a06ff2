//! Couper's `oauth2` block as Couper documents it, against Tessera's server: the `jwt-bearer`
//! grant without `client_id` (no client authentication, RFC 7523 §3.1), a `client_secret_jwt`
//! signing key read from a file that ends in a newline, `backend` (token requests through a named
//! upstream's transport), and the inbound guard's `max_token_bytes`.

use crate::gw;
use crate::tessera::{ClientSpec, eventually};
use crate::world::{BILLING_AUD, BILLING_SCOPE, GATEWAY_AUD, world, world_with};
use serde_json::Value;
use std::time::Duration;
use tessera_jose::{Algorithm, JwkSet, SigningKey};
use tessera_proto::{ClientAuthMethod, GrantType};
use tessera_server::config::TrustedIssuer;

/// Waits for `/readyz` to say ready.
async fn ready(g: &gw::InProcess) {
    let http = reqwest::Client::new();
    eventually("readiness", Duration::from_secs(15), || async {
        let r = http.get(g.url("/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
}

/// A request through route `billing`; the token the upstream saw (its claims).
async fn echo(g: &gw::InProcess) -> Value {
    let r = reqwest::get(g.url("/billing/api/echo")).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_without_client_id_as_couper_sends_it() {
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("couper-1");
    let trust = tempfile::tempdir().unwrap();
    let jwks = trust.path().join("couper.jwks.json");
    std::fs::write(
        &jwks,
        serde_json::to_vec(&JwkSet {
            keys: vec![key.public_jwk().unwrap()],
        })
        .unwrap(),
    )
    .unwrap();
    let bound = "couper-bound";
    let w = world_with(None, |c| {
        c.jwt_bearer.issuers = vec![TrustedIssuer {
            issuer: "couper-gateway".into(),
            jwks_uri: None,
            jwks_file: Some(jwks.clone()),
            algorithms: vec![],
            audience: vec![],
            subject_prefix: None,
            client_id: Some(bound.into()),
        }];
    })
    .await;
    w.tessera
        .register_client(
            ClientSpec::new(bound)
                .scopes(&[BILLING_SCOPE], &[BILLING_SCOPE])
                .audiences(&[BILLING_AUD]),
        )
        .await;
    w.tessera
        .set_grant_types(bound, &[GrantType::JwtBearer])
        .await;
    let key_file = w.dir.secret(
        "couper.pem",
        &tessera_jose::to_pem("PRIVATE KEY", key.pkcs8_der().unwrap()),
    );
    // Couper's block: no client_id, no client_secret; the profile signs the grant assertion,
    // with `iss` and `sub` among its claims.
    let oauth2 = format!(
        r#"
[upstreams.billing.oauth2]
token_endpoint = "{te}"
grant_type = "urn:ietf:params:oauth:grant-type:jwt-bearer"
scope = "{BILLING_SCOPE}"
audience = "{BILLING_AUD}"

[upstreams.billing.oauth2.jwt_signing_profile]
signature_algorithm = "ES256"
key_file = "{key}"
kid = "couper-1"
ttl = "30s"
claims = {{ iss = "couper-gateway", sub = "user-7" }}
"#,
        te = w.tessera.token_endpoint(),
        key = key_file.display(),
    );
    // `tessera gateway --check` accepts it.
    let path = w.dir.write_config(&w.config_with(&oauth2, ""));
    let checked = tessera_gateway::check(&path).await;
    assert!(checked.is_ok(), "{checked:?}");
    let g = gw::start(&path).await;
    ready(&g).await;
    let body = echo(&g).await;
    assert_eq!(body["client_id"], bound, "{body}");
    assert_eq!(body["sub"], "user-7", "{body}");
    assert_eq!(w.tessera.token_requests(bound).await, 1);
    g.stop().await;
}

#[test]
fn the_configuration_check_accepts_couper_blocks_and_says_what_is_missing() {
    let file = |oauth2: &str| {
        format!(
            "[upstreams.api]\nurl = \"http://127.0.0.1:9\"\n{oauth2}\n[[routes]]\nupstream = \"api\"\n"
        )
    };
    // jwt-bearer without client_id or secret: accepted (Couper: client_id is "required unless
    // the grant_type is jwt-bearer").
    let c = tessera_gateway::GatewayConfig::from_toml(
        &file(
            "[upstreams.api.oauth2]\ntoken_endpoint = \"http://127.0.0.1:9/t\"\n\
             grant_type = \"urn:ietf:params:oauth:grant-type:jwt-bearer\"\n\
             assertion = { env = \"ASSERTION\" }\n",
        ),
        "t",
    );
    assert!(c.is_ok(), "{c:?}");
    let o = c.unwrap().upstreams["api"].oauth2.clone().unwrap();
    assert!(o.to_credential_config(None).is_ok());
    // Other grants still need a client id.
    let o: tessera_gateway::config::OAuth2Config =
        toml::from_str("token_endpoint = \"http://127.0.0.1:9/t\"").unwrap();
    let e = o.to_credential_config(None).unwrap_err();
    assert!(e.contains("client_id is required"), "{e}");
    // backend names an upstream, token_endpoint may be a path on it, and stays on its origin.
    for (oauth2, needle) in [
        (
            "backend = \"nope\"\nclient_id = \"c\"\ntoken_endpoint = \"/t\"",
            "no upstream named \"nope\"",
        ),
        (
            "client_id = \"c\"\ntoken_endpoint = \"/t\"",
            "name the backend",
        ),
        (
            "backend = \"api\"\nclient_id = \"c\"\ntoken_endpoint = \"https://elsewhere.example/t\"",
            "not on backend",
        ),
        (
            "backend = \"api\"\nclient_id = \"c\"\ntoken_endpoint = \"/t\"\nca_file = \"/ca.pem\"",
            "set ca_file there",
        ),
    ] {
        let e = tessera_gateway::GatewayConfig::from_toml(
            &file(&format!("[upstreams.api.oauth2]\n{oauth2}\n")),
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(needle), "{oauth2}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_jwt_key_file_ending_in_a_newline_signs_with_the_secret() {
    let w = world(None).await;
    let id = format!("{}-csjwt", w.gateway_id);
    let secret = w
        .tessera
        .register_client(
            ClientSpec::new(&id)
                .method(ClientAuthMethod::ClientSecretJwt)
                .scopes(&[BILLING_SCOPE], &[BILLING_SCOPE])
                .audiences(&[BILLING_AUD]),
        )
        .await;
    // As `echo "$SECRET" > key` writes it.
    let key_file = w.dir.secret("hmac.key", &format!("{secret}\n"));
    let oauth2 = format!(
        r#"
[upstreams.billing.oauth2]
token_endpoint = "{te}"
client_id = "{id}"
token_endpoint_auth_method = "client_secret_jwt"
scope = "{BILLING_SCOPE}"
audience = "{BILLING_AUD}"

[upstreams.billing.oauth2.jwt_signing_profile]
signature_algorithm = "HS256"
key_file = "{key}"
ttl = "30s"
"#,
        te = w.tessera.token_endpoint(),
        key = key_file.display(),
    );
    let g = gw::start(&w.dir.write_config(&w.config_with(&oauth2, ""))).await;
    ready(&g).await;
    assert_eq!(echo(&g).await["client_id"], id.as_str());
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_requests_go_through_the_backend_upstream() {
    let w = world(None).await;
    // The token endpoint as a path on the `auth` upstream, which is Tessera.
    let oauth2 = format!(
        r#"
[upstreams.billing.oauth2]
backend = "auth"
token_endpoint = "/oauth2/token"
client_id = "{id}"
client_secret = {{ file = "{secret}" }}
scope = "{BILLING_SCOPE}"
audience = "{BILLING_AUD}"

[upstreams.auth]
url = "{base}"
http_version = "http1"
connect_timeout = "2s"
request_timeout = "5s"
"#,
        id = w.gateway_id,
        secret = w.secret_file.display(),
        base = w.tessera.base,
    );
    let g = gw::start(&w.dir.write_config(&w.config_with(&oauth2, ""))).await;
    ready(&g).await;
    assert_eq!(echo(&g).await["client_id"], w.gateway_id.as_str());
    g.stop().await;

    // The backend's request_timeout bounds the token request: a backend that accepts and never
    // answers fails it after 300 ms, not after the 10 s an oauth2 block has by itself.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    let oauth2 = format!(
        r#"
[upstreams.billing.oauth2]
backend = "auth"
token_endpoint = "/oauth2/token"
client_id = "{id}"
client_secret = {{ file = "{secret}" }}

[upstreams.auth]
url = "http://{silent_addr}"
request_timeout = "300ms"
"#,
        id = w.gateway_id,
        secret = w.secret_file.display(),
    );
    let g = gw::start(&w.dir.write_config(&w.config_with(&oauth2, ""))).await;
    let http = reqwest::Client::new();
    let why = eventually(
        "the token request to time out",
        Duration::from_secs(5),
        || async {
            let b: Value = http
                .get(g.url("/readyz"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            b["upstreams"]["billing"]
                .as_str()
                .filter(|s| s.contains("did not answer within"))
                .map(str::to_owned)
        },
    )
    .await;
    assert!(
        why.contains("300ms") && why.contains(&silent_addr.to_string()),
        "{why}"
    );
    g.stop().await;
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbound_guard_takes_its_token_size_limit_from_the_configuration() {
    let w = world(None).await;
    // A caller whose tokens carry 2 kB of claims.
    let big = "caller-big";
    let secret = w
        .tessera
        .register_client(
            ClientSpec::new(big)
                .scopes(&[crate::world::CALL_SCOPE], &[crate::world::CALL_SCOPE])
                .audiences(&[GATEWAY_AUD]),
        )
        .await;
    let mut c = w.tessera.state.store.get_client(big).await.unwrap();
    c.extra_claims
        .insert("profile".into(), Value::String("x".repeat(2000)));
    w.tessera.state.store.update_client(&c).await.unwrap();
    w.tessera
        .state
        .registry
        .reload_client(&w.tessera.state.store, &w.tessera.state.keys, big)
        .await
        .unwrap();
    let big_token = w.tessera.token(big, &secret, &[]).await;
    let small_token = w.caller_token("caller").await;
    assert!(big_token.len() > 2048 && small_token.len() < 1500);
    let http = reqwest::Client::new();
    let through = |g: &gw::InProcess, token: &str| {
        let r = http
            .get(g.url("/guarded/api/echo"))
            .bearer_auth(token)
            .send();
        async move { r.await.unwrap() }
    };
    // The default (16 KiB) lets both through.
    let g = gw::start(&w.dir.write_config(&w.config(""))).await;
    assert_eq!(through(&g, &big_token).await.status(), 200);
    g.stop().await;
    // `max_token_bytes = 1500` refuses the big one, unread, as invalid_token.
    let g = gw::start(&w.dir.write_config(&w.config("max_token_bytes = 1500"))).await;
    assert_eq!(through(&g, &small_token).await.status(), 200);
    let r = through(&g, &big_token).await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    g.stop().await;
    // Below the guard's smallest limit, the configuration is refused.
    let e = tessera_gateway::GatewayConfig::from_toml(&w.config("max_token_bytes = 10"), "t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("guard.max_token_bytes 10 is below 1024"), "{e}");
}
