//! The console's scopes: grouped by service with their descriptions, searched, and a scope's
//! drill-down with the API permissions behind it and the clients that hold it; Coupa's
//! `/oauth2/scopes` leads there.

use crate::console_signin::console_sign_in;
use crate::helpers::{ClientSpec, spawn_app};
use crate::people::{UserAgent, create_user_with_role};
use tessera_server::users::Role;

#[tokio::test]
async fn scopes_by_service_and_a_drill_down() {
    let app = spawn_app().await;
    app.register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    let mut off =
        ClientSpec::new("old-billing").scopes(&["core.accounting.read", "hr.people.read"], &[]);
    off.enabled = false;
    app.register_client(off).await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "vera").await;

    let p = ua.get("/admin/scopes").await;
    assert_eq!(p.status, 200);
    let core = p
        .body
        .find("<h2 id=\"service-1\">core</h2>")
        .expect("core first");
    let hr = p.body.find(">hr</h2>").expect("an hr group");
    let tessera = p.body.find(">tessera</h2>").expect("Tessera's own");
    assert!(core < hr && hr < tessera);
    assert!(p.body.contains("<code>core.accounting.read</code></a> <span class=\"desc\">test scope core.accounting.read</span>"), "{}", p.body);
    let p = ua.get("/admin/scopes?q=PEOPLE").await;
    assert!(p.body.contains("1 scopes in 1 services."), "{}", p.body);
    assert!(!p.body.contains("core.accounting.read"));

    let p = ua.get("/admin/scopes/core.accounting.read").await;
    assert_eq!(p.status, 200);
    assert!(
        p.body
            .contains("<li><code>GET /core.accounting.read</code></li>"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("id=\"holders-count\">2 clients."),
        "{}",
        p.body
    );
    assert!(p.body.contains("href=\"/admin/clients?q=billing\""));
    assert!(p.body.contains("<code>old-billing</code></a> test old-billing <span class=\"status-off\">(inactive)</span>"), "{}", p.body);
    let p = ua.get("/admin/scopes/hr.people.read").await;
    assert!(
        p.body.contains("id=\"holders-count\">1 client."),
        "{}",
        p.body
    );
    assert_eq!(ua.get("/admin/scopes/nope.nothing.read").await.status, 404);
    // Coupa's address, and nothing for people signed out.
    assert_eq!(
        ua.get("/oauth2/scopes").await.location().as_deref(),
        Some("/admin/scopes")
    );
    let mut stranger = UserAgent::new(&app);
    assert_eq!(
        stranger.get("/admin/scopes").await.location().as_deref(),
        Some("/admin/login?return_to=%2Fadmin%2Fscopes")
    );
}
