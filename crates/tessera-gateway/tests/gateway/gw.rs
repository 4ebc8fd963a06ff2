//! Gateways for tests: in this process through the crate's API, or as a real process (the
//! `tessera-gateway` binary) that gets real signals.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tessera_gateway::{Gateway, GatewayConfig, GatewayHandle, Options};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::oneshot;

/// A folder for a configuration file and the secret files it references.
pub struct ConfigDir {
    pub dir: TempDir,
}

impl ConfigDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes a secret file and returns its path.
    pub fn secret(&self, name: &str, value: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, value).unwrap();
        p
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("gateway.toml")
    }

    /// Writes the configuration file (replacing it atomically, as an editor or a deploy would).
    pub fn write_config(&self, toml: &str) -> PathBuf {
        let p = self.config_path();
        let tmp = self.dir.path().join("gateway.toml.tmp");
        std::fs::write(&tmp, toml).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        p
    }
}

/// A gateway in this process.
pub struct InProcess {
    pub addr: SocketAddr,
    pub handle: GatewayHandle,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl InProcess {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops accepting and waits for requests in flight.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Starts a gateway from the configuration file at `path`.
pub async fn start(path: &Path) -> InProcess {
    let loaded = GatewayConfig::load(path).unwrap();
    let gateway = Gateway::bind(loaded, Options::default()).await.unwrap();
    let addr = gateway.local_addr();
    let handle = gateway.handle();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(gateway.serve(async move {
        let _ = stopped.await;
    }));
    InProcess {
        addr,
        handle,
        stop: Some(stop),
        task: Some(task),
    }
}

/// A gateway process (the `tessera-gateway` binary, or `tessera gateway` when `program` says so).
pub struct Process {
    pub addr: SocketAddr,
    child: tokio::process::Child,
    /// Everything it wrote on stderr so far (its logs).
    pub stderr: Arc<parking_lot::Mutex<String>>,
}

impl Process {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// Sends a signal (`HUP`, `TERM`) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} failed");
    }

    pub fn logs(&self) -> String {
        self.stderr.lock().clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("the gateway exits after SIGTERM")
            .unwrap()
    }
}

/// Spawns `program args… --config path` and waits for its "listening on" line.
pub async fn spawn(program: &str, args: &[&str], path: &Path) -> Process {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .arg("--config")
        .arg(path)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stderr = Arc::new(parking_lot::Mutex::new(String::new()));
    let err_pipe = child.stderr.take().unwrap();
    let sink = Arc::clone(&stderr);
    tokio::spawn(async move {
        let mut lines = BufReader::new(err_pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut s = sink.lock();
            s.push_str(&line);
            s.push('\n');
        }
    });
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("tessera gateway listening on http://") {
                return rest.trim().parse::<SocketAddr>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(addr) = addr else {
        panic!("the gateway did not start; its log:\n{}", stderr.lock());
    };
    // Keep reading stdout so the pipe never fills.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Process {
        addr,
        child,
        stderr,
    }
}
