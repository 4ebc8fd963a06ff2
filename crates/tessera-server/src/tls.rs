//! `[tls]`: serving HTTPS directly (rustls, see `tessera_serve::ServerCertificate`), and reading
//! the certificate and key again on SIGHUP.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
pub use tessera_serve::{ServerCertificate, TlsError};

/// `[tls]`: with both files set the server serves HTTPS (TLS 1.2 and 1.3, HTTP/2 and HTTP/1.1
/// by ALPN) instead of cleartext HTTP; with neither, cleartext (behind a proxy that terminates
/// TLS, the issuer may still be `https://…`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// A PEM file of the certificate chain, the server's certificate first.
    pub certificate_file: Option<PathBuf>,
    /// A PEM file of the certificate's private key (PKCS#8 `PRIVATE KEY`, `RSA PRIVATE KEY` or
    /// `EC PRIVATE KEY`).
    pub private_key_file: Option<PathBuf>,
}

impl TlsConfig {
    /// Whether the server serves HTTPS.
    pub fn enabled(&self) -> bool {
        self.certificate_file.is_some()
    }

    /// Both files or neither.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match (&self.certificate_file, &self.private_key_file) {
            (Some(_), None) => Err(
                "tls.certificate_file (--tls-cert) is set but tls.private_key_file (--tls-key) is \
                 not: give both to serve HTTPS, or neither"
                    .into(),
            ),
            (None, Some(_)) => Err(
                "tls.private_key_file (--tls-key) is set but tls.certificate_file (--tls-cert) is \
                 not: give both to serve HTTPS, or neither"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    /// The certificate to serve, read from the files; `None` when TLS is off.
    pub fn load(&self) -> Result<Option<Arc<ServerCertificate>>, TlsError> {
        match (&self.certificate_file, &self.private_key_file) {
            (Some(certificate), Some(key)) => {
                Ok(Some(Arc::new(ServerCertificate::load(certificate, key)?)))
            }
            _ => Ok(None),
        }
    }
}

/// What makes the server read its certificate again: SIGHUP, listened for from the moment this
/// is made (so that a SIGHUP sent once the server says it serves never ends the process).
#[derive(Debug)]
pub struct ReloadSignal {
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl ReloadSignal {
    /// Starts listening for SIGHUP (Unix; elsewhere there is nothing to listen for).
    pub fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let hangup = signal(SignalKind::hangup())
                .map_err(|e| {
                    tracing::warn!(error = %e, "cannot listen for SIGHUP; certificate reloads are off");
                })
                .ok();
            Self { hangup }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next signal; never, when there is none to listen for.
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(h) = &mut self.hangup
            && h.recv().await.is_some()
        {
            return;
        }
        std::future::pending::<()>().await;
    }
}

/// Reads the certificate and key files again on every signal: new handshakes get them, open
/// connections keep theirs; files that cannot be used are logged and the certificate served so
/// far stays. Counted in `tessera_tls_reloads_total{outcome="ok"|"failed"}`. Without a
/// certificate (no `[tls]`), a signal is only logged: the server goes on serving.
pub(crate) async fn reload_on_signal(
    certificate: Option<Arc<ServerCertificate>>,
    mut signal: ReloadSignal,
) {
    loop {
        signal.next().await;
        let Some(certificate) = &certificate else {
            tracing::info!("SIGHUP: nothing to reload (no [tls] settings); still serving");
            continue;
        };
        match certificate.reload() {
            Ok(()) => {
                metrics::counter!("tessera_tls_reloads_total", "outcome" => "ok").increment(1);
                tracing::info!(
                    certificate_file = %certificate.certificate_file().display(),
                    "SIGHUP: TLS certificate reloaded; new connections get it"
                );
            }
            Err(e) => {
                metrics::counter!("tessera_tls_reloads_total", "outcome" => "failed").increment(1);
                tracing::error!(
                    error = %e,
                    "SIGHUP: TLS certificate reload failed; the previous certificate is still served"
                );
            }
        }
    }
}
