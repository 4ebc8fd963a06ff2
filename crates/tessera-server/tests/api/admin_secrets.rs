//! `POST /clients/{client_id}/secret`: rotation, with and without a grace period.

use super::AdminApi;
use crate::helpers::{TestApp, assert_oauth_error, spawn_app};
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_server::model::now;

async fn works(app: &TestApp, id: &str, secret: &str) -> bool {
    let r = app
        .token(&[("grant_type", "client_credentials")], Some((id, secret)))
        .await;
    match r.status().as_u16() {
        200 => true,
        401 => false,
        other => panic!("unexpected status {other}: {}", r.text().await.unwrap()),
    }
}

#[tokio::test]
async fn the_old_secret_works_during_the_grace_period_then_stops() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (id, old) = api
        .client(json!({"name": "rotating", "client_id": "rotating"}))
        .await;
    let before = now();
    let a = api
        .post(&["clients", "rotating", "secret"], json!({"grace_secs": 2}))
        .await;
    let new = a.ok()["client_secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("tsec_") && new != old);
    let expires = a.body["previous_secrets_expire_at"].as_i64().unwrap();
    assert!(expires >= before + 2 && expires <= now() + 2);
    assert_eq!(a.headers["cache-control"], "no-store");
    // Both work now.
    assert!(works(&app, &id, &new).await);
    assert!(
        works(&app, &id, &old).await,
        "the old secret stopped before its grace period ended"
    );
    let shown = api.get(&["clients", "rotating"]).await.body;
    assert_eq!(shown["secrets"].as_array().unwrap().len(), 2);
    // The old one stops once the grace period is over (polled with a deadline, no fixed sleep).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if !works(&app, &id, &old).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the old secret still works after its grace period"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(now() >= expires, "the old secret stopped early");
    let r = app
        .token(&[("grant_type", "client_credentials")], Some((&id, &old)))
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
    assert!(works(&app, &id, &new).await);
    // Audited without either secret.
    let events = api.audit_of("rotating").await;
    assert_eq!(events[0]["action"], "client.secret_rotate");
    assert_eq!(events[0]["after"]["grace_secs"], 2);
    for e in &events {
        assert!(
            !e.to_string().contains(&old) && !e.to_string().contains(&new),
            "{e}"
        );
    }
}

#[tokio::test]
async fn without_grace_the_old_secret_stops_at_once() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (id, old) = api.client(json!({"name": "now", "client_id": "now"})).await;
    // An empty body is allowed: no grace.
    let r = app
        .http
        .post(app.url("/admin/api/v1/clients/now/secret"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let new = v["client_secret"].as_str().unwrap().to_owned();
    assert!(!works(&app, &id, &old).await);
    assert!(works(&app, &id, &new).await);
    // A second rotation with grace keeps only the latest secret alive beside the new one.
    let third = api
        .post(&["clients", "now", "secret"], json!({"grace_secs": 3600}))
        .await
        .ok()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(works(&app, &id, &new).await && works(&app, &id, &third).await);
    assert!(!works(&app, &id, &old).await);
}

#[tokio::test]
async fn rotation_refusals() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    api.client(json!({"name": "r", "client_id": "r"})).await;
    api.post(
        &["clients", "r", "secret"],
        json!({"grace_secs": 31 * 24 * 3600}),
    )
    .await
    .assert_error(400, "invalid_request", "grace_secs");
    api.post(&["clients", "r", "secret"], json!({"grace_secs": -1}))
        .await
        .assert_error(400, "invalid_request", "invalid value");
    api.post(&["clients", "r", "secret"], json!({"grace": 10}))
        .await
        .assert_error(400, "invalid_request", "unknown field");
    api.post(&["clients", "nobody", "secret"], json!({}))
        .await
        .assert_error(404, "not_found", "nobody");
    // Refusals change nothing.
    assert_eq!(api.audit_of("r").await.len(), 1);
}
