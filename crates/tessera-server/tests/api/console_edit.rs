//! Editing a client in the console: the form filled with the registration, saved through the
//! admin API's update code (the same audit record under the person's name); the API's refusals
//! next to the fields they concern, the values kept and nothing changed; a scope created from the
//! form only when the client would be accepted with it; the plain new-scope page; only admins
//! (no edit button for a viewer or an operator, and 403 on a forged POST).

use crate::console_signin::console_sign_in;
use crate::helpers::{ClientSpec, TestApp, spawn_app};
use crate::people::{UserAgent, create_user_with_role};
use tessera_proto::TokenFormat;
use tessera_server::store::AuditQuery;
use tessera_server::users::Role;

/// The whole form of `billing` as the edit page shows it, with `changes` replacing fields (or,
/// for a name starting with `+`, added).
fn billing_form<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("csrf", csrf),
        ("name", "Billing"),
        ("description", "Invoices"),
        ("grant_type", "client_credentials"),
        ("redirect_uris", ""),
        ("scope", "core.accounting.read"),
        ("audiences", "https://api.example.com/"),
        ("method", "client_secret_basic"),
        ("jwks", ""),
        ("jwks_uri", ""),
        ("format", "jwt"),
        ("lifetime", "300"),
        ("alg", ""),
        ("assertion_alg", ""),
        ("pkce", ""),
        ("claims", ""),
        ("new_scope_name", ""),
        ("new_scope_description", ""),
    ];
    for (k, v) in changes {
        if let Some(k) = k.strip_prefix('+') {
            f.push((k, v));
        } else if let Some(e) = f.iter_mut().find(|(n, _)| n == k) {
            e.1 = v;
        } else {
            f.push((k, v));
        }
    }
    f
}

