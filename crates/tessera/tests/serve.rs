//! `tessera serve` as a newcomer runs it: the real binary, its first start, its logs, its shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &Path, envs: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.arg("serve")
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .env("TESSERA_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
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
        // Text logs: the banner; JSON logs (no banner): the start-up event's `listen`.
        let line = wait_for(&log, |l| {
            l.starts_with("Tessera is serving") || l.contains(r#""message":"tessera is serving""#)
        });
        let addr = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(v) => v["listen"].as_str().unwrap().to_owned(),
            Err(_) => support::serving(&line).unwrap().1.to_owned(),
        };
        Server { child, addr, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn terminate(&self) {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn all_log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(log: &Arc<Mutex<Vec<String>>>, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(l) = log.lock().unwrap().iter().find(|l| pred(l)) {
            return l.clone();
        }
        assert!(
            Instant::now() < deadline,
            "log line not seen; log so far:\n{}",
            log.lock().unwrap().join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `/metrics` until one of its lines matches `pred` (10 s at most).
fn wait_for_metric(server: &Server, pred: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = reqwest::blocking::get(server.url("/metrics"))
            .unwrap()
            .text()
            .unwrap();
        if m.lines().any(&pred) {
            return;
        }
        assert!(Instant::now() < deadline, "no such metric line:\n{m}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn credentials(dir: &Path) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("tessera-data/admin-credentials.json")).unwrap(),
    )
    .unwrap();
    (
        v["client_id"].as_str().unwrap().to_owned(),
        v["client_secret"].as_str().unwrap().to_owned(),
    )
}

fn token_request(server: &Server, id: &str, secret: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .post(server.url("/oauth2/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap()
}

#[test]
fn first_start_creates_keys_and_a_private_credential_and_logs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let file = dir.path().join("tessera-data/admin-credentials.json");
    assert!(
        server.all_log().contains("admin-credentials.json"),
        "path printed"
    );
    // How to create the console's first admin, with the console's address.
    let hint = wait_for(&server.log, |l| l.contains("has no admin yet"));
    assert!(
        hint.contains(&format!("http://{}/admin/", server.addr)),
        "{hint}"
    );
    wait_for(&server.log, |l| {
        l.trim() == "tessera user create YOUR_NAME --role admin"
    });
    // Or the one-time sign-up link, which opens the sign-up page.
    let signup = format!("http://{}/admin/signup/", server.addr);
    let link = wait_for(&server.log, |l| l.trim().starts_with(&signup));
    let page = reqwest::blocking::get(link.trim()).unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("Create the first admin"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mode = std::fs::metadata(dir.path().join("tessera-data/master.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    let (id, secret) = credentials(dir.path());
    assert!(secret.starts_with("tsec_") && secret.len() >= 48);
    let r = token_request(&server, &id, &secret);
    assert_eq!(r.status(), 200);
    let token = r.json::<serde_json::Value>().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for(&server.log, |l| l.contains("token issued"));
    let log = server.all_log();
    assert!(!log.contains(&secret), "the secret is in the log");
    assert!(!log.contains(&token), "the token is in the log");
    server.terminate();
    assert!(server.wait_exit().success());
    // A second start keeps the credential and the keys.
    let before = std::fs::read(&file).unwrap();
    let server = Server::start(dir.path(), &[]);
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert!(!server.all_log().contains("credential written"));
    assert_eq!(token_request(&server, &id, &secret).status(), 200);
}

#[test]
fn json_logs_one_line_per_token_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("TESSERA_LOG_FORMAT", "json")]);
    let (id, secret) = credentials(dir.path());
    assert_eq!(token_request(&server, &id, "wrong-secret").status(), 401);
    assert_eq!(token_request(&server, &id, &secret).status(), 200);
    let ok = wait_for(&server.log, |l| l.contains("token issued"));
    let v: serde_json::Value = serde_json::from_str(&ok).unwrap();
    assert_eq!(v["client_id"], id);
    assert_eq!(v["outcome"], "success");
    assert_eq!(v["grant"], "client_credentials");
    let refused = wait_for(&server.log, |l| l.contains("token request refused"));
    let v: serde_json::Value = serde_json::from_str(&refused).unwrap();
    assert_eq!(v["outcome"], "invalid_client");
    let all = server.all_log();
    assert!(!all.contains("wrong-secret"));
    // Nothing else on stderr: the human banner is left out, the credential's path is an event.
    for line in all.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
    assert!(all.contains("bootstrap admin credential written"), "{all}");
    // With no banner, the console's first-admin event carries the one-time sign-up link.
    let hint = wait_for(&server.log, |l| l.contains("the console has no admin yet"));
    let v: serde_json::Value = serde_json::from_str(&hint).unwrap();
    let link = v["signup_link"].as_str().unwrap();
    assert!(link.starts_with(&server.url("/admin/signup/")), "{link}");
    // The log writer's dropped lines are on `/metrics` (none dropped here).
    wait_for_metric(&server, |l| l == "tessera_log_lines_dropped_total 0");
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let (id, secret) = credentials(dir.path());
    let body = "grant_type=client_credentials";
    let auth = tessera_proto::basic::encode(&id, &secret);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /oauth2/token HTTP/1.1\r\nHost: {}\r\nAuthorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        server.addr,
        body.len(),
        &body[..5]
    )
    .unwrap();
    stream.flush().unwrap();
    // Wait until the server is inside the request (headers read, body incomplete).
    wait_for_metric(&server, |l| {
        l.starts_with("tessera_token_requests_in_flight") && l.ends_with(" 1")
    });
    server.terminate();
    wait_for(&server.log, |l| l.contains("shutting down"));
    stream.write_all(&body.as_bytes()[5..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"));
    assert!(server.wait_exit().success());
    // New connections are refused once it stopped.
    assert!(TcpStream::connect(&server.addr).is_err());
}

#[test]
fn sigterm_with_only_idle_connections_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[("TESSERA_HTTP_SHUTDOWN_GRACE_SECS", "30")]);
    // Connections that sent nothing, part of the HTTP/2 preface, the whole preface, part of an
    // HTTP/1.1 head; and one idle after an answered request.
    let mut idle = Vec::new();
    for sent in [
        &b""[..],
        b"PRI * HTTP/2.0\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n",
    ] {
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        stream.write_all(sent).unwrap();
        idle.push(stream);
    }
    let mut answered = TcpStream::connect(&server.addr).unwrap();
    answered
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 12];
    answered.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    idle.push(answered);
    let started = Instant::now();
    server.terminate();
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}\n{}", server.all_log());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown waited {:?} for idle connections",
        started.elapsed()
    );
    // The log says how many requests were in flight: none.
    let line = wait_for(&server.log, |l| {
        l.contains("waiting for the requests in flight")
    });
    assert!(line.contains("in_flight=0"), "{line}");
    assert!(
        !server.all_log().contains("still in flight"),
        "{}",
        server.all_log()
    );
}

/// Without `[tls]` there is nothing to reload, yet SIGHUP (what `systemctl reload` and log
/// rotators send) is logged and the server goes on answering, rather than ending it.
#[test]
fn sighup_without_tls_is_logged_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let hup = Command::new("kill")
        .arg("-HUP")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(hup.success());
    wait_for(&server.log, |l| l.contains("SIGHUP: nothing to reload"));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "{}",
        server.all_log()
    );
    let health = reqwest::blocking::get(server.url("/healthz")).unwrap();
    assert_eq!(health.status(), 200);
}
