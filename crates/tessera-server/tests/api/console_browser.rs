//! The console in a real browser (headless Chromium, as in `browser.rs`): signing in through
//! Tessera's own sign-in page without a consent screen, signing out; the clients table,
//! deactivating a client, the table on a phone; creating a client by keyboard, editing one (a
//! refusal shown next to its field first), deleting one, registering a scope; the first admin's
//! sign-up link, creating and changing a user, retiring a key. The screenshots of the main pages go to
//! `target/test-artifacts/pages/`, and with `TESSERA_DOC_SCREENSHOTS=1` to `docs/console/` (shown
//! in `docs/console.md`). axe-core checks every page for WCAG 2.1 A and AA violations.

use crate::browser::{Browser, key};
use crate::helpers::{ClientSpec, spawn_app};
use crate::people::{PASSWORD, create_user_with_role};
use fantoccini::Locator;
use fantoccini::key::Key;
use std::path::PathBuf;
use std::time::Duration;
use tessera_server::users::Role;

/// Saves a screenshot with the other test artifacts, and, when `TESSERA_DOC_SCREENSHOTS` is set,
/// for the documentation (`docs/console/`), so that an ordinary run leaves the tree as it was.
pub(crate) async fn doc_shot(b: &Browser, name: &str) {
    b.shot(&format!("console-{name}")).await;
    if std::env::var_os("TESSERA_DOC_SCREENSHOTS").is_none() {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/console");
    std::fs::create_dir_all(&dir).unwrap();
    let png = b.client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// axe-core's script, from `testing/axe/` (installed there with `npm ci` when missing; a failed
/// install fails the test).
fn axe_script() -> &'static str {
    static SCRIPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testing/axe");
        let file = dir.join("node_modules/axe-core/axe.min.js");
        if !file.exists() {
            let out = std::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .output()
                .unwrap_or_else(|e| panic!("cannot run npm to install axe-core: {e}"));
            assert!(
                out.status.success(),
                "npm ci in {} failed:\n{}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::read_to_string(&file).unwrap()
    })
}

/// Runs axe-core (WCAG 2.0 and 2.1, A and AA) on the browser's page; fails on any violation.
pub(crate) async fn assert_accessible(b: &Browser, page: &str) {
    b.client.execute(axe_script(), vec![]).await.unwrap();
    let found = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] })
               .then(r => done({ passes: r.passes.length, violations: r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')) }))
               .catch(e => done({ passes: 0, violations: ['axe failed: ' + e] }));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        found["violations"],
        serde_json::json!([]),
        "accessibility violations on {page}"
    );
    assert!(
        found["passes"].as_u64().unwrap_or(0) > 5,
        "axe checked next to nothing on {page}: {found}"
    );
}

#[tokio::test]
async fn sign_in_and_out_of_the_console_in_chromium() {
    let app = spawn_app().await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let b = Browser::start(1280, 900).await;
    b.client.goto(&app.url("/admin/")).await.unwrap();
    assert_eq!(b.client.title().await.unwrap(), "Sign in · Tessera console");
    doc_shot(&b, "sign-in").await;
    assert_accessible(&b, "sign-in").await;
    b.click("a.button.primary").await;
    // Tessera's own sign-in page, for the console's client; then no consent page.
    b.url_starting_with(&app.url("/login")).await;
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.text_containing("Overview").await;
    b.url_starting_with(&app.url("/admin/")).await;
    // Some token traffic for the overview's charts, then its screenshot.
    let secret = app
        .register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    for _ in 0..3 {
        app.cc_token("billing", &secret, &[]).await;
    }
    app.token(
        &[("grant_type", "client_credentials")],
        Some(("billing", "wrong")),
    )
    .await;
    b.client.refresh().await.unwrap();
    b.text_containing("Tokens issued").await;
    doc_shot(&b, "overview").await;
    assert_accessible(&b, "overview").await;
    let who = b
        .client
        .find(Locator::Css("header .who"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        who.contains("ALICE Example") && who.contains("admin"),
        "{who}"
    );
    // The session cookie is not readable by script.
    let visible = b
        .client
        .execute("return document.cookie;", vec![])
        .await
        .unwrap();
    assert!(
        !visible.as_str().unwrap_or("").contains("tessera_console="),
        "{visible}"
    );
    // The signing keys.
    b.click("nav a[href='/admin/keys']").await;
    b.text_containing("Published keys").await;
    doc_shot(&b, "keys").await;
    assert_accessible(&b, "keys").await;
    // The users with their roles.
    b.click("nav a[href='/admin/users']").await;
    b.text_containing("users, by username").await;
    doc_shot(&b, "users").await;
    assert_accessible(&b, "users").await;
    // The scopes by service, and a drill-down.
    b.click("nav a[href='/admin/scopes']").await;
    b.text_containing("scopes in").await;
    doc_shot(&b, "scopes").await;
    assert_accessible(&b, "scopes").await;
    b.click("a[href='/admin/scopes/core.accounting.read']")
        .await;
    let text = b.text_containing("API permissions").await;
    assert!(text.contains("GET /core.accounting.read"), "{text}");
    assert!(text.contains("1 client."), "{text}");
    doc_shot(&b, "scope").await;
    assert_accessible(&b, "scope").await;
    b.click("header .who button").await;
    b.text_containing("You are signed out.").await;
    assert_accessible(&b, "signed out").await;
    b.close().await;
}

#[tokio::test]
async fn deactivate_a_client_from_the_table_in_chromium() {
    let app = spawn_app().await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    let secret = app
        .register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    app.register_client(ClientSpec::new("reports")).await;
    app.cc_token("billing", &secret, &[]).await;
    let b = Browser::start(1280, 900).await;
    b.client.goto(&app.url("/admin/")).await.unwrap();
    b.click("a.button.primary").await;
    b.fill("username", "otto").await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.text_containing("Overview").await;
    b.click("nav a[href='/admin/clients']").await;
    b.text_containing("Clients 1–").await;
    doc_shot(&b, "clients").await;
    assert_accessible(&b, "clients").await;
    // Search, then the row's button, then the confirmation.
    b.fill("q", "bill").await;
    b.click("form.filters button[type=submit]").await;
    b.text_containing("Clients 1–1 of 1.").await;
    b.click("a[href='/admin/clients/billing/disable']").await;
    b.text_containing("Deactivate test billing (billing)?")
        .await;
    doc_shot(&b, "deactivate").await;
    assert_accessible(&b, "deactivate").await;
    b.click("main form button[type=submit]").await;
    b.text_containing("is now inactive").await;
    assert_accessible(&b, "result message").await;
    // The audit log has it under the person's name.
    b.click("nav a[href='/admin/audit']").await;
    let text = b.text_containing("client.disable").await;
    assert!(text.contains("user:otto"), "{text}");
    doc_shot(&b, "audit").await;
    assert_accessible(&b, "audit log").await;
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", &secret)),
        )
        .await;
    assert_eq!(r.status(), 401, "the token endpoint refuses it");
    // Rotate the secret of the other client with a grace period: both secrets work.
    let reports = app.register_client(ClientSpec::new("reports2")).await;
    b.client
        .goto(&app.url("/admin/clients?q=reports2"))
        .await
        .unwrap();
    b.click("a[href='/admin/clients/reports2/rotate-secret']")
        .await;
    b.text_containing("Grace period").await;
    assert_accessible(&b, "rotate secret form").await;
    b.fill("grace", "1h").await;
    b.click("main form button[type=submit]").await;
    let text = b.text_containing("keep working until").await;
    assert_accessible(&b, "new secret").await;
    let new = b
        .client
        .find(Locator::Id("secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(new.starts_with("tsec_"), "{text}");
    app.cc_token("reports2", &reports, &[]).await;
    app.cc_token("reports2", &new, &[]).await;
    // On a phone: one column, the table's cells stacked with their labels.
    b.client.set_window_size(390, 844).await.unwrap();
    b.client.goto(&app.url("/admin/clients")).await.unwrap();
    b.text_containing("Clients 1–").await;
    doc_shot(&b, "clients-phone").await;
    assert_accessible(&b, "clients-phone").await;
    let wide = b
        .client
        .execute(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 5).join(' ');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        wide,
        serde_json::json!(""),
        "no sideways scrolling on a phone"
    );
    b.close().await;
}

#[tokio::test]
async fn create_a_client_by_keyboard_and_copy_its_secret_in_chromium() {
    let app = spawn_app().await;
    app.register_scope("core.accounting.read").await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let b = Browser::start(1280, 1000).await;
    b.client.goto(&app.url("/admin/")).await.unwrap();
    b.click("a.button.primary").await;
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.text_containing("Overview").await;
    b.client.goto(&app.url("/admin/clients/new")).await.unwrap();
    b.text_containing("New client").await;
    doc_shot(&b, "new-client").await;
    assert_accessible(&b, "new client form").await;
    // By keyboard alone: the name has the focus; Tab goes through the fields in order.
    assert_eq!(b.focused().await, "input#name[]");
    let tab = key(Key::Tab);
    b.keys("Billing").await;
    b.keys(&tab).await;
    b.keys("billing").await;
    // Description, six grant types, redirect URIs, then the scope.
    for _ in 0..9 {
        b.keys(&tab).await;
    }
    assert_eq!(b.focused().await, "input#scope-1[core.accounting.read]");
    b.keys(" ").await;
    // Its "default" box, the six OpenID Connect scopes with theirs, the new scope's name and
    // description, audiences, five methods, the JWK Set and its URI, the assertion algorithm,
    // PKCE, format, lifetime; Enter submits.
    for _ in 0..27 {
        b.keys(&tab).await;
    }
    assert_eq!(b.focused().await, "input#lifetime[]");
    b.keys("300").await;
    b.keys(&key(Key::Enter)).await;
    b.text_containing("Client created").await;
    doc_shot(&b, "client-created").await;
    assert_accessible(&b, "client created").await;
    // The copy button (our one script) copies the secret, or selects it where the clipboard is
    // not allowed; the secret is taken from the clipboard when headless Chromium keeps one, else
    // from the page, and gets a token.
    b.click("button[data-copy=secret]").await;
    let status = b
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#secret-status"))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while status.text().await.unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy button did nothing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let copied = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const shown = () => window.getSelection().toString() || document.getElementById('secret').textContent;
             navigator.clipboard.readText().then(t => done(t || shown()), () => done(shown()));",
            vec![],
        )
        .await
        .unwrap();
    let secret = copied.as_str().unwrap().trim().to_owned();
    assert!(secret.starts_with("tsec_"), "{copied}");
    let token = app
        .cc_token("billing", &secret, &[("scope", "core.accounting.read")])
        .await;
    assert_eq!(token["scope"], "core.accounting.read");
    b.close().await;
}

#[tokio::test]
async fn edit_and_delete_a_client_in_chromium() {
    let app = spawn_app().await;
    let secret = app
        .register_client(ClientSpec::new("billing").scopes(&["core.accounting.read"], &[]))
        .await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let b = Browser::start(1280, 1000).await;
    b.client.goto(&app.url("/admin/")).await.unwrap();
    b.click("a.button.primary").await;
    b.fill("username", "alice").await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.text_containing("Overview").await;
    b.client
        .goto(&app.url("/admin/clients?q=billing"))
        .await
        .unwrap();
    b.click("a[href='/admin/clients/billing/edit']").await;
    b.text_containing("Edit client").await;
    doc_shot(&b, "edit-client").await;
    assert_accessible(&b, "edit client form").await;
    // A redirect URI the admin API refuses: the summary links to the field, which carries the
    // message.
    b.fill("redirect_uris", "not a uri").await;
    b.click("main form button[type=submit]").await;
    let text = b.text_containing("The client was not saved.").await;
    assert!(text.contains("is not an absolute URI"), "{text}");
    assert_accessible(&b, "edit client form with an error").await;
    b.click("#form-error a[href='#redirect_uris']").await;
    assert_eq!(b.focused().await, "textarea#redirect_uris[]");
    // Clear the field, then change the name by keyboard; Enter submits.
    b.fill("redirect_uris", "").await;
    b.click("#name").await;
    assert_eq!(b.focused().await, "input#name[test billing]");
    b.keys(&key(Key::End)).await;
    b.keys(" v2").await;
    b.keys(&key(Key::Enter)).await;
    b.text_containing("test billing v2 (billing) is saved.")
        .await;
    assert_eq!(
        app.state.store.get_client("billing").await.unwrap().name,
        "test billing v2"
    );
    app.cc_token("billing", &secret, &[]).await;
    // Delete: a wrong name first.
    b.client
        .goto(&app.url("/admin/clients?q=billing"))
        .await
        .unwrap();
    b.click("a[href='/admin/clients/billing/delete']").await;
    b.text_containing("Type the client's name").await;
    doc_shot(&b, "delete-client").await;
    assert_accessible(&b, "delete client").await;
    b.fill("confirm_name", "billing").await;
    b.click("main form button[type=submit]").await;
    b.text_containing("The client was not deleted.").await;
    assert_accessible(&b, "delete client with an error").await;
    b.fill("confirm_name", "test billing v2").await;
    b.keys(&key(Key::Enter)).await;
    b.text_containing("is deleted").await;
    // The scopes page's form that registers a scope.
    b.click("nav a[href='/admin/scopes']").await;
    b.click("a[href='/admin/scopes/new']").await;
    b.text_containing("New scope").await;
    assert_accessible(&b, "new scope").await;
    b.fill("name", "core.reports.read").await;
    b.keys(&key(Key::Enter)).await;
    b.text_containing("The scope core.reports.read is registered")
        .await;
    let r = app
        .token(
            &[("grant_type", "client_credentials")],
            Some(("billing", &secret)),
        )
        .await;
    assert_eq!(r.status(), 401);
    b.close().await;
}

#[tokio::test]
async fn sign_up_the_first_admin_then_create_and_change_a_user_in_chromium() {
    let app = spawn_app().await;
    let link = tessera_server::console::signup::issue(&app.state)
        .await
        .unwrap();
    let b = Browser::start(1280, 1000).await;
    // The one-time sign-up link: a refused form, then the first admin.
    b.client
        .goto(secrecy::ExposeSecret::expose_secret(&link))
        .await
        .unwrap();
    b.text_containing("Create the first admin").await;
    doc_shot(&b, "signup").await;
    assert_accessible(&b, "sign-up").await;
    b.fill("username", "root").await;
    b.fill("password", PASSWORD).await;
    b.fill("password_again", "something else").await;
    b.click("main form button[type=submit]").await;
    b.text_containing("The two passwords differ.").await;
    assert_accessible(&b, "sign-up with errors").await;
    b.fill("password", PASSWORD).await;
    b.fill("password_again", PASSWORD).await;
    b.click("main form button[type=submit]").await;
    b.text_containing("is an admin of the console now").await;
    assert_accessible(&b, "admin created").await;
    b.click("main a[href='/admin/login']").await;
    b.url_starting_with(&app.url("/login")).await;
    b.fill("username", "root").await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.text_containing("Overview").await;

    // A new user: refused fields first, then created with a generated password.
    b.click("nav a[href='/admin/users']").await;
    b.click("main a[href='/admin/users/new']").await;
    b.text_containing("Console role").await;
    doc_shot(&b, "new-user").await;
    assert_accessible(&b, "new user form").await;
    b.fill("username", "bob smith").await;
    b.fill("email", "bob").await;
    b.click("main form button[type=submit]").await;
    let text = b.text_containing("The user was not created").await;
    assert!(text.contains("is not an e-mail address"), "{text}");
    assert_accessible(&b, "new user form with errors").await;
    b.fill("username", "bob").await;
    b.fill("display_name", "Bob Builder").await;
    b.fill("email", "bob@example.com").await;
    b.click("#role option[value=viewer]").await;
    b.click("main form button[type=submit]").await;
    b.text_containing("Shown this once").await;
    assert_accessible(&b, "user created").await;
    let generated = b
        .client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let bob = app
        .state
        .store
        .get_user_by_username("bob")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.role, Some(Role::Viewer));
    assert!(
        tessera_server::users::password::verify(&generated, bob.password_hash.as_deref()).await
    );
    // Bob's page; the password form; disabling him.
    b.click("main a[href='/admin/users/bob']").await;
    b.text_containing("has not consented to any client").await;
    doc_shot(&b, "user").await;
    assert_accessible(&b, "user page").await;
    b.click("main a[href='/admin/users/bob/password']").await;
    b.text_containing("Generate one").await;
    assert_accessible(&b, "reset password").await;
    b.client.goto(&app.url("/admin/users/bob")).await.unwrap();
    b.click("main a[href='/admin/users/bob/disable']").await;
    b.text_containing("Disable bob?").await;
    b.click("main form button[type=submit]").await;
    b.text_containing("can no longer sign in").await;
    // The last admin cannot demote themselves: the message is next to the field.
    b.client.goto(&app.url("/admin/users/root")).await.unwrap();
    b.click("#role option[value=viewer]").await;
    b.click("main form[action='/admin/users/root/role'] button[type=submit]")
        .await;
    let text = b.text_containing("last enabled admin").await;
    assert!(text.contains("Not changed"), "{text}");
    assert_accessible(&b, "user page with errors").await;
    // Retiring a key: the confirmation.
    b.click("nav a[href='/admin/keys']").await;
    b.click("main a[href$='/retire']").await;
    b.text_containing("Retire the").await;
    assert_accessible(&b, "retire key").await;
    // Root changes their own password from the link in the header, then signs in with it.
    b.click("header a[href='/admin/account/password']").await;
    b.text_containing("Change your password").await;
    assert_accessible(&b, "own password").await;
    b.fill("current_password", "not the password").await;
    b.fill("password", "root's new passphrase").await;
    b.fill("password_again", "root's new passphrase").await;
    b.click("main form button[type=submit]").await;
    b.text_containing("This is not your current password.")
        .await;
    assert_accessible(&b, "own password with errors").await;
    b.fill("current_password", PASSWORD).await;
    b.fill("password", "root's new passphrase").await;
    b.fill("password_again", "root's new passphrase").await;
    b.click("main form button[type=submit]").await;
    b.text_containing("Your password is changed").await;
    assert_accessible(&b, "own password changed").await;
    b.click("main a[href='/admin/login']").await;
    b.url_starting_with(&app.url("/login")).await;
    b.fill("username", "root").await;
    b.fill("password", "root's new passphrase").await;
    b.click("button[type=submit]").await;
    b.text_containing("Overview").await;
    b.close().await;
}