async fn audits(
    app: &TestApp,
    action: &str,
    target: &str,
) -> Vec<tessera_server::model::AuditEvent> {
    app.state
        .store
        .list_audit(&AuditQuery {
            action: Some(action.into()),
            target: Some(target.into()),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// The value of the input whose `id` is `id` (attributes in any order), HTML-unescaped.
pub(crate) fn value_of(body: &str, id: &str) -> Option<String> {
    let tag_start = body.find(&format!("<input id=\"{id}\""))?;
    let tag = &body[tag_start..tag_start + body[tag_start..].find('>')?];
    let start = tag.find(" value=\"")? + 8;
    let v = &tag[start..start + tag[start..].find('"')?];
    Some(
        v.replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// The message shown next to the field `id` (its `{id}-error` paragraph), if any.
fn field_error(body: &str, id: &str) -> Option<String> {
    let needle = format!("<p class=\"field-error\" id=\"{id}-error\">");
    let start = body.find(&needle)? + needle.len();
    Some(body[start..start + body[start..].find("</p>")?].to_owned())
}

#[tokio::test]
async fn an_admin_edits_a_client_and_the_apis_refusals_show_next_to_the_fields() {
    let app = spawn_app().await;
    let secret = app
        .register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    app.register_scope("core.ledger.read").await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "alice").await;
    let table = ua.get("/admin/clients?q=billing").await;
    assert!(
        table.body.contains("href=\"/admin/clients/billing/edit\""),
        "{}",
        table.body
    );
    // The form, filled with the registration.
    let form = ua.get("/admin/clients/billing/edit").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(
        value_of(&form.body, "name").as_deref(),
        Some("test billing")
    );
    assert!(form.body.contains("value=\"core.accounting.read\" checked"));
    assert!(form.body.contains("value=\"client_secret_basic\" checked"));
    assert!(
        !form.body.contains("name=\"client_id\""),
        "the client id is not edited"
    );
    let csrf = form.input("csrf").unwrap();
    // A redirect URI the API refuses: its message next to the field, linked from the summary,
    // the values kept, nothing changed.
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(&csrf, &[("redirect_uris", "not a uri")]),
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    let e = field_error(&p.body, "redirect_uris").expect("the message next to the field");
    assert!(e.contains("is not an absolute URI"), "{e}");
    assert!(p.body.contains("<a href=\"#redirect_uris\">"), "{}", p.body);
    assert!(
        p.body
            .contains("aria-describedby=\"redirect_uris-error\" aria-invalid=\"true\"")
    );
    assert!(
        p.body.contains(">not a uri</textarea>"),
        "the values are kept"
    );
    assert!(p.body.contains("value=\"Billing\""));
    // The lifetime over the server's limit: the API's message, next to the lifetime.
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(&csrf, &[("lifetime", "99999999")]),
        )
        .await;
    assert_eq!(p.status, 400);
    let e = field_error(&p.body, "lifetime").unwrap();
    assert!(
        e.contains("access_token_lifetime must be between 1 and"),
        "{e}"
    );
    // A scope that is not registered: next to the scopes.
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(&csrf, &[("scope", "core.nothing.read")]),
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(
        field_error(&p.body, "scopes")
            .unwrap()
            .contains("not registered: core.nothing.read")
    );
    // A default scope that is not ticked: next to the default scopes.
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(&csrf, &[("+default_scope", "core.ledger.read")]),
        )
        .await;
    assert_eq!(p.status, 400);
    let e = field_error(&p.body, "default_scopes").unwrap();
    assert!(e.contains("core.ledger.read"), "{e}");
    // An assertion algorithm for a method without assertions: next to that field.
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(&csrf, &[("assertion_alg", "ES256")]),
        )
        .await;
    assert_eq!(p.status, 400);
    let e = field_error(&p.body, "assertion_alg").unwrap();
    assert!(e.contains("applies only to client_secret_jwt"), "{e}");
    // Static claims that are not JSON, and a reserved claim.
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(&csrf, &[("claims", "{nope")]),
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(
        field_error(&p.body, "claims")
            .unwrap()
            .contains("JSON object")
    );
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(&csrf, &[("claims", "{\"sub\": \"x\"}")]),
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(
        field_error(&p.body, "claims")
            .unwrap()
            .contains("is set by the server")
    );
    let c = app.state.store.get_client("billing").await.unwrap();
    assert_eq!(c.name, "test billing", "nothing changed");
    assert!(audits(&app, "client.update", "billing").await.is_empty());
    // Accepted: every field of the form saved, audited under the person's name.
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(
                &csrf,
                &[
                    ("+scope", "core.ledger.read"),
                    ("+default_scope", "core.ledger.read"),
                    ("claims", "{\"tenant\": \"acme\"}"),
                    ("alg", "ES256"),
                    ("pkce", "not_required"),
                ],
            ),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Client saved"), "{}", p.body);
    let c = app.state.store.get_client("billing").await.unwrap();
    assert_eq!(c.name, "Billing");
    assert_eq!(c.description, "Invoices");
    assert_eq!(
        c.allowed_scopes,
        ["core.accounting.read", "core.ledger.read"]
    );
    assert_eq!(c.default_scopes, ["core.ledger.read"]);
    assert_eq!(c.token_endpoint_auth_signing_alg, None);
    assert_eq!(c.require_pkce, Some(false));
    assert_eq!(c.audiences, ["https://api.example.com/"]);
    assert_eq!(c.access_token_format, Some(TokenFormat::Jwt));
    assert_eq!(c.access_token_lifetime, Some(300));
    assert_eq!(c.extra_claims["tenant"], "acme");
    assert!(c.enabled, "the status stays");
    let ev = audits(&app, "client.update", "billing").await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].actor, "user:alice");
    // The secret still works, and the token has what was saved.
    let token = app.cc_token("billing", &secret, &[]).await;
    assert_eq!(token["scope"], "core.ledger.read");
    assert_eq!(token["expires_in"], 300);
    // A change of method that needs a new secret shows it once.
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(
                &csrf,
                &[("method", "client_secret_jwt"), ("assertion_alg", "HS384")],
            ),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("needed a new secret"), "{}", p.body);
    let c = app.state.store.get_client("billing").await.unwrap();
    assert_eq!(
        c.token_endpoint_auth_signing_alg,
        Some(tessera_jose::Algorithm::HS384)
    );
    assert_eq!(c.require_pkce, None, "the form's server default");
    assert!(
        p.body
            .contains("<code id=\"secret\" class=\"secret\">tsec_")
    );
    // The console's own client is not edited here.
    assert_eq!(
        ua.get("/admin/clients/tessera-console/edit").await.status,
        409
    );
    assert_eq!(ua.get("/admin/clients/nobody/edit").await.status, 404);
}

