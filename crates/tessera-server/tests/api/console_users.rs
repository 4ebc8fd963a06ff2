//! Users from the console: an admin creates a user (with a generated password shown once, or a
//! typed one), disables and enables them, changes their role, resets their password and withdraws
//! a consent, each through the admin API's code and audited under the admin's name; a refused form
//! keeps its values with a message next to each field; the last enabled admin cannot be disabled,
//! demoted or deleted (console and API alike); a viewer or operator sees no buttons and a forged
//! POST from them gets 403.

use crate::console_signin::console_sign_in;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::people::{PASSWORD, Page, UserAgent, create_user_with_role};
use crate::users_admin::call;
use reqwest::Method;
use serde_json::json;
use tessera_server::model::{AuditEvent, now};
use tessera_server::store::AuditQuery;
use tessera_server::users::{Consent, Role, User, password};

async fn user(app: &TestApp, name: &str) -> Option<User> {
    app.state.store.get_user_by_username(name).await.unwrap()
}

async fn audit(app: &TestApp, action: &str) -> Vec<AuditEvent> {
    app.state
        .store
        .list_audit(&AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// The audited changes to users (not sign-ins).
async fn user_changes(app: &TestApp) -> Vec<AuditEvent> {
    let mut all = Vec::new();
    for a in [
        "user.create",
        "user.update",
        "user.enable",
        "user.disable",
        "user.set_password",
        "user.delete",
        "user.consent_revoke",
    ] {
        all.extend(audit(app, a).await);
    }
    all
}

/// The text of the element with this id.
fn text_of(p: &Page, id: &str) -> String {
    let open = format!("id=\"{id}\"");
    let at = p
        .body
        .find(&open)
        .unwrap_or_else(|| panic!("no #{id} in {}", p.body));
    let start = p.body[at..].find('>').unwrap() + at + 1;
    let end = p.body[start..].find('<').unwrap() + start;
    p.body[start..end].to_owned()
}

/// Signs `name` in; returns the user agent and a CSRF token of the session.
async fn signed_in(app: &TestApp, name: &str) -> (UserAgent, String) {
    let mut ua = UserAgent::new(app);
    let (p, _) = console_sign_in(&mut ua, name).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let csrf = p.input("csrf").unwrap();
    (ua, csrf)
}

#[tokio::test]
async fn an_admin_creates_and_changes_a_user() {
    let app = spawn_app().await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let (mut ua, _) = signed_in(&app, "alice").await;
    let list = ua.get("/admin/users").await;
    assert!(
        list.body.contains("href=\"/admin/users/new\""),
        "{}",
        list.body
    );
    assert!(list.body.contains("href=\"/admin/users/alice\""));
    let form = ua.get("/admin/users/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.input("csrf").unwrap();

    // A refused form: each message next to its field, all in the summary; values kept.
    let p = ua
        .post(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "bob smith"),
                ("display_name", "Bob"),
                ("email", "not-an-address"),
                ("role", "operator"),
                ("password_mode", "set"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("id=\"error-summary\""), "{}", p.body);
    for f in ["username", "email", "password"] {
        assert!(
            p.body.contains(&format!("<a href=\"#{f}\">")),
            "{f}: {}",
            p.body
        );
        assert!(p.body.contains(&format!("id=\"{f}-error\"")), "{f}");
    }
    assert!(
        p.body
            .contains("aria-describedby=\"username-hint username-error\" aria-invalid=\"true\"")
    );
    assert!(!p.body.contains("id=\"display_name-error\""));
    assert!(p.body.contains("value=\"bob smith\"") && p.body.contains("value=\"not-an-address\""));
    assert!(p.body.contains("<option value=\"operator\" selected>"));
    assert!(p.body.contains("value=\"set\" checked"));
    assert!(!p.body.contains("short"), "the password is not shown again");
    assert!(user(&app, "bob").await.is_none());

    // Created with a generated password, shown once, that signs in.
    let p = ua
        .post(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "Bob"),
                ("display_name", "Bob Builder"),
                ("email", "bob@example.com"),
                ("role", "operator"),
                ("password_mode", "generate"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let generated = text_of(&p, "password");
    assert_eq!(generated.len(), 20, "{generated}");
    let bob = user(&app, "bob").await.unwrap();
    assert_eq!(bob.role, Some(Role::Operator));
    assert_eq!(bob.display_name, "Bob Builder");
    assert!(password::verify(&generated, bob.password_hash.as_deref()).await);
    let created = audit(&app, "user.create").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].actor, "user:alice");
    assert_eq!(created[0].target, bob.id);
    assert!(
        !created[0]
            .after
            .as_ref()
            .unwrap()
            .to_string()
            .contains(&generated)
    );
    // The name is taken now.
    let p = ua
        .post(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "bob"),
                ("password_mode", "generate"),
            ],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(
        text_of(&p, "username-error").contains("already exists"),
        "{}",
        p.body
    );

    // A typed password: to the user's page.
    let p = ua
        .post(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "carl"),
                ("password_mode", "set"),
                ("password", "carl's long password"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location().as_deref(), Some("/admin/users/carl"));
    let carl = user(&app, "carl").await.unwrap();
    assert_eq!(carl.role, None);
    assert!(password::verify("carl's long password", carl.password_hash.as_deref()).await);

    // Bob's page, with the buttons; disable (asked first), then enable.
    let page = ua.get("/admin/users/bob").await;
    assert_eq!(page.status, 200);
    assert_eq!(text_of(&page, "role-now"), "operator");
    for href in [
        "/admin/users/bob/password",
        "/admin/users/bob/disable",
        "/admin/users/bob/delete",
    ] {
        assert!(page.body.contains(&format!("href=\"{href}\"")), "{href}");
    }
    let confirm = ua.get("/admin/users/bob/disable").await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("action=\"/admin/users/bob/disable\""));
    let p = ua
        .post("/admin/users/bob/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(!user(&app, "bob").await.unwrap().enabled);
    assert_eq!(audit(&app, "user.disable").await[0].actor, "user:alice");
    assert!(
        ua.get("/admin/users/bob")
            .await
            .body
            .contains("href=\"/admin/users/bob/enable\"")
    );
    let p = ua.post("/admin/users/bob/enable", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(user(&app, "bob").await.unwrap().enabled);

    // Another role.
    let p = ua
        .post(
            "/admin/users/bob/role",
            &[("csrf", &csrf), ("role", "viewer")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(user(&app, "bob").await.unwrap().role, Some(Role::Viewer));
    let ev = audit(&app, "user.update").await;
    assert_eq!(ev[0].actor, "user:alice");
    assert_eq!(ev[0].after.as_ref().unwrap()["role"], "viewer");
    let p = ua
        .post(
            "/admin/users/bob/role",
            &[("csrf", &csrf), ("role", "root")],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(text_of(&p, "role-error").contains("not a console role"));
    let p = ua
        .post(
            "/admin/users/bob/role",
            &[("csrf", &csrf), ("role", "none")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(user(&app, "bob").await.unwrap().role, None);

    // Reset the password: typed, then generated.
    assert_eq!(ua.get("/admin/users/bob/password").await.status, 200);
    let p = ua
        .post(
            "/admin/users/bob/password",
            &[("csrf", &csrf), ("password_mode", "set"), ("password", "x")],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("id=\"password-error\""), "{}", p.body);
    let p = ua
        .post(
            "/admin/users/bob/password",
            &[
                ("csrf", &csrf),
                ("password_mode", "set"),
                ("password", "bob's new password"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let hash = user(&app, "bob").await.unwrap().password_hash;
    assert!(password::verify("bob's new password", hash.as_deref()).await);
    let p = ua
        .post(
            "/admin/users/bob/password",
            &[("csrf", &csrf), ("password_mode", "generate")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let again = text_of(&p, "password");
    let hash = user(&app, "bob").await.unwrap().password_hash;
    assert!(password::verify(&again, hash.as_deref()).await);
    assert_eq!(audit(&app, "user.set_password").await.len(), 2);

    // Consents: listed, revoked (asked first).
    app.state
        .store
        .put_consent(&Consent {
            user_id: bob.id.clone(),
            client_id: "spa".into(),
            scope: "openid profile".into(),
            granted_at: now(),
        })
        .await
        .unwrap();
    let page = ua.get("/admin/users/bob").await;
    assert!(page.body.contains("<code>spa</code>"), "{}", page.body);
    assert!(page.body.contains("href=\"/admin/users/bob/consents/spa\""));
    assert_eq!(ua.get("/admin/users/bob/consents/spa").await.status, 200);
    let p = ua
        .post("/admin/users/bob/consents/spa", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        app.state
            .store
            .list_consents(&bob.id)
            .await
            .unwrap()
            .is_empty()
    );
    let ev = audit(&app, "user.consent_revoke").await;
    assert_eq!(
        (ev[0].actor.as_str(), ev[0].target.as_str()),
        ("user:alice", bob.id.as_str())
    );
    assert!(
        ua.get("/admin/users/bob")
            .await
            .body
            .contains("has not consented to any client")
    );

    // Delete (asked first).
    assert_eq!(ua.get("/admin/users/carl/delete").await.status, 200);
    let p = ua
        .post("/admin/users/carl/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(user(&app, "carl").await.is_none());
    assert_eq!(audit(&app, "user.delete").await[0].actor, "user:alice");
    assert_eq!(ua.get("/admin/users/carl").await.status, 404);
    // Without the CSRF token nothing happens.
    assert_eq!(ua.post("/admin/users/bob/delete", &[]).await.status, 403);
    assert!(user(&app, "bob").await.is_some());
}

#[tokio::test]
async fn the_last_admin_cannot_be_disabled_demoted_or_deleted() {
    let app = spawn_app().await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let (mut ua, csrf) = signed_in(&app, "alice").await;
    let p = ua
        .post("/admin/users/alice/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("last enabled admin"), "{}", p.body);
    let p = ua
        .post(
            "/admin/users/alice/role",
            &[("csrf", &csrf), ("role", "operator")],
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(
        text_of(&p, "role-error").contains("last enabled admin"),
        "{}",
        p.body
    );
    let p = ua
        .post("/admin/users/alice/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    let alice = user(&app, "alice").await.unwrap();
    assert!(alice.enabled && alice.role == Some(Role::Admin));
    assert!(
        user_changes(&app).await.is_empty(),
        "nothing changed, nothing audited"
    );
    // The admin API (and so the CLI) has the same rule.
    let token = app.admin_token().await;
    let (status, e) = call(
        &app,
        &token,
        Method::PATCH,
        "/users/alice",
        Some(json!({ "role": null })),
    )
    .await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("last enabled admin"),
        "{e}"
    );
    let (status, _) = call(&app, &token, Method::POST, "/users/alice/disable", None).await;
    assert_eq!(status, 409);
    let (status, _) = call(&app, &token, Method::DELETE, "/users/alice", None).await;
    assert_eq!(status, 409);
    // A disabled admin does not count; with a second enabled admin the first may go.
    create_user_with_role(&app, "dora", Some(Role::Admin)).await;
    let (status, _) = call(&app, &token, Method::POST, "/users/dora/disable", None).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        &token,
        Method::PATCH,
        "/users/alice",
        Some(json!({ "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 409);
    create_user_with_role(&app, "ada", Some(Role::Admin)).await;
    let p = ua
        .post(
            "/admin/users/alice/role",
            &[("csrf", &csrf), ("role", "operator")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        user(&app, "alice").await.unwrap().role,
        Some(Role::Operator)
    );
}

#[tokio::test]
async fn viewers_and_operators_see_no_buttons_and_cannot_post() {
    let app = spawn_app().await;
    let alice = create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    app.state
        .store
        .put_consent(&Consent {
            user_id: alice,
            client_id: "spa".into(),
            scope: "openid".into(),
            granted_at: now(),
        })
        .await
        .unwrap();
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    create_user_with_role(&app, "otto", Some(Role::Operator)).await;
    for name in ["vera", "otto"] {
        let (mut ua, csrf) = signed_in(&app, name).await;
        let list = ua.get("/admin/users").await;
        assert_eq!(list.status, 200);
        assert!(list.body.contains("href=\"/admin/users/alice\""));
        assert!(!list.body.contains("/admin/users/new"), "{name}");
        let page = ua.get("/admin/users/alice").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<code>spa</code>"), "{}", page.body);
        for absent in ["/admin/users/alice/", "Change role", "Revoke"] {
            assert!(!page.body.contains(absent), "{name} sees {absent}");
        }
        for get in [
            "/admin/users/new",
            "/admin/users/alice/disable",
            "/admin/users/alice/password",
            "/admin/users/alice/consents/spa",
        ] {
            assert_eq!(ua.get(get).await.status, 403, "{name} GET {get}");
        }
        let posts: [(&str, Vec<(&str, &str)>); 6] = [
            (
                "/admin/users/new",
                vec![
                    ("username", "mallory"),
                    ("role", "admin"),
                    ("password_mode", "generate"),
                ],
            ),
            ("/admin/users/alice/disable", vec![]),
            ("/admin/users/alice/delete", vec![]),
            ("/admin/users/alice/role", vec![("role", "viewer")]),
            (
                "/admin/users/alice/password",
                vec![("password_mode", "set"), ("password", "taken over now")],
            ),
            ("/admin/users/alice/consents/spa", vec![]),
        ];
        for (url, mut form) in posts {
            form.push(("csrf", &csrf));
            let p = ua.post(url, &form).await;
            assert_eq!(p.status, 403, "{name} POST {url}: {}", p.body);
            assert!(p.body.contains("tessera.users.write"), "{}", p.body);
        }
    }
    assert!(user(&app, "mallory").await.is_none());
    let alice = user(&app, "alice").await.unwrap();
    assert!(alice.enabled && alice.role == Some(Role::Admin));
    assert!(password::verify(crate::people::PASSWORD, alice.password_hash.as_deref()).await);
    assert_eq!(
        app.state
            .store
            .list_consents(&alice.id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(user_changes(&app).await.is_empty());
}

/// The check and the change are one transaction: of two admins disabling each other at once,
/// one is refused.
#[tokio::test]
async fn two_admins_disabling_each_other_at_once_leave_one() {
    for _ in 0..3 {
        let app = spawn_app().await;
        create_user_with_role(&app, "ann", Some(Role::Admin)).await;
        create_user_with_role(&app, "ben", Some(Role::Admin)).await;
        let actor = tessera_server::admin::audit::Actor {
            id: "test".into(),
            remote_addr: None,
        };
        let (a, b) = tokio::join!(
            tessera_server::admin::users::set_enabled(&app.state, &actor, "ann", false),
            tessera_server::admin::users::set_enabled(&app.state, &actor, "ben", false),
        );
        assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
        let refused = a.err().or(b.err()).unwrap();
        assert!(
            matches!(refused, tessera_server::users::ops::UserError::LastAdmin(_)),
            "{refused:?}"
        );
        assert_eq!(
            app.state
                .store
                .count_users_with_role("admin")
                .await
                .unwrap(),
            1
        );
    }
}

/// The audit events of `action`, waiting (with a deadline) until there are `n`.
async fn audited(app: &TestApp, action: &str, n: usize) -> Vec<AuditEvent> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = audit(app, action).await;
        if found.len() >= n || std::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

const OWN_PASSWORD: &str = "/admin/account/password";

/// Any signed-in person (a viewer here) changes their own password. A wrong current password, a
/// short, mistyped or unchanged new one, or a missing CSRF token each get their message and
/// change nothing. The change is audited under their name, ends their sessions (this one too),
/// and then the new password signs in and the old one does not.
#[tokio::test]
async fn a_person_changes_their_own_password() {
    let app = spawn_app().await;
    create_user_with_role(&app, "vera", Some(Role::Viewer)).await;
    let (mut ua, csrf) = signed_in(&app, "vera").await;
    let overview = ua.get("/admin/").await;
    assert!(
        overview.body.contains(&format!("href=\"{OWN_PASSWORD}\"")),
        "{}",
        overview.body
    );
    let form = ua.get(OWN_PASSWORD).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("autocomplete=\"current-password\""));
    let before = user(&app, "vera").await.unwrap().password_hash;
    let new = "a much better passphrase";
    let attempt = |current: &'static str, password: &'static str, again: &'static str| {
        [
            ("current_password", current),
            ("password", password),
            ("password_again", again),
        ]
    };
    let with_csrf = |fields: [(&'static str, &'static str); 3]| {
        let mut v: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        v.extend(fields);
        v
    };

    let p = ua
        .post(OWN_PASSWORD, &with_csrf(attempt("not it", new, new)))
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert_eq!(
        text_of(&p, "current_password-error"),
        "This is not your current password."
    );
    let p = ua
        .post(
            OWN_PASSWORD,
            &with_csrf(attempt(PASSWORD, "short", "short")),
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(
        text_of(&p, "password-error").contains("at least 8"),
        "{}",
        p.body
    );
    let p = ua
        .post(
            OWN_PASSWORD,
            &with_csrf(attempt(PASSWORD, new, "a much better passphrasE")),
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert_eq!(
        text_of(&p, "password_again-error"),
        "The two new passwords differ."
    );
    let p = ua
        .post(
            OWN_PASSWORD,
            &with_csrf(attempt(PASSWORD, PASSWORD, PASSWORD)),
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert_eq!(
        text_of(&p, "password-error"),
        "The new password is the same as the current one."
    );
    // Typed passwords are never sent back.
    assert!(!p.body.contains(PASSWORD), "{}", p.body);
    let p = ua.post(OWN_PASSWORD, &attempt(PASSWORD, new, new)).await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert_eq!(user(&app, "vera").await.unwrap().password_hash, before);
    let failed = audited(&app, "user.password_change_failed", 1).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].actor, "user:vera");
    assert!(audit(&app, "user.set_password").await.is_empty());

    let p = ua
        .post(OWN_PASSWORD, &with_csrf(attempt(PASSWORD, new, new)))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Password changed"), "{}", p.body);
    let set = audit(&app, "user.set_password").await;
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].actor, "user:vera");
    let after = user(&app, "vera").await.unwrap().password_hash;
    assert!(password::verify(new, after.as_deref()).await);
    assert!(!password::verify(PASSWORD, after.as_deref()).await);
    // This session ended with the others.
    let p = ua.get(OWN_PASSWORD).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let mut other = UserAgent::new(&app);
    let form = other.get("/login").await;
    assert_eq!(
        other.submit_login(&form, "vera", PASSWORD).await.status,
        401
    );
    let form = other.get("/login").await;
    let p = other.submit_login(&form, "vera", new).await;
    assert_eq!(p.status, 200, "{}", p.body);
}

/// Wrong current passwords count as failed sign-ins of that user from that address: the form is
/// no way around the sign-in page's limits.
#[tokio::test]
async fn wrong_current_passwords_count_as_failed_sign_ins() {
    let app = spawn_app_with(|c| {
        c.users.failed_logins_per_user_and_address_per_minute = 2;
    })
    .await;
    create_user_with_role(&app, "wes", Some(Role::Viewer)).await;
    let (mut ua, csrf) = signed_in(&app, "wes").await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let p = ua
            .post(
                OWN_PASSWORD,
                &[
                    ("csrf", csrf.as_str()),
                    ("current_password", "guess"),
                    ("password", "a much better passphrase"),
                    ("password_again", "a much better passphrase"),
                ],
            )
            .await;
        statuses.push(p.status);
    }
    assert_eq!(statuses, [400, 400, 429]);
    // Blocked, the right one waits too, and the sign-in page from here is blocked alike.
    let p = ua
        .post(
            OWN_PASSWORD,
            &[
                ("csrf", csrf.as_str()),
                ("current_password", PASSWORD),
                ("password", "a much better passphrase"),
                ("password_again", "a much better passphrase"),
            ],
        )
        .await;
    assert_eq!(p.status, 429, "{}", p.body);
    assert!(p.headers.get("retry-after").is_some());
    let mut other = UserAgent::new(&app);
    let form = other.get("/login").await;
    assert_eq!(other.submit_login(&form, "wes", PASSWORD).await.status, 429);
    assert!(audit(&app, "user.set_password").await.is_empty());
}

/// The console's password fields offer "Temporary", ticked at first: a user created or reset that
/// way chooses their own password at their next sign-in; unticked, the password is theirs.
#[tokio::test]
async fn passwords_set_in_the_console_are_temporary_unless_unticked() {
    let app = spawn_app().await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let (mut ua, csrf) = signed_in(&app, "alice").await;
    for page in ["/admin/users/new", "/admin/users/alice/password"] {
        let p = ua.get(page).await;
        assert!(
            p.body.contains(
                "name=\"password_temporary\" value=\"1\" checked><label for=\"password_temporary\">"
            ),
            "{page}: {}",
            p.body
        );
    }
    let p = ua
        .post(
            "/admin/users/new",
            &[
                ("csrf", csrf.as_str()),
                ("username", "ben"),
                ("role", ""),
                ("password_mode", "generate"),
                ("password_temporary", "1"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(user(&app, "ben").await.unwrap().password_temporary);
    let p = ua
        .post(
            "/admin/users/ben/password",
            &[
                ("csrf", csrf.as_str()),
                ("password_mode", "set"),
                ("password", "bens own password"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let ben = user(&app, "ben").await.unwrap();
    assert!(!ben.password_temporary);
    assert!(password::verify("bens own password", ben.password_hash.as_deref()).await);
    let p = ua
        .post(
            "/admin/users/ben/password",
            &[
                ("csrf", csrf.as_str()),
                ("password_mode", "generate"),
                ("password_temporary", "1"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(user(&app, "ben").await.unwrap().password_temporary);
}
