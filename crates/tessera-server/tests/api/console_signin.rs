//! Signing in to the console at `/admin/` over HTTP, as a browser without JavaScript would: the
//! authorization code flow with PKCE through Tessera's own sign-in page and no consent, the
//! session cookie's attributes, CSRF on sign-out, sign-out, the idle and absolute limits, and a
//! role taken away or never given.

use crate::helpers::{spawn_app, spawn_app_with};
use crate::people::{
    PASSWORD, Page, UserAgent, create_user, create_user_with_role, wait_for_clock,
};
use tessera_server::model::now;
use tessera_server::users::{Role, UserPatch};

/// Signs `username` in to the console from scratch; returns the last page and every
/// `Set-Cookie` seen on the way.
pub async fn console_sign_in(ua: &mut UserAgent, username: &str) -> (Page, Vec<String>) {
    let mut cookies = Vec::new();
    let mut page = ua.get("/admin/login").await;
    for _ in 0..12 {
        cookies.extend(
            page.headers
                .get_all("set-cookie")
                .iter()
                .map(|c| c.to_str().unwrap().to_owned()),
        );
        if page.body.contains("action=\"/login\"") {
            let csrf = page.input("csrf").unwrap();
            let return_to = page.input("return_to").unwrap_or_default();
            page = ua
                .post(
                    "/login",
                    &[
                        ("csrf", &csrf),
                        ("return_to", &return_to),
                        ("username", username),
                        ("password", PASSWORD),
                    ],
                )
                .await;
            continue;
        }
        match page.location() {
            Some(l) => page = ua.get(&l).await,
            None => return (page, cookies),
        }
    }
    panic!("too many redirects");
}

/// Follows the console's sign-in from `start` (a `/admin/login?…` address) as `username`: the
/// authorization request, Tessera's sign-in page, the callback and the redirects after it;
/// returns the last address redirected to and the page found there.
pub async fn sign_in_from(
    ua: &mut UserAgent,
    start: &str,
    username: &str,
) -> (Option<String>, Page) {
    let login = ua.visit(start).await;
    assert!(login.body.contains("action=\"/login\""), "{}", login.body);
    let csrf = login.input("csrf").unwrap();
    let return_to = login.input("return_to").unwrap_or_default();
    let mut page = ua
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("return_to", &return_to),
                ("username", username),
                ("password", PASSWORD),
            ],
        )
        .await;
    let mut last = None;
    for _ in 0..10 {
        match page.location() {
            Some(l) => {
                last = Some(l.clone());
                page = ua.get(&l).await;
            }
            None => break,
        }
    }
    (last, page)
}

/// A console page opened signed out leads to the sign-in, and from there back to that page (its
/// query included); an address that is not a console page is not come back to.
#[tokio::test]
async fn a_page_opened_signed_out_is_where_the_sign_in_ends() {
    let app = spawn_app().await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let mut ua = UserAgent::new(&app);
    let p = ua.get("/admin/clients?q=bill&status=enabled").await;
    assert_eq!(p.status, 303);
    let start = p.location().unwrap();
    assert_eq!(
        start,
        "/admin/login?return_to=%2Fadmin%2Fclients%3Fq%3Dbill%26status%3Denabled"
    );
    let (last, page) = sign_in_from(&mut ua, &start, "alice").await;
    assert_eq!(
        last.as_deref(),
        Some("/admin/clients?q=bill&status=enabled")
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("value=\"bill\""), "{}", page.body);
    // The overview itself shows its sign-in button rather than redirecting.
    let mut other = UserAgent::new(&app);
    assert_eq!(other.get("/admin/").await.status, 200);
    assert_eq!(
        other
            .get("/admin/users/alice/disable")
            .await
            .location()
            .as_deref(),
        Some("/admin/login?return_to=%2Fadmin%2Fusers%2Falice%2Fdisable")
    );
}

fn console_cookie(cookies: &[String]) -> String {
    cookies
        .iter()
        .find(|c| c.starts_with("tessera_console=") && !c.starts_with("tessera_console=;"))
        .cloned()
        .unwrap_or_else(|| panic!("no console session cookie among {cookies:?}"))
}

