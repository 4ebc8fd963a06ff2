//! The console's audit log page: console actions under the person's name, filters by actor,
//! action prefix, target and date, a refused date, and paging to older events; and the users page
//! with their roles.

use crate::console_signin::console_sign_in;
use crate::helpers::{ClientSpec, spawn_app};
use crate::people::{UserAgent, create_user_with_role};
use tessera_server::users::Role;

fn actions(body: &str) -> Vec<String> {
    body.split("<td data-label=\"Action\"><code>")
        .skip(1)
        .map(|s| s[..s.find("</code>").unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn the_audit_log_filters_and_pages() {
    let app = spawn_app().await;
    app.register_client(ClientSpec::new("billing")).await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "otto").await;
    let confirm = ua.get("/admin/clients/billing/disable").await;
    let csrf = confirm.input("csrf").unwrap();
    for action in ["disable", "enable", "disable"] {
        let p = ua
            .post(
                &format!("/admin/clients/billing/{action}"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(p.status, 200);
    }
    let p = ua.get("/admin/audit?actor=user%3Aotto").await;
    assert_eq!(p.status, 200);
    assert_eq!(
        actions(&p.body),
        [
            "client.disable",
            "client.enable",
            "client.disable",
            "console.sign_in"
        ]
    );
    assert!(
        p.body.contains("&#34;enabled&#34;:false"),
        "before/after shown: {}",
        p.body
    );
    let p = ua
        .get("/admin/audit?actor=user%3Aotto&action=client.en")
        .await;
    assert_eq!(actions(&p.body), ["client.enable"]);
    let p = ua.get("/admin/audit?target=billing&action=client.").await;
    assert_eq!(actions(&p.body).len(), 3);
    // Dates: today's events are in; tomorrow's range is empty; a bad date is refused.
    let today = tessera_server::console::templates::date(tessera_server::model::now());
    let today = &today[..10];
    let p = ua
        .get(&format!(
            "/admin/audit?actor=user%3Aotto&from={today}&to={today}"
        ))
        .await;
    assert_eq!(actions(&p.body).len(), 4);
    let p = ua.get("/admin/audit?from=2999-01-01").await;
    assert!(p.body.contains("No event matches."));
    let p = ua.get("/admin/audit?from=soon").await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("is not a date (YYYY-MM-DD)"), "{}", p.body);
    // Pages of 50, older ones by the link.
    for _ in 0..26 {
        for action in ["enable", "disable"] {
            ua.post(
                &format!("/admin/clients/billing/{action}"),
                &[("csrf", &csrf)],
            )
            .await;
        }
    }
    let p = ua.get("/admin/audit?actor=user%3Aotto").await;
    assert_eq!(actions(&p.body).len(), 50);
    let older = p
        .body
        .split("href=\"")
        .find(|s| s.contains("rel=\"next\""))
        .unwrap();
    let older = older[..older.find('"').unwrap()].replace("&#38;", "&");
    let p = ua.get(&older).await;
    assert_eq!(actions(&p.body).len(), 56 - 50);
    assert_eq!(
        actions(&p.body).last().map(String::as_str),
        Some("console.sign_in")
    );
}

#[tokio::test]
async fn the_users_page_lists_roles() {
    let app = spawn_app().await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    crate::people::create_user(&app, "walt").await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "vera").await;
    let p = ua.get("/admin/users").await;
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains(
            "<td data-label=\"Username\"><a href=\"/admin/users/vera\"><code>vera</code></a></td>"
        ),
        "{}",
        p.body
    );
    let vera = &p.body[p.body.find("<code>vera</code>").unwrap()..];
    assert!(
        vera[..vera.find("</tr>").unwrap()].contains("<td data-label=\"Console role\">viewer</td>")
    );
    let walt = &p.body[p.body.find("<code>walt</code>").unwrap()..];
    assert!(walt[..walt.find("</tr>").unwrap()].contains("<td data-label=\"Console role\">—</td>"));
}
