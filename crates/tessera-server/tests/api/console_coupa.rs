//! Coupa's scope page address, `/oauth2/scopes`: a person signed in to the console lands on the
//! scopes list; somebody not signed in signs in first and then lands there too (not on the
//! overview).

use crate::console_signin::sign_in_from;
use crate::helpers::{ClientSpec, spawn_app};
use crate::people::{UserAgent, create_user_with_role};
use tessera_server::users::Role;

#[tokio::test]
async fn coupas_scope_address_leads_to_the_scopes_after_signing_in() {
    let app = spawn_app().await;
    app.register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let mut ua = UserAgent::new(&app);
    let p = ua.get("/oauth2/scopes").await;
    assert_eq!(p.status, 303);
    assert_eq!(
        p.location().as_deref(),
        Some("/admin/login?return_to=%2Fadmin%2Fscopes")
    );
    // Through the sign-in: the console's authorization request, Tessera's sign-in page, the
    // callback, then the scopes.
    let (last, page) = sign_in_from(&mut ua, &p.location().unwrap(), "vera").await;
    assert_eq!(last.as_deref(), Some("/admin/scopes"));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<code>core.accounting.read</code>"),
        "{}",
        page.body
    );
    // Signed in: straight to the list.
    assert_eq!(
        ua.get("/oauth2/scopes").await.location().as_deref(),
        Some("/admin/scopes")
    );
    // A return_to outside the console is not kept: that sign-in ends on the overview.
    let mut other = UserAgent::new(&app);
    let p = other
        .get("/admin/login?return_to=https%3A%2F%2Fevil.example%2Fadmin%2F")
        .await;
    let kept: Vec<String> = p
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .filter(|c| c.starts_with("tessera_console_return="))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].starts_with("tessera_console_return=;"), "{kept:?}");
    assert!(kept[0].contains("Max-Age=0"), "{kept:?}");
}