#[tokio::test]
async fn an_admin_signs_in_without_consent_and_signs_out_with_the_csrf_token() {
    let app = spawn_app().await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let mut ua = UserAgent::new(&app);
    // Without a session: the console's sign-in page, never cached, under the pages' CSP.
    let p = ua.get("/admin/").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("href=\"/admin/login\""), "{}", p.body);
    assert_eq!(p.headers["cache-control"], "no-store");
    assert!(
        p.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(
        ua.get("/admin").await.location().as_deref(),
        Some("/admin/")
    );

    let (p, cookies) = console_sign_in(&mut ua, "alice").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("<h1 id=\"page-title\">Overview</h1>"),
        "{}",
        p.body
    );
    assert!(p.body.contains("ALICE Example"), "{}", p.body);
    assert!(
        !p.body.contains("Allow access"),
        "no consent page for the console"
    );
    assert_eq!(p.headers["cache-control"], "no-store");
    let c = console_cookie(&cookies);
    for attr in [
        "Path=/admin",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=28800",
    ] {
        assert!(c.contains(attr), "{c}");
    }
    assert!(!c.contains("Secure"), "an http issuer: {c}");
    // The sign-in is in the audit log under the person's name.
    let events = app
        .state
        .store
        .list_audit(&tessera_server::store::AuditQuery {
            action: Some("console.".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events[0].action, "console.sign_in");
    assert_eq!(events[0].actor, "user:alice");

    // Sign-out without the CSRF token, or with another, is refused and changes nothing.
    let csrf = p.input("csrf").unwrap();
    assert_eq!(ua.post("/admin/logout", &[]).await.status, 403);
    assert_eq!(
        ua.post("/admin/logout", &[("csrf", "forged")]).await.status,
        403
    );
    assert!(ua.get("/admin/").await.body.contains("Overview"));
    // With it: signed out of the console and of the pages (signing in again asks the password).
    let p = ua.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    let p = ua.follow(p).await;
    assert!(p.body.contains("You are signed out."), "{}", p.body);
    assert!(!p.body.contains("Overview"));
    let p = ua.visit("/admin/login").await;
    assert!(
        p.body.contains("action=\"/login\""),
        "the password is asked again"
    );
}

#[tokio::test]
async fn people_without_a_role_are_refused_and_losing_it_ends_access() {
    let app = spawn_app().await;
    create_user(&app, "bob").await;
    let alice = create_user_with_role(&app, "alice", Some(Role::Viewer)).await;
    let mut ua = UserAgent::new(&app);
    let (p, _) = console_sign_in(&mut ua, "bob").await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(
        p.body.contains("tessera user update bob --role viewer"),
        "{}",
        p.body
    );
    let mut ua = UserAgent::new(&app);
    let (p, _) = console_sign_in(&mut ua, "alice").await;
    assert!(p.body.contains("Overview"), "{}", p.body);
    assert!(p.body.contains("viewer"), "{}", p.body);
    let user = app.state.store.get_user(&alice).await.unwrap().unwrap();
    tessera_server::users::ops::update(
        &app.state,
        user,
        UserPatch {
            role: Some(None),
            ..UserPatch::default()
        },
    )
    .await
    .unwrap();
    let p = ua.get("/admin/").await;
    assert!(p.body.contains("has no console role"), "{}", p.body);
    assert!(!p.body.contains("Overview"));
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_limit() {
    let app = spawn_app_with(|c| {
        c.console.idle_timeout_secs = 2;
        c.console.absolute_timeout_secs = 3;
    })
    .await;
    create_user_with_role(&app, "alice", Some(Role::Operator)).await;
    // Idle: no request for longer than the idle limit.
    let mut ua = UserAgent::new(&app);
    let (p, _) = console_sign_in(&mut ua, "alice").await;
    assert!(p.body.contains("Overview"));
    // Seen last at or before `t`.
    let t = now();
    wait_for_clock(t + 4).await;
    assert!(!ua.get("/admin/").await.body.contains("Overview"));
    // Absolute: busy all along, still ended.
    let mut ua = UserAgent::new(&app);
    let (p, _) = console_sign_in(&mut ua, "alice").await;
    assert!(p.body.contains("Overview"));
    // Started at or before `t`.
    let t = now();
    let mut seen_until = t;
    while now() <= t + 4 {
        let p = ua.get("/admin/").await;
        if p.body.contains("Overview") {
            seen_until = now();
        }
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    assert!(
        seen_until <= t + 3,
        "the session outlived its absolute limit"
    );
    assert!(!ua.get("/admin/").await.body.contains("Overview"));
}

#[tokio::test]
async fn the_cookies_are_secure_under_an_https_issuer() {
    let app = spawn_app_with(|c| c.issuer = Some("https://id.example.com".into())).await;
    let mut ua = UserAgent::new(&app);
    let p = ua.get("/admin/login").await;
    let c = p.headers["set-cookie"].to_str().unwrap();
    assert!(c.starts_with("tessera_console_auth="), "{c}");
    assert!(c.contains("; Secure") && c.contains("HttpOnly"), "{c}");
    let loc = p.location().unwrap();
    assert!(loc.starts_with("/oauth2/authorize?"), "{loc}");
    assert!(loc.contains("code_challenge_method=S256"), "{loc}");
    assert!(
        loc.contains("redirect_uri=https%3A%2F%2Fid.example.com%2Fadmin%2Fcallback"),
        "{loc}"
    );
}

#[tokio::test]
async fn a_callback_without_its_cookie_or_with_another_state_signs_nobody_in() {
    let app = spawn_app().await;
    create_user_with_role(&app, "alice", Some(Role::Admin)).await;
    let mut ua = UserAgent::new(&app);
    let iss = app.base.clone();
    let p = ua
        .get(&format!("/admin/callback?code=tac_x&state=s&iss={iss}"))
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    // A code for this browser's sign-in, presented with another state, is refused.
    let start = ua.get("/admin/login").await;
    assert_eq!(start.status, 303);
    let p = ua
        .get(&format!(
            "/admin/callback?code=tac_x&state=forged&iss={iss}"
        ))
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("state mismatch"), "{}", p.body);
    assert!(!ua.get("/admin/").await.body.contains("Overview"));
}
