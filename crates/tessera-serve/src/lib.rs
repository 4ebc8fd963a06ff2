//! Accepting TCP connections and serving HTTP/1.1 and HTTP/2 on them with hyper-util's server,
//! on the caller's Tokio runtime, in cleartext (HTTP/2 by prior knowledge) or over TLS (rustls,
//! HTTP/2 by ALPN, the certificate reloadable while serving: [`ServerCertificate`]); shared by
//! Tessera's authorization server and its gateway.
//!
//! [`Server`] serves one or more listeners with one set of [`Settings`] and shuts them down
//! together: [`Server::accept`] serves a listener until [`Server::stop`], [`Server::drain`] then
//! waits for the requests in flight. [`serve`] does all three for a single listener.

mod accept;
mod connection;
mod in_flight;
mod open_files;
mod server;
mod service;
mod settings;
mod signal;
mod threading;
mod tls;

pub use server::{Server, serve};
pub use settings::{ConnectionMetrics, HTTP2_KEEP_ALIVE_TIMEOUT, Settings};
pub use signal::shutdown_signal;
pub use threading::Threading;
pub use tls::{ServerCertificate, TlsError};
/// The TLS acceptor [`Server::accept_tls`] takes (from [`ServerCertificate::acceptor`]).
pub use tokio_rustls::TlsAcceptor;
