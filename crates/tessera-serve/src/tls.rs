//! Serving TLS: the certificate chain and private key read from PEM files, given to every new
//! handshake and replaced while serving (on SIGHUP, say) without touching the connections
//! already open.

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The ALPN protocols offered, in order of preference (RFC 7301; RFC 9113 §3.2 for `h2`).
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why a certificate chain or its private key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file is unreadable, not PEM, or holds no `CERTIFICATE` block.
    #[error("tls certificate file {}: {reason}", file.display())]
    Certificate {
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The private key file is unreadable, not PEM, or holds no usable private key.
    #[error("tls private key file {}: {reason}", file.display())]
    PrivateKey {
        /// The file.
        file: PathBuf,
        /// What is wrong with it (never the key itself).
        reason: String,
    },
    /// The private key is not the key of the first certificate of the chain.
    #[error(
        "tls private key file {} does not hold the key of the first certificate in {}",
        key.display(),
        certificate.display()
    )]
    Mismatch {
        /// The certificate file.
        certificate: PathBuf,
        /// The private key file.
        key: PathBuf,
    },
    /// The TLS library refused the protocol versions (cannot happen with the built-in provider).
    #[error("tls setup: {0}")]
    Setup(String),
}

/// A certificate chain and private key from two PEM files, served to every new TLS handshake;
/// [`reload`](Self::reload) reads the files again and replaces them for the handshakes that
/// follow, or keeps the current ones when the files are not usable.
pub struct ServerCertificate {
    certificate_file: PathBuf,
    private_key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<CertifiedKey>,
}

impl std::fmt::Debug for ServerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCertificate")
            .field("certificate_file", &self.certificate_file)
            .field("private_key_file", &self.private_key_file)
            .finish_non_exhaustive()
    }
}

impl ServerCertificate {
    /// Reads `certificate_file` (the chain, leaf first, as PEM `CERTIFICATE` blocks) and
    /// `private_key_file` (the leaf's key: PEM `PRIVATE KEY`, `RSA PRIVATE KEY` or
    /// `EC PRIVATE KEY`), and checks that the key is the leaf's.
    pub fn load(certificate_file: &Path, private_key_file: &Path) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let current = read(certificate_file, private_key_file, &provider)?;
        Ok(Self {
            certificate_file: certificate_file.to_owned(),
            private_key_file: private_key_file.to_owned(),
            provider,
            current: ArcSwap::from_pointee(current),
        })
    }

    /// Reads the two files again: new handshakes get what they now hold. On an error the
    /// certificate served so far stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let next = read(
            &self.certificate_file,
            &self.private_key_file,
            &self.provider,
        )?;
        self.current.store(Arc::new(next));
        Ok(())
    }

    /// The certificate file.
    pub fn certificate_file(&self) -> &Path {
        &self.certificate_file
    }

    /// The private key file.
    pub fn private_key_file(&self) -> &Path {
        &self.private_key_file
    }

    /// A TLS acceptor serving this certificate (as it is at each handshake), TLS 1.2 and 1.3,
    /// offering HTTP/2 and HTTP/1.1 by ALPN.
    pub fn acceptor(self: &Arc<Self>) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

impl ResolvesServerCert for ServerCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The chain in `certificate_file` with the key in `private_key_file`.
fn read(
    certificate_file: &Path,
    private_key_file: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let bad_certificate = |reason: String| TlsError::Certificate {
        file: certificate_file.to_owned(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(certificate_file)
        .map_err(|e| bad_certificate(pem_error(&e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_certificate(pem_error(&e)))?;
    if chain.is_empty() {
        return Err(bad_certificate(
            "holds no PEM CERTIFICATE block (the chain, leaf first)".into(),
        ));
    }
    let bad_key = |reason: String| TlsError::PrivateKey {
        file: private_key_file.to_owned(),
        reason,
    };
    let key = PrivateKeyDer::from_pem_file(private_key_file).map_err(|e| {
        bad_key(match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "holds no PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block".into()
            }
            other => pem_error(&other),
        })
    })?;
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| bad_key(format!("not a usable RSA, ECDSA or Ed25519 key ({e})")))?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::Mismatch {
                certificate: certificate_file.to_owned(),
                key: private_key_file.to_owned(),
            })
        }
        // The key type cannot say (no public key): the handshake will tell.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(certified),
        Err(e) => Err(bad_certificate(format!(
            "the first certificate cannot be parsed ({e})"
        ))),
    }
}

/// A PEM reading error in words; never the file's content.
fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::Io(io) => format!("cannot read it: {io}"),
        Error::NoItemsFound => "holds no PEM block of the expected kind".into(),
        Error::MissingSectionEnd { .. } | Error::IllegalSectionStart { .. } => {
            "is not well-formed PEM (a BEGIN line without its END line)".into()
        }
        Error::Base64Decode(_) => "is not well-formed PEM (bad base64 inside a block)".into(),
        _ => "is not well-formed PEM".into(),
    }
}
