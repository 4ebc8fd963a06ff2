//! Forwarding one request: route, inbound guard, header rewriting, token injection, the upstream
//! call with its timeout, the replays after a `401`, and the answer streamed back; then the
//! route's metrics and the access log line.

use crate::access_log::{self, Access};
use crate::body::{Inbound, ProxyBody};
use crate::headers::{ClientAddr, set_forwarded, strip_hop_by_hop};
use crate::metrics::UpstreamError;
use crate::oauth2::wants_new_token;
use crate::routes::Entry;
use crate::state::{Route, Shared, State};
use crate::{health, oauth2};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Instant;
use tessera_guard::RejectionKind;

/// How a request went, for the log.
#[derive(Default)]
struct Outcome {
    retries: u32,
    reason: Option<String>,
}

/// Answers one inbound request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    client: &ClientAddr,
) -> Response<ProxyBody> {
    let start = Instant::now();
    if !shared.admin_separate
        && let Some(resp) = health::answer(&shared, &req)
    {
        return resp;
    }
    let state = shared.state.load_full();
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let uri = parts.uri.clone();
    let found = state.routes.find(inbound_host(&parts), uri.path());
    let Some(entry) = found else {
        let resp = error(
            StatusCode::NOT_FOUND,
            "no_route",
            "no route of the gateway matches this request",
        );
        if state.access_log {
            access_log::record(&Access {
                route: "-",
                method: &method,
                path: uri.path(),
                status: resp.status().as_u16(),
                took: start.elapsed(),
                upstream: "-",
                retries: 0,
                client: client.ip(),
                reason: Some("no route"),
            });
        }
        return resp;
    };
    let mut outcome = Outcome::default();
    let resp = forward(&state, entry, parts, body, client, &mut outcome).await;
    let took = start.elapsed();
    let route = &entry.value;
    let status = resp.status().as_u16();
    route.metrics.request(status, took);
    if state.access_log {
        access_log::record(&Access {
            route: &route.name,
            method: &method,
            path: uri.path(),
            status,
            took,
            upstream: &route.upstream.name,
            retries: outcome.retries,
            client: client.ip(),
            reason: outcome.reason.as_deref(),
        });
    }
    resp
}

/// The host the client asked for: `Host` (HTTP/1.1) or the URI's authority (HTTP/2).
fn inbound_host(parts: &http::request::Parts) -> Option<&str> {
    parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
}

