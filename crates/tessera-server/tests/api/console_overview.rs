//! The console's overview: counts of clients, scopes and users as the database holds them, the
//! server's version, issuer and database, and the token endpoint's last hour by grant type
//! (tokens issued and failed client authentications) in the charts and their table.

use crate::console_signin::console_sign_in;
use crate::helpers::{ClientSpec, spawn_app};
use crate::people::{UserAgent, create_user, create_user_with_role};
use tessera_server::users::Role;

/// The numbers of a grant type's row in the overview's table: (issued, failed).
fn row(body: &str, grant: &str) -> (u64, u64) {
    let start = body
        .find(&format!("<code>{grant}</code></th>"))
        .unwrap_or_else(|| panic!("no row for {grant}: {body}"));
    let rest = &body[start..body[start..].find("</tr>").unwrap() + start];
    let cells: Vec<u64> = rest
        .split("<td data-label=\"")
        .skip(1)
        .map(|c| {
            let v = c.split_once("\">").unwrap().1;
            v[..v.find("</td>").unwrap()].parse().unwrap()
        })
        .collect();
    (cells[0], cells[1])
}

fn count(body: &str, id: &str) -> i64 {
    let needle = format!("id=\"{id}\">");
    let start = body.find(&needle).unwrap() + needle.len();
    body[start..start + body[start..].find('<').unwrap()]
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_overview_counts_and_charts_the_last_hour() {
    let app = spawn_app().await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let secret = app
        .register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    let mut ua = UserAgent::new(&app);
    let (p, _) = console_sign_in(&mut ua, "vera").await;
    assert!(p.body.contains("Overview"), "{}", p.body);
    let (clients, scopes, _) = app.state.store.row_counts().await.unwrap();
    assert_eq!(count(&p.body, "count-clients"), clients);
    assert_eq!(count(&p.body, "count-scopes"), scopes);
    assert_eq!(count(&p.body, "count-users"), 1);
    assert!(p.body.contains(env!("CARGO_PKG_VERSION")));
    assert!(p.body.contains(&format!("<code>{}</code>", app.base)));
    assert!(p.body.contains(&format!(
        "id=\"server-database\">{}<",
        app.state.store.backend()
    )));
    let (issued_before, failed_before) = row(&p.body, "client_credentials");

    // Two tokens and one failed authentication, by client credentials.
    app.cc_token("billing", &secret, &[]).await;
    app.cc_token("billing", &secret, &[]).await;
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", "not the secret")),
        )
        .await;
    assert_eq!(r.status(), 401);
    create_user(&app, "walt").await;
    let p = ua.get("/admin/").await;
    assert_eq!(
        row(&p.body, "client_credentials"),
        (issued_before + 2, failed_before + 1)
    );
    assert_eq!(row(&p.body, "authorization_code"), (0, 0));
    assert_eq!(count(&p.body, "count-users"), 2);
    // The charts are SVG with a title saying what they count, and a bar for the tokens.
    assert!(p.body.contains("<svg viewBox=\"0 0 360 150\" role=\"img\""));
    assert!(
        p.body
            .contains("<title id=\"failed-title\">Failed client authentications in the last hour")
    );
    assert!(
        p.body
            .contains("client_credentials from 5 to 0 minutes ago</title>")
    );
}
