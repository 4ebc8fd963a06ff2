//! `/admin/api/v1/scopes`: names, permissions, the drill-down to clients, and deletion rules.

use super::AdminApi;
use crate::helpers::spawn_app;
use serde_json::{Value, json};

#[tokio::test]
async fn a_scope_from_creation_to_deletion() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let a = api
        .post(
            &["scopes"],
            json!({"name": "core.accounting.read", "description": "Read invoices", "permissions": ["GET /api/invoices", "GET /api/invoices/{id}", "GET /api/invoices"]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    // Repeated permissions collapse.
    assert_eq!(
        a.body["permissions"],
        json!(["GET /api/invoices", "GET /api/invoices/{id}"])
    );
    let list = api.get(&["scopes"]).await;
    let names: Vec<&str> = list.ok()["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"core.accounting.read") && names.contains(&"tessera.clients.write"));

    // The drill-down names the clients that may use it.
    let (billing, _) = api
        .client(json!({"client_id": "billing", "name": "Billing", "allowed_scopes": ["core.accounting.read"], "default_scopes": ["core.accounting.read"]}))
        .await;
    api.client(json!({"client_id": "reports", "name": "Reports", "allowed_scopes": ["core.accounting.read"]})).await;
    let shown = api.get(&["scopes", "core.accounting.read"]).await;
    let s = shown.ok();
    assert_eq!(s["description"], "Read invoices");
    assert_eq!(s["permissions"][1], "GET /api/invoices/{id}");
    assert_eq!(
        s["clients"],
        json!([
            {"client_id": "billing", "name": "Billing", "enabled": true, "default": true},
            {"client_id": "reports", "name": "Reports", "enabled": true, "default": false}
        ])
    );

    // PATCH changes what it names.
    let p = api
        .patch(
            &["scopes", "core.accounting.read"],
            json!({"permissions": ["GET /api/v2/invoices"]}),
        )
        .await;
    assert_eq!(p.ok()["permissions"], json!(["GET /api/v2/invoices"]));
    assert_eq!(p.body["description"], "Read invoices");

    // Deleting a scope still allowed to clients is refused, naming them; nothing changes.
    api.delete(&["scopes", "core.accounting.read"])
        .await
        .assert_error(409, "conflict", "\"billing\", \"reports\"");
    assert_eq!(
        api.get(&["scopes", "core.accounting.read"]).await.status,
        200
    );
    api.patch(
        &["clients", &billing],
        json!({"allowed_scopes": [], "default_scopes": []}),
    )
    .await
    .ok();
    api.delete(&["scopes", "core.accounting.read"])
        .await
        .assert_error(409, "conflict", "reports");
    api.delete(&["clients", "reports"]).await;
    assert_eq!(
        api.delete(&["scopes", "core.accounting.read"]).await.status,
        204
    );
    api.get(&["scopes", "core.accounting.read"])
        .await
        .assert_error(404, "not_found", "core.accounting.read");
    // The token endpoint no longer knows it.
    api.patch(
        &["clients", &billing],
        json!({"allowed_scopes": ["core.accounting.read"]}),
    )
    .await
    .assert_error(400, "invalid_request", "not registered");

    let events = api.audit_of("core.accounting.read").await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["scope.delete", "scope.update", "scope.create"]);
    assert_eq!(events[1]["before"]["permissions"][0], "GET /api/invoices");
    assert_eq!(events[1]["after"]["permissions"][0], "GET /api/v2/invoices");
}

#[tokio::test]
async fn scope_validation() {
    let app = spawn_app().await;
    let api = AdminApi::new(&app).await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"name": "core.accounting"}),
            400,
            "service.object.right",
        ),
        (
            json!({"name": "Core.Accounting.Read"}),
            400,
            "service.object.right",
        ),
        (
            json!({"name": "core accounting read"}),
            400,
            "service.object.right",
        ),
        (
            json!({"name": "tessera.clients.admin"}),
            400,
            "Tessera's own",
        ),
        (
            json!({"name": "core.a.read", "permissions": [""]}),
            400,
            "permission",
        ),
        (
            json!({"name": "core.a.read", "permissions": ["GET\n/x"]}),
            400,
            "control characters",
        ),
        (
            json!({"name": "core.a.read", "description": "x".repeat(1001)}),
            400,
            "description",
        ),
        (
            json!({"name": "core.a.read", "colour": "blue"}),
            400,
            "unknown field",
        ),
        (
            json!({"description": "no name"}),
            400,
            "missing field `name`",
        ),
    ];
    for (body, status, needle) in cases {
        api.post(&["scopes"], body)
            .await
            .assert_error(status, "invalid_request", needle);
    }
    // OpenID Connect scopes are accepted as they are.
    assert_eq!(
        api.post(&["scopes"], json!({"name": "openid"}))
            .await
            .status,
        201
    );
    api.scope("core.a.read").await;
    api.post(&["scopes"], json!({"name": "core.a.read"}))
        .await
        .assert_error(409, "conflict", "already exists");
    api.patch(
        &["scopes", "core.a.read"],
        json!({"permissions": ["ok", ""]}),
    )
    .await
    .assert_error(400, "invalid_request", "permission");
    api.patch(
        &["scopes", "core.nothing.read"],
        json!({"description": "x"}),
    )
    .await
    .assert_error(404, "not_found", "core.nothing.read");
    api.delete(&["scopes", "core.nothing.read"])
        .await
        .assert_error(404, "not_found", "core.nothing.read");
    // Tessera's own scopes stay.
    api.delete(&["scopes", "tessera.tokens.introspect"])
        .await
        .assert_error(409, "conflict", "Tessera's own");
    // Nothing but the two creations was audited.
    let events = api.get(&["audit"]).await.body["events"]
        .as_array()
        .unwrap()
        .clone();
    let scope_events: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("scope."))
        .collect();
    assert_eq!(scope_events.len(), 2);
}