#[tokio::test]
async fn a_scope_created_from_the_client_form_only_with_a_client_that_is_accepted() {
    let app = spawn_app().await;
    app.register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let mut ua = UserAgent::new(&app);
    let (overview, _) = console_sign_in(&mut ua, "alice").await;
    let csrf = overview.input("csrf").unwrap();
    // The client is refused (an authorization code client without a redirect URI): the scope
    // is not created.
    let p = ua
        .post(
            "/admin/clients/new",
            &[
                ("csrf", &csrf),
                ("name", "Web"),
                ("client_id", "web"),
                ("grant_type", "authorization_code"),
                ("new_scope_name", "web.orders.read"),
                ("new_scope_description", "Read orders"),
            ],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(
        field_error(&p.body, "redirect_uris")
            .unwrap()
            .contains("needs at least one redirect_uri")
    );
    assert_eq!(
        value_of(&p.body, "new_scope_name").as_deref(),
        Some("web.orders.read")
    );
    assert!(app.state.store.get_scope("web.orders.read").await.is_err());
    assert!(app.state.registry.client("web").is_none());
    // A scope name the API refuses: next to the new scope's name.
    let p = ua
        .post(
            "/admin/clients/new",
            &[
                ("csrf", &csrf),
                ("name", "Web"),
                ("client_id", "web"),
                ("grant_type", "client_credentials"),
                ("new_scope_name", "tessera.orders.read"),
            ],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(
        field_error(&p.body, "new_scope_name")
            .unwrap()
            .contains("own admin scopes")
    );
    assert!(app.state.registry.client("web").is_none());
    // Both accepted: the scope created (audited), then the client with it.
    let p = ua
        .post(
            "/admin/clients/new",
            &[
                ("csrf", &csrf),
                ("name", "Web"),
                ("client_id", "web"),
                ("grant_type", "client_credentials"),
                ("method", "client_secret_basic"),
                ("new_scope_name", "web.orders.read"),
                ("new_scope_description", "Read orders"),
            ],
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let s = app.state.store.get_scope("web.orders.read").await.unwrap();
    assert_eq!(s.description, "Read orders");
    assert_eq!(
        audits(&app, "scope.create", "web.orders.read").await[0].actor,
        "user:alice"
    );
    let c = app.state.store.get_client("web").await.unwrap();
    assert_eq!(c.allowed_scopes, ["web.orders.read"]);
    // From the edit form too.
    let form = ua.get("/admin/clients/billing/edit").await;
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(
                &form.input("csrf").unwrap(),
                &[("new_scope_name", "core.payments.write")],
            ),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let c = app.state.store.get_client("billing").await.unwrap();
    assert_eq!(
        c.allowed_scopes,
        ["core.accounting.read", "core.payments.write"]
    );
    // The plain new-scope page, linked from the scopes.
    assert!(
        ua.get("/admin/scopes")
            .await
            .body
            .contains("href=\"/admin/scopes/new\"")
    );
    let page = ua.get("/admin/scopes/new").await;
    assert_eq!(page.status, 200);
    let p = ua
        .post(
            "/admin/scopes/new",
            &[("csrf", &csrf), ("name", "bad name"), ("description", "x")],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(field_error(&p.body, "name").is_some(), "{}", p.body);
    assert_eq!(value_of(&p.body, "description").as_deref(), Some("x"));
    let p = ua
        .post(
            "/admin/scopes/new",
            &[
                ("csrf", &csrf),
                ("name", "core.reports.read"),
                ("description", "Read reports"),
            ],
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    assert!(p.body.contains("href=\"/admin/scopes/core.reports.read\""));
    assert_eq!(
        audits(&app, "scope.create", "core.reports.read").await[0].actor,
        "user:alice"
    );
    // Already there: the API's conflict, next to the name.
    let p = ua
        .post(
            "/admin/scopes/new",
            &[("csrf", &csrf), ("name", "core.reports.read")],
        )
        .await;
    assert_eq!(p.status, 409);
    assert!(
        field_error(&p.body, "name")
            .unwrap()
            .contains("already exists")
    );
}

#[tokio::test]
async fn viewers_and_operators_neither_edit_clients_nor_create_scopes() {
    let app = spawn_app().await;
    app.register_client(ClientSpec::new("web")).await;
    for (name, role) in [("vera", Role::Viewer), ("otto", Role::Operator)] {
        create_user_with_role(&app, name, Some(role)).await;
        let mut ua = UserAgent::new(&app);
        let (overview, _) = console_sign_in(&mut ua, name).await;
        let csrf = overview.input("csrf").unwrap();
        let table = ua.get("/admin/clients").await;
        assert!(!table.body.contains("/edit\""), "{name}: {}", table.body);
        assert!(!table.body.contains("/delete\""), "{name}");
        assert_eq!(ua.get("/admin/clients/web/edit").await.status, 403);
        assert!(
            !ua.get("/admin/scopes")
                .await
                .body
                .contains("/admin/scopes/new")
        );
        assert_eq!(ua.get("/admin/scopes/new").await.status, 403);
        let p = ua
            .post(
                "/admin/clients/web/edit",
                &[
                    ("csrf", &csrf),
                    ("name", "Hijacked"),
                    ("grant_type", "client_credentials"),
                ],
            )
            .await;
        assert_eq!(p.status, 403, "{name}");
        let p = ua
            .post(
                "/admin/scopes/new",
                &[("csrf", &csrf), ("name", "core.sneaky.read")],
            )
            .await;
        assert_eq!(p.status, 403, "{name}");
    }
    assert_eq!(
        app.state.store.get_client("web").await.unwrap().name,
        "test web"
    );
    assert!(app.state.store.get_scope("core.sneaky.read").await.is_err());
}

/// A client may hold many scopes: the form posts one checkbox per scope, well over the 100
/// parameters an OAuth request may carry, and the console saves them all.
#[tokio::test]
async fn a_client_with_hundreds_of_scopes_is_saved_from_the_form() {
    let app = spawn_app().await;
    app.register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    let names: Vec<String> = (0..300).map(|i| format!("svc.item{i:03}.read")).collect();
    for n in &names {
        app.register_scope(n).await;
    }
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let mut ua = UserAgent::new(&app);
    console_sign_in(&mut ua, "alice").await;
    let form = ua.get("/admin/clients/billing/edit").await;
    let csrf = form.input("csrf").unwrap();
    let changes: Vec<(&str, &str)> = names.iter().map(|n| ("+scope", n.as_str())).collect();
    let p = ua
        .post(
            "/admin/clients/billing/edit",
            &billing_form(&csrf, &changes),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let c = app.state.store.get_client("billing").await.unwrap();
    assert_eq!(c.allowed_scopes.len(), 301, "{:?}", c.allowed_scopes);
    // Other forms keep the limit of 100 parameters.
    let many: Vec<(&str, &str)> = std::iter::once(("csrf", csrf.as_str()))
        .chain(names.iter().map(|n| ("name", n.as_str())))
        .collect();
    let p = ua.post("/admin/scopes/new", &many).await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("at most 100"), "{}", p.body);
}
