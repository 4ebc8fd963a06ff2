//! Serving TLS: HTTP/2 and HTTP/1.1 chosen by ALPN, the certificate replaced while serving (new
//! handshakes get the new one, open connections go on), a bad reload keeping the old one, and
//! the handshake spending from the connection's first deadline and counting against the
//! connection limit. Each test serves on loopback with certificates made in the test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tessera_serve::{Server, ServerCertificate, Settings, TlsError};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};

/// Bounds every wait of these tests: far longer than any deadline they set.
const PATIENCE: Duration = Duration::from_secs(10);

/// Answers with the HTTP version the request came in.
async fn version(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(format!(
        "{:?}",
        req.version()
    )))))
}

/// A CA, and the leaf certificates it signs for `localhost` and 127.0.0.1.
struct Authority {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A leaf certificate and its key, as PEM.
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
            .push(DnType::CommonName, "tessera-serve test CA");
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    fn leaf(&self) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            certificate: cert.pem(),
            key: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    /// A client trusting only this CA, telling which certificate each connection got.
    fn client(&self, http1_only: bool) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.pem.as_bytes()).unwrap()])
            .tls_info(true)
            .timeout(PATIENCE);
        if http1_only {
            builder = builder.http1_only();
        }
        builder.build().unwrap()
    }
}

/// The certificate and key files of a server.
struct Files {
    _dir: tempfile::TempDir,
    certificate: PathBuf,
    key: PathBuf,
}

impl Files {
    fn new(leaf: &Leaf) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = Self {
            certificate: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
            _dir: dir,
        };
        files.write(leaf);
        files
    }

    fn write(&self, leaf: &Leaf) {
        std::fs::write(&self.certificate, &leaf.certificate).unwrap();
        std::fs::write(&self.key, &leaf.key).unwrap();
    }
}

/// Serves `version` over TLS with `certificate` until the test ends.
async fn start(certificate: &Arc<ServerCertificate>, settings: Settings) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = certificate.acceptor().unwrap();
    tokio::spawn(async move {
        let server = Server::new(&settings);
        server
            .accept_tls(listener, acceptor, |_| service_fn(version))
            .await;
    });
    addr
}

/// GET over `client`: the body (the HTTP version) and the DER of the certificate served.
async fn get(client: &reqwest::Client, addr: SocketAddr) -> (reqwest::Version, String, Vec<u8>) {
    let response = client
        .get(format!("https://localhost:{}/", addr.port()))
        .send()
        .await
        .unwrap();
    let served = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .map(<[u8]>::to_vec)
        .expect("the certificate served");
    let version = response.version();
    (version, response.text().await.unwrap(), served)
}

fn load(files: &Files) -> Arc<ServerCertificate> {
    Arc::new(ServerCertificate::load(&files.certificate, &files.key).unwrap())
}

#[tokio::test]
async fn http2_and_http1_are_served_over_tls_as_alpn_chooses() {
    let ca = Authority::new();
    let leaf = ca.leaf();
    let files = Files::new(&leaf);
    let addr = start(&load(&files), Settings::default()).await;

    let (version, body, served) = get(&ca.client(false), addr).await;
    assert_eq!(version, reqwest::Version::HTTP_2);
    assert_eq!(body, "HTTP/2.0");
    assert_eq!(served, leaf.der);

    let (version, body, _) = get(&ca.client(true), addr).await;
    assert_eq!(version, reqwest::Version::HTTP_11);
    assert_eq!(body, "HTTP/1.1");
}

#[tokio::test]
async fn a_reload_serves_new_handshakes_the_new_certificate_and_open_connections_go_on() {
    let ca = Authority::new();
    let first = ca.leaf();
    let files = Files::new(&first);
    let certificate = load(&files);
    let addr = start(&certificate, Settings::default()).await;
    let open = ca.client(false);
    assert_eq!(get(&open, addr).await.2, first.der);

    let second = ca.leaf();
    files.write(&second);
    certificate.reload().unwrap();
    // The open connection goes on, with the certificate of its handshake.
    let (_, body, served) = get(&open, addr).await;
    assert_eq!(body, "HTTP/2.0");
    assert_eq!(served, first.der, "the open connection was replaced");
    // A new connection gets the new certificate.
    assert_eq!(get(&ca.client(false), addr).await.2, second.der);

    // Files that cannot be used are refused, and the certificate served stays.
    let third = ca.leaf();
    std::fs::write(&files.certificate, &third.certificate).unwrap();
    let refused = certificate.reload().unwrap_err();
    assert!(
        matches!(refused, TlsError::Mismatch { .. }),
        "{refused}: the second key does not go with the third certificate"
    );
    std::fs::write(&files.key, "not a key\n").unwrap();
    let refused = certificate.reload().unwrap_err().to_string();
    assert!(
        refused.contains(&files.key.display().to_string()) && refused.contains("PRIVATE KEY"),
        "{refused}"
    );
    assert_eq!(get(&ca.client(false), addr).await.2, second.der);
    assert_eq!(get(&open, addr).await.2, first.der);
}

#[tokio::test]
async fn the_handshake_spends_from_the_first_deadline_and_counts_against_the_limit() {
    let ca = Authority::new();
    let files = Files::new(&ca.leaf());
    let settings = Settings {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 1,
        ..Settings::default()
    };
    let addr = start(&load(&files), settings).await;
    // A connection that never starts its handshake holds the only place, then is closed at
    // the deadline.
    let started = Instant::now();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let refused = ca
        .client(true)
        .get(format!("https://localhost:{}/", addr.port()));
    assert!(
        refused.send().await.is_err(),
        "a second connection was served beyond max_connections = 1"
    );
    let mut nothing = Vec::new();
    timeout(PATIENCE, silent.read_to_end(&mut nothing))
        .await
        .expect("the silent connection is closed at the header read timeout")
        .ok();
    assert!(nothing.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900));
    // The place is free again (once the closed connection's task has let go of it).
    let client = ca.client(true);
    let url = format!("https://localhost:{}/", addr.port());
    let deadline = Instant::now() + PATIENCE;
    while client.get(&url).send().await.is_err() {
        assert!(Instant::now() < deadline, "the place was never freed");
        tokio::task::yield_now().await;
    }
}

#[test]
fn unusable_files_are_refused_naming_the_file() {
    let ca = Authority::new();
    let leaf = ca.leaf();
    let files = Files::new(&leaf);
    let refused = |cert: &Path, key: &Path| {
        ServerCertificate::load(cert, key)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let missing = files.certificate.with_file_name("none.pem");
    let e = refused(&missing, &files.key);
    assert!(e.contains("none.pem") && e.contains("cannot read"), "{e}");
    // A key where the chain should be: no CERTIFICATE block.
    let e = refused(&files.key, &files.key);
    assert!(
        e.contains("certificate file") && e.contains("CERTIFICATE"),
        "{e}"
    );
    // A certificate where the key should be.
    let e = refused(&files.certificate, &files.certificate);
    assert!(
        e.contains("private key file") && e.contains("PRIVATE KEY"),
        "{e}"
    );
    // And never the key itself in a message.
    std::fs::write(&files.key, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n").unwrap();
    let e = refused(&files.certificate, &files.key);
    assert!(!e.contains("c2VjcmV0") && e.contains("PEM"), "{e}");
}
