//! Nothing acknowledged is lost: `kill -9` of `tessera serve` under a load of admin changes
//! (scopes, clients created and disabled), opaque-token issuance, revocations and secret
//! rotations, then a restart, on SQLite and on PostgreSQL. Every write that was answered with
//! success must be there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
}

fn start(dir: &Path, database_url: Option<&str>) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.arg("serve")
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("TESSERA_LISTEN", "127.0.0.1:0")
        .env("TESSERA_LOG_LEVEL", "warn")
        // The check after the restart authenticates disabled clients on purpose: the limit on
        // failed authentication (tested on its own) must not answer 429 in place of 401.
        .env(
            "TESSERA_RATE_LIMIT_FAILED_AUTH_PER_CLIENT_PER_MINUTE",
            "100000",
        )
        .env(
            "TESSERA_RATE_LIMIT_FAILED_AUTH_PER_ADDRESS_PER_MINUTE",
            "100000",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(url) = database_url {
        cmd.env("TESSERA_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some((_, addr)) = support::serving(&line) {
                let _ = tx.send(addr.to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server started");
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

async fn admin_token(http: &reqwest::Client, base: &str, dir: &Path) -> String {
    let creds: Value = serde_json::from_slice(
        &std::fs::read(dir.join("tessera-data/admin-credentials.json")).unwrap(),
    )
    .unwrap();
    let r: Value = http
        .post(format!("{base}/oauth2/token"))
        .header(
            "authorization",
            tessera_proto::basic::encode(
                creds["client_id"].as_str().unwrap(),
                creds["client_secret"].as_str().unwrap(),
            ),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

/// A client whose creation was acknowledged, with its secret and acknowledged state.
struct AckedClient {
    secret: String,
    enabled: bool,
}

#[derive(Default)]
struct Acked {
    scopes: Vec<String>,
    tokens: Vec<String>,
    revoked: Vec<String>,
    /// Revocations sent but not (yet) answered: their outcome is unknown after the kill.
    revoking: Vec<String>,
    secret: Option<String>,
    /// Clients whose creation was answered 201, with the state last acknowledged.
    clients: HashMap<String, AckedClient>,
    /// Clients whose disabling was sent but not (yet) answered: enabled or not after the kill.
    disabling: HashSet<String>,
}

async fn kill_under_load_then_check(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), database_url.as_deref());
    let http = reqwest::Client::new();
    let base = server.base.clone();
    let admin = admin_token(&http, &base, dir.path()).await;
    let created: Value = http
        .post(format!("{base}/admin/api/v1/clients"))
        .bearer_auth(&admin)
        .json(&json!({"client_id": "load", "name": "load", "access_token_format": "opaque"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first_secret = created["client_secret"]
        .as_str()
        .expect("client created")
        .to_owned();
    let acked = Arc::new(Mutex::new(Acked {
        secret: Some(first_secret.clone()),
        ..Default::default()
    }));
    let secret_now = Arc::new(Mutex::new(first_secret));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    // Admin changes: scopes.
    for w in 0..2 {
        let (http, base, admin, acked, stop) = (
            http.clone(),
            base.clone(),
            admin.clone(),
            acked.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let name = format!("core.load{w}.s{i}");
                i += 1;
                let r = http
                    .post(format!("{base}/admin/api/v1/scopes"))
                    .bearer_auth(&admin)
                    .json(&json!({"name": name}))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status().is_success()
                {
                    acked.lock().unwrap().scopes.push(name);
                }
            }
        }));
    }
    // Opaque tokens, some of them revoked.
    for _ in 0..4 {
        let (http, base, acked, stop, secret_now) = (
            http.clone(),
            base.clone(),
            acked.clone(),
            stop.clone(),
            secret_now.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let secret = secret_now.lock().unwrap().clone();
                let auth = tessera_proto::basic::encode("load", &secret);
                let Ok(r) = http
                    .post(format!("{base}/oauth2/token"))
                    .header("authorization", &auth)
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                else {
                    continue;
                };
                if !r.status().is_success() {
                    continue;
                }
                let Ok(body) = r.json::<Value>().await else {
                    continue;
                };
                let token = body["access_token"].as_str().unwrap().to_owned();
                acked.lock().unwrap().tokens.push(token.clone());
                n += 1;
                if n.is_multiple_of(3) {
                    acked.lock().unwrap().revoking.push(token.clone());
                    let r = http
                        .post(format!("{base}/oauth2/revoke"))
                        .header("authorization", &auth)
                        .form(&[("token", token.as_str())])
                        .send()
                        .await;
                    if r.is_ok_and(|r| r.status().is_success()) {
                        acked.lock().unwrap().revoked.push(token);
                    }
                }
            }
        }));
    }
    // Secret rotations, with a grace period so that a rotation in flight at the kill (done but not
    // acknowledged) does not invalidate the last acknowledged secret.
    {
        let (http, base, admin, acked, stop, secret_now) = (
            http.clone(),
            base.clone(),
            admin.clone(),
            acked.clone(),
            stop.clone(),
            secret_now.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = http
                    .post(format!("{base}/admin/api/v1/clients/load/secret"))
                    .bearer_auth(&admin)
                    .json(&json!({"grace_secs": 3600}))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status().is_success()
                    && let Ok(v) = r.json::<Value>().await
                {
                    let s = v["client_secret"].as_str().unwrap().to_owned();
                    // Record before use, under one lock, so the last acknowledged is last.
                    let mut a = acked.lock().unwrap();
                    a.secret = Some(s.clone());
                    *secret_now.lock().unwrap() = s;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    // Admin changes: clients created, every third one then disabled.
    {
        let (http, base, admin, acked, stop) = (
            http.clone(),
            base.clone(),
            admin.clone(),
            acked.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let id = format!("load-client-{i}");
                i += 1;
                let r = http
                    .post(format!("{base}/admin/api/v1/clients"))
                    .bearer_auth(&admin)
                    .json(&json!({"client_id": id, "name": id}))
                    .send()
                    .await;
                let Ok(r) = r else { continue };
                if r.status() != 201 {
                    continue;
                }
                let Ok(body) = r.json::<Value>().await else {
                    continue;
                };
                let secret = body["client_secret"].as_str().unwrap().to_owned();
                acked.lock().unwrap().clients.insert(
                    id.clone(),
                    AckedClient {
                        secret,
                        enabled: true,
                    },
                );
                if i % 3 != 0 {
                    continue;
                }
                acked.lock().unwrap().disabling.insert(id.clone());
                let r = http
                    .post(format!("{base}/admin/api/v1/clients/{id}/disable"))
                    .bearer_auth(&admin)
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().is_success()) {
                    let mut a = acked.lock().unwrap();
                    a.disabling.remove(&id);
                    a.clients.get_mut(&id).unwrap().enabled = false;
                }
            }
        }));
    }
    // Load until there is plenty acknowledged, then kill -9 mid-flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        {
            let a = acked.lock().unwrap();
            let disabled = a.clients.values().filter(|c| !c.enabled).count();
            if a.scopes.len() >= 40
                && a.tokens.len() >= 200
                && a.revoked.len() >= 30
                && a.clients.len() >= 30
                && disabled >= 8
            {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the load made too little progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());

    let server = start(dir.path(), database_url.as_deref());
    let base = server.base.clone();
    let admin = admin_token(&http, &base, dir.path()).await;
    let scopes: Value = http
        .get(format!("{base}/admin/api/v1/scopes"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = scopes.to_string();
    for s in &acked.scopes {
        assert!(
            text.contains(&format!("\"{s}\"")),
            "acknowledged scope {s} lost"
        );
    }
    let secret = acked.secret.clone().unwrap();
    let auth = tessera_proto::basic::encode("load", &secret);
    let r = http
        .post(format!("{base}/oauth2/token"))
        .header("authorization", &auth)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the last acknowledged secret must work");
    let revoked: std::collections::HashSet<&String> = acked.revoked.iter().collect();
    let unknown: std::collections::HashSet<&String> = acked
        .revoking
        .iter()
        .filter(|t| !revoked.contains(t))
        .collect();
    assert!(
        unknown.len() <= 4,
        "at most one revocation per worker can be in flight"
    );
    for t in acked.tokens.iter().filter(|t| !unknown.contains(t)) {
        let r: Value = http
            .post(format!("{base}/oauth2/introspect"))
            .header("authorization", &auth)
            .form(&[("token", t.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            r["active"],
            !revoked.contains(t),
            "acknowledged token (revoked: {}) has the wrong state after the crash",
            revoked.contains(t)
        );
    }
    // Every acknowledged client is there, in its acknowledged state, and its secret answers
    // accordingly: a token when enabled, 401 invalid_client when disabled.
    assert!(
        acked.disabling.len() <= 1,
        "at most one disabling can be in flight"
    );
    let mut disabled = 0;
    for (id, c) in &acked.clients {
        let r = http
            .get(format!("{base}/admin/api/v1/clients/{id}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged client {id} lost");
        let stored: Value = r.json().await.unwrap();
        let enabled = stored["enabled"].as_bool().unwrap();
        if !acked.disabling.contains(id) {
            assert_eq!(
                enabled, c.enabled,
                "client {id}: the acknowledged enabled state was lost"
            );
        }
        let r = http
            .post(format!("{base}/oauth2/token"))
            .header("authorization", tessera_proto::basic::encode(id, &c.secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        if enabled {
            assert_eq!(status, 200, "client {id}'s acknowledged secret: {body}");
        } else {
            disabled += 1;
            assert_eq!(
                (status, &body["error"]),
                (401, &json!("invalid_client")),
                "disabled client {id} must be refused"
            );
            // Refused for being disabled, not for a lost secret: enabled again, the secret works.
            let r = http
                .post(format!("{base}/admin/api/v1/clients/{id}/enable"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "enable {id}");
            let r = http
                .post(format!("{base}/oauth2/token"))
                .header("authorization", tessera_proto::basic::encode(id, &c.secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                200,
                "client {id}'s acknowledged secret once enabled again"
            );
        }
    }
    eprintln!(
        "kill -9 under load: {} scopes, {} opaque tokens, {} revocations, {} clients ({disabled} disabled), secret rotations: all acknowledged writes present",
        acked.scopes.len(),
        acked.tokens.len(),
        acked.revoked.len(),
        acked.clients.len()
    );
    drop(server);
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_loses_nothing_acknowledged_on_sqlite() {
    kill_under_load_then_check(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_loses_nothing_acknowledged_on_postgres() {
    let admin = std::env::var("TESSERA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required at {admin}: {e}"));
    let name = format!("tessera_t_kill{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    kill_under_load_then_check(Some(url)).await;
}
