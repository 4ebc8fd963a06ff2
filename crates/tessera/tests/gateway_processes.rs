//! The gateway end to end with real processes on loopback, as an operator runs it: a `tessera
//! serve` process (its own data folder, set up over HTTP with its bootstrap admin credential), a
//! `tessera gateway --config FILE` process in front of a small upstream API run by this test, and
//! requests through the gateway. Checked: the upstream gets a valid token for its audience (verified
//! against the server's JWKS with `tessera-guard`); no request fails across token expiry under steady
//! load; an upstream `401` is replayed once with a new token; inbound protection gives the RFC 6750
//! answers. Both processes stop with exit status 0 on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_guard::{Guard, GuardConfig};
use tokio::time::Instant;

/// The audience of the upstream API behind the gateway.
const UPSTREAM_AUD: &str = "https://upstream.example/";
/// The audience inbound callers need on the guarded route.
const GATEWAY_AUD: &str = "https://gateway.example/";
/// Another API's audience.
const OTHER_AUD: &str = "https://other.example/";
/// The scope the gateway asks for the upstream.
const UPSTREAM_SCOPE: &str = "upstream.items.read";
/// The scope the guarded route requires of inbound callers.
const CALL_SCOPE: &str = "gateway.items.call";
/// Longest wait for anything that should happen (a start, an exit, a metric).
const PATIENCE: Duration = Duration::from_secs(60);

