//! The one body type the gateway moves in both directions: a stream passed through frame by frame
//! (never gathered), or bytes the gateway holds (its own answers, and small request bodies kept to
//! replay after an upstream `401`).

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A request or response body.
#[derive(Debug)]
pub enum ProxyBody {
    /// Streamed from the other side as it arrives.
    Stream(Incoming),
    /// Held in memory (`None` once sent).
    Full(Option<Bytes>),
}

impl ProxyBody {
    /// An empty body.
    pub fn empty() -> Self {
        Self::Full(None)
    }

    /// A body of these bytes.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let b: Bytes = bytes.into();
        if b.is_empty() {
            Self::Full(None)
        } else {
            Self::Full(Some(b))
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            Self::Stream(s) => Pin::new(s).poll_frame(cx),
            Self::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Stream(s) => s.is_end_stream(),
            Self::Full(b) => b.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Stream(s) => s.size_hint(),
            Self::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
        }
    }
}

/// What to do with an inbound request body.
pub(crate) enum Inbound {
    /// Kept in memory: can be sent again.
    Replayable(Bytes),
    /// Streamed: sent once.
    Streamed(Incoming),
}

impl Inbound {
    /// Keeps the body in memory when it is empty or its announced length is at most `limit`
    /// bytes and `wanted`; otherwise leaves it to stream. A body longer than announced is cut off
    /// at `limit` with an error.
    pub(crate) async fn read(
        body: Incoming,
        wanted: bool,
        limit: usize,
    ) -> Result<Self, ReplayError> {
        if body.is_end_stream() {
            return Ok(Self::Replayable(Bytes::new()));
        }
        let small = body.size_hint().exact().is_some_and(|n| n <= limit as u64);
        if !(wanted && small) {
            return Ok(Self::Streamed(body));
        }
        let collected = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| ReplayError(e.to_string()))?;
        Ok(Self::Replayable(collected.to_bytes()))
    }

    /// The body to send now, and what is left to send again (`None` for a stream).
    pub(crate) fn take(self) -> (ProxyBody, Option<Bytes>) {
        match self {
            Self::Replayable(b) => (ProxyBody::full(b.clone()), Some(b)),
            Self::Streamed(s) => (ProxyBody::Stream(s), None),
        }
    }
}

/// The request body could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the request body: {0}")]
pub(crate) struct ReplayError(String);
