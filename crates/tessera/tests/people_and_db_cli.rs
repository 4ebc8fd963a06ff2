//! `tessera user …` and `tessera db …` as an operator runs them: the real binary against a real
//! `tessera serve` process on 127.0.0.1:0, each in its own folder, and the effects observed where
//! they matter (the token endpoint, the sign-in and consent pages, the export file, a fresh
//! PostgreSQL database).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::Run;
use tokio::io::AsyncWriteExt as _;

const REDIRECT: &str = "https://app.example/callback";

/// A `tessera serve` process; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every `TESSERA_…` variable of the test's own environment is left out, so that only what a test
/// sets reaches the binary.
fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("TESSERA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env_remove("RUST_LOG");
}

/// Starts `tessera serve` in `dir` (data in `dir/tessera-data` unless `env` says otherwise) and
/// waits for the line that names the address it bound.
fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    clean_env(&mut cmd);
    cmd.arg("serve")
        .current_dir(dir)
        .env("TESSERA_LISTEN", "127.0.0.1:0")
        .env("TESSERA_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some((_, addr)) = support::serving(&line) {
                let _ = tx.send(Ok(addr.to_owned()));
            } else {
                seen.push_str(&line);
                seen.push('\n');
            }
        }
        let _ = tx.send(Err(seen));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(addr)) => Server {
            child,
            base: format!("http://{addr}"),
        },
        Ok(Err(stderr)) => panic!("tessera serve stopped before serving:\n{stderr}"),
        Err(_) => panic!("tessera serve did not start within 60 s"),
    }
}

/// Runs `tessera args…` in `dir` with `env`, writing `stdin` (closed at once when `None`).
async fn tessera(dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    clean_env(&mut cmd);
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = tokio::process::Command::from(cmd).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A server in a temporary folder, with the admin CLI pointed at it.
struct Installation {
    dir: tempfile::TempDir,
    server: Server,
    http: reqwest::Client,
}

impl Installation {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), &[]);
        Self {
            dir,
            server,
            http: reqwest::Client::new(),
        }
    }

    fn credentials(&self) -> PathBuf {
        self.dir.path().join("tessera-data/admin-credentials.json")
    }

    /// Runs an admin command (`tessera user …`, `tessera client …`) against this server.
    async fn admin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let creds = self.credentials();
        let mut all = args.to_vec();
        all.extend([
            "--server",
            &self.server.base,
            "--admin-credentials",
            creds.to_str().unwrap(),
        ]);
        tessera(self.dir.path(), &[], &all, stdin).await
    }

    /// Registers a confidential client through the CLI; returns its secret.
    async fn client(&self, id: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "client",
            "create",
            "--client-id",
            id,
            "--name",
            id,
            "--json",
        ];
        args.extend(extra);
        let out = self.admin(&args, None).await.success();
        let v: Value = serde_json::from_str(&out).unwrap();
        v["client_secret"].as_str().unwrap().to_owned()
    }

    /// A password grant for `username` through the client `legacy`.
    async fn password_grant(&self, secret: &str, username: &str, password: &str) -> (u16, Value) {
        token(
            &self.http,
            &self.server.base,
            Some(("legacy", secret)),
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }
}

