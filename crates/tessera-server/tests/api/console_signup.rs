//! The one-time sign-up link for the console's first admin: made at start-up while no enabled
//! admin exists (and not otherwise), it creates an admin once (audited as `user.create` by
//! `signup-link`) who then signs in; it is refused (410) when used, expired, or once an admin
//! exists; the form keeps its values and says what is wrong next to each field.

use crate::console_signin::console_sign_in;
use crate::helpers::{TestApp, spawn_app};
use crate::people::{PASSWORD, UserAgent, create_user_with_role};
use secrecy::ExposeSecret;
use tessera_server::config::Config;
use tessera_server::console::signup;
use tessera_server::model::now;
use tessera_server::startup::Application;
use tessera_server::store::AuditQuery;
use tessera_server::users::Role;

/// A new link's path (`/admin/signup/…`).
async fn new_link(app: &TestApp) -> String {
    let link = signup::issue(&app.state).await.unwrap();
    let link = link.expose_secret();
    assert!(
        link.starts_with(&format!("{}/admin/signup/", app.state.issuer)),
        "{link}"
    );
    link[app.state.issuer.len()..].to_owned()
}

#[tokio::test]
async fn the_link_creates_the_first_admin_once() {
    let app = spawn_app().await;
    let path = new_link(&app).await;
    let mut ua = UserAgent::new(&app);
    let form = ua.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(form.headers["cache-control"], "no-store");
    assert!(form.body.contains(&format!("action=\"{path}\"")));
    let csrf = form.input("csrf").unwrap();

    // Refused fields, values kept.
    let p = ua
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("username", "root admin"),
                ("display_name", "Root"),
                ("password", PASSWORD),
                ("password_again", "something else"),
            ],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(
        p.body.contains("id=\"username-error\"") && p.body.contains("id=\"password_again-error\""),
        "{}",
        p.body
    );
    assert!(p.body.contains("<a href=\"#username\">"));
    assert!(p.body.contains("value=\"root admin\"") && p.body.contains("value=\"Root\""));
    let p = ua
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("username", "root"),
                ("password", "short"),
                ("password_again", "short"),
            ],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("id=\"password-error\""), "{}", p.body);
    // Without the form's CSRF token: refused.
    let p = ua
        .post(
            &path,
            &[
                ("username", "root"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(app.state.store.count_users().await.unwrap(), 0);

    let p = ua
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("username", "Root"),
                ("display_name", "Root Admin"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("href=\"/admin/login\""), "{}", p.body);
    let root = app
        .state
        .store
        .get_user_by_username("root")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(root.role, Some(Role::Admin));
    assert!(root.enabled);
    let ev = app
        .state
        .store
        .list_audit(&AuditQuery {
            action: Some("user.create".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].actor.as_str(), ev[0].target.as_str()),
        ("signup-link", root.id.as_str())
    );
    assert!(ev[0].remote_addr.is_some());

    // Used: refused, and nothing more is created.
    assert_eq!(ua.get(&path).await.status, 410);
    let p = ua
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("username", "second"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, 410);
    assert_eq!(app.state.store.count_users().await.unwrap(), 1);

    // The new admin signs in.
    let mut ua = UserAgent::new(&app);
    let (p, _) = console_sign_in(&mut ua, "root").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Overview"), "{}", p.body);
}

#[tokio::test]
async fn an_expired_or_unknown_link_is_refused() {
    let app = spawn_app().await;
    let token = tessera_server::crypto::random_token("").unwrap();
    let t = now();
    app.state
        .store
        .insert_signup_link(&signup::link_hash(&app.state, &token), t - 1000, t - 1)
        .await
        .unwrap();
    let mut ua = UserAgent::new(&app);
    let path = format!("/admin/signup/{token}");
    let p = ua.get(&path).await;
    assert_eq!(p.status, 410, "{}", p.body);
    assert!(p.body.contains("expired"), "{}", p.body);
    let p = ua
        .post(
            &path,
            &[
                ("csrf", "x"),
                ("username", "late"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, 410);
    let unknown = tessera_server::crypto::random_token("").unwrap();
    assert_eq!(
        ua.get(&format!("/admin/signup/{unknown}")).await.status,
        410
    );
    assert_eq!(ua.get("/admin/signup/short").await.status, 410);
    assert_eq!(app.state.store.count_users().await.unwrap(), 0);
}

#[tokio::test]
async fn a_link_is_refused_once_an_admin_exists() {
    let app = spawn_app().await;
    let path = new_link(&app).await;
    let mut ua = UserAgent::new(&app);
    let form = ua.get(&path).await;
    assert_eq!(form.status, 200);
    let csrf = form.input("csrf").unwrap();
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    assert_eq!(ua.get(&path).await.status, 410);
    let p = ua
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("username", "eve"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, 410);
    assert!(
        app.state
            .store
            .get_user_by_username("eve")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_start_makes_a_link_only_while_there_is_no_admin() {
    let dir = tempfile::tempdir().unwrap();
    let config = || Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    let app = Application::build(config()).await.unwrap();
    assert!(app.console_without_admin);
    let link = app.console_signup_link.clone().expect("a sign-up link");
    let issuer = app.state().issuer.clone();
    assert!(
        link.expose_secret()
            .starts_with(&format!("{issuer}/admin/signup/"))
    );
    assert!(
        !format!("{app:?}").contains(link.expose_secret()),
        "not in Debug"
    );
    let state = app.state();
    let token = link.expose_secret().rsplit('/').next().unwrap().to_owned();
    assert!(
        state
            .store
            .signup_link_usable(&signup::link_hash(&state, &token), now())
            .await
            .unwrap()
    );
    tessera_server::users::ops::create(
        &state,
        tessera_server::users::NewUser {
            username: tessera_server::users::Username::parse("alice").unwrap(),
            password: None,
            password_temporary: false,
            email: String::new(),
            email_verified: false,
            display_name: String::new(),
            enabled: None,
            role: Some(Role::Admin),
        },
    )
    .await
    .unwrap();
    state.store.close().await;
    drop(state);
    drop(app);
    let app = Application::build(config()).await.unwrap();
    assert!(!app.console_without_admin);
    assert!(app.console_signup_link.is_none());
}
