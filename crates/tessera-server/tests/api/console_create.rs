//! Creating a client in the console: the admin API's validation and messages on the form, the
//! secret shown once with a `curl` example that works, the same audit record as the API's under
//! the person's name; only admins (an operator's forged POST is refused with 403).

use crate::console_signin::console_sign_in;
use crate::helpers::spawn_app;
use crate::people::{UserAgent, create_user_with_role};
use tessera_server::store::AuditQuery;
use tessera_server::users::Role;

#[tokio::test]
async fn an_admin_creates_a_client_and_its_secret_gets_a_token() {
    let app = spawn_app().await;
    app.register_scope("core.accounting.read").await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "alice").await;
    let form = ua.get("/admin/clients/new").await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("value=\"core.accounting.read\""),
        "{}",
        form.body
    );
    assert!(
        !form.body.contains("value=\"tessera.clients.write\""),
        "Tessera's own scopes are not offered"
    );
    let csrf = form.input("csrf").unwrap();
    // Refused by the API's own rules: shown on the form, nothing created.
    let p = ua
        .post(
            "/admin/clients/new",
            &[
                ("csrf", &csrf),
                ("name", "Billing"),
                ("client_id", "billing"),
                ("grant_type", "client_credentials"),
                ("scope", "core.nothing.read"),
            ],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("role=\"alert\""));
    assert!(p.body.contains("core.nothing.read"), "{}", p.body);
    assert!(p.body.contains("value=\"Billing\""), "the values are kept");
    assert!(app.state.registry.client("billing").is_none());
    // Accepted.
    let p = ua
        .post(
            "/admin/clients/new",
            &[
                ("csrf", &csrf),
                ("name", "Billing"),
                ("client_id", "billing"),
                ("grant_type", "client_credentials"),
                ("scope", "core.accounting.read"),
                ("audiences", "https://api.example.com/"),
                ("method", "client_secret_basic"),
                ("format", ""),
                ("lifetime", "300"),
            ],
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    assert_eq!(p.headers["cache-control"], "no-store");
    assert!(
        p.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let start = p
        .body
        .find("<code id=\"secret\" class=\"secret\">")
        .unwrap()
        + 33;
    let secret = &p.body[start..start + p.body[start..].find('<').unwrap()];
    assert!(secret.starts_with("tsec_"), "{secret}");
    assert!(p.body.contains(&format!(
        "curl -s -u &#39;billing:{secret}&#39; -d grant_type=client_credentials -d scope=core.accounting.read {}",
        app.token_url()
    )), "{}", p.body);
    let token = app
        .cc_token("billing", secret, &[("scope", "core.accounting.read")])
        .await;
    assert_eq!(token["scope"], "core.accounting.read");
    // The secret is never shown again.
    assert!(
        !ua.get("/admin/clients?q=billing")
            .await
            .body
            .contains(secret)
    );
    let ev = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("client.create".into()),
            target: Some("billing".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].actor, "user:alice");
    assert!(!serde_json::to_string(&ev[0]).unwrap().contains(secret));
    // A taken client id: the API's 409 message.
    let p = ua
        .post(
            "/admin/clients/new",
            &[
                ("csrf", &csrf),
                ("name", "Again"),
                ("client_id", "billing"),
                ("grant_type", "client_credentials"),
            ],
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
}

#[tokio::test]
async fn only_admins_create_clients() {
    let app = spawn_app().await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    let mut ua = UserAgent::new(&app);
    let (overview, _) = console_sign_in(&mut ua, "otto").await;
    assert!(
        !ua.get("/admin/clients")
            .await
            .body
            .contains("/admin/clients/new")
    );
    assert_eq!(ua.get("/admin/clients/new").await.status, 403);
    let csrf = overview.input("csrf").unwrap();
    let p = ua
        .post(
            "/admin/clients/new",
            &[
                ("csrf", &csrf),
                ("name", "Sneaky"),
                ("client_id", "sneaky"),
                ("grant_type", "client_credentials"),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(app.state.registry.client("sneaky").is_none());
}
