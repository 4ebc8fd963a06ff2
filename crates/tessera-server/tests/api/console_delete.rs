//! Deleting a client in the console: the person types the client's name; a wrong name changes
//! nothing and says so next to the field; the right one deletes it through the admin API's code
//! (the token endpoint refuses it; audited under the person's name). Admins only. And the secret
//! rotation that imports a secret instead of generating one, for a migration.

use crate::console_signin::console_sign_in;
use crate::helpers::{ClientSpec, spawn_app};
use crate::people::{UserAgent, create_user_with_role};
use tessera_server::store::AuditQuery;
use tessera_server::users::Role;

#[tokio::test]
async fn a_client_is_deleted_only_when_its_name_is_typed() {
    let app = spawn_app().await;
    let secret = app.register_client(ClientSpec::new("billing")).await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "alice").await;
    assert!(
        ua.get("/admin/clients?q=billing")
            .await
            .body
            .contains("href=\"/admin/clients/billing/delete\"")
    );
    let page = ua.get("/admin/clients/billing/delete").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<strong>test billing</strong>"));
    let csrf = page.input("csrf").unwrap();
    // A wrong name: the page again, the reason next to the field, nothing deleted.
    let p = ua
        .post(
            "/admin/clients/billing/delete",
            &[("csrf", &csrf), ("confirm_name", "test bill")],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(
        p.body
            .contains("<p class=\"field-error\" id=\"confirm_name-error\">"),
        "{}",
        p.body
    );
    assert!(p.body.contains("<a href=\"#confirm_name\">"));
    assert!(p.body.contains("aria-invalid=\"true\""));
    assert_eq!(
        crate::console_edit::value_of(&p.body, "confirm_name").as_deref(),
        Some("test bill")
    );
    let p = ua
        .post("/admin/clients/billing/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 400);
    assert!(app.state.store.get_client("billing").await.is_ok());
    app.cc_token("billing", &secret, &[]).await;
    // The right name: deleted, refused at the token endpoint, audited under the person's name.
    let p = ua
        .post(
            "/admin/clients/billing/delete",
            &[("csrf", &csrf), ("confirm_name", "test billing")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Client deleted"));
    assert!(app.state.store.get_client("billing").await.is_err());
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", &secret)),
        )
        .await;
    assert_eq!(r.status(), 401);
    let ev = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("client.delete".into()),
            target: Some("billing".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].actor, "user:alice");
    // The console's own client is not deleted from the console.
    assert_eq!(
        ua.get("/admin/clients/tessera-console/delete").await.status,
        409
    );
    let p = ua
        .post(
            "/admin/clients/tessera-console/delete",
            &[("csrf", &csrf), ("confirm_name", "Tessera console")],
        )
        .await;
    assert_eq!(p.status, 409);
    assert!(app.state.store.get_client("tessera-console").await.is_ok());
}

#[tokio::test]
async fn an_operator_cannot_delete_a_client() {
    let app = spawn_app().await;
    app.register_client(ClientSpec::new("billing")).await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    let mut ua = UserAgent::new(&app);
    let (overview, _) = console_sign_in(&mut ua, "otto").await;
    assert_eq!(ua.get("/admin/clients/billing/delete").await.status, 403);
    let p = ua
        .post(
            "/admin/clients/billing/delete",
            &[
                ("csrf", &overview.input("csrf").unwrap()),
                ("confirm_name", "test billing"),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(app.state.store.get_client("billing").await.is_ok());
}

#[tokio::test]
async fn a_rotation_imports_a_secret_for_a_migration() {
    let app = spawn_app().await;
    let old = app.register_client(ClientSpec::new("billing")).await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "otto").await;
    let form = ua.get("/admin/clients/billing/rotate-secret").await;
    assert!(form.body.contains("name=\"imported_secret\""));
    let csrf = form.input("csrf").unwrap();
    // Too short: the admin API's message next to the field, never the secret itself.
    let p = ua
        .post(
            "/admin/clients/billing/rotate-secret",
            &[("csrf", &csrf), ("grace", ""), ("imported_secret", "short")],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(
        p.body
            .contains("<p class=\"field-error\" id=\"imported_secret-error\">"),
        "{}",
        p.body
    );
    assert!(!p.body.contains("value=\"short\""));
    app.cc_token("billing", &old, &[]).await;
    let imported = "legacy-system-secret-0123456789";
    let p = ua
        .post(
            "/admin/clients/billing/rotate-secret",
            &[
                ("csrf", &csrf),
                ("grace", ""),
                ("imported_secret", imported),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Secret imported"), "{}", p.body);
    assert!(!p.body.contains(imported));
    app.cc_token("billing", imported, &[]).await;
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", &old)),
        )
        .await;
    assert_eq!(r.status(), 401, "the previous secret stopped at once");
    let secrets = app
        .state
        .store
        .client_secrets("billing", tessera_server::model::now())
        .await
        .unwrap();
    assert!(secrets.iter().any(|s| s.imported));
    let ev = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("client.secret_rotate".into()),
            target: Some("billing".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev[0].actor, "user:otto");
    assert_eq!(ev[0].after.as_ref().unwrap()["imported"], true);
}
