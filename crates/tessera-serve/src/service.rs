//! What the server adds to the service of each connection: counting its requests in flight, and
//! answering `431` to a request head over the limit.

use crate::in_flight::{InFlightBody, Tracker};
use http_body_util::{Either, Empty};
use hyper::body::{Body, Incoming};
use hyper::header::{CONNECTION, HeaderValue};
use hyper::service::Service;
use hyper::{Request, Response, StatusCode, Version};
use std::error::Error as StdError;

/// The response body of a wrapped service: the inner one's, or the empty body of a `431`.
pub(crate) type Answer<B> = InFlightBody<Either<B, Empty<<B as Body>::Data>>>;

/// `inner`, with each request counted as in flight until its response body is dropped, and a
/// request whose head is longer than `max_header_bytes` answered `431` (closing an HTTP/1.x
/// connection) without reaching `inner`.
///
/// hyper refuses an unfinished HTTP/1.1 head once its read buffer (`max_buf_size`) is full, and
/// h2 a header list over `max_header_list_size`; but a whole HTTP/1.1 head may arrive in one
/// read of a little more than the buffer's size, and hyper-util's server does not expose
/// hyper's own limit on a whole head, so whole heads are measured here.
pub(crate) fn wrap<S, B>(
    inner: S,
    tracker: Tracker,
    max_header_bytes: usize,
) -> impl Service<
    Request<Incoming>,
    Response = Response<Answer<B>>,
    Error = S::Error,
    Future: Send + 'static,
> + Send
+ 'static
where
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>> + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    hyper::service::service_fn(move |req: Request<Incoming>| {
        let in_flight = tracker.start();
        let refused = (head_len(&req) > max_header_bytes).then(|| too_large(req.version()));
        let answer = refused.is_none().then(|| inner.call(req));
        async move {
            let response = match (refused, answer) {
                (_, Some(answer)) => answer.await?.map(Either::Left),
                (Some(refused), None) => refused,
                (None, None) => too_large(Version::HTTP_11),
            };
            Ok(response.map(|body| InFlightBody::new(body, in_flight)))
        }
    })
}

/// About how many bytes `req`'s head took: request line, header lines, blank line.
fn head_len<T>(req: &Request<T>) -> usize {
    let uri = req.uri();
    let target = uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(1, |p| p.as_str().len());
    let line = req.method().as_str().len() + 1 + target + " HTTP/1.1\r\n".len();
    let fields: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    line + fields + 2
}

/// `431 Request Header Fields Too Large` (RFC 6585 §5), closing an HTTP/1.x connection.
fn too_large<B: Body>(version: Version) -> Response<Either<B, Empty<B::Data>>> {
    let mut response = Response::new(Either::Right(Empty::new()));
    *response.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
    if version < Version::HTTP_2 {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_measured_as_sent() {
        let req = Request::get("/token?a=b")
            .header("host", "x")
            .body(())
            .unwrap();
        assert_eq!(
            head_len(&req),
            b"GET /token?a=b HTTP/1.1\r\nhost: x\r\n\r\n".len()
        );
    }
}
