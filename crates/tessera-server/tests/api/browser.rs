//! The pages in a real browser: headless Chromium driven by fantoccini through chromedriver
//! (Debian's `chromium` and `chromium-driver`, installed here when missing; the test fails when
//! they cannot be had, it never skips). Sign-in, wrong password, consent, deny, device code entry
//! and approval, and the whole flow by keyboard alone. Screenshots go to
//! `target/test-artifacts/pages/`.

use crate::device::{device_client, poll, start};
use crate::helpers::{ClientSpec, TestApp, spawn_app, spawn_app_with};
use crate::people::{PASSWORD, create_user, pkce};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tessera_proto::{ClientAuthMethod, GrantType};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs Debian's Chromium and its driver when missing (once per test process).
fn ensure_chromium() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists() {
            return;
        }
        eprintln!("installing Debian's chromium and chromium-driver for the browser tests");
        let ok = std::process::Command::new("sh")
            .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok && std::path::Path::new(CHROMEDRIVER).exists(), "the browser tests need {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium and chromium-driver), and installing them failed");
    });
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("test-artifacts").join("pages");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A headless Chromium session; the driver process ends when this is dropped.
pub(crate) struct Browser {
    pub(crate) client: Client,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn start(width: u32, height: u32) -> Self {
        ensure_chromium();
        // Two rustls providers are linked into this test binary; name the one to use.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-extensions".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .unwrap()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        _driver: driver,
                        _profile: profile,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot start a Chromium session through chromedriver: {last:?}");
    }

