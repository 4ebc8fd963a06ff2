//! Console roles through the admin API: set on creation, changed and taken away with `PATCH`,
//! refused when unknown (changing nothing), audited, and kept in the database; and given by the
//! setup file.

use crate::helpers::spawn_app;
use crate::users_admin::call;
use reqwest::Method;
use serde_json::json;
use std::path::Path;
use tessera_server::setup_file;
use tessera_server::users::Role;

#[tokio::test]
async fn roles_are_set_changed_taken_away_and_audited() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (status, created) = call(
        &app,
        &token,
        Method::POST,
        "/users",
        Some(json!({ "username": "alice", "password": "a long password", "role": "admin" })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["role"], "admin");
    // Another admin, so that alice may lose the role (the last enabled admin may not).
    crate::people::create_user_with_role(&app, "ada", Some(Role::Admin)).await;
    let (_, plain) = call(
        &app,
        &token,
        Method::POST,
        "/users",
        Some(json!({ "username": "bob" })),
    )
    .await;
    assert_eq!(plain["role"], serde_json::Value::Null);

    // An unknown role is refused and changes nothing.
    let (status, e) = call(
        &app,
        &token,
        Method::PATCH,
        "/users/alice",
        Some(json!({ "role": "root" })),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert!(
        e["error_description"].as_str().unwrap().contains("root"),
        "{e}"
    );
    let (status, e) = call(
        &app,
        &token,
        Method::POST,
        "/users",
        Some(json!({ "username": "carl", "role": "superuser" })),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    let (status, _) = call(&app, &token, Method::GET, "/users/carl", None).await;
    assert_eq!(status, 404);
    let stored = app
        .state
        .store
        .get_user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.role, Some(Role::Admin));

    // Changed; a patch without `role` keeps it; `null` takes it away.
    let (status, v) = call(
        &app,
        &token,
        Method::PATCH,
        "/users/alice",
        Some(json!({ "role": "viewer" })),
    )
    .await;
    assert_eq!((status, v["role"].as_str()), (200, Some("viewer")));
    let (_, v) = call(
        &app,
        &token,
        Method::PATCH,
        "/users/alice",
        Some(json!({ "display_name": "Alice A" })),
    )
    .await;
    assert_eq!(v["role"], "viewer");
    let stored = app
        .state
        .store
        .get_user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.role, Some(Role::Viewer));
    let (_, v) = call(
        &app,
        &token,
        Method::PATCH,
        "/users/alice",
        Some(json!({ "role": null })),
    )
    .await;
    assert_eq!(v["role"], serde_json::Value::Null);
    let stored = app
        .state
        .store
        .get_user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.role, None);

    // The audit log has each change with the role before and after.
    let (_, audit) = call(&app, &token, Method::GET, "/audit?action=user.update", None).await;
    let roles: Vec<(serde_json::Value, serde_json::Value)> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["before"]["role"].clone(), e["after"]["role"].clone()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (json!("viewer"), json!(null)),
            (json!("viewer"), json!("viewer")),
            (json!("admin"), json!("viewer")),
        ]
    );
}

#[tokio::test]
async fn the_setup_file_gives_roles() {
    let app = spawn_app().await;
    crate::people::create_user(&app, "bob").await;
    let no_env = |_: &str| None;
    let text = r#"
[[users]]
username = "Alice"
role = "admin"
display_name = "Alice A"

[[users]]
username = "bob"
role = "operator"
"#;
    let o = setup_file::apply_str(&app.state, text, Path::new("."), &no_env)
        .await
        .unwrap();
    assert_eq!((o.created, o.updated, o.unchanged), (1, 1, 0));
    let alice = app
        .state
        .store
        .get_user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (alice.role, alice.password_hash.is_none()),
        (Some(Role::Admin), true)
    );
    let bob = app
        .state
        .store
        .get_user_by_username("bob")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.role, Some(Role::Operator));
    assert!(
        bob.password_hash.is_some(),
        "the file leaves the password alone"
    );
    // Applying it again changes nothing.
    let o = setup_file::apply_str(&app.state, text, Path::new("."), &no_env)
        .await
        .unwrap();
    assert_eq!((o.created, o.updated, o.unchanged), (0, 0, 2));
    // A bad role or a repeated user refuses the whole file, changing nothing.
    for (bad, needle) in [
        (
            "[[users]]\nusername = \"bob\"\nrole = \"viewer\"\n[[users]]\nusername = \"carl\"\nrole = \"root\"\n",
            "unknown variant",
        ),
        (
            "[[users]]\nusername = \"bob\"\nrole = \"viewer\"\n[[users]]\nusername = \"BOB\"\n",
            "described twice",
        ),
    ] {
        let e = setup_file::apply_str(&app.state, bad, Path::new("."), &no_env)
            .await
            .unwrap_err();
        assert!(e.contains(needle), "{e}");
        let bob = app
            .state
            .store
            .get_user_by_username("bob")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bob.role, Some(Role::Operator));
    }
    let events = app
        .state
        .store
        .list_audit(&tessera_server::store::AuditQuery {
            action: Some("user.".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(events.iter().all(|e| e.actor == "setup-file"));
    assert_eq!(events.len(), 2);
}
