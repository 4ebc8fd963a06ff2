//! The console's signing keys: listed with their state; rotated by an operator through the admin
//! API's code (the new keys are published as `next`, audited as `key.rotate` under the person's
//! name); a viewer sees no button and a forged POST from one is refused.

use crate::console_signin::console_sign_in;
use crate::helpers::spawn_app;
use crate::people::{UserAgent, create_user_with_role};
use tessera_server::store::AuditQuery;
use tessera_server::users::Role;

fn states(body: &str) -> Vec<String> {
    body.split("<td data-label=\"State\">")
        .skip(1)
        .map(|s| s[..s.find("</td>").unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn an_operator_rotates_the_keys_and_a_viewer_cannot() {
    let app = spawn_app().await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let mut viewer = UserAgent::new(&app);
    let (overview, _) = console_sign_in(&mut viewer, "vera").await;
    let p = viewer.get("/admin/keys").await;
    assert_eq!(p.status, 200);
    assert_eq!(
        states(&p.body),
        ["active", "active", "active"],
        "{}",
        p.body
    );
    assert!(!p.body.contains("href=\"/admin/keys/rotate\""));
    assert_eq!(viewer.get("/admin/keys/rotate").await.status, 403);
    let csrf = overview.input("csrf").unwrap();
    assert_eq!(
        viewer
            .post("/admin/keys/rotate", &[("csrf", &csrf)])
            .await
            .status,
        403
    );
    assert_eq!(states(&viewer.get("/admin/keys").await.body).len(), 3);

    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "otto").await;
    let confirm = ua.get("/admin/keys/rotate").await;
    assert_eq!(confirm.status, 200);
    let csrf = confirm.input("csrf").unwrap();
    assert_eq!(ua.post("/admin/keys/rotate", &[]).await.status, 403);
    let done = ua.post("/admin/keys/rotate", &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("are published and sign from"),
        "{}",
        done.body
    );
    let mut s = states(&ua.get("/admin/keys").await.body);
    s.sort();
    assert_eq!(s, ["active", "active", "active", "next", "next", "next"]);
    let ev = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("key.rotate".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].actor, "user:otto");
}
