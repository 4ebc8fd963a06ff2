//! A `tessera serve` process started by a test: the real binary in a folder of the test's
//! choosing, its stderr collected, the URL it serves read off its banner; killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for a line or a state of the server before it fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// A running `tessera serve`.
pub(crate) struct ServeProcess {
    child: Child,
    /// The issuer it announced.
    pub(crate) issuer: String,
    /// Where it listens: `http://ADDR` or `https://ADDR`.
    pub(crate) url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServeProcess {
    /// Runs `tessera serve ARGS` in `cwd`, with no `TESSERA_…` variable but `env`, and waits
    /// for its banner.
    pub(crate) fn start(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.arg("serve")
            .args(args)
            .current_dir(cwd)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TESSERA_")) {
            cmd.env_remove(k);
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let collected = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        let mut server = Self {
            child,
            issuer: String::new(),
            url: String::new(),
            log,
        };
        let banner = server.wait_for(|l| super::serving_url(l).is_some());
        let (issuer, url) = super::serving_url(&banner).unwrap();
        server.issuer = issuer.to_owned();
        server.url = url.to_owned();
        server
    }

    /// The first line of the log that `pred` accepts, once there is one.
    pub(crate) fn wait_for(&mut self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(l) = self.log.lock().unwrap().iter().find(|l| pred(l)) {
                return l.clone();
            }
            let exited = self.child.try_wait().ok().flatten();
            assert!(
                exited.is_none(),
                "tessera serve exited ({exited:?}):\n{}",
                self.log()
            );
            assert!(
                Instant::now() < deadline,
                "log line not seen; log so far:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything it wrote to stderr so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends it a signal (`HUP`, `TERM`) with kill(1).
    pub(crate) fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Whether it is still running.
    pub(crate) fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
