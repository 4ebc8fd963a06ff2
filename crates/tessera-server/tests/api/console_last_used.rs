//! The clients table's "Last used": the token endpoint notes in memory when a client got a token,
//! a background task writes it to the database (every `console.last_used_flush_secs`, one second
//! here) and at a graceful shutdown, only forward; the table shows it, "never" before, and sorts
//! by it.

use crate::console_signin::console_sign_in;
use crate::helpers::{ClientSpec, spawn_app_with};
use crate::people::{UserAgent, create_user_with_role};
use std::time::{Duration, Instant};
use tessera_server::users::Role;

/// The "Last used" cell of the row of `client_id` in the table `body`.
fn last_used(body: &str, client_id: &str) -> String {
    let row = &body[body
        .find(&format!("<code>{client_id}</code>"))
        .unwrap_or_else(|| panic!("no row for {client_id}: {body}"))..];
    let cell = "<td data-label=\"Last used\">";
    let start = row.find(cell).unwrap() + cell.len();
    row[start..start + row[start..].find("</td>").unwrap()].to_owned()
}

#[tokio::test]
async fn last_used_appears_once_the_flush_ran() {
    let app = spawn_app_with(|c| c.console.last_used_flush_secs = 1).await;
    let secret = app.register_client(ClientSpec::new("billing")).await;
    app.register_client(ClientSpec::new("reports")).await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "vera").await;
    let p = ua.get("/admin/clients").await;
    assert!(p.body.contains(">Last used</a></th>"), "{}", p.body);
    assert_eq!(last_used(&p.body, "billing"), "never");
    // A refused request does not count.
    app.token(
        &[("grant_type", "client_credentials")],
        Some(("billing", "wrong")),
    )
    .await;
    app.cc_token("billing", &secret, &[]).await;
    // Written by the background flush, which runs every second here.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut at = None;
    while at.is_none() {
        assert!(Instant::now() < deadline, "the flush never wrote it");
        tokio::time::sleep(Duration::from_millis(100)).await;
        at = app.state.store.client_last_used("billing").await.unwrap();
    }
    let at = at.unwrap();
    assert!((tessera_server::model::now() - at).abs() < 30);
    let p = ua.get("/admin/clients").await;
    let shown = last_used(&p.body, "billing");
    assert_eq!(shown, tessera_server::console::templates::date(at));
    assert_eq!(last_used(&p.body, "reports"), "never");
    // Only forward: an older time (another instance's) does not move it back.
    app.state
        .store
        .record_clients_last_used(&[("billing".to_owned(), at - 3600)])
        .await
        .unwrap();
    assert_eq!(
        app.state.store.client_last_used("billing").await.unwrap(),
        Some(at)
    );
    // Sorted by it, most recent first: billing before the clients never used.
    let p = ua.get("/admin/clients?sort=last_used&dir=desc").await;
    assert!(
        p.body.find("<code>billing</code>").unwrap() < p.body.find("<code>reports</code>").unwrap(),
        "{}",
        p.body
    );
    let p = ua.get("/admin/clients?sort=last_used&dir=asc").await;
    assert!(
        p.body.find("<code>billing</code>").unwrap() > p.body.find("<code>reports</code>").unwrap()
    );
}

#[tokio::test]
async fn a_graceful_shutdown_writes_what_the_flush_has_not() {
    // The default flush interval (60 s) never comes within this test.
    let app = crate::helpers::spawn_app().await;
    let secret = app.register_client(ClientSpec::new("billing")).await;
    app.cc_token("billing", &secret, &[]).await;
    assert_eq!(
        app.state.store.client_last_used("billing").await.unwrap(),
        None,
        "the token request itself writes nothing"
    );
    let config = crate::admin::restart_config(&app, None);
    let _dir = app.stop().await;
    let app = crate::helpers::start(config).await;
    assert!(
        app.state
            .store
            .client_last_used("billing")
            .await
            .unwrap()
            .is_some()
    );
}
