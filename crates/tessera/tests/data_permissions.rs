//! The data folder and the SQLite database of `tessera serve` are its owner's alone (they hold
//! password hashes, e-mail addresses and the audit log), whatever the umask lets new files be; and
//! a folder left readable by an older version is narrowed on start, with a log line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `tessera serve` process started under umask 0022 (new files 0644, folders 0755 unless the
/// program asks for less); killed when dropped.
struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path) -> Server {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"umask 0022 && exec "$0" serve"#)
        .arg(env!("CARGO_BIN_EXE_tessera"))
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("TESSERA_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("TESSERA_") && k != "TESSERA_LISTEN" {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l2 = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            l2.lock().unwrap().push(line);
        }
    });
    let server = Server { child, log };
    server.wait_for(|l| support::serving(l).is_some());
    server
}

impl Server {
    fn wait_for(&self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(l) = self.log.lock().unwrap().iter().find(|l| pred(l)) {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "log line not seen; log so far:\n{}",
                self.log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// The data folder and the files in it that hold stored data, with the mode each must have.
fn private_paths(dir: &Path) -> Vec<(std::path::PathBuf, u32)> {
    let data = dir.join("tessera-data");
    vec![
        (data.clone(), 0o700),
        (data.join("tessera.db"), 0o600),
        (data.join("tessera.db-wal"), 0o600),
        (data.join("tessera.db-shm"), 0o600),
        (data.join("master.key"), 0o600),
        (data.join("admin-credentials.json"), 0o600),
    ]
}

#[test]
fn a_fresh_data_folder_and_its_database_are_the_owners_alone() {
    let dir = tempfile::tempdir().unwrap();
    let _server = start(dir.path());
    // In WAL mode SQLite keeps `-wal` and `-shm` beside the database while it is open.
    for (path, want) in private_paths(dir.path()) {
        assert_eq!(mode(&path), want, "{}", path.display());
    }
}

#[test]
fn loose_permissions_from_an_older_version_are_narrowed_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = start(dir.path());
    // Stopped at once, as a crash would: `-wal` and `-shm` stay.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    drop(first);
    let loose = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    for (path, want) in private_paths(dir.path()) {
        loose(&path, if want == 0o700 { 0o755 } else { 0o644 }).unwrap();
    }
    let second = start(dir.path());
    for (path, want) in private_paths(dir.path()).into_iter().take(5) {
        assert_eq!(mode(&path), want, "{}", path.display());
        // The server runs in `dir` with the default data_dir, `tessera-data`: it names paths so.
        let shown = format!("path={} ", path.strip_prefix(dir.path()).unwrap().display());
        second.wait_for(|l| l.contains("narrowed the permissions") && l.contains(&shown));
    }
}
