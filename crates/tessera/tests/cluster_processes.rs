//! Two `tessera serve` processes on one PostgreSQL database behave as one server: changes made
//! through instance A's admin API over HTTP are honoured by instance B within one second, a token
//! revoked through A is inactive at B at once, and both publish the same JWKS.
//!
//! Needs PostgreSQL (`TESSERA_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`):
//! without it the test fails, it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The issuer both instances are configured with: one server, whatever port each is bound to.
const ISSUER: &str = "https://auth.cluster.test";

/// The most a change made through A may take to be honoured by B.
const PROPAGATION: Duration = Duration::from_secs(1);

/// Creates an empty database on the server named by `TESSERA_TEST_POSTGRES_URL`; returns its URL.
async fn fresh_database() -> String {
    use sqlx::Connection as _;
    let admin = std::env::var("TESSERA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required for this test and is not reachable at {admin}: {e}. Start it, or set TESSERA_TEST_POSTGRES_URL.")
    });
    let name = format!(
        "tessera_t_{}",
        tessera_server::crypto::random_id("")
            .unwrap()
            .to_lowercase()
            .replace(['-', '_'], "")
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
    format!("{base}/{name}")
}

/// A fresh master key, 32 random bytes in base64url, as `secrets.master_key` takes it.
fn master_key() -> String {
    let mut raw = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut raw)
        .unwrap();
    URL_SAFE_NO_PAD.encode(raw)
}

