//! What the tests of the flows with people share: users, clients with redirect URIs, PKCE pairs,
//! and a user agent that keeps cookies, reads forms and follows the server's own redirects.

use crate::helpers::{ClientSpec, TestApp};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::HashMap;
use tessera_proto::{ClientAuthMethod, GrantType};
use tessera_server::users::{NewUser, Username, ops};

pub const REDIRECT: &str = "https://app.example/callback";
pub const PASSWORD: &str = "correct horse battery";

/// Creates an enabled user with [`PASSWORD`]; returns the user id.
pub async fn create_user(app: &TestApp, username: &str) -> String {
    create_user_with_role(app, username, None).await
}

/// Creates an enabled user with [`PASSWORD`] and a console role; returns the user id.
pub async fn create_user_with_role(
    app: &TestApp,
    username: &str,
    role: Option<tessera_server::users::Role>,
) -> String {
    let u = ops::create(
        &app.state,
        NewUser {
            username: Username::parse(username).unwrap(),
            password: Some(SecretString::from(PASSWORD)),
            password_temporary: false,
            email: format!("{username}@example.com"),
            email_verified: true,
            display_name: format!("{} Example", username.to_uppercase()),
            enabled: None,
            role,
        },
    )
    .await
    .unwrap();
    u.id
}

/// Registers a client for the authorization code flow: public (`none`) or confidential (Basic),
/// with the refresh token grant, `openid profile email offline_access` and `core.accounting.read`.
pub async fn code_client(app: &TestApp, id: &str, public: bool) -> Option<String> {
    let mut spec = ClientSpec::new(id).scopes(
        &[
            "openid",
            "profile",
            "email",
            "offline_access",
            "core.accounting.read",
        ],
        &["core.accounting.read"],
    );
    spec.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    spec.redirect_uris = vec![REDIRECT.into(), "http://127.0.0.1/native".into()];
    if public {
        spec = spec.method(ClientAuthMethod::None);
    }
    let secret = app.register_client(spec).await;
    (!public).then_some(secret)
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = tessera_server::crypto::random_token("").unwrap();
    let challenge = tessera_server::oauth::pkce::s256(&verifier);
    (verifier, challenge)
}

/// A response as a browser sees it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The value of the (first) input named `name`.
    pub fn input(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&needle)? + needle.len();
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }

    /// The query parameters of the redirect.
    pub fn redirect_params(&self) -> HashMap<String, String> {
        let loc = self.location().expect("a redirect");
        let q = loc.split_once('?').map(|x| x.1).unwrap_or("");
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }
}

/// A browser without JavaScript: keeps cookies, does not follow redirects by itself.
pub struct UserAgent {
    pub base: String,
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
    /// Sent as `X-Forwarded-For`, to come from that address (with `http.trust_forwarded_for`).
    pub forwarded_for: Option<String>,
}

impl UserAgent {
    pub fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            forwarded_for: None,
        }
    }

    fn forwarded(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.forwarded_for {
            Some(a) => req.header("x-forwarded-for", a),
            None => req,
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_owned()
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        for c in headers.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let body = resp.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let resp = self
            .forwarded(self.http.get(self.absolute(url)))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let resp = self
            .forwarded(self.http.post(self.absolute(url)))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(tessera_proto::form::encode(form.iter().copied()))
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    /// Follows redirects within the server; stops at a page or at a redirect elsewhere.
    pub async fn follow(&mut self, mut page: Page) -> Page {
        for _ in 0..10 {
            match page.location() {
                Some(l) if l.starts_with('/') || l.starts_with(&self.base) => {
                    page = self.get(&l).await
                }
                _ => return page,
            }
        }
        page
    }

    /// Gets `url` and follows the server's redirects.
    pub async fn visit(&mut self, url: &str) -> Page {
        let p = self.get(url).await;
        self.follow(p).await
    }

    /// Fills in and submits the sign-in form shown in `page`; follows the redirects after it.
    pub async fn submit_login(&mut self, page: &Page, username: &str, password: &str) -> Page {
        assert!(
            page.body.contains("action=\"/login\""),
            "not the sign-in page: {}",
            page.body
        );
        let csrf = page.input("csrf").unwrap();
        let return_to = page.input("return_to").unwrap_or_default();
        let p = self
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("return_to", &return_to),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await;
        self.follow(p).await
    }

    /// Signs in at `/login` directly.
    pub async fn sign_in(&mut self, username: &str) -> Page {
        let p = self.get("/login").await;
        self.submit_login(&p, username, PASSWORD).await
    }

    /// Answers a consent page.
    pub async fn decide(&mut self, page: &Page, allow: bool) -> Page {
        assert!(
            page.body.contains("name=\"decision\""),
            "not a consent page: {}",
            page.body
        );
        let csrf = page.input("csrf").unwrap();
        let decision = if allow { "allow" } else { "deny" };
        if let Some(request) = page.input("request") {
            self.post(
                "/oauth2/authorize/consent",
                &[
                    ("csrf", &csrf),
                    ("request", &request),
                    ("decision", decision),
                ],
            )
            .await
        } else {
            let code = page.input("user_code").unwrap();
            self.post(
                "/device/approve",
                &[
                    ("csrf", &csrf),
                    ("user_code", &code),
                    ("decision", decision),
                ],
            )
            .await
        }
    }
}

/// The query string of an authorization request.
pub fn authorize_url(params: &[(&str, &str)]) -> String {
    format!(
        "/oauth2/authorize?{}",
        tessera_proto::form::encode(params.iter().copied())
    )
}

/// Runs the whole code flow for `username` (signing in and allowing when asked); returns the
/// final redirect's parameters.
pub async fn code_flow(
    ua: &mut UserAgent,
    username: &str,
    params: &[(&str, &str)],
) -> HashMap<String, String> {
    let mut page = ua.visit(&authorize_url(params)).await;
    if page.body.contains("action=\"/login\"") {
        page = ua.submit_login(&page, username, PASSWORD).await;
    }
    if page.body.contains("name=\"decision\"") {
        page = ua.decide(&page, true).await;
    }
    assert_eq!(
        page.status, 303,
        "expected the redirect to the client: {}",
        page.body
    );
    page.redirect_params()
}

/// Exchanges a code at the token endpoint (public client: `client_id` in the body).
pub async fn exchange(
    app: &TestApp,
    client_id: &str,
    secret: Option<&str>,
    code: &str,
    verifier: &str,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    if secret.is_none() {
        form.push(("client_id", client_id));
    }
    let r = app.token(&form, secret.map(|s| (client_id, s))).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Waits until the server's clock (whole seconds since the epoch, as lifetimes are counted)
/// reads at least `t`, polling it; fails the test when that takes 5 s longer than it should.
pub async fn wait_for_clock(t: i64) {
    let left = u64::try_from(t - tessera_server::model::now()).unwrap_or(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(left + 5);
    while tessera_server::model::now() < t {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock never reached {t}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Registers a resource server that may introspect any token; returns its secret.
pub async fn resource_server(app: &TestApp) -> String {
    app.register_client(
        ClientSpec::new("rs-introspect").scopes(&["tessera.tokens.introspect"], &[]),
    )
    .await
}

/// Introspects a token as the resource server of [`resource_server`]; returns `active`.
pub async fn is_active(app: &TestApp, rs_secret: &str, token: &str) -> bool {
    let r = app
        .form_post(
            "/oauth2/introspect",
            &[("token", token)],
            Some(("rs-introspect", rs_secret)),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    v["active"].as_bool().unwrap()
}
