//! The console's clients table over HTTP: search, filters, sort and pages done by the database;
//! activate and deactivate with a confirmation and the CSRF token, through the admin API's code
//! (the token endpoint refuses a deactivated client at once; the audit log names the person);
//! a viewer sees no buttons and a forged POST from one is refused with 403.

use crate::console_signin::console_sign_in;
use crate::helpers::{ClientSpec, TestApp, spawn_app};
use crate::people::{UserAgent, create_user_with_role};
use tessera_proto::GrantType;
use tessera_server::store::AuditQuery;
use tessera_server::users::Role;

/// The client ids in the table of `body`, in order.
fn ids(body: &str) -> Vec<String> {
    body.split("<td data-label=\"Client id\"><code>")
        .skip(1)
        .map(|s| s[..s.find("</code>").unwrap()].to_owned())
        .collect()
}

async fn populate(app: &TestApp) -> String {
    let secret = app
        .register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    let mut web = ClientSpec::new("web-portal");
    web.grant_types = vec![GrantType::AuthorizationCode];
    web.redirect_uris = vec!["https://app.example.com/cb".into()];
    app.register_client(web).await;
    let mut off = ClientSpec::new("retired-batch");
    off.enabled = false;
    app.register_client(off).await;
    secret
}

#[tokio::test]
async fn search_filter_sort_and_page_in_the_database() {
    let app = spawn_app().await;
    populate(&app).await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "vera").await;
    let p = ua.get("/admin/clients").await;
    assert_eq!(p.status, 200);
    assert_eq!(p.headers["cache-control"], "no-store");
    // Sorted by name: "Tessera bootstrap admin", "Tessera console", "test billing", …
    assert_eq!(
        ids(&p.body),
        [
            "tessera-admin",
            "tessera-console",
            "billing",
            "retired-batch",
            "web-portal"
        ]
    );
    // A viewer sees no buttons.
    assert!(!p.body.contains("Deactivate"), "{}", p.body);
    assert!(!p.body.contains("/disable\""));
    let p = ua.get("/admin/clients?q=BILL").await;
    assert_eq!(ids(&p.body), ["billing"]);
    let p = ua.get("/admin/clients?q=portal").await;
    assert_eq!(ids(&p.body), ["web-portal"]);
    // LIKE wildcards are plain characters.
    let p = ua.get("/admin/clients?q=%25").await;
    assert!(p.body.contains("No client matches."), "{}", p.body);
    let p = ua.get("/admin/clients?status=inactive").await;
    assert_eq!(ids(&p.body), ["retired-batch"]);
    let p = ua.get("/admin/clients?grant=authorization_code").await;
    assert_eq!(ids(&p.body), ["tessera-console", "web-portal"]);
    let p = ua
        .get("/admin/clients?grant=client_credentials&status=active&sort=client_id&dir=desc")
        .await;
    assert_eq!(ids(&p.body), ["tessera-admin", "billing"]);
    // Unknown values fall back to the defaults.
    let p = ua
        .get("/admin/clients?sort=drop%20table&page=-3&status=x")
        .await;
    assert_eq!(p.status, 200);
    assert_eq!(ids(&p.body).len(), 5);

    // Pages of 50.
    for i in 0..60 {
        app.register_client(ClientSpec::new(&format!("bulk-{i:03}")))
            .await;
    }
    let p = ua.get("/admin/clients?q=bulk&sort=client_id").await;
    assert!(p.body.contains("Clients 1–50 of 60."), "{}", p.body);
    assert_eq!(ids(&p.body).len(), 50);
    assert!(p.body.contains("Page 1 of 2"));
    let next = p
        .body
        .split("href=\"")
        .find(|s| s.contains("rel=\"next\""))
        .unwrap();
    let next = next[..next.find('"').unwrap()].replace("&#38;", "&");
    let p = ua.get(&next).await;
    assert_eq!(ids(&p.body).first().map(String::as_str), Some("bulk-050"));
    assert!(p.body.contains("Clients 51–60 of 60."), "{}", p.body);
}

