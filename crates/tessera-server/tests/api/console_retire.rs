//! Retiring a signing key from the console: operators and admins get a **Retire** button on each
//! active key, a confirmation, then the admin API's own retirement (audited as `key.retire` under
//! the person's name); the only key signing an algorithm is refused with the service's message;
//! after a rotation the next key takes over at once and the retired one shows as `retiring`. A
//! viewer sees no button and a forged POST from one gets 403.

use crate::console_signin::console_sign_in;
use crate::helpers::spawn_app;
use crate::people::{UserAgent, create_user_with_role};
use tessera_server::store::AuditQuery;
use tessera_server::users::Role;

/// (kid, alg, state) of each row of the keys page.
fn rows(body: &str) -> Vec<(String, String, String)> {
    let cell = |row: &str, label: &str| {
        let open = format!("<td data-label=\"{label}\">");
        let s = row.find(&open).unwrap() + open.len();
        let e = row[s..].find("</td>").unwrap() + s;
        row[s..e].replace("<code>", "").replace("</code>", "")
    };
    body.split("<tr>")
        .skip(2)
        .map(|r| (cell(r, "Key id"), cell(r, "Algorithm"), cell(r, "State")))
        .collect()
}

#[tokio::test]
async fn an_operator_retires_a_key_and_a_viewer_cannot() {
    let app = spawn_app().await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let mut ua = UserAgent::new(&app);
    let (overview, _) = console_sign_in(&mut ua, "otto").await;
    let csrf = overview.input("csrf").unwrap();
    let page = ua.get("/admin/keys").await;
    let keys = rows(&page.body);
    assert_eq!(keys.len(), 3, "{}", page.body);
    let (kid, alg, _) = keys.iter().find(|k| k.1 == "ES256").cloned().unwrap();
    let retire = format!("/admin/keys/{kid}/retire");
    assert!(
        page.body.contains(&format!("href=\"{retire}\"")),
        "{}",
        page.body
    );

    // The only ES256 key signing: refused, with the service's message.
    let confirm = ua.get(&retire).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains(&format!("action=\"{retire}\"")));
    let p = ua.post(&retire, &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(
        p.body
            .contains("is the only key signing ES256 tokens: rotate first"),
        "{}",
        p.body
    );

    // After a rotation, the next key takes over at once.
    let p = ua.post("/admin/keys/rotate", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 200);
    let next = rows(&ua.get("/admin/keys").await.body)
        .into_iter()
        .find(|k| k.1 == alg && k.2 == "next")
        .unwrap();
    let p = ua.post(&retire, &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body
            .contains(&format!("{} took over signing at once", next.0)),
        "{}",
        p.body
    );
    let after = rows(&ua.get("/admin/keys").await.body);
    assert!(
        after.contains(&(kid.clone(), alg.clone(), "retiring".into())),
        "{after:?}"
    );
    assert!(
        after.contains(&(next.0.clone(), alg.clone(), "active".into())),
        "{after:?}"
    );
    let ev = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("key.retire".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].actor.as_str(), ev[0].target.as_str()),
        ("user:otto", kid.as_str())
    );
    // Retired already: refused.
    assert_eq!(ua.post(&retire, &[("csrf", &csrf)]).await.status, 409);
    assert_eq!(ua.get("/admin/keys/nope/retire").await.status, 404);

    // A viewer: no button, 403 for the page and a forged POST.
    let mut viewer = UserAgent::new(&app);
    let (overview, _) = console_sign_in(&mut viewer, "vera").await;
    let csrf = overview.input("csrf").unwrap();
    let page = viewer.get("/admin/keys").await;
    assert!(!page.body.contains("/retire"), "{}", page.body);
    let other = format!("/admin/keys/{}/retire", next.0);
    assert_eq!(viewer.get(&other).await.status, 403);
    assert_eq!(viewer.post(&other, &[("csrf", &csrf)]).await.status, 403);
    let still = rows(&viewer.get("/admin/keys").await.body);
    assert!(still.contains(&(next.0.clone(), alg, "active".into())));
}
