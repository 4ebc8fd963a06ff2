//! Sending a request again when its pooled connection closed under it.
//!
//! An upstream may close a kept connection just as a request goes out on it (its own keep-alive
//! timeout ran out). hyper-util's pooled client sends a request again by itself only when it had
//! not gone out at all (`retry_canceled_requests`); one that went out and met the close fails
//! with hyper's "incomplete message" (or a reset). Such a request is sent once more, on a new
//! connection, when that is safe: its method is idempotent (RFC 9110 §9.2.2) and it has no body
//! (or one known to be empty), so nothing of it is lost and the upstream acting on it twice
//! changes nothing.

use crate::body::ProxyBody;
use http::{Request, Response};
use hyper::body::{Body as _, Incoming};
use hyper_util::client::legacy::connect::Connect;
use hyper_util::client::legacy::{Client, Error};

/// Sends `req` with `pooled`; if the connection it went out on closed before any answer and the
/// request can be sent again, sends a copy of it with `fresh` (a client that keeps no idle
/// connection, so the copy goes out on a new one).
pub(crate) async fn send<C>(
    pooled: &Client<C, ProxyBody>,
    fresh: &Client<C, ProxyBody>,
    req: Request<ProxyBody>,
) -> Result<Response<Incoming>, Error>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let again = copy_if_resendable(&req);
    match pooled.request(req).await {
        Err(e) if closed_unanswered(&e) => match again {
            Some(again) => {
                tracing::debug!(error = %e, "the upstream closed a pooled connection as a request went out; sending it again on a new one");
                fresh.request(again).await
            }
            None => Err(e),
        },
        answered => answered,
    }
}

/// A copy of `req` to send again, if it can be: its method is idempotent and its body is known
/// to be empty.
fn copy_if_resendable(req: &Request<ProxyBody>) -> Option<Request<ProxyBody>> {
    if !req.method().is_idempotent() || !req.body().is_end_stream() {
        return None;
    }
    let mut again = Request::new(ProxyBody::empty());
    *again.method_mut() = req.method().clone();
    *again.uri_mut() = req.uri().clone();
    *again.version_mut() = req.version();
    *again.headers_mut() = req.headers().clone();
    Some(again)
}

/// Whether the request failed because its connection (made, not refused) closed before any
/// answer: hyper saw the connection end before the response head (`is_incomplete_message`), the
/// connection was gone before the request could go out (`is_canceled`, `is_closed`; hyper-util
/// already sent such a request again by itself if the connection was a pooled one), or the
/// upstream reset it.
fn closed_unanswered(e: &Error) -> bool {
    use std::io::ErrorKind;
    if e.is_connect() {
        return false;
    }
    let Some(hyper_error) =
        std::error::Error::source(e).and_then(|s| s.downcast_ref::<hyper::Error>())
    else {
        return false;
    };
    hyper_error.is_incomplete_message()
        || hyper_error.is_canceled()
        || hyper_error.is_closed()
        || std::error::Error::source(hyper_error)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|io| {
                matches!(
                    io.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::BrokenPipe
                )
            })
}