async fn token(
    http: &reqwest::Client,
    base: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = http.post(format!("{base}/oauth2/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.header("authorization", tessera_proto::basic::encode(id, secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header(jwt: &str) -> Value {
    let h = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

#[track_caller]
fn assert_refused(r: &(u16, Value)) {
    assert_eq!(r.0, 400, "{}", r.1);
    assert_eq!(r.1["error"], "invalid_grant", "{}", r.1);
    assert!(r.1.get("access_token").is_none(), "{}", r.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_from_creation_to_deletion_change_who_can_sign_in() {
    let s = Installation::new();
    let legacy = s.client("legacy", &["--grant-type", "password"]).await;

    // Created with the password read from standard input; the id is the tokens' subject.
    let out = s
        .admin(
            &[
                "user",
                "create",
                "Alice",
                "--email",
                "alice@example.com",
                "--email-verified",
                "--name",
                "Alice Example",
            ],
            Some("first passphrase\n"),
        )
        .await
        .success();
    assert!(out.starts_with("Created user alice (usr_"), "{out}");
    let id = out
        .trim()
        .trim_start_matches("Created user alice (")
        .trim_end_matches(").")
        .to_owned();
    let r = s.password_grant(&legacy, "alice", "first passphrase").await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(claims(r.1["access_token"].as_str().unwrap())["sub"], id);
    assert_refused(&s.password_grant(&legacy, "alice", "wrong passphrase").await);

    // Without a password nobody signs in as bob; with nothing on standard input nothing is created.
    s.admin(&["user", "create", "bob", "--no-password"], None)
        .await
        .success();
    assert_refused(&s.password_grant(&legacy, "bob", "any passphrase").await);
    s.admin(&["user", "create", "carol"], None)
        .await
        .failure("no password on standard input");
    s.admin(&["user", "create", "carol"], Some("short\n"))
        .await
        .failure("HTTP 400");
    s.admin(&["user", "create", "ALICE"], Some("another passphrase\n"))
        .await
        .failure("HTTP 409");

    // The list shows who exists, never a password or its hash.
    let table = s.admin(&["user", "list"], None).await.success();
    let alice_row = table.lines().find(|l| l.starts_with("alice ")).unwrap();
    assert!(
        alice_row.contains(&id)
            && alice_row.contains(" yes ")
            && alice_row.contains("alice@example.com")
            && alice_row.contains("Alice Example"),
        "{table}"
    );
    assert!(table.lines().any(|l| l.starts_with("bob ")), "{table}");
    assert!(!table.contains("carol"), "{table}");
    let list: Value =
        serde_json::from_str(&s.admin(&["user", "list", "--json"], None).await.success()).unwrap();
    assert_eq!(list["users"].as_array().unwrap().len(), 2, "{list}");
    let text = list.to_string();
    assert!(
        !text.contains("first passphrase")
            && !text.contains("argon2")
            && !text.contains("password_hash"),
        "{text}"
    );
    let shown = s.admin(&["user", "show", &id], None).await.success();
    assert!(
        shown.contains("alice") && shown.contains("Alice Example"),
        "{shown}"
    );

    // Disabled: the right password no longer works; enabled again: it does.
    let out = s.admin(&["user", "disable", "alice"], None).await.success();
    assert!(out.contains("Disabled user alice"), "{out}");
    assert_refused(&s.password_grant(&legacy, "alice", "first passphrase").await);
    let v: Value = serde_json::from_str(
        &s.admin(&["user", "show", "alice", "--json"], None)
            .await
            .success(),
    )
    .unwrap();
    assert_eq!(v["enabled"], false);
    s.admin(&["user", "enable", "alice"], None).await.success();
    assert_eq!(
        s.password_grant(&legacy, "alice", "first passphrase")
            .await
            .0,
        200
    );

    // A new password replaces the old one at once.
    let out = s
        .admin(
            &["user", "set-password", "alice"],
            Some("second passphrase\n"),
        )
        .await
        .success();
    assert!(out.contains("Set the password of alice"), "{out}");
    assert_refused(&s.password_grant(&legacy, "alice", "first passphrase").await);
    let r = s
        .password_grant(&legacy, "alice", "second passphrase")
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    s.admin(&["user", "set-password", "alice"], None)
        .await
        .failure("no password on standard input");
    assert_eq!(
        s.password_grant(&legacy, "alice", "second passphrase")
            .await
            .0,
        200,
        "a failed set-password changes nothing"
    );

    // A temporary one: the password grant refuses it until alice chooses her own at the sign-in
    // page (crates/tessera-server/tests/api/temporary_password.rs follows that part).
    s.admin(
        &["user", "set-password", "alice", "--temporary"],
        Some("third passphrase\n"),
    )
    .await
    .success();
    let r = s.password_grant(&legacy, "alice", "third passphrase").await;
    assert_eq!(r.0, 400, "{}", r.1);
    assert!(
        r.1["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("temporary")),
        "{}",
        r.1
    );
    let shown = s.admin(&["user", "show", "alice"], None).await.success();
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("temporary") && l.ends_with("yes")),
        "{shown}"
    );

    // Removed: no password works.
    s.admin(&["user", "set-password", "alice", "--remove"], None)
        .await
        .success();
    assert_refused(
        &s.password_grant(&legacy, "alice", "second passphrase")
            .await,
    );

    // Deleted: gone from the list and from the API.
    let out = s.admin(&["user", "delete", "alice"], None).await.success();
    assert!(out.contains("Deleted user alice"), "{out}");
    s.admin(&["user", "show", "alice"], None)
        .await
        .failure("HTTP 404");
    let table = s.admin(&["user", "list"], None).await.success();
    assert!(!table.contains("alice"), "{table}");
    s.admin(&["user", "delete", "alice"], None)
        .await
        .failure("HTTP 404");
}

/// A browser without JavaScript: keeps cookies, follows the server's own redirects.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// A response as the browser sees it.
struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Page {
    /// The value of the first input named `name`, unescaped.
    fn input(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&needle)? + needle.len();
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }
}

/// Undoes HTML escaping: `&amp;`, `&quot;`, `&lt;`, `&gt;` and numeric references.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

impl Browser {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let resp = req.header("cookie", cookie).send().await.unwrap();
        for c in resp.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap_or(c);
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = resp.text().await.unwrap();
        let mut page = Page {
            status,
            location,
            body,
        };
        for _ in 0..10 {
            match page.location.clone() {
                Some(l) if l.starts_with('/') || l.starts_with(&self.base) => {
                    let url = if l.starts_with('/') {
                        format!("{}{l}", self.base)
                    } else {
                        l
                    };
                    page = Box::pin(self.send(self.http.get(url))).await;
                }
                _ => break,
            }
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// Starts an authorization request of the public client `spa`; returns the first page.
    async fn authorize(&mut self, challenge: &str) -> Page {
        let query = tessera_proto::form::encode([
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", REDIRECT),
            ("scope", "offline_access core.accounting.read"),
            ("state", "s1"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]);
        self.get(&format!("/oauth2/authorize?{query}")).await
    }

    async fn sign_in(&mut self, page: &Page, username: &str, password: &str) -> Page {
        assert!(
            page.body.contains("action=\"/login\""),
            "not the sign-in page ({}): {}",
            page.status,
            page.body
        );
        let csrf = page.input("csrf").unwrap();
        let return_to = page.input("return_to").unwrap_or_default();
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("return_to", &return_to),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    async fn allow(&mut self, page: &Page) -> Page {
        assert!(
            page.body.contains("name=\"decision\""),
            "not a consent page ({}): {}",
            page.status,
            page.body
        );
        let csrf = page.input("csrf").unwrap();
        let request = page.input("request").unwrap();
        self.post(
            "/oauth2/authorize/consent",
            &[
                ("csrf", &csrf),
                ("request", &request),
                ("decision", "allow"),
            ],
        )
        .await
    }
}

/// The `code` of a redirect to the client.
fn code_of(page: &Page) -> String {
    assert_eq!(
        page.status, 303,
        "expected the redirect to the client: {}",
        page.body
    );
    let location = page.location.clone().unwrap();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let params: HashMap<String, String> = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(params.get("state").map(String::as_str), Some("s1"));
    params["code"].clone()
}

fn pkce() -> (String, String) {
    let verifier = tessera_server::crypto::random_token("").unwrap();
    let challenge = tessera_server::oauth::pkce::s256(&verifier);
    (verifier, challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_roles_are_given_changed_and_taken_away() {
    let s = Installation::new();
    let out = s
        .admin(
            &["user", "create", "alice", "--role", "admin"],
            Some("first passphrase\n"),
        )
        .await
        .success();
    assert!(
        out.contains("Console role admin: they sign in at http://"),
        "{out}"
    );
    assert!(out.contains("/admin/"), "{out}");
    let show = s.admin(&["user", "show", "alice"], None).await.success();
    assert!(show.contains("console role     admin"), "{show}");
    // The last enabled admin keeps the role; with a second admin it can go.
    s.admin(&["user", "update", "alice", "--role", "viewer"], None)
        .await
        .failure("last enabled admin");
    s.admin(
        &["user", "create", "ada", "--role", "admin"],
        Some("second passphrase\n"),
    )
    .await
    .success();
    let out = s
        .admin(&["user", "update", "alice", "--role", "viewer"], None)
        .await
        .success();
    assert!(
        out.contains("Updated user alice; console role: viewer."),
        "{out}"
    );
    let v: Value = serde_json::from_str(
        &s.admin(&["user", "show", "alice", "--json"], None)
            .await
            .success(),
    )
    .unwrap();
    assert_eq!(v["role"], "viewer");
    // Unknown roles never reach the server; an update without a change is refused.
    s.admin(&["user", "update", "alice", "--role", "root"], None)
        .await
        .failure("invalid value 'root'");
    s.admin(&["user", "update", "alice"], None)
        .await
        .failure("nothing to change");
    let table = s.admin(&["user", "list"], None).await.success();
    assert!(table.contains("ROLE"), "{table}");
    assert!(table.contains("viewer"), "{table}");
    s.admin(&["user", "update", "alice", "--role", "none"], None)
        .await
        .success();
    let v: Value = serde_json::from_str(
        &s.admin(&["user", "show", "alice", "--json"], None)
            .await
            .success(),
    )
    .unwrap();
    assert_eq!(v["role"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consents_are_listed_and_withdrawn() {
    let s = Installation::new();
    s.admin(&["scope", "create", "core.accounting.read"], None)
        .await
        .success();
    // The admin API wants even the OpenID Connect scopes registered before a client may have them.
    s.admin(&["scope", "create", "offline_access"], None)
        .await
        .success();
    s.admin(
        &[
            "client",
            "create",
            "--client-id",
            "spa",
            "--name",
            "Single-page app",
            "--auth-method",
            "none",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "offline_access core.accounting.read",
        ],
        None,
    )
    .await
    .success();
    s.admin(&["user", "create", "otto"], Some("otto's passphrase\n"))
        .await
        .success();
    let table = s.admin(&["user", "consents", "otto"], None).await.success();
    assert_eq!(table.trim(), "CLIENT ID  GRANTED  SCOPES", "no consent yet");

    // Otto signs in, approves, and the client gets a refresh token.
    let mut browser = Browser::new(&s.server.base);
    let (verifier, challenge) = pkce();
    let login = browser.authorize(&challenge).await;
    let consent = browser.sign_in(&login, "otto", "otto's passphrase").await;
    let code = code_of(&browser.allow(&consent).await);
    let (status, t) = token(
        &s.http,
        &s.server.base,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", "spa"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let refresh = t["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    // The consent is listed, in the table and as JSON.
    let table = s.admin(&["user", "consents", "otto"], None).await.success();
    let row = table
        .lines()
        .find(|l| l.starts_with("spa "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("core.accounting.read") && row.contains("offline_access"),
        "{table}"
    );
    let v: Value = serde_json::from_str(
        &s.admin(&["user", "consents", "otto", "--json"], None)
            .await
            .success(),
    )
    .unwrap();
    assert_eq!(v["consents"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["consents"][0]["client_id"], "spa");

    // --client needs --revoke; withdrawing the consent revokes the refresh token it allowed.
    s.admin(&["user", "consents", "otto", "--client", "spa"], None)
        .await
        .failure("--revoke");
    let out = s
        .admin(
            &["user", "consents", "otto", "--revoke", "--client", "spa"],
            None,
        )
        .await
        .success();
    assert!(out.contains("Withdrew 1 consent(s) of otto"), "{out}");
    let table = s.admin(&["user", "consents", "otto"], None).await.success();
    assert!(!table.contains("spa"), "{table}");
    let (status, e) = token(
        &s.http,
        &s.server.base,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "spa"),
        ],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );

    // The next request asks again; withdrawing all consents works too.
    let (_, challenge) = pkce();
    let again = browser.authorize(&challenge).await;
    assert!(
        again.body.contains("name=\"decision\""),
        "consent asked again: {}",
        again.body
    );
    browser.allow(&again).await;
    let out = s
        .admin(&["user", "consents", "otto", "--revoke"], None)
        .await
        .success();
    assert!(out.contains("Withdrew 1 consent(s) of otto"), "{out}");

    // Disabling ends the session: the next request shows the sign-in page, and sign-in fails.
    s.admin(&["user", "disable", "otto"], None).await.success();
    let (_, challenge) = pkce();
    let login = browser.authorize(&challenge).await;
    let refused = browser.sign_in(&login, "otto", "otto's passphrase").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
}

/// An administrative connection to PostgreSQL through `psql`.
fn psql(admin_url: &str, sql: &str) {
    let out = Command::new("psql")
        .args([admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("psql is required: {e}"));
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh PostgreSQL database, dropped at the end.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(tag: &str) -> Self {
        let admin = std::env::var("TESSERA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("tessera_t_{tag}{}", std::process::id());
        psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        Self { admin, name, url }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                self.admin.as_str(),
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_from_sqlite_then_import_into_postgres_keeps_secrets_and_passwords() {
    // The old installation, on SQLite: a client, a password-grant client and a user.
    let old = Installation::new();
    old.admin(&["scope", "create", "core.accounting.read"], None)
        .await
        .success();
    let billing = old
        .client(
            "billing",
            &[
                "--scope",
                "core.accounting.read",
                "--default-scope",
                "core.accounting.read",
            ],
        )
        .await;
    let legacy = old.client("legacy", &["--grant-type", "password"]).await;
    old.admin(&["user", "create", "dave"], Some("dave's passphrase\n"))
        .await
        .success();
    let (status, t) = token(
        &old.http,
        &old.server.base,
        Some(("billing", &billing)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let old_kid = header(t["access_token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_secret: Value =
        serde_json::from_slice(&std::fs::read(old.credentials()).unwrap()).unwrap();
    let admin_secret = admin_secret["client_secret"].as_str().unwrap().to_owned();
    let Installation {
        dir: old_dir,
        server,
        http,
    } = old;
    drop(server);

    // The export: private to its owner, secrets only hashed, keys only encrypted.
    let export = old_dir.path().join("export.json");
    let out = tessera(
        old_dir.path(),
        &[],
        &["db", "export", "--output", export.to_str().unwrap()],
        None,
    )
    .await;
    assert!(
        out.stderr.contains("Exported 3 clients") && out.stderr.contains("export.json"),
        "{}",
        out.stderr
    );
    out.success();
    let mode = std::fs::metadata(&export).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "export mode {mode:o}");
    let text = std::fs::read_to_string(&export).unwrap();
    for secret in [&billing, &legacy, &admin_secret] {
        assert!(!text.contains(secret.as_str()), "a client secret in clear");
    }
    assert!(!text.contains("dave's passphrase"), "a password in clear");
    let master_key =
        std::fs::read_to_string(old_dir.path().join("tessera-data/master.key")).unwrap();
    assert!(
        !text.contains(master_key.trim()),
        "the master key in the export"
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], "tessera-export");
    let rows: Vec<&Value> = doc["client_secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["client_id"] == "billing")
        .collect();
    assert_eq!(rows.len(), 1, "{}", doc["client_secrets"]);
    assert!(rows[0]["hash"].as_str().is_some_and(|h| !h.is_empty()));
    let dave = doc["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "dave")
        .unwrap();
    assert!(
        dave["password_hash"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$"),
        "{dave}"
    );
    // Without --output the same document goes to standard output.
    let stdout = tessera(old_dir.path(), &[], &["db", "export"], None)
        .await
        .success();
    let again: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(again["clients"], doc["clients"]);

    // In a folder with no installation, export refuses rather than create an empty database.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = tessera(elsewhere.path(), &[], &["db", "export"], None).await;
    assert!(!out.ok, "{}", out.stdout);
    assert!(
        out.stderr.contains("there is no database at"),
        "{}",
        out.stderr
    );
    assert!(!elsewhere.path().join("tessera-data").exists());

    // The new installation, on a fresh PostgreSQL database, in another folder.
    let db = Database::create("dbimport");
    let new_dir = tempfile::tempdir().unwrap();
    let key_file = old_dir.path().join("tessera-data/master.key");
    let pg = [("TESSERA_DATABASE_URL", db.url.as_str())];
    let out = tessera(new_dir.path(), &pg, &["db", "migrate"], None)
        .await
        .stderr;
    assert!(
        out.contains("The postgres database is up to date."),
        "{out}"
    );
    // Without the master key, or with another one, nothing is imported.
    tessera(
        new_dir.path(),
        &pg,
        &["db", "import", export.to_str().unwrap()],
        None,
    )
    .await
    .failure("master key");
    assert!(
        !new_dir.path().join("tessera-data/master.key").exists(),
        "the import never creates a master key"
    );
    let other_key = URL_SAFE_NO_PAD.encode([7u8; 32]);
    tessera(
        new_dir.path(),
        &[pg[0], ("TESSERA_SECRETS_MASTER_KEY", other_key.as_str())],
        &["db", "import", export.to_str().unwrap()],
        None,
    )
    .await
    .failure("master key");
    let with_key = [
        pg[0],
        (
            "TESSERA_SECRETS_MASTER_KEY_FILE",
            key_file.to_str().unwrap(),
        ),
    ];
    let out = tessera(
        new_dir.path(),
        &with_key,
        &["db", "import", export.to_str().unwrap()],
        None,
    )
    .await;
    assert!(
        out.stderr.contains("Imported 3 clients") && out.stderr.contains("postgres database"),
        "{}",
        out.stderr
    );
    out.success();
    tessera(
        new_dir.path(),
        &with_key,
        &["db", "import", export.to_str().unwrap()],
        None,
    )
    .await
    .failure("not empty");

    // A server on that database honours the original secrets, keys and passwords.
    let server = start(new_dir.path(), &with_key);
    let base = server.base.clone();
    let (status, t) = token(
        &http,
        &base,
        Some(("billing", &billing)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let jwt = t["access_token"].as_str().unwrap();
    assert_eq!(claims(jwt)["scope"], "core.accounting.read");
    assert_eq!(
        header(jwt)["kid"],
        old_kid.as_str(),
        "the imported key signs"
    );
    let (status, e) = token(
        &http,
        &base,
        Some(("billing", "tsec_not-the-secret")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")));
    let (status, t) = token(
        &http,
        &base,
        Some(("legacy", &legacy)),
        &[
            ("grant_type", "password"),
            ("username", "dave"),
            ("password", "dave's passphrase"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert!(
        !new_dir
            .path()
            .join("tessera-data/admin-credentials.json")
            .exists(),
        "the imported admin client is not bootstrapped again"
    );
    // The old admin credential works against the new server.
    let creds = old_dir.path().join("tessera-data/admin-credentials.json");
    let list = tessera(
        new_dir.path(),
        &[],
        &[
            "user",
            "list",
            "--server",
            &base,
            "--admin-credentials",
            creds.to_str().unwrap(),
        ],
        None,
    )
    .await
    .success();
    assert!(list.lines().any(|l| l.starts_with("dave ")), "{list}");
    drop(server);
}
