//! `tessera serve --tls-cert … --tls-key …`: the real binary serving HTTPS itself, HTTP/2 and
//! HTTP/1.1 by ALPN, the admin CLI over it, and the certificate reloaded on SIGHUP while an open
//! connection goes on (a bad reload keeping the old certificate). Certificates are made in the
//! test by a CA of its own, which the clients trust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use reqwest::blocking::Client;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::process::{PATIENCE, ServeProcess};

/// A CA of the test's own.
struct Authority {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A server certificate for 127.0.0.1 and localhost: PEM chain, PEM key, DER.
struct Leaf {
    certificate: String,
    key: String,
    der: Vec<u8>,
}

impl Authority {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "tessera https test CA");
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    fn leaf(&self) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            certificate: cert.pem(),
            key: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    /// A client trusting only this CA and telling which certificate its connection got.
    fn client(&self, http1_only: bool) -> Client {
        let mut builder = Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.pem.as_bytes()).unwrap()])
            .tls_info(true)
            .timeout(PATIENCE);
        if http1_only {
            builder = builder.http1_only();
        }
        builder.build().unwrap()
    }
}

fn write(dir: &Path, leaf: &Leaf) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &leaf.certificate).unwrap();
    std::fs::write(&key, &leaf.key).unwrap();
    (cert, key)
}

/// GETs `url`: the HTTP version, the JSON body, and the DER of the certificate served.
fn get(client: &Client, url: &str) -> (reqwest::Version, Value, Vec<u8>) {
    let response = client.get(url).send().unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let served = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .map(<[u8]>::to_vec)
        .expect("the certificate served");
    let version = response.version();
    let body = response.text().unwrap();
    (
        version,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
        served,
    )
}

/// The metric line `tessera_tls_reloads_total{outcome="…"} N`, once `/metrics` shows it.
fn wait_for_reloads(client: &Client, server: &ServeProcess, outcome: &str, n: u32) {
    let want = format!("tessera_tls_reloads_total{{outcome=\"{outcome}\"}} {n}");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let metrics = client
            .get(format!("{}/metrics", server.url))
            .send()
            .unwrap()
            .text()
            .unwrap();
        if metrics.lines().any(|l| l == want) {
            return;
        }
        assert!(Instant::now() < deadline, "no {want} in:\n{metrics}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serve_https_itself_with_http2_and_http1_and_the_admin_cli_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new();
    let leaf = ca.leaf();
    let (cert, key) = write(dir.path(), &leaf);
    let server = ServeProcess::start(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    // With no issuer configured, the issuer is the https URL served.
    assert_eq!(server.issuer, server.url);
    let discovery = format!("{}/.well-known/oauth-authorization-server", server.url);

    let (version, metadata, served) = get(&ca.client(false), &discovery);
    assert_eq!(version, reqwest::Version::HTTP_2);
    assert_eq!(metadata["issuer"], server.url.as_str());
    assert_eq!(
        metadata["token_endpoint"],
        format!("{}/oauth2/token", server.url)
    );
    assert_eq!(served, leaf.der);
    let (version, _, _) = get(&ca.client(true), &discovery);
    assert_eq!(version, reqwest::Version::HTTP_11);

    // Cleartext on the TLS port is not served.
    let plain = format!("{}/healthz", server.url.replace("https://", "http://"));
    let answered = Client::new()
        .get(plain)
        .send()
        .is_ok_and(|r| r.status().is_success());
    assert!(!answered, "cleartext HTTP answered on the TLS port");

    // The admin CLI trusts the CA through SSL_CERT_FILE (as every rustls-native-certs client).
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["scope", "list", "--server", &server.url, "--data-dir"])
        .arg(dir.path().join("tessera-data"))
        .env("SSL_CERT_FILE", &ca_file)
        .env_remove("TESSERA_URL")
        .env_remove("TESSERA_ADMIN_CREDENTIALS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("tessera.clients.read"));
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections_and_open_ones_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new();
    let first = ca.leaf();
    let (cert, _) = write(dir.path(), &first);
    // The files as the environment names them, relative to the server's folder.
    let mut server = ServeProcess::start(
        dir.path(),
        &["--listen", "127.0.0.1:0"],
        &[
            ("TESSERA_TLS_CERTIFICATE_FILE", "cert.pem"),
            ("TESSERA_TLS_PRIVATE_KEY_FILE", "key.pem"),
        ],
    );
    let health = format!("{}/healthz", server.url);
    let open = ca.client(false);
    assert_eq!(get(&open, &health).2, first.der);

    let second = ca.leaf();
    write(dir.path(), &second);
    server.signal("HUP");
    wait_for_reloads(&ca.client(true), &server, "ok", 1);
    server.wait_for(|l| l.contains("TLS certificate reloaded"));
    // New connections get the new certificate; the open one goes on with its own.
    assert_eq!(get(&ca.client(false), &health).2, second.der);
    let (version, _, served) = get(&open, &health);
    assert_eq!(version, reqwest::Version::HTTP_2);
    assert_eq!(
        served, first.der,
        "the open connection was closed and made again"
    );

    // A key that does not go with the certificate: refused, logged, the certificate stays.
    std::fs::write(&cert, ca.leaf().certificate).unwrap();
    server.signal("HUP");
    wait_for_reloads(&ca.client(true), &server, "failed", 1);
    let line = server.wait_for(|l| l.contains("TLS certificate reload failed"));
    assert!(
        line.contains("does not hold the key of the first certificate"),
        "{line}"
    );
    assert!(!server.log().contains(second.key.lines().nth(1).unwrap()));
    assert_eq!(get(&ca.client(false), &health).2, second.der);
    assert_eq!(get(&open, &health).2, first.der);
    assert!(server.running());
}

#[test]
fn unusable_tls_files_stop_the_start_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new();
    let (cert, _) = write(dir.path(), &ca.leaf());
    let start = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let out = start(&["--tls-cert", cert.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        e.contains("--tls-key") && e.contains("tls.private_key_file"),
        "{e}"
    );
    let out = start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        "missing.pem",
    ]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        e.contains("missing.pem") && e.contains("cannot read"),
        "{e}"
    );
}
