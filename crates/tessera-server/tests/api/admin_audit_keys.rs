//! `/admin/api/v1/audit` (filters and paging) and `/admin/api/v1/keys` (rotation and retirement).

use super::{AdminApi, admin_url};
use crate::helpers::{jwt_claims, spawn_app};
use serde_json::{Value, json};
use tessera_jose::UnverifiedJws;

async fn audit(api: &AdminApi<'_>, query: &[(&str, &str)]) -> (u16, Value) {
    let mut url = admin_url(api.app, &["audit"]);
    for (k, v) in query {
        url.query_pairs_mut().append_pair(k, v);
    }
    let r = api
        .app
        .http
        .get(url)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_audit_log_filters_and_pages() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    for i in 0..5 {
        api.client(json!({"client_id": format!("c{i}"), "name": format!("client {i}")}))
            .await;
    }
    api.post(&["clients", "c1", "disable"], json!({}))
        .await
        .ok();
    api.scope("core.things.read").await;

    let (status, all) = audit(&api, &[]).await;
    assert_eq!(status, 200);
    let events = all["events"].as_array().unwrap();
    // Newest first: scope, disable, five creations, and the bootstrap client's creation.
    assert_eq!(events.len(), 8);
    assert_eq!(events[0]["action"], "scope.create");
    assert_eq!(events[1]["action"], "client.disable");
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64())
    );
    assert!(all["next_before_id"].is_null());

    // By target, by action prefix.
    let (_, c1) = audit(&api, &[("target", "c1")]).await;
    assert_eq!(c1["events"].as_array().unwrap().len(), 2);
    let (_, creations) = audit(&api, &[("action", "client.create")]).await;
    assert_eq!(creations["events"].as_array().unwrap().len(), 6);
    let (_, client_events) = audit(&api, &[("action", "client.")]).await;
    assert_eq!(client_events["events"].as_array().unwrap().len(), 7);

    // Paging backwards.
    let (_, page1) = audit(&api, &[("limit", "3")]).await;
    assert_eq!(page1["events"].as_array().unwrap().len(), 3);
    let next = page1["next_before_id"].as_i64().unwrap();
    let (_, page2) = audit(&api, &[("limit", "3"), ("before_id", &next.to_string())]).await;
    let p2 = page2["events"].as_array().unwrap();
    assert_eq!(p2.len(), 3);
    assert!(p2[0]["id"].as_i64().unwrap() < next);
    assert_eq!(p2[0]["id"], events[3]["id"]);

    // Bad parameters.
    for q in [
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "many"),
        ("before_id", "x"),
    ] {
        let (status, body) = audit(&api, &[q]).await;
        assert_eq!(status, 400, "{q:?}");
        assert_eq!(body["error"], "invalid_request");
    }
}

fn kid_of(token: &str) -> String {
    UnverifiedJws::parse(token)
        .unwrap()
        .header
        .kid
        .clone()
        .unwrap()
}

fn keys_of(v: &Value, alg: &str) -> Vec<Value> {
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] == alg)
        .cloned()
        .collect()
}

#[tokio::test]
async fn keys_rotate_and_retire() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let (id, secret) = api
        .client(json!({"client_id": "signed", "name": "signed"}))
        .await;
    let listed = api.get(&["keys"]).await;
    let listed = listed.ok();
    assert_eq!(listed["keys"].as_array().unwrap().len(), 3);
    let old = keys_of(listed, "ES256")[0].clone();
    assert_eq!(old["state"], "active");
    let old_kid = old["kid"].as_str().unwrap().to_owned();
    assert_eq!(
        kid_of(
            app.cc_token(&id, &secret, &[]).await["access_token"]
                .as_str()
                .unwrap()
        ),
        old_kid
    );

    // Refusals first: they change nothing.
    api.post(&["keys", "rotate"], json!({"algs": ["HS256"]}))
        .await
        .assert_error(400, "invalid_request", "HS256");
    api.post(&["keys", "rotate"], json!({"algs": []}))
        .await
        .assert_error(400, "invalid_request", "empty");
    api.post(&["keys", &old_kid, "retire"], json!({}))
        .await
        .assert_error(409, "conflict", "rotate first");
    api.post(&["keys", "no-such-kid", "retire"], json!({}))
        .await
        .assert_error(404, "not_found", "no-such-kid");
    assert_eq!(
        api.get(&["keys"]).await.body["keys"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A rotation publishes the new key at once; it signs only after publish_ahead_secs.
    let rotated = api
        .post(&["keys", "rotate"], json!({"algs": ["ES256"]}))
        .await;
    let r = rotated.ok();
    let new_kid = r["new_kids"][0].as_str().unwrap().to_owned();
    let es = keys_of(r, "ES256");
    assert_eq!(es.len(), 2);
    let new = es.iter().find(|k| k["kid"] == new_kid.as_str()).unwrap();
    assert_eq!(new["state"], "next");
    assert_eq!(
        keys_of(r, "RS256").len(),
        1,
        "only the algorithm asked for rotates"
    );
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
            .any(|k| k["kid"] == new_kid.as_str())
    );
    assert_eq!(
        kid_of(
            app.cc_token(&id, &secret, &[]).await["access_token"]
                .as_str()
                .unwrap()
        ),
        old_kid
    );
    // The next key cannot be retired (a rotation is not undone that way).
    api.post(&["keys", &new_kid, "retire"], json!({}))
        .await
        .assert_error(409, "conflict", "not started signing");

    // Retiring the old key hands signing to the published next key at once.
    let retired = api.post(&["keys", &old_kid, "retire"], json!({})).await;
    let r = retired.ok();
    assert_eq!(r["promoted"], new_kid.as_str());
    let es = keys_of(r, "ES256");
    assert_eq!(
        es.iter().find(|k| k["kid"] == old_kid.as_str()).unwrap()["state"],
        "retired"
    );
    assert_eq!(
        es.iter().find(|k| k["kid"] == new_kid.as_str()).unwrap()["state"],
        "active"
    );
    let token = app.cc_token(&id, &secret, &[]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kid_of(&token), new_kid);
    assert_eq!(jwt_claims(&token)["client_id"], "signed");
    // The retired key stays published until the tokens it signed have expired.
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
            .any(|k| k["kid"] == old_kid.as_str())
    );
    api.post(&["keys", &old_kid, "retire"], json!({}))
        .await
        .assert_error(409, "conflict", "already retired");
    api.post(&["keys", &new_kid, "retire"], json!({}))
        .await
        .assert_error(409, "conflict", "only key signing ES256");

    // Rotating every algorithm by default (an empty body).
    let r = app
        .http
        .post(app.url("/admin/api/v1/keys/rotate"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["new_kids"].as_array().unwrap().len(), 3);

    let events = api.get(&["audit"]).await.body["events"]
        .as_array()
        .unwrap()
        .clone();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("key."))
        .collect();
    assert_eq!(actions, ["key.rotate", "key.retire", "key.rotate"]);
    let retire = events.iter().find(|e| e["action"] == "key.retire").unwrap();
    assert_eq!(retire["target"], old_kid.as_str());
    assert_eq!(retire["after"]["promoted"], new_kid.as_str());
    assert!(
        retire["before"]["retired_at"].is_i64(),
        "the rotation had scheduled the retirement"
    );
}
