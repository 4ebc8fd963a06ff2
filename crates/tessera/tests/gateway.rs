//! `tessera gateway --config gateway.toml` run as an operator would: a Tessera server in this
//! process, a small loopback upstream that records what it gets, and the real binary, which
//! injects tokens, reloads on SIGHUP (refusing a bad file), checks files with `--check` and stops
//! on SIGTERM. The gateway's full behaviour is tested in `crates/tessera-gateway/tests/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use secrecy::ExposeSecret;
use serde_json::Value;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_proto::{ClientAuthMethod, GrantType};
use tessera_server::client_secret;
use tessera_server::config::Config;
use tessera_server::model::{Client, Scope, now};
use tessera_server::startup::Application;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

const AUD: &str = "https://upstream.example/";

/// Starts Tessera with a client `gw` for `AUD`; returns the token endpoint and the secret.
async fn tessera_with_client() -> (String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    config.http.shutdown_grace_secs = 1;
    let app = Application::build(config).await.unwrap();
    let state = app.state();
    let t = now();
    state
        .store
        .insert_scope(&Scope {
            name: "upstream.items.read".into(),
            description: "read items".into(),
            permissions: vec!["GET /items".into()],
            created_at: t,
            updated_at: t,
        })
        .await
        .unwrap();
    state.registry.reload_scopes(&state.store).await.unwrap();
    let c = Client {
        client_id: "gw".into(),
        name: "gateway".into(),
        description: String::new(),
        enabled: true,
        grant_types: vec![GrantType::ClientCredentials],
        redirect_uris: vec![],
        allowed_scopes: vec!["upstream.items.read".into()],
        default_scopes: vec![],
        token_endpoint_auth_methods: vec![ClientAuthMethod::ClientSecretBasic],
        token_endpoint_auth_signing_alg: None,
        jwks: None,
        jwks_uri: None,
        access_token_format: None,
        access_token_lifetime: None,
        access_token_signing_alg: None,
        audiences: vec![AUD.into()],
        require_pkce: None,
        extra_claims: Default::default(),
        created_at: t,
        updated_at: t,
    };
    let (secret, row) = client_secret::generate(&state.keys, "gw", false).unwrap();
    state.store.insert_client(&c, Some(&row)).await.unwrap();
    state
        .registry
        .reload_client(&state.store, &state.keys, "gw")
        .await
        .unwrap();
    let endpoint = format!("http://{}/oauth2/token", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    (endpoint, secret.expose_secret().to_owned(), dir)
}

/// An HTTP/1.1 upstream that answers every request with `{"path": …}` and records the
/// `Authorization` header it got.
async fn recording_upstream() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 4096];
                    let Ok(n) = conn.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        buf.drain(..end + 4);
                        let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                        if let Some(auth) = head.lines().find_map(|l| {
                            l.to_ascii_lowercase()
                                .starts_with("authorization:")
                                .then(|| l["authorization:".len()..].trim().to_owned())
                        }) {
                            record.lock().unwrap().push(auth);
                        }
                        let body = serde_json::json!({ "path": path }).to_string();
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if conn.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, seen)
}

fn config(upstream: SocketAddr, token_endpoint: &str, secret_file: &str, extra: &str) -> String {
    format!(
        r#"
[gateway]
listen = "127.0.0.1:0"

[upstreams.items]
url = "http://{upstream}"

[upstreams.items.oauth2]
token_endpoint = "{token_endpoint}"
client_id = "gw"
client_secret = {{ file = "{secret_file}" }}
scope = "upstream.items.read"
audience = "{AUD}"

[[routes]]
name = "items"
path_prefix = "/items"
upstream = "items"
{extra}
"#
    )
}

async fn metric(addr: SocketAddr, needle: &str) -> bool {
    let Ok(r) = reqwest::get(format!("http://{addr}/metrics")).await else {
        return false;
    };
    r.text().await.is_ok_and(|t| t.contains(needle))
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let end = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tessera_gateway_injects_tokens_reloads_on_sighup_and_stops_on_sigterm() {
    let (token_endpoint, secret, _server_dir) = tessera_with_client().await;
    let (upstream, seen) = recording_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("gw.secret");
    std::fs::write(&secret_file, &secret).unwrap();
    let secret_file = secret_file.display().to_string();
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, config(upstream, &token_endpoint, &secret_file, "")).unwrap();

    // --check reads everything and says OK; a file naming a missing secret is refused.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["gateway", "--check", "--config"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK, 1 routes"));
    let bad_path = dir.path().join("bad.toml");
    std::fs::write(
        &bad_path,
        config(upstream, &token_endpoint, "/nonexistent/secret", ""),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["gateway", "--check", "--config"])
        .arg(&bad_path)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/secret"));

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["gateway", "--config"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let logs = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&logs);
    let stderr = child.stderr.take().unwrap();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            sink.lock().unwrap().push_str(&(l + "\n"));
        }
    });
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr: SocketAddr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = out.next_line().await {
            if let Some(a) = line.strip_prefix("tessera gateway listening on http://") {
                return a.trim().parse().unwrap();
            }
        }
        panic!("no listening line; logs:\n{}", logs.lock().unwrap());
    })
    .await
    .unwrap();
    tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });

    let http = reqwest::Client::new();
    let r = http
        .get(format!("http://{addr}/items/1"))
        .header("authorization", "Bearer inbound")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["path"], "/items/1");
    let auth = seen.lock().unwrap().last().cloned().unwrap();
    let token = auth.strip_prefix("Bearer ").unwrap();
    let claims: Value = tessera_jose::UnverifiedJws::parse(token)
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(claims["client_id"], "gw");
    assert_eq!(claims["aud"], serde_json::json!(AUD));

    // SIGHUP with a new route.
    let extra = "[[routes]]\nname = \"more\"\npath_prefix = \"/more\"\nupstream = \"items\"\n";
    std::fs::write(
        &path,
        config(upstream, &token_endpoint, &secret_file, extra),
    )
    .unwrap();
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_for("the reload", async || {
        metric(addr, "tessera_gateway_reloads_total{outcome=\"ok\"} 1").await
    })
    .await;
    assert_eq!(
        http.get(format!("http://{addr}/more/x"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A bad file: refused, the old configuration keeps serving.
    std::fs::write(&path, "[[routes]\n").unwrap();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_for("the refusal", async || {
        metric(addr, "tessera_gateway_reloads_total{outcome=\"refused\"} 1").await
    })
    .await;
    // Log lines reach stderr within 50 ms (tessera gateway buffers them off the request path).
    wait_for("the refusal in the log", async || {
        logs.lock()
            .unwrap()
            .contains("configuration reload refused")
    })
    .await;
    assert_eq!(
        http.get(format!("http://{addr}/more/x"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(
        !logs.lock().unwrap().contains(&secret),
        "the secret was logged"
    );
    assert!(
        !logs.lock().unwrap().contains(token),
        "the token was logged"
    );

    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}