async fn forward(
    state: &State,
    entry: &Entry<Route>,
    mut parts: http::request::Parts,
    body: Incoming,
    client: &ClientAddr,
    out: &mut Outcome,
) -> Response<ProxyBody> {
    let route = &entry.value;
    // The guard reads a small form body, once, to find a second token (RFC 6750 §2.2).
    let mut body = Inbound::Streamed(body);
    if let Some(guard) = &route.guard
        // Boxed: an introspection call makes this future large; unguarded routes do not need it.
        && let Err(refused) = Box::pin(guard.check(&parts, &mut body, state.max_replay_body)).await
    {
        let (rejection, resp) = *refused;
        route.metrics.guard_rejection(Some(match rejection.kind() {
            RejectionKind::MissingToken => "missing_token",
            RejectionKind::InvalidRequest(_) => "invalid_request",
            RejectionKind::InvalidToken(_) => "invalid_token",
            RejectionKind::InsufficientScope(_) => "insufficient_scope",
            RejectionKind::Unavailable(_) => "unavailable",
            RejectionKind::NotGuarded => "other",
        }));
        out.reason = Some(rejection.to_string());
        return resp;
    }
    let upstream = &route.upstream;
    let Ok(uri) = upstream
        .target
        .uri(entry.upstream_path(parts.uri.path()), parts.uri.query())
    else {
        out.reason = Some("the path cannot be forwarded".into());
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request path cannot be forwarded",
        );
    };

    let mut headers = std::mem::take(&mut parts.headers);
    let host: Option<HeaderValue> = headers.get(header::HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    strip_hop_by_hop(&mut headers);
    // The client set `Host` for us; the upstream's comes from its URL (the pooled client writes
    // it for HTTP/1.1, the URI's authority says it over HTTP/2). `Expect` was answered by this hop.
    headers.remove(header::HOST);
    headers.remove(header::EXPECT);
    set_forwarded(&mut headers, client, host, state.trust_forwarded);
    let auth = upstream.auth.as_deref();
    if auth.is_some() {
        headers.remove(header::AUTHORIZATION);
    }
    let retries = auth.map_or(0, |a| a.retries);

    let inbound = match crate::inbound::read_rest(body, retries > 0, state.max_replay_body).await {
        Ok(i) => i,
        Err(e) => {
            out.reason = Some(e.to_string());
            return error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string());
        }
    };
    let (mut body, spare): (ProxyBody, Option<Bytes>) = inbound.take();

    loop {
        let last_try = spare.is_none() || out.retries >= retries;
        let token = match auth {
            Some(a) => match a.token().await {
                Ok(oauth2::Obtained { token, new }) => {
                    if new {
                        route.metrics.token_fetch(true);
                    }
                    headers.insert(header::AUTHORIZATION, token.authorization().clone());
                    Some(token)
                }
                Err(e) => {
                    route.metrics.token_fetch(false);
                    out.reason = Some(format!("no token for the upstream: {}", e.label()));
                    return error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "token_unavailable",
                        &format!(
                            "the gateway cannot obtain an access token for upstream {} ({})",
                            upstream.name,
                            e.label()
                        ),
                    );
                }
            },
            None => None,
        };
        let mut req = Request::new(body);
        *req.method_mut() = parts.method.clone();
        *req.uri_mut() = uri.clone();
        *req.version_mut() = Version::HTTP_11;
        *req.headers_mut() = if last_try {
            std::mem::take(&mut headers)
        } else {
            headers.clone()
        };

        let sent = tokio::time::timeout(upstream.request_timeout, upstream.clients.send(req)).await;
        let resp = match sent {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                let kind = if e.is_connect() {
                    UpstreamError::Connect
                } else {
                    UpstreamError::Other
                };
                route.metrics.upstream_error(kind);
                tracing::warn!(route = %route.name, upstream = %upstream.name, error = %ErrorChain(&e), "upstream request failed");
                out.reason = Some(format!("upstream: {}", ErrorChain(&e)));
                return error(
                    StatusCode::BAD_GATEWAY,
                    "bad_gateway",
                    &format!("upstream {} could not be reached or failed", upstream.name),
                );
            }
            Err(_) => {
                route.metrics.upstream_error(UpstreamError::Timeout);
                out.reason = Some("upstream: no response in time".into());
                return error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "upstream_timeout",
                    &format!("upstream {} did not answer in time", upstream.name),
                );
            }
        };

        if resp.status() == StatusCode::UNAUTHORIZED
            && let (Some(a), Some(token)) = (auth, &token)
            && wants_new_token(resp.headers())
        {
            // Compare-and-evict: a newer token another request already got stays.
            a.evict(token);
            if !last_try && let Some(b) = &spare {
                out.retries += 1;
                route.metrics.retry();
                tracing::debug!(route = %route.name, client_id = a.client_id(), "upstream answered 401; replaying with a new token");
                body = ProxyBody::full(b.clone());
                continue;
            }
        }
        return downstream(resp);
    }
}

/// The upstream's answer as it goes back: hop-by-hop headers removed, body streamed.
fn downstream(mut resp: Response<ProxyBody>) -> Response<ProxyBody> {
    strip_hop_by_hop(resp.headers_mut());
    *resp.version_mut() = Version::HTTP_11;
    resp
}

/// An answer of the gateway itself: a small JSON document in the shape of OAuth errors.
pub(crate) fn error(status: StatusCode, code: &str, description: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({ "error": code, "error_description": description });
    let mut resp = Response::new(ProxyBody::full(body.to_string()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// An error with its causes, on one line.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
