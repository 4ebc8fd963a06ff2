//! `tessera_token_request_duration_seconds`: how long each token request took, from the moment
//! its handler started until its answer's body was done with (written out, or dropped with a
//! connection that closed), recorded under the grant label (`grant_type`'s value when it is
//! supported, else `unknown`).

use axum::body::{Body, Bytes};
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use super::token::SUPPORTED_GRANTS;

/// `response` with its body timed: the time since `started` is recorded under `grant` once the
/// body is done with (written out, or dropped with a connection that closed).
pub fn timed(response: Response, started: Instant, grant: &'static str) -> Response {
    let timer = Timer {
        started,
        histogram: duration_histogram(grant),
    };
    response.map(|inner| {
        Body::new(TimedBody {
            inner,
            _timer: timer,
        })
    })
}

/// An answer's body passed through unchanged, its size included (so the answer keeps its
/// `Content-Length`), with the timer that records when the body is dropped.
struct TimedBody {
    inner: Body,
    _timer: Timer,
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Records the time since `started` when dropped.
struct Timer {
    started: Instant,
    histogram: &'static metrics::Histogram,
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.histogram.record(self.started.elapsed().as_secs_f64());
    }
}

/// `tessera_token_request_duration_seconds` for one grant label. The handles are made once (the
/// recorder is installed before the server answers): a lookup by name and labels hashes and
/// allocates on every call.
fn duration_histogram(grant: &'static str) -> &'static metrics::Histogram {
    static HANDLES: [OnceLock<metrics::Histogram>; SUPPORTED_GRANTS.len() + 1] =
        [const { OnceLock::new() }; SUPPORTED_GRANTS.len() + 1];
    let i = SUPPORTED_GRANTS
        .iter()
        .position(|g| g.as_str() == grant)
        .unwrap_or(SUPPORTED_GRANTS.len());
    let slot = HANDLES.get(i).unwrap_or(&HANDLES[SUPPORTED_GRANTS.len()]);
    slot.get_or_init(
        || metrics::histogram!("tessera_token_request_duration_seconds", "grant" => grant),
    )
}