/// One `tessera serve` child process with its own data directory.
struct Instance {
    name: &'static str,
    child: Child,
    base: String,
    data_dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    /// Starts `tessera serve` on 127.0.0.1:0 and waits until it says where it is serving.
    fn start(name: &'static str, dir: &Path, database_url: &str, master_key: &str) -> Self {
        let data_dir = dir.join(name);
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("serve")
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .env_remove("TESSERA_CONFIG")
            .env("TESSERA_LISTEN", "127.0.0.1:0")
            .env("TESSERA_LOG_LEVEL", "warn")
            .env("TESSERA_DATA_DIR", &data_dir)
            .env("TESSERA_DATABASE_URL", database_url)
            // What every instance of one server must share (docs/scaling.md).
            .env("TESSERA_ISSUER", ISSUER)
            .env("TESSERA_SECRETS_MASTER_KEY", master_key)
            // The test polls with credentials that fail until a change arrives: the (per instance)
            // limit on failed authentication, tested on its own, must not answer 429 instead.
            .env(
                "TESSERA_RATE_LIMIT_FAILED_AUTH_PER_CLIENT_PER_MINUTE",
                "100000",
            )
            .env(
                "TESSERA_RATE_LIMIT_FAILED_AUTH_PER_ADDRESS_PER_MINUTE",
                "100000",
            )
            // The periodic full re-read is only the safety net: propagation must not rely on it.
            .env("TESSERA_CLUSTER_FULL_RELOAD_SECS", "3600")
            .env("TESSERA_KEYS_RELOAD_INTERVAL_SECS", "3600")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some((_, addr)) = support::serving(&line) {
                        let _ = tx.send(addr.to_owned());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let Ok(addr) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "instance {name} did not start:\n{}",
                log.lock().unwrap().join("\n")
            );
        };
        Self {
            name,
            child,
            base: format!("http://{addr}"),
            data_dir,
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the instance has written to stderr so far, for failure messages.
    fn log(&self) -> String {
        format!(
            "--- instance {} ({}) stderr ---\n{}",
            self.name,
            self.base,
            self.log.lock().unwrap().join("\n")
        )
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The token endpoint's answer to a client-credentials request: status and `error` (if any).
async fn token(http: &reqwest::Client, at: &Instance, id: &str, secret: &str) -> (u16, Value) {
    let r = http
        .post(at.url("/oauth2/token"))
        .header("authorization", tessera_proto::basic::encode(id, secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn usable(http: &reqwest::Client, at: &Instance, id: &str, secret: &str) -> bool {
    token(http, at, id, secret).await.0 == 200
}

/// Refused as RFC 6749 §5.2 says: 401 `invalid_client`.
async fn refused(http: &reqwest::Client, at: &Instance, id: &str, secret: &str) -> bool {
    let (status, body) = token(http, at, id, secret).await;
    status == 401 && body["error"] == "invalid_client"
}

/// Polls `f` until it is true; fails after `limit`, counted from `since` (the moment the change
/// was acknowledged), with both instances' logs.
async fn within(
    since: Instant,
    limit: Duration,
    what: &str,
    logs: &[&Instance],
    mut f: impl AsyncFnMut() -> bool,
) {
    loop {
        if f().await {
            eprintln!("{what}: after {:?}", since.elapsed());
            return;
        }
        if since.elapsed() > limit {
            let logs: Vec<String> = logs.iter().map(|i| i.log()).collect();
            panic!("not within {limit:?}: {what}\n{}", logs.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A bearer token for the bootstrap admin client, whose credential file instance `a` wrote.
async fn admin_token(http: &reqwest::Client, a: &Instance) -> String {
    let file = a.data_dir.join("admin-credentials.json");
    let creds: Value = serde_json::from_slice(&std::fs::read(&file).unwrap_or_else(|e| {
        panic!(
            "the first instance writes {}: {e}\n{}",
            file.display(),
            a.log()
        )
    }))
    .unwrap();
    assert_eq!(creds["issuer"], ISSUER);
    let (status, body) = token(
        http,
        a,
        creds["client_id"].as_str().unwrap(),
        creds["client_secret"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200, "admin token: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// One admin API call; returns the status and the JSON body (null when there is none).
async fn admin(
    http: &reqwest::Client,
    at: &Instance,
    bearer: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http
        .request(method, at.url(&format!("/admin/api/v1{path}")))
        .bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn introspect(
    http: &reqwest::Client,
    at: &Instance,
    id: &str,
    secret: &str,
    token: &str,
) -> Value {
    let r = http
        .post(at.url("/oauth2/introspect"))
        .header("authorization", tessera_proto::basic::encode(id, secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn jwks(http: &reqwest::Client, at: &Instance) -> Value {
    let r = http.get(at.url("/oauth2/jwks")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn kids(jwks: &Value) -> Vec<String> {
    let mut out: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

/// Starts A, then B (A creates the keys and the bootstrap admin client), on one fresh database
/// with one master key and one issuer.
async fn two_instances(dir: &Path) -> (Instance, Instance) {
    let url = fresh_database().await;
    let key = master_key();
    let a = Instance::start("a", dir, &url, &key);
    let b = Instance::start("b", dir, &url, &key);
    assert_ne!(a.base, b.base);
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_through_one_process_are_honoured_by_the_other_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_instances(dir.path()).await;
    let both = [&a, &b];
    let http = reqwest::Client::new();
    let bearer = admin_token(&http, &a).await;
    use reqwest::Method;

    // Unknown at B before it exists.
    assert!(refused(&http, &b, "shared", "nothing-yet").await);

    // Created through A: usable at B.
    let (status, created) = admin(
        &http,
        &a,
        &bearer,
        Method::POST,
        "/clients",
        Some(json!({"client_id": "shared", "name": "shared"})),
    )
    .await;
    let since = Instant::now();
    assert_eq!(status, 201, "create: {created}");
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    within(
        since,
        PROPAGATION,
        "created client usable at B",
        &both,
        async || usable(&http, &b, "shared", &secret).await,
    )
    .await;

    // Disabled through A: refused at B.
    let (status, body) = admin(
        &http,
        &a,
        &bearer,
        Method::POST,
        "/clients/shared/disable",
        None,
    )
    .await;
    let since = Instant::now();
    assert_eq!(status, 200, "disable: {body}");
    assert_eq!(body["enabled"], false);
    within(
        since,
        PROPAGATION,
        "disabled client refused at B",
        &both,
        async || refused(&http, &b, "shared", &secret).await,
    )
    .await;
    assert!(refused(&http, &a, "shared", &secret).await);

    // Enabled again through A: usable at B.
    let (status, body) = admin(
        &http,
        &a,
        &bearer,
        Method::POST,
        "/clients/shared/enable",
        None,
    )
    .await;
    let since = Instant::now();
    assert_eq!(status, 200, "enable: {body}");
    within(
        since,
        PROPAGATION,
        "re-enabled client usable at B",
        &both,
        async || usable(&http, &b, "shared", &secret).await,
    )
    .await;

    // A new secret through A (no grace period): at B the new one works, the old one is refused.
    let (status, body) = admin(
        &http,
        &a,
        &bearer,
        Method::POST,
        "/clients/shared/secret",
        Some(json!({})),
    )
    .await;
    let since = Instant::now();
    assert_eq!(status, 200, "rotate secret: {body}");
    let new_secret = body["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    within(
        since,
        PROPAGATION,
        "new secret works and old secret refused at B",
        &both,
        async || {
            usable(&http, &b, "shared", &new_secret).await
                && refused(&http, &b, "shared", &secret).await
        },
    )
    .await;

    // Tokens revoked through A are inactive at B at once: a JWT and an opaque token.
    let (status, body) = admin(
        &http,
        &a,
        &bearer,
        Method::POST,
        "/clients",
        Some(json!({"client_id": "shared-opaque", "name": "opaque", "access_token_format": "opaque"})),
    )
    .await;
    assert_eq!(status, 201, "create opaque client: {body}");
    let opaque_secret = body["client_secret"].as_str().unwrap().to_owned();
    for (id, secret) in [
        ("shared", new_secret.as_str()),
        ("shared-opaque", opaque_secret.as_str()),
    ] {
        let (status, body) = token(&http, &a, id, secret).await;
        assert_eq!(status, 200, "token from A for {id}: {body}");
        let t = body["access_token"].as_str().unwrap().to_owned();
        // Issued by A, known to B before the revocation: the check below means something.
        let before = introspect(&http, &b, id, secret, &t).await;
        assert_eq!(
            before["active"], true,
            "{id}'s token at B before revocation"
        );
        let r = http
            .post(a.url("/oauth2/revoke"))
            .header("authorization", tessera_proto::basic::encode(id, secret))
            .form(&[("token", t.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "revoke {id}'s token at A");
        let after = introspect(&http, &b, id, secret, &t).await;
        assert_eq!(
            after,
            json!({"active": false}),
            "{id}'s token revoked through A must be inactive at B at once"
        );
    }

    // Deleted through A: refused at B.
    let (status, body) = admin(&http, &a, &bearer, Method::DELETE, "/clients/shared", None).await;
    let since = Instant::now();
    assert_eq!(status, 204, "delete: {body}");
    within(
        since,
        PROPAGATION,
        "deleted client refused at B",
        &both,
        async || refused(&http, &b, "shared", &new_secret).await,
    )
    .await;
    let (status, _) = admin(&http, &b, &bearer, Method::GET, "/clients/shared", None).await;
    assert_eq!(
        status, 404,
        "B's admin API no longer shows the deleted client"
    );

    // And the other way round: created through B, usable at A.
    let (status, body) = admin(
        &http,
        &b,
        &bearer,
        Method::POST,
        "/clients",
        Some(json!({"client_id": "from-b", "name": "from b"})),
    )
    .await;
    let since = Instant::now();
    assert_eq!(status, 201, "create through B: {body}");
    let from_b = body["client_secret"].as_str().unwrap().to_owned();
    within(
        since,
        PROPAGATION,
        "client created at B usable at A",
        &both,
        async || usable(&http, &a, "from-b", &from_b).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_processes_publish_the_same_jwks_and_follow_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_instances(dir.path()).await;
    let both = [&a, &b];
    let http = reqwest::Client::new();
    let first = jwks(&http, &a).await;
    assert!(!kids(&first).is_empty(), "A publishes keys: {first}");
    assert_eq!(
        first,
        jwks(&http, &b).await,
        "the JWKS differs between A and B"
    );

    // Tokens signed at B verify against A's JWKS: one key set for one server.
    let bearer = admin_token(&http, &a).await;
    let (status, body) = admin(
        &http,
        &a,
        &bearer,
        reqwest::Method::POST,
        "/clients",
        Some(json!({"client_id": "jwt", "name": "jwt"})),
    )
    .await;
    assert_eq!(status, 201, "create: {body}");
    let secret = body["client_secret"].as_str().unwrap().to_owned();
    let since = Instant::now();
    within(
        since,
        PROPAGATION,
        "client usable at B",
        &both,
        async || usable(&http, &b, "jwt", &secret).await,
    )
    .await;
    let (_, t) = token(&http, &b, "jwt", &secret).await;
    let jwt = t["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(
        kids(&first).contains(&header["kid"].as_str().unwrap().to_owned()),
        "B signs with a key A publishes: {header}"
    );
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], ISSUER);

    // A rotation through A's admin API is published by B too.
    let (status, body) = admin(
        &http,
        &a,
        &bearer,
        reqwest::Method::POST,
        "/keys/rotate",
        Some(json!({})),
    )
    .await;
    let since = Instant::now();
    assert_eq!(status, 200, "rotate keys: {body}");
    let rotated = jwks(&http, &a).await;
    assert!(
        kids(&rotated).len() > kids(&first).len(),
        "the next keys are published at A: {rotated}"
    );
    within(
        since,
        PROPAGATION,
        "rotated keys published at B",
        &both,
        async || jwks(&http, &b).await == rotated,
    )
    .await;
}

/// Two instances started at the same moment on an empty database, as a deployment with two
/// replicas does: once both serve, they publish one JWKS and sign with the same keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_started_together_publish_one_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database().await;
    let key = master_key();
    let (d, u, k) = (dir.path().to_owned(), url.clone(), key.clone());
    let a = std::thread::spawn(move || Instance::start("a", &d, &u, &k));
    let (d, u, k) = (dir.path().to_owned(), url, key);
    let b = std::thread::spawn(move || Instance::start("b", &d, &u, &k));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let http = reqwest::Client::new();
    let (ja, jb) = (jwks(&http, &a).await, jwks(&http, &b).await);
    assert_eq!(
        kids(&ja),
        kids(&jb),
        "instances started together publish different keys\n{}\n{}",
        a.log(),
        b.log()
    );
    for alg in ["ES256", "RS256", "EdDSA"] {
        let n = ja["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == alg)
            .count();
        assert_eq!(n, 1, "one {alg} key on a fresh installation: {ja}");
    }
}
