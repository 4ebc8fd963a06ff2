//! The device authorization grant (RFC 8628) over plain HTTP: the device authorization response,
//! the polling answers, the user code page (any case, with or without the dash), approval,
//! denial, expiry, single use, and the limit on guessing user codes.

use crate::helpers::{ClientSpec, TestApp, assert_oauth_error, jwt_claims, spawn_app_with};
use crate::people::{PASSWORD, UserAgent, create_user};
use serde_json::Value;
use tessera_proto::{ClientAuthMethod, GrantType};

pub async fn device_client(app: &TestApp) {
    let mut spec = ClientSpec::new("tv").method(ClientAuthMethod::None).scopes(
        &["core.accounting.read", "openid", "offline_access"],
        &["core.accounting.read"],
    );
    spec.grant_types = vec![GrantType::DeviceCode, GrantType::RefreshToken];
    app.register_client(spec).await;
}

pub async fn start(app: &TestApp, scope: &str) -> Value {
    let r = app
        .form_post(
            "/oauth2/device_authorization",
            &[("client_id", "tv"), ("scope", scope)],
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

pub async fn poll(app: &TestApp, device_code: &str) -> reqwest::Response {
    app.token(
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", "tv"),
        ],
        None,
    )
    .await
}

async fn app_with_fast_polling() -> TestApp {
    spawn_app_with(|c| c.device.interval_secs = 1).await
}

#[tokio::test]
async fn device_authorization_response_and_polling_answers() {
    let app = app_with_fast_polling().await;
    create_user(&app, "wes").await;
    device_client(&app).await;
    let d = start(&app, "core.accounting.read").await;
    let user_code = d["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(
        user_code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c))
    );
    assert_eq!(
        d["verification_uri"],
        format!("{}/device", app.state.issuer)
    );
    assert_eq!(
        d["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", app.state.issuer)
    );
    assert_eq!(d["expires_in"], 600);
    assert_eq!(d["interval"], 1);
    let dc = d["device_code"].as_str().unwrap();
    assert_oauth_error(poll(&app, dc).await, 400, "authorization_pending").await;
    // Polled again at once: slow down, and the interval grows by 5 seconds.
    let r = poll(&app, dc).await;
    let body = assert_oauth_error(r, 400, "slow_down").await;
    drop(body);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_oauth_error(poll(&app, dc).await, 400, "slow_down").await;
    // The person approves, typing the code in lower case without the dash.
    let mut ua = UserAgent::new(&app);
    let entry = ua.visit("/device").await;
    assert!(entry.body.contains("Connect a device"));
    let csrf = entry.input("csrf").unwrap();
    let typed = user_code.replace('-', "").to_lowercase();
    let p = ua
        .post("/device", &[("csrf", &csrf), ("user_code", &typed)])
        .await;
    assert_eq!(p.status, 303, "not signed in: to the sign-in page");
    let login = ua.follow(p).await;
    let confirm = ua.submit_login(&login, "wes", PASSWORD).await;
    assert!(confirm.body.contains("test tv"), "{}", confirm.body);
    assert!(confirm.body.contains(user_code));
    let done = ua.decide(&confirm, true).await;
    assert!(done.body.contains("Device connected"));
    // Wait out the grown interval (1 + 5 + 5 seconds) before the next poll.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let r = poll(&app, dc).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["scope"], "core.accounting.read");
    assert!(t["refresh_token"].is_string());
    assert_eq!(
        jwt_claims(t["access_token"].as_str().unwrap())["client_id"],
        "tv"
    );
    // A device code gives tokens once.
    assert_oauth_error(poll(&app, dc).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn denied_and_expired() {
    let app = spawn_app_with(|c| {
        c.device.interval_secs = 1;
        c.device.code_lifetime_secs = 3;
    })
    .await;
    create_user(&app, "xia").await;
    device_client(&app).await;
    let mut ua = UserAgent::new(&app);
    assert!(
        ua.sign_in("xia")
            .await
            .body
            .contains("You are signed in as XIA Example")
    );
    let d = start(&app, "core.accounting.read").await;
    // verification_uri_complete: signed in, the confirmation page comes at once.
    let confirm = ua
        .visit(&format!(
            "/device?user_code={}",
            d["user_code"].as_str().unwrap()
        ))
        .await;
    let done = ua.decide(&confirm, false).await;
    assert!(done.body.contains("Request denied"));
    assert_oauth_error(
        poll(&app, d["device_code"].as_str().unwrap()).await,
        400,
        "access_denied",
    )
    .await;
    let d = start(&app, "core.accounting.read").await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_oauth_error(
        poll(&app, d["device_code"].as_str().unwrap()).await,
        400,
        "expired_token",
    )
    .await;
    let late = ua
        .visit(&format!(
            "/device?user_code={}",
            d["user_code"].as_str().unwrap()
        ))
        .await;
    assert_eq!(late.status, 400, "an expired user code is not accepted");
}

#[tokio::test]
async fn guessing_user_codes_is_limited_and_other_clients_cannot_poll() {
    let app = spawn_app_with(|c| c.device.failed_user_codes_per_address_per_minute = 3).await;
    device_client(&app).await;
    let d = start(&app, "core.accounting.read").await;
    let mut ua = UserAgent::new(&app);
    let entry = ua.visit("/device").await;
    let csrf = entry.input("csrf").unwrap();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            ua.post("/device", &[("csrf", &csrf), ("user_code", "BBBB-BBBB")])
                .await
                .status,
        );
    }
    assert_eq!(statuses[..3], [400, 400, 400]);
    assert_eq!(statuses[4], 429);
    // Even the right code waits now.
    let right = ua
        .post(
            "/device",
            &[
                ("csrf", &csrf),
                ("user_code", d["user_code"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(right.status, 429);
    assert!(right.headers.contains_key("retry-after"));
    let mut other = ClientSpec::new("other-tv").method(ClientAuthMethod::None);
    other.grant_types = vec![GrantType::DeviceCode];
    app.register_client(other).await;
    let r = app
        .token(
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", d["device_code"].as_str().unwrap()),
                ("client_id", "other-tv"),
            ],
            None,
        )
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    // A client without the grant cannot start the flow.
    let r = app
        .form_post(
            "/oauth2/device_authorization",
            &[("client_id", "nope")],
            None,
        )
        .await;
    assert_oauth_error(r, 401, "invalid_client").await;
}
