//! Failures from one address hold back that address only: a client or a user is never locked out
//! by someone else's failures, and a blocked address that keeps trying stays blocked. Addresses are
//! told apart by `X-Forwarded-For` with `http.trust_forwarded_for`.

use crate::helpers::{ClientSpec, TestApp, spawn_app_with};
use crate::people::{PASSWORD, UserAgent, create_user};
use tessera_proto::GrantType;

const ATTACKER: &str = "192.0.2.66";
const OTHER: &str = "198.51.100.7";

/// A client credentials request with Basic `id`:`secret` from `from`; the status and `Retry-After`.
async fn cc_from(app: &TestApp, from: &str, id: &str, secret: &str) -> (u16, Option<u64>) {
    let r = app
        .http
        .post(app.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", from)
        .header("authorization", tessera_proto::basic::encode(id, secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), retry_after(r.headers()))
}

fn retry_after(h: &reqwest::header::HeaderMap) -> Option<u64> {
    h.get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_client_out_elsewhere() {
    let app = spawn_app_with(|c| {
        c.http.trust_forwarded_for = true;
        c.rate_limit.failed_auth_per_client_and_address_per_minute = 3;
        c.rate_limit.failed_auth_per_address_per_minute = 100;
    })
    .await;
    let secret = app.register_client(ClientSpec::new("locked")).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(cc_from(&app, ATTACKER, "locked", "guess").await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    // The failing address is held back, even with the right secret…
    assert_eq!(cc_from(&app, ATTACKER, "locked", &secret).await.0, 429);
    // …but not another address with the right secret, nor one that fails once.
    assert_eq!(cc_from(&app, OTHER, "locked", &secret).await.0, 200);
    assert_eq!(cc_from(&app, "203.0.113.9", "locked", "typo").await.0, 401);
    assert_eq!(cc_from(&app, "203.0.113.9", "locked", &secret).await.0, 200);
    // The attacker's address may still authenticate another client.
    let other = app.register_client(ClientSpec::new("bystander")).await;
    assert_eq!(cc_from(&app, ATTACKER, "bystander", &other).await.0, 200);
}

#[tokio::test]
async fn attempts_while_blocked_are_counted() {
    // Six a minute: one refills every 10 s.
    let app = spawn_app_with(|c| {
        c.http.trust_forwarded_for = true;
        c.rate_limit.failed_auth_per_client_and_address_per_minute = 6;
        c.rate_limit.failed_auth_per_address_per_minute = 100;
    })
    .await;
    let secret = app.register_client(ClientSpec::new("hammered")).await;
    for _ in 0..6 {
        assert_eq!(cc_from(&app, ATTACKER, "hammered", "guess").await.0, 401);
    }
    let (status, first) = cc_from(&app, ATTACKER, "hammered", "guess").await;
    assert_eq!(status, 429);
    let first = first.unwrap();
    assert!(first <= 10, "{first}");
    // Each attempt while blocked holds the block longer, up to a minute ahead.
    let mut last = first;
    for _ in 0..8 {
        let (status, wait) = cc_from(&app, ATTACKER, "hammered", &secret).await;
        assert_eq!(status, 429);
        last = wait.unwrap();
    }
    assert!((55..=60).contains(&last), "{first} then {last}");
    // The per-address limit counts them too.
    let app = spawn_app_with(|c| {
        c.http.trust_forwarded_for = true;
        c.rate_limit.failed_auth_per_client_and_address_per_minute = 100;
        c.rate_limit.failed_auth_per_address_per_minute = 6;
    })
    .await;
    for i in 0..6 {
        let id = format!("made-up-{i}");
        assert_eq!(cc_from(&app, ATTACKER, &id, "guess").await.0, 401);
    }
    let (status, first) = cc_from(&app, ATTACKER, "made-up-6", "guess").await;
    assert_eq!((status, first.is_some_and(|w| w <= 10)), (429, true));
    let mut last = None;
    for i in 7..15 {
        last = cc_from(&app, ATTACKER, &format!("made-up-{i}"), "guess")
            .await
            .1;
    }
    assert!(last.is_some_and(|w| w >= 55), "{last:?}");
}

#[tokio::test]
async fn past_the_client_ceiling_failing_addresses_are_blocked_at_once_and_others_are_not() {
    let app = spawn_app_with(|c| {
        c.http.trust_forwarded_for = true;
        c.rate_limit.failed_auth_per_client_and_address_per_minute = 5;
        c.rate_limit.failed_auth_per_client_ceiling_per_minute = 4;
    })
    .await;
    let secret = app.register_client(ClientSpec::new("spread")).await;
    // Guesses spread over addresses, one each, until the client's ceiling is passed…
    for i in 1..=4 {
        let from = format!("192.0.2.{i}");
        assert_eq!(cc_from(&app, &from, "spread", "guess").await.0, 401);
    }
    // …then an address is blocked at its first failure, for a minute…
    let (status, wait) = cc_from(&app, "192.0.2.5", "spread", "guess").await;
    assert_eq!((status, wait.is_some_and(|w| w >= 55)), (429, true));
    assert_eq!(cc_from(&app, "192.0.2.5", "spread", &secret).await.0, 429);
    // …while an address that does not fail is never refused.
    assert_eq!(cc_from(&app, OTHER, "spread", &secret).await.0, 200);
    // Without the ceiling, the fifth address would have had its own allowance.
    let app = spawn_app_with(|c| {
        c.http.trust_forwarded_for = true;
        c.rate_limit.failed_auth_per_client_and_address_per_minute = 5;
        c.rate_limit.failed_auth_per_client_ceiling_per_minute = 0;
    })
    .await;
    app.register_client(ClientSpec::new("spread")).await;
    for i in 1..=5 {
        let from = format!("192.0.2.{i}");
        assert_eq!(cc_from(&app, &from, "spread", "guess").await.0, 401);
    }
}

#[tokio::test]
async fn failed_sign_ins_from_one_address_do_not_lock_the_user_out_elsewhere() {
    let app = spawn_app_with(|c| {
        c.http.trust_forwarded_for = true;
        c.users.failed_logins_per_user_and_address_per_minute = 2;
        c.users.failed_logins_per_address_per_minute = 100;
    })
    .await;
    create_user(&app, "lee").await;
    let mut attacker = UserAgent::new(&app);
    attacker.forwarded_for = Some(ATTACKER.into());
    let mut statuses = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..5 {
        let form = attacker.get("/login").await;
        let p = attacker.submit_login(&form, "lee", "wrong").await;
        statuses.push(p.status);
        waits.push(retry_after(&p.headers));
    }
    assert_eq!(statuses, [401, 401, 429, 429, 429]);
    // One refills every 30 s; every attempt while blocked holds the block, up to a minute.
    assert!(waits[2].is_some_and(|w| w <= 30), "{waits:?}");
    assert!(waits[4].is_some_and(|w| w >= 55), "{waits:?}");
    // The right password from the failing address waits…
    let form = attacker.get("/login").await;
    let p = attacker.submit_login(&form, "lee", PASSWORD).await;
    assert_eq!(p.status, 429);
    // …but from another address it signs in.
    let mut user = UserAgent::new(&app);
    user.forwarded_for = Some(OTHER.into());
    let p = user.sign_in("lee").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("You are signed in"), "{}", p.body);
}

#[tokio::test]
async fn failed_passwords_from_one_address_do_not_lock_the_user_out_elsewhere() {
    let app = spawn_app_with(|c| {
        c.http.trust_forwarded_for = true;
        c.users.failed_logins_per_user_and_address_per_minute = 2;
    })
    .await;
    create_user(&app, "kim").await;
    let mut spec = ClientSpec::new("legacy");
    spec.grant_types = vec![GrantType::Password];
    let secret = app.register_client(spec).await;
    let grant = |from: &'static str, password: &'static str| {
        app.http
            .post(app.token_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", from)
            .header(
                "authorization",
                tessera_proto::basic::encode("legacy", &secret),
            )
            .body(tessera_proto::form::encode([
                ("grant_type", "password"),
                ("username", "kim"),
                ("password", password),
            ]))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(grant(ATTACKER, "wrong").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 429, 429]);
    assert_eq!(grant(ATTACKER, PASSWORD).await.unwrap().status(), 429);
    assert_eq!(grant(OTHER, PASSWORD).await.unwrap().status(), 200);
}