/// A child process, its output kept for failure messages; killed when dropped.
struct Proc {
    name: &'static str,
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Proc {
    /// Spawns `cmd` and waits for the line (stdout or stderr) that `ready` recognises.
    fn spawn(
        name: &'static str,
        cmd: &mut Command,
        ready: fn(&str) -> Option<String>,
    ) -> (Self, String) {
        for (k, _) in std::env::vars() {
            if k.starts_with("TESSERA_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().unwrap());
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [out, err] {
            let (log, tx) = (Arc::clone(&log), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(found) = ready(&line) {
                        let _ = tx.send(found);
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let mut p = Self { name, child, log };
        match rx.recv_timeout(PATIENCE) {
            Ok(found) => (p, found),
            Err(_) => {
                let _ = p.child.kill();
                let _ = p.child.wait();
                panic!("{name} did not start:\n{}", p.log());
            }
        }
    }

    fn log(&self) -> String {
        format!("--- {} output ---\n{}", self.name, self.log.lock().unwrap())
    }

    /// SIGTERM, then the exit status must be 0 within the deadline.
    async fn terminate(mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let end = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < end,
                "{} did not exit on SIGTERM\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(
            status.success(),
            "{} exited with {status}\n{}",
            self.name,
            self.log()
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it is true; fails after `PATIENCE`.
async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let end = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A `tessera serve` process and an admin token for its admin API.
struct Server {
    proc: Proc,
    base: String,
    issuer: String,
    admin: String,
    http: reqwest::Client,
}

impl Server {
    async fn start(dir: &Path) -> Self {
        let (proc, line) = Proc::spawn(
            "tessera serve",
            Command::new(env!("CARGO_BIN_EXE_tessera"))
                .arg("serve")
                .current_dir(dir)
                .env("TESSERA_LISTEN", "127.0.0.1:0")
                .env("TESSERA_LOG_LEVEL", "warn"),
            |l| support::serving(l).map(|_| l.to_owned()),
        );
        let (issuer, addr) = support::serving(&line).unwrap();
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();
        let creds: Value = serde_json::from_slice(
            &std::fs::read(dir.join("tessera-data/admin-credentials.json")).unwrap(),
        )
        .unwrap();
        let (status, body) = token_request(
            &http,
            &base,
            creds["client_id"].as_str().unwrap(),
            creds["client_secret"].as_str().unwrap(),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        Self {
            proc,
            base,
            issuer: issuer.to_owned(),
            admin: body["access_token"].as_str().unwrap().to_owned(),
            http,
        }
    }

    /// `POST /admin/api/v1/{what}` must answer 201; returns the answer.
    async fn create(&self, what: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/admin/api/v1/{what}", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let answer: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "creating {what}: {answer}");
        answer
    }

    /// Creates the test's scopes.
    async fn scopes(&self) {
        for name in [UPSTREAM_SCOPE, CALL_SCOPE, "gateway.items.other"] {
            self.create("scopes", json!({"name": name, "description": name}))
                .await;
        }
    }

    /// Creates a client-credentials client; returns its secret.
    async fn client(&self, id: &str, scopes: &[&str], audiences: &[&str], extra: Value) -> String {
        let mut body = json!({
            "client_id": id,
            "name": id,
            "allowed_scopes": scopes,
            "audiences": audiences,
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let answer = self.create("clients", body).await;
        answer["client_secret"].as_str().unwrap().to_owned()
    }

    /// A token from the token endpoint; it must be granted.
    async fn token(&self, id: &str, secret: &str, params: &[(&str, &str)]) -> String {
        let (status, body) = token_request(&self.http, &self.base, id, secret, params).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A guard for `audience` over the server's JWKS (found by discovery).
    async fn guard(&self, audience: &str, leeway: Duration) -> Guard {
        Guard::connect(
            GuardConfig::new(self.issuer.clone())
                .audience(audience)
                .leeway(leeway),
        )
        .await
        .unwrap()
    }
}

/// A client credentials request; the status and the JSON answer.
async fn token_request(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
    params: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(params);
    let r = http
        .post(format!("{base}/oauth2/token"))
        .header("authorization", tessera_proto::basic::encode(id, secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The upstream API: records the `Authorization` of every request, answers `401` with an
/// `invalid_token` challenge when told to (once), checks tokens with its guard when it has one
/// (counting refusals), and otherwise answers `200 upstream ok`.
#[derive(Clone, Default)]
struct Upstream {
    seen: Arc<Mutex<Vec<String>>>,
    refuse_next: Arc<AtomicBool>,
    refused: Arc<Mutex<Vec<String>>>,
    guard: Option<Guard>,
}

impl Upstream {
    async fn start(guard: Option<Guard>) -> (Self, SocketAddr) {
        let up = Self {
            guard,
            ..Default::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(Self::handle)
            .with_state(up.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (up, addr)
    }

    async fn handle(State(up): State<Self>, headers: HeaderMap) -> Response {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        up.seen.lock().unwrap().push(auth.clone());
        let challenge = [(header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#)];
        if up.refuse_next.swap(false, Ordering::SeqCst) {
            return (StatusCode::UNAUTHORIZED, challenge).into_response();
        }
        if let Some(g) = &up.guard {
            let token = auth.strip_prefix("Bearer ").unwrap_or("");
            if let Err(e) = g.verify(token).await {
                up.refused.lock().unwrap().push(e.to_string());
                return (StatusCode::UNAUTHORIZED, challenge).into_response();
            }
        }
        "upstream ok".into_response()
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// The bearer tokens received, without repeats, in order of arrival.
    fn distinct_tokens(&self) -> Vec<String> {
        let mut set = HashSet::new();
        self.seen()
            .into_iter()
            .filter_map(|a| a.strip_prefix("Bearer ").map(str::to_owned))
            .filter(|t| set.insert(t.clone()))
            .collect()
    }
}

/// A `tessera gateway` process and its address.
struct Gateway {
    proc: Proc,
    addr: SocketAddr,
    http: reqwest::Client,
}

impl Gateway {
    /// Writes the secrets and `gateway.toml` (the `[gateway]` table, then `body`) and starts the
    /// gateway; waits until `/readyz` says every upstream has its token.
    async fn start(dir: &Path, secrets: &[(&str, &str)], body: &str) -> Self {
        for (name, secret) in secrets {
            std::fs::write(dir.join(format!("{name}.secret")), secret).unwrap();
        }
        let path = dir.join("gateway.toml");
        std::fs::write(
            &path,
            format!("[gateway]\nlisten = \"127.0.0.1:0\"\n\n{body}"),
        )
        .unwrap();
        let (proc, addr) = Proc::spawn(
            "tessera gateway",
            Command::new(env!("CARGO_BIN_EXE_tessera"))
                .args(["gateway", "--config"])
                .arg(&path),
            |l| {
                l.strip_prefix("tessera gateway listening on http://")
                    .map(|a| a.trim().to_owned())
            },
        );
        let gw = Self {
            proc,
            addr: addr.parse().unwrap(),
            http: reqwest::Client::new(),
        };
        wait_until("/readyz 200", async || {
            gw.get("/readyz", None).await.status() == 200
        })
        .await;
        gw
    }

    async fn get(&self, path: &str, bearer: Option<&str>) -> reqwest::Response {
        let mut r = self.http.get(format!("http://{}{path}", self.addr));
        if let Some(t) = bearer {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    /// The value of one sample of `/metrics` (the full line up to the value), 0 when absent.
    async fn metric(&self, sample: &str) -> u64 {
        let text = self.get("/metrics", None).await.text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0)
    }
}

/// An `[upstreams.items]` with an `oauth2` block for client `id` (secret in `dir/id.secret`),
/// found through the server's discovery, asking for `UPSTREAM_SCOPE` and `UPSTREAM_AUD`.
fn upstream_toml(upstream: SocketAddr, issuer: &str, dir: &Path, id: &str) -> String {
    let secret = dir.join(format!("{id}.secret"));
    format!(
        r#"
[upstreams.items]
url = "http://{upstream}"

[upstreams.items.oauth2]
issuer = "{issuer}"
client_id = "{id}"
client_secret = {{ file = "{}" }}
scope = "{UPSTREAM_SCOPE}"
audience = "{UPSTREAM_AUD}"
retries = 1
"#,
        secret.display()
    )
}

/// A route `name` for `/name`, to `upstream`.
fn route_toml(name: &str) -> String {
    format!("\n[[routes]]\nname = \"{name}\"\npath_prefix = \"/{name}\"\nupstream = \"items\"\n")
}

/// Everything but the gateway: a server with the scopes, the gateway's client `gw` (made with
/// `extra` settings) and a guarded upstream for `UPSTREAM_AUD`.
struct World {
    server: Server,
    upstream: Upstream,
    upstream_addr: SocketAddr,
    gw_secret: String,
    dir: tempfile::TempDir,
}

impl World {
    async fn start(gw_extra: Value, upstream_leeway: Duration) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path()).await;
        server.scopes().await;
        // Two audiences: the gateway's `audience` parameter picks the upstream's.
        let gw_secret = server
            .client(
                "gw",
                &[UPSTREAM_SCOPE],
                &[OTHER_AUD, UPSTREAM_AUD],
                gw_extra,
            )
            .await;
        let guard = server.guard(UPSTREAM_AUD, upstream_leeway).await;
        let (upstream, upstream_addr) = Upstream::start(Some(guard)).await;
        Self {
            server,
            upstream,
            upstream_addr,
            gw_secret,
            dir,
        }
    }

    async fn gateway(&self, routes: &str) -> Gateway {
        let body = upstream_toml(
            self.upstream_addr,
            &self.server.issuer,
            self.dir.path(),
            "gw",
        ) + routes;
        Gateway::start(self.dir.path(), &[("gw", &self.gw_secret)], &body).await
    }

    /// Stops the gateway, then the server: both exit 0 on SIGTERM.
    async fn stop(self, gateway: Gateway) {
        gateway.proc.terminate().await;
        self.server.proc.terminate().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_receives_a_valid_token_for_its_audience() {
    let world = World::start(json!({}), Duration::ZERO).await;
    let gw = world.gateway(&route_toml("items")).await;

    // The caller's own Authorization is replaced by the gateway's token.
    let r = gw.get("/items/1", Some("caller-credential")).await;
    assert_eq!(
        r.status(),
        200,
        "{}",
        world.server.proc.log() + &gw.proc.log()
    );
    assert_eq!(r.text().await.unwrap(), "upstream ok");
    let seen = world.upstream.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(world.upstream.refused.lock().unwrap().is_empty());
    let token = seen[0].strip_prefix("Bearer ").unwrap();

    // Verified against the server's JWKS, as the upstream's guard did.
    let verified = world
        .server
        .guard(UPSTREAM_AUD, Duration::ZERO)
        .await
        .verify(token)
        .await
        .unwrap();
    assert_eq!(verified.issuer(), Some(world.server.issuer.as_str()));
    assert_eq!(verified.audience(), [UPSTREAM_AUD]);
    assert_eq!(verified.scopes().to_string(), UPSTREAM_SCOPE);
    assert_eq!(verified.client_id(), Some("gw"));
    // Not a token for the client's other audience.
    let other = world.server.guard(OTHER_AUD, Duration::ZERO).await;
    assert!(other.verify(token).await.is_err());

    // The next request reuses the cached token: one fetch.
    assert_eq!(gw.get("/items/2", None).await.status(), 200);
    assert_eq!(world.upstream.distinct_tokens(), [token]);
    assert_eq!(
        gw.metric(r#"tessera_gateway_token_fetches_total{route="items",outcome="ok"}"#)
            .await,
        1
    );
    assert!(!gw.proc.log().contains(token), "the token was logged");
    assert!(
        !gw.proc.log().contains(&world.gw_secret),
        "the secret was logged"
    );
    world.stop(gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_fails_across_token_expiry_under_steady_load() {
    const LIFETIME: Duration = Duration::from_secs(3);
    // The upstream allows 1 s of leeway: the server counts `exp` in whole seconds.
    let world = World::start(
        json!({"access_token_lifetime": LIFETIME.as_secs()}),
        Duration::from_secs(1),
    )
    .await;
    let gw = Arc::new(world.gateway(&route_toml("steady")).await);

    // Four callers for more than two lifetimes.
    let start = Instant::now();
    let run_for = 2 * LIFETIME + Duration::from_millis(500);
    let sent = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut callers = Vec::new();
    for _ in 0..4 {
        let (gw, sent, failures) = (Arc::clone(&gw), Arc::clone(&sent), Arc::clone(&failures));
        callers.push(tokio::spawn(async move {
            // Steady, not flat out: one request per caller every 5 ms at most.
            let mut pace = tokio::time::interval(Duration::from_millis(5));
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while start.elapsed() < run_for {
                pace.tick().await;
                sent.fetch_add(1, Ordering::SeqCst);
                match gw
                    .http
                    .get(format!("http://{}/steady/x", gw.addr))
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => failures
                        .lock()
                        .unwrap()
                        .push(format!("status {}", r.status())),
                    Err(e) => failures.lock().unwrap().push(e.to_string()),
                }
            }
        }));
    }
    for c in callers {
        c.await.unwrap();
    }
    let sent = sent.load(Ordering::SeqCst);
    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {failures:?}",
        failures.len()
    );
    assert!(
        world.upstream.refused.lock().unwrap().is_empty(),
        "the upstream refused tokens: {:?}",
        world.upstream.refused.lock().unwrap()
    );
    assert_eq!(
        world.upstream.seen().len(),
        sent,
        "each request reached the upstream once"
    );

    // A token lives 3 s: covering 6.5 s of requests took at least three of them, each fetched
    // once and put in use by the gateway before the previous one expired.
    let tokens = world.upstream.distinct_tokens();
    eprintln!("{sent} requests, {} tokens", tokens.len());
    assert!(tokens.len() >= 3, "{} tokens", tokens.len());
    assert_eq!(
        gw.metric(r#"tessera_gateway_token_fetches_total{route="steady",outcome="ok"}"#)
            .await,
        tokens.len() as u64
    );
    assert_eq!(
        gw.metric(r#"tessera_gateway_requests_total{route="steady",status="200"}"#)
            .await,
        sent as u64
    );
    assert_eq!(
        gw.metric(r#"tessera_gateway_retries_total{route="steady"}"#)
            .await,
        0
    );
    let gw = Arc::into_inner(gw).unwrap();
    world.stop(gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_401_is_replayed_once_with_a_new_token() {
    let world = World::start(json!({}), Duration::ZERO).await;
    let gw = world.gateway(&route_toml("items")).await;
    assert_eq!(gw.get("/items/warm", None).await.status(), 200);
    let first = world.upstream.distinct_tokens();
    assert_eq!(first.len(), 1);

    world.upstream.refuse_next.store(true, Ordering::SeqCst);
    let r = gw.get("/items/once", None).await;
    assert_eq!(r.status(), 200, "{}", gw.proc.log());
    assert_eq!(r.text().await.unwrap(), "upstream ok");
    // The refused token, then a new one: exactly one replay.
    let seen = world.upstream.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[1], format!("Bearer {}", first[0]));
    assert_ne!(seen[2], seen[1]);
    assert!(world.upstream.refused.lock().unwrap().is_empty());
    assert_eq!(
        gw.metric(r#"tessera_gateway_retries_total{route="items"}"#)
            .await,
        1
    );
    assert_eq!(
        gw.metric(r#"tessera_gateway_token_fetches_total{route="items",outcome="ok"}"#)
            .await,
        2
    );

    // The new token is the cached one now.
    assert_eq!(gw.get("/items/after", None).await.status(), 200);
    assert_eq!(world.upstream.seen()[3], seen[2]);
    assert_eq!(
        gw.metric(r#"tessera_gateway_retries_total{route="items"}"#)
            .await,
        1
    );
    world.stop(gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_protection_answers_as_rfc_6750_says() {
    let world = World::start(json!({}), Duration::ZERO).await;
    let s = &world.server;
    let caller = s
        .client("caller", &[CALL_SCOPE], &[GATEWAY_AUD], json!({}))
        .await;
    let elsewhere = s
        .client("elsewhere", &[CALL_SCOPE], &[OTHER_AUD], json!({}))
        .await;
    let unscoped = s
        .client(
            "unscoped",
            &["gateway.items.other"],
            &[GATEWAY_AUD],
            json!({}),
        )
        .await;
    let good = s.token("caller", &caller, &[("scope", CALL_SCOPE)]).await;
    let other_aud = s
        .token("elsewhere", &elsewhere, &[("scope", CALL_SCOPE)])
        .await;
    let no_scope = s
        .token("unscoped", &unscoped, &[("scope", "gateway.items.other")])
        .await;
    let routes = route_toml("guarded")
        + &format!(
            "\n[routes.guard]\nissuer = \"{}\"\naudiences = \"{GATEWAY_AUD}\"\nscopes = \"{CALL_SCOPE}\"\n",
            s.issuer
        );
    let gw = world.gateway(&routes).await;
    let challenge = |r: &reqwest::Response| {
        r.headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };

    // No token: 401 with a challenge naming the realm and no error code.
    let r = gw.get("/guarded/x", None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(challenge(&r), format!("Bearer realm=\"{GATEWAY_AUD}\""));

    // A token for another audience: 401 invalid_token.
    let r = gw.get("/guarded/x", Some(&other_aud)).await;
    assert_eq!(r.status(), 401);
    let c = challenge(&r);
    assert!(
        c.starts_with(&format!(
            "Bearer realm=\"{GATEWAY_AUD}\", error=\"invalid_token\", error_description=\""
        )),
        "{c}"
    );
    assert!(!c.contains("scope="), "{c}");

    // A token without the route's scope: 403 insufficient_scope naming the scope.
    let r = gw.get("/guarded/x", Some(&no_scope)).await;
    assert_eq!(r.status(), 403);
    let c = challenge(&r);
    assert!(
        c.starts_with(&format!(
            "Bearer realm=\"{GATEWAY_AUD}\", error=\"insufficient_scope\", "
        )),
        "{c}"
    );
    assert!(c.ends_with(&format!("scope=\"{CALL_SCOPE}\"")), "{c}");

    // Refused requests never reached the upstream.
    assert!(world.upstream.seen().is_empty());

    // A good token: 200, and the upstream got the gateway's token, not the caller's.
    let r = gw.get("/guarded/x", Some(&good)).await;
    assert_eq!(r.status(), 200, "{}", gw.proc.log());
    assert!(challenge(&r).is_empty());
    assert_eq!(r.text().await.unwrap(), "upstream ok");
    let seen = world.upstream.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_ne!(seen[0], format!("Bearer {good}"));
    assert!(world.upstream.refused.lock().unwrap().is_empty());

    for (error, n) in [
        ("missing_token", 1),
        ("invalid_token", 1),
        ("insufficient_scope", 1),
    ] {
        assert_eq!(
            gw.metric(&format!(
                r#"tessera_gateway_guard_rejections_total{{route="guarded",error="{error}"}}"#
            ))
            .await,
            n,
            "{error}"
        );
    }
    world.stop(gw).await;
}
