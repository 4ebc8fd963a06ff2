//! The tower [`Layer`] and [`Service`] that protect routes: they find the bearer token
//! (RFC 6750 §2), verify it, check the route's scopes, put the [`VerifiedToken`] into the request
//! extensions, and answer refusals per RFC 6750 §3.

use crate::bearer;
use crate::challenge::{Rejection, RejectionKind};
use crate::error::RequestError;
use crate::guard::Guard;
use crate::token::VerifiedToken;
use axum::body::{Body, HttpBody};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tessera_proto::ScopeSet;
use tower::{BoxError, Layer, Service};

/// Protects the services it wraps; made by [`Guard::layer`] and [`Guard::require`].
///
/// With axum, use `Router::route_layer` (so that unknown paths still answer 404, not 401) or
/// `MethodRouter::layer` for one route.
#[derive(Clone)]
pub struct GuardLayer {
    guard: Guard,
    required: Arc<ScopeSet>,
}

impl std::fmt::Debug for GuardLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardLayer")
            .field("required", &self.required.to_string())
            .finish_non_exhaustive()
    }
}

impl GuardLayer {
    pub(crate) fn new(guard: Guard, required: ScopeSet) -> Self {
        Self {
            guard,
            required: Arc::new(required),
        }
    }

    /// The scopes this layer requires.
    pub fn required_scopes(&self) -> &ScopeSet {
        &self.required
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            inner,
            guard: self.guard.clone(),
            required: Arc::clone(&self.required),
        }
    }
}

/// The service of [`GuardLayer`]: calls the inner service only for authorized requests.
#[derive(Clone)]
pub struct GuardService<S> {
    inner: S,
    guard: Guard,
    required: Arc<ScopeSet>,
}

impl<S> std::fmt::Debug for GuardService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardService")
            .field("required", &self.required.to_string())
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for GuardService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The clone that was polled ready is the one to call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        let required = Arc::clone(&self.required);
        Box::pin(async move {
            match authorize(&guard, req, &required).await {
                Ok(req) => inner.call(req).await,
                Err(rejection) => {
                    tracing::debug!(reason = %rejection, "request refused by the guard");
                    Ok(rejection.into_response())
                }
            }
        })
    }
}

async fn authorize<B>(
    guard: &Guard,
    req: Request<B>,
    required: &ScopeSet,
) -> Result<Request<Body>, Rejection>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = req.into_parts();
    let in_query = guard.check_query() && bearer::query_has_token(&parts.uri);
    // RFC 6750 §2.2: a form body may carry the token too. It is read, up to the limit, when its
    // Content-Length is within the limit or when it has none (chunked, HTTP/2), and handed on
    // whole to the inner service; one announced longer is handed on unread.
    let (body, in_body) = match guard.form_body_limit() {
        Some(limit) if bearer::form_body_to_read(&parts.headers, limit) => {
            let bytes = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|e| {
                    let why = if e.is::<LengthLimitError>() {
                        RequestError::FormBodyTooLong
                    } else {
                        RequestError::UnreadableBody
                    };
                    Rejection::new(RejectionKind::InvalidRequest(why), guard.realm_arc())
                })?
                .to_bytes();
            let found = bearer::form_has_token(&bytes);
            (Body::from(bytes), found)
        }
        _ => (Body::new(body), false),
    };
    let token: VerifiedToken = guard.decide(&parts, required, in_query, in_body).await?;
    parts.extensions.insert(token);
    Ok(Request::from_parts(parts, body))
}
