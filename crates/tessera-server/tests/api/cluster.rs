//! Several instances on one PostgreSQL behave as one server; database outages give 503 and heal.

use crate::helpers::{ClientSpec, TestApp, spawn_app_with, start};
use crate::{pg, proxy::Proxy};
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde_json::Value;
use std::time::{Duration, Instant};
use tessera_proto::TokenFormat;

async fn two_instances() -> (TestApp, TestApp) {
    let url = pg::fresh_database().await;
    let a = spawn_app_with(|c| {
        c.database.url = Some(SecretString::from(url.clone()));
        // These tests poll with credentials that fail until a change arrives; the limit on failed
        // authentication (tested on its own) must not answer 429 in their place.
        c.rate_limit.failed_auth_per_client_and_address_per_minute = 10_000;
        c.rate_limit.failed_auth_per_address_per_minute = 10_000;
    })
    .await;
    let mut config = a.state.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.issuer = Some(a.base.clone());
    let b = start(config).await;
    (a, b)
}

/// Polls `f` until it is true, failing after `limit`.
async fn within(limit: Duration, what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    loop {
        if f().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn status(app: &TestApp, id: &str, secret: &str) -> u16 {
    app.token(&[("grant_type", "client_credentials")], Some((id, secret)))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn changes_on_one_instance_are_honoured_by_the_other_within_a_second() {
    let (a, b) = two_instances().await;
    let second = Duration::from_secs(1);
    // Created on A: usable at B.
    let secret = a.register_client(ClientSpec::new("shared")).await;
    within(second, "created client usable at B", async || {
        status(&b, "shared", &secret).await == 200
    })
    .await;
    // Disabled on A: refused at B.
    let s = &a.state;
    let mut c = s.store.get_client("shared").await.unwrap();
    c.enabled = false;
    s.store.update_client(&c).await.unwrap();
    s.registry
        .reload_client(&s.store, &s.keys, "shared")
        .await
        .unwrap();
    within(second, "disabled client refused at B", async || {
        status(&b, "shared", &secret).await == 401
    })
    .await;
    c.enabled = true;
    s.store.update_client(&c).await.unwrap();
    s.registry
        .reload_client(&s.store, &s.keys, "shared")
        .await
        .unwrap();
    within(second, "re-enabled client usable at B", async || {
        status(&b, "shared", &secret).await == 200
    })
    .await;
    // New secret on A: the old one stops at B, the new one works at B.
    let (new_secret, row) =
        tessera_server::client_secret::generate(&s.keys, "shared", false).unwrap();
    s.store
        .rotate_client_secret(&row, tessera_server::model::now())
        .await
        .unwrap();
    s.registry
        .reload_client(&s.store, &s.keys, "shared")
        .await
        .unwrap();
    within(second, "new secret at B", async || {
        status(&b, "shared", new_secret.expose_secret()).await == 200
    })
    .await;
    assert_eq!(status(&b, "shared", &secret).await, 401);
    // A token revoked through A is inactive at B at once.
    let t = a.cc_token("shared", new_secret.expose_secret(), &[]).await;
    let token = t["access_token"].as_str().unwrap();
    assert_eq!(
        a.form_post(
            "/oauth2/revoke",
            &[("token", token)],
            Some(("shared", new_secret.expose_secret()))
        )
        .await
        .status(),
        200
    );
    let r: Value = b
        .form_post(
            "/oauth2/introspect",
            &[("token", token)],
            Some(("shared", new_secret.expose_secret())),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], false);
    // Deleted on A: refused at B.
    s.store.delete_client("shared").await.unwrap();
    s.registry
        .reload_client(&s.store, &s.keys, "shared")
        .await
        .unwrap();
    within(second, "deleted client refused at B", async || {
        status(&b, "shared", new_secret.expose_secret()).await == 401
    })
    .await;
}

#[tokio::test]
async fn the_jwks_is_the_same_everywhere_and_rotation_is_followed() {
    let (a, b) = two_instances().await;
    let jwks = |app: &TestApp| {
        let url = app.url("/oauth2/jwks");
        let http = app.http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(jwks(&a).await, jwks(&b).await);
    let s = &a.state;
    s.keyring
        .rotate(&s.store, &s.keys, &[tessera_jose::Algorithm::ES256], 0, 600)
        .await
        .unwrap();
    let want = jwks(&a).await;
    within(
        Duration::from_secs(1),
        "rotated key published at B",
        async || jwks(&b).await == want,
    )
    .await;
    // B signs with the new key too.
    let secret = a.register_client(ClientSpec::new("k")).await;
    within(Duration::from_secs(1), "client at B", async || {
        status(&b, "k", &secret).await == 200
    })
    .await;
    let t = b.cc_token("k", &secret, &[]).await;
    let header: Value = serde_json::from_slice(
        &tessera_jose::b64_decode(
            t["access_token"]
                .as_str()
                .unwrap()
                .split('.')
                .next()
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let active = a.state.keyring.current().signers[&tessera_jose::Algorithm::ES256]
        .key
        .kid()
        .unwrap()
        .to_owned();
    assert_eq!(header["kid"], active.as_str());
}

#[tokio::test]
async fn scheduled_rotation_happens_on_exactly_one_instance() {
    let (a, b) = two_instances().await;
    let before = a
        .state
        .store
        .list_keys(tessera_server::model::now())
        .await
        .unwrap()
        .len();
    // A period of 1 s: every key is due. Both instances check at the same time.
    let (ra, rb) = tokio::join!(
        tessera_server::cluster::rotate_if_due(&a.state, 1),
        tessera_server::cluster::rotate_if_due(&b.state, 1)
    );
    let created = ra.unwrap().len() + rb.unwrap().len();
    assert_eq!(created, 3, "one new key per algorithm, made once");
    let after = a
        .state
        .store
        .list_keys(tessera_server::model::now())
        .await
        .unwrap()
        .len();
    assert_eq!(after, before + 3);
    // Not due again right away.
    assert!(
        tessera_server::cluster::rotate_if_due(&b.state, 3600)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_database_outage_gives_503_and_heals_without_restart() {
    let url = pg::fresh_database().await;
    let proxy = Proxy::start(pg::host_port(&url)).await;
    let via_proxy = {
        let (scheme_user, rest) = url.split_once('@').unwrap();
        let db = rest.split_once('/').unwrap().1;
        format!("{scheme_user}@{}/{db}", proxy.addr)
    };
    let app = spawn_app_with(|c| {
        c.database.url = Some(SecretString::from(via_proxy.clone()));
        c.database.timeout_secs = 1;
    })
    .await;
    let jwt = app.register_client(ClientSpec::new("jwt")).await;
    let opaque = app
        .register_client(ClientSpec::new("opaque").format(TokenFormat::Opaque))
        .await;
    assert_eq!(status(&app, "opaque", &opaque).await, 200);
    proxy.cut();
    // Readiness fails; database-bound requests get 503 with Retry-After, in bounded time.
    let started = Instant::now();
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    // Anyone may ask: the database's error is not told, only that it is unavailable.
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["store"], "database unavailable", "{body}");
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("opaque", &opaque)),
        )
        .await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "answers must not hang: {:?}",
        started.elapsed()
    );
    // JWTs for cached clients keep flowing.
    assert_eq!(status(&app, "jwt", &jwt).await, 200);
    // Service returns by itself.
    proxy.restore();
    within(
        Duration::from_secs(15),
        "opaque tokens again after the outage",
        async || status(&app, "opaque", &opaque).await == 200,
    )
    .await;
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