    pub(crate) async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
    }

    /// Waits (up to 10 s) for the page's `main` element to contain `needle`, and returns its text.
    /// Polls: a form submission's next page arrives on its own time.
    pub(crate) async fn text_containing(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while std::time::Instant::now() < deadline {
            if let Ok(main) = self.client.find(Locator::Css("main")).await
                && let Ok(text) = main.text().await
            {
                if text.contains(needle) {
                    return text;
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let url = self.client.current_url().await.map(|u| u.to_string());
        panic!(
            "the page never showed {needle:?} in its main element; at {url:?} it showed: {last}"
        );
    }

    pub(crate) async fn fill(&self, id: &str, value: &str) {
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id(id))
            .await
            .unwrap();
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    pub(crate) async fn click(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Presses keys on whatever has the focus.
    pub(crate) async fn keys(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .unwrap()
            .send_keys(keys)
            .await
            .unwrap();
    }

    pub(crate) async fn focused(&self) -> String {
        let el = self.client.active_element().await.unwrap();
        let id = el.attr("id").await.unwrap().unwrap_or_default();
        let value = el.attr("value").await.unwrap().unwrap_or_default();
        let tag = el.tag_name().await.unwrap();
        format!("{tag}#{id}[{value}]")
    }

    /// Waits (up to 10 s) for the browser to reach an address starting with `prefix`.
    pub(crate) async fn url_starting_with(&self, prefix: &str) -> openidconnect::url::Url {
        for _ in 0..100 {
            let u = self.client.current_url().await.unwrap();
            if u.as_str().starts_with(prefix) {
                return u;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the browser never reached {prefix}");
    }

    pub(crate) async fn close(self) {
        self.client.close().await.unwrap();
    }
}

pub(crate) fn key(k: Key) -> String {
    char::from(k).to_string()
}

/// The red, green and blue of a `#rrggbb` colour.
fn hex_rgb(hex: &str) -> [u8; 3] {
    let c = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
    [c(1), c(3), c(5)]
}

/// The red, green and blue of an opaque computed colour, `rgb(r, g, b)` or `rgba(r, g, b, 1)`
/// as WebDriver reports it.
fn css_rgb(value: &str) -> [u8; 3] {
    let inner = value
        .strip_prefix("rgba(")
        .or_else(|| value.strip_prefix("rgb("))
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not an rgb() colour: {value}"));
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    assert!(
        parts.len() == 3 || (parts.len() == 4 && parts[3] == "1"),
        "not an opaque colour: {value}"
    );
    [0, 1, 2].map(|i| parts[i].parse().unwrap())
}

/// Serves a logo (an SVG image) on a loopback port of its own; returns its address.
async fn logo_server() -> String {
    const LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="160" height="48" viewBox="0 0 160 48"><rect width="160" height="48" rx="8" fill="#0f766e"/><text x="80" y="31" font-size="20" text-anchor="middle" fill="#ffffff">ACME</text></svg>"##;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/logo.svg",
        axum::routing::get(|| async { ([("content-type", "image/svg+xml")], LOGO) }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/logo.svg")
}

/// A public client whose redirect URI is on the test server itself (no other host is reached).
async fn web_client(app: &TestApp) -> String {
    let redirect = format!("{}/cb", app.base);
    let mut spec = ClientSpec::new("console")
        .method(ClientAuthMethod::None)
        .scopes(&["openid", "profile", "core.accounting.read"], &[]);
    spec.grant_types = vec![GrantType::AuthorizationCode];
    spec.redirect_uris = vec![redirect.clone()];
    app.register_client(spec).await;
    redirect
}

fn authorize(app: &TestApp, redirect: &str, challenge: &str) -> String {
    format!(
        "{}/oauth2/authorize?{}",
        app.base,
        tessera_proto::form::encode([
            ("response_type", "code"),
            ("client_id", "console"),
            ("redirect_uri", redirect),
            ("scope", "openid profile core.accounting.read"),
            ("state", "browser-state"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
    )
}

#[tokio::test]
async fn sign_in_wrong_password_and_consent_in_chromium() {
    let logo = logo_server().await;
    let app = spawn_app_with(|c| {
        c.pages.product_name = "Acme Access".into();
        c.pages.logo_url = Some(logo.clone());
        c.pages.primary_color = "#0f766e".into();
        c.pages.primary_text_color = "#fffbeb".into();
    })
    .await;
    create_user(&app, "hana").await;
    let redirect = web_client(&app).await;
    let (_, challenge) = pkce();
    let b = Browser::start(1280, 900).await;
    b.client
        .goto(&authorize(&app, &redirect, &challenge))
        .await
        .unwrap();
    assert_eq!(b.client.title().await.unwrap(), "Sign in · Acme Access");
    b.text_containing("to continue to test console").await;
    // The branding from [pages]: the logo, named by the product, loaded (the CSP lets its origin
    // in), and the button in the configured colours.
    let img = b
        .client
        .find(Locator::Css("main header.brand img.logo"))
        .await
        .unwrap();
    assert_eq!(
        img.attr("alt").await.unwrap().as_deref(),
        Some("Acme Access")
    );
    assert_eq!(img.attr("src").await.unwrap(), Some(logo));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let loaded = b
            .client
            .execute(
                "const i = document.querySelector('img.logo'); return i.complete && i.naturalWidth;",
                vec![],
            )
            .await
            .unwrap();
        if loaded == json!(160) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the logo never loaded: {loaded}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let button = b
        .client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap();
    let background = button.css_value("background-color").await.unwrap();
    assert_eq!(css_rgb(&background), hex_rgb("#0f766e"), "{background}");
    let text = button.css_value("color").await.unwrap();
    assert_eq!(css_rgb(&text), hex_rgb("#fffbeb"), "{text}");
    // The username field has the focus from the start.
    assert_eq!(b.focused().await, "input#username[]");
    b.shot("01-sign-in").await;
    b.fill("username", "hana").await;
    b.fill("password", "not my password").await;
    b.click("button[type=submit]").await;
    let alert = b
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[role=alert]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(alert, "The username or password is not right.");
    b.shot("02-wrong-password").await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    let text = b
        .text_containing("Allow test console to access your account?")
        .await;
    assert!(text.contains("See your name and username"));
    assert!(text.contains("test scope core.accounting.read"));
    b.shot("03-consent").await;
    b.click("button[value=allow]").await;
    let url = b.url_starting_with(&redirect).await;
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert!(q["code"].starts_with("tac_"));
    assert_eq!(q["state"], "browser-state");
    b.close().await;
}

#[tokio::test]
async fn deny_in_chromium_on_a_phone_sized_screen() {
    let app = spawn_app().await;
    create_user(&app, "ivo").await;
    let redirect = web_client(&app).await;
    let (_, challenge) = pkce();
    let b = Browser::start(390, 844).await;
    b.client
        .goto(&authorize(&app, &redirect, &challenge))
        .await
        .unwrap();
    b.shot("04-sign-in-phone").await;
    // Nothing overflows sideways on a phone.
    let wide = b
        .client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, json!(true));
    b.fill("username", "IVO").await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.text_containing("Allow test console to access your account?")
        .await;
    b.shot("05-consent-phone").await;
    b.click("button[value=deny]").await;
    let url = b.url_starting_with(&redirect).await;
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "browser-state");
    assert_eq!(q["iss"], app.state.issuer);
    b.close().await;
}

#[tokio::test]
async fn keyboard_only_sign_in_and_consent() {
    let app = spawn_app().await;
    create_user(&app, "jun").await;
    let redirect = web_client(&app).await;
    let (_, challenge) = pkce();
    let b = Browser::start(1280, 900).await;
    b.client
        .goto(&authorize(&app, &redirect, &challenge))
        .await
        .unwrap();
    // Focus order: username, password, the button; Enter submits.
    assert_eq!(b.focused().await, "input#username[]");
    b.keys("jun").await;
    b.keys(&key(Key::Tab)).await;
    assert_eq!(b.focused().await, "input#password[]");
    b.keys(PASSWORD).await;
    b.keys(&key(Key::Tab)).await;
    assert_eq!(b.focused().await, "button#[]");
    b.keys(&key(Key::Enter)).await;
    b.client
        .wait()
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .unwrap();
    // On the consent page the focus reaches "Not you?", then Allow, then Deny.
    b.keys(&key(Key::Tab)).await;
    let first = b
        .client
        .active_element()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(first, "Not you?");
    b.keys(&key(Key::Tab)).await;
    assert_eq!(b.focused().await, "button#[allow]");
    b.shot("06-keyboard-focus-on-allow").await;
    // The focused control is visibly outlined.
    let outline = b
        .client
        .active_element()
        .await
        .unwrap()
        .css_value("outline-style")
        .await
        .unwrap();
    assert_ne!(outline, "none");
    b.keys(&key(Key::Enter)).await;
    let url = b.url_starting_with(&redirect).await;
    assert!(url.query_pairs().any(|(k, _)| k == "code"));
    b.close().await;
}

#[tokio::test]
async fn device_code_entry_and_approval_in_chromium() {
    let app = spawn_app_with(|c| {
        c.device.interval_secs = 1;
        c.pages.product_name = "Acme TV".into();
    })
    .await;
    create_user(&app, "kai").await;
    device_client(&app).await;
    let d = start(&app, "core.accounting.read").await;
    let user_code = d["user_code"].as_str().unwrap().to_owned();
    let b = Browser::start(1280, 900).await;
    b.client
        .goto(&format!("{}/device", app.base))
        .await
        .unwrap();
    // Without a logo, the product name heads the page.
    let product = b
        .client
        .find(Locator::Css("main header.brand .product"))
        .await;
    assert_eq!(product.unwrap().text().await.unwrap(), "Acme TV");
    b.shot("07-device-code").await;
    // A wrong code first.
    b.fill("user_code", "bbbb-bbbb").await;
    b.click("button[type=submit]").await;
    b.text_containing("That code is not valid or has expired.")
        .await;
    b.shot("08-device-wrong-code").await;
    // The right one, typed in lower case without the dash.
    b.fill("user_code", &user_code.replace('-', "").to_lowercase())
        .await;
    b.keys(&key(Key::Enter)).await;
    b.client
        .wait()
        .for_element(Locator::Id("username"))
        .await
        .unwrap();
    b.fill("username", "kai").await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    let text = b
        .text_containing("Allow test tv to access your account?")
        .await;
    assert!(text.contains(&user_code), "{text}");
    b.shot("09-device-confirm").await;
    b.click("button[value=allow]").await;
    b.text_containing("Device connected").await;
    b.shot("10-device-done").await;
    b.close().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = poll(&app, d["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
}