#[tokio::test]
async fn deactivate_and_activate_from_the_table_as_the_api_does() {
    let app = spawn_app().await;
    let secret = populate(&app).await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "otto").await;
    let p = ua.get("/admin/clients?q=billing").await;
    assert!(
        p.body.contains("href=\"/admin/clients/billing/disable\""),
        "{}",
        p.body
    );
    let confirm = ua.get("/admin/clients/billing/disable").await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("Deactivate test billing (billing)?"),
        "{}",
        confirm.body
    );
    let csrf = confirm.input("csrf").unwrap();
    // Without the CSRF token, or with another, nothing happens.
    assert_eq!(
        ua.post("/admin/clients/billing/disable", &[]).await.status,
        403
    );
    assert_eq!(
        ua.post("/admin/clients/billing/disable", &[("csrf", "x")])
            .await
            .status,
        403
    );
    app.cc_token("billing", &secret, &[]).await;
    let done = ua
        .post("/admin/clients/billing/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("is now inactive"));
    // The token endpoint refuses it at once.
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", &secret)),
        )
        .await;
    assert_eq!(r.status(), 401);
    // Audited as the API audits it, under the person's name.
    let ev = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("client.disable".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].actor.as_str(), ev[0].target.as_str()),
        ("user:otto", "billing")
    );
    assert_eq!(ev[0].before.as_ref().unwrap()["enabled"], true);
    assert_eq!(ev[0].after.as_ref().unwrap()["enabled"], false);
    assert!(ev[0].remote_addr.is_some());
    // And back.
    let p = ua.get("/admin/clients?q=billing").await;
    assert!(p.body.contains("href=\"/admin/clients/billing/enable\""));
    let done = ua
        .post("/admin/clients/billing/enable", &[("csrf", &csrf)])
        .await;
    assert!(done.body.contains("is now active"), "{}", done.body);
    app.cc_token("billing", &secret, &[]).await;
    // The console's own client is not deactivated from the console.
    let p = ua
        .post("/admin/clients/tessera-console/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(
        app.state
            .registry
            .client("tessera-console")
            .unwrap()
            .client
            .enabled
    );
    // An unknown client or action changes nothing.
    assert_eq!(ua.get("/admin/clients/nobody/disable").await.status, 404);
    assert_eq!(
        ua.post("/admin/clients/nobody/disable", &[("csrf", &csrf)])
            .await
            .status,
        404
    );
    assert_eq!(
        ua.post("/admin/clients/billing/delete", &[("csrf", &csrf)])
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn a_viewer_cannot_change_a_client_even_with_a_forged_post() {
    let app = spawn_app().await;
    let secret = populate(&app).await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let mut ua = UserAgent::new(&app);
    let (overview, _) = console_sign_in(&mut ua, "vera").await;
    // The viewer's own, valid CSRF token: the role still refuses.
    let csrf = overview.input("csrf").unwrap();
    assert_eq!(ua.get("/admin/clients/billing/disable").await.status, 403);
    let p = ua
        .post("/admin/clients/billing/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("does not allow this"), "{}", p.body);
    app.cc_token("billing", &secret, &[]).await;
    assert!(app.state.store.get_client("billing").await.unwrap().enabled);
    // Signed out: 403 too.
    let mut stranger = UserAgent::new(&app);
    assert_eq!(
        stranger
            .post("/admin/clients/billing/disable", &[("csrf", &csrf)])
            .await
            .status,
        403
    );
    assert_eq!(
        stranger.get("/admin/clients").await.location().as_deref(),
        Some("/admin/login?return_to=%2Fadmin%2Fclients")
    );
}

/// The new secret on a rotation's answer.
fn shown_secret(body: &str) -> String {
    let start = body.find("<code id=\"secret\" class=\"secret\">").unwrap() + 33;
    body[start..start + body[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn rotate_a_secret_with_a_grace_period() {
    let app = spawn_app().await;
    let old = populate(&app).await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "otto").await;
    let p = ua.get("/admin/clients?q=billing").await;
    assert!(
        p.body
            .contains("href=\"/admin/clients/billing/rotate-secret\"")
    );
    let form = ua.get("/admin/clients/billing/rotate-secret").await;
    assert_eq!(form.status, 200);
    let csrf = form.input("csrf").unwrap();
    // A grace period that is not a duration, or too long: the form again, nothing changed.
    let p = ua
        .post(
            "/admin/clients/billing/rotate-secret",
            &[("csrf", &csrf), ("grace", "a while")],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("is not a duration"), "{}", p.body);
    let p = ua
        .post(
            "/admin/clients/billing/rotate-secret",
            &[("csrf", &csrf), ("grace", "60days")],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("at most"), "{}", p.body);
    app.cc_token("billing", &old, &[]).await;
    // With a day of grace both work.
    let p = ua
        .post(
            "/admin/clients/billing/rotate-secret",
            &[("csrf", &csrf), ("grace", "24h")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("keep working until"), "{}", p.body);
    let new = shown_secret(&p.body);
    app.cc_token("billing", &old, &[]).await;
    app.cc_token("billing", &new, &[]).await;
    // Without grace the previous ones stop at once.
    let p = ua
        .post("/admin/clients/billing/rotate-secret", &[("csrf", &csrf)])
        .await;
    assert!(p.body.contains("no longer works"), "{}", p.body);
    let newest = shown_secret(&p.body);
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", &new)),
        )
        .await;
    assert_eq!(r.status(), 401);
    app.cc_token("billing", &newest, &[]).await;
    let ev = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("client.secret_rotate".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e.actor == "user:otto"));
    // A viewer cannot, even with a valid CSRF token.
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let mut viewer = UserAgent::new(&app);
    let (overview, _) = console_sign_in(&mut viewer, "vera").await;
    let vcsrf = overview.input("csrf").unwrap();
    assert_eq!(
        viewer
            .get("/admin/clients/billing/rotate-secret")
            .await
            .status,
        403
    );
    assert_eq!(
        viewer
            .post("/admin/clients/billing/rotate-secret", &[("csrf", &vcsrf)])
            .await
            .status,
        403
    );
    app.cc_token("billing", &newest, &[]).await;
}
