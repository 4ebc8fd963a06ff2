//! Header rewriting between the two hops: hop-by-hop headers are removed (RFC 9110 §7.6.1), and
//! `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` tell the upstream where the
//! request came from.

use http::header::{self, Entry, HeaderMap, HeaderName, HeaderValue};
use std::net::SocketAddr;

/// `X-Forwarded-For`.
pub(crate) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub(crate) static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub(crate) static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");

/// Whether `name` is a hop-by-hop header that is always removed: `Connection`, `Keep-Alive`,
/// `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade` or any `Proxy-*` header.
fn always_hop_by_hop(name: &HeaderName) -> bool {
    name == header::CONNECTION
        || name == KEEP_ALIVE
        || name == header::TE
        || name == header::TRAILER
        || name == header::TRANSFER_ENCODING
        || name == header::UPGRADE
        || name.as_str().starts_with("proxy-")
}

/// Whether a `Connection` option names no header to remove beside `Connection` itself: `close`
/// names none of its own, `keep-alive` one removed anyway.
fn names_no_header(option: &[u8]) -> bool {
    option.eq_ignore_ascii_case(b"close") || option.eq_ignore_ascii_case(b"keep-alive")
}

/// Removes the hop-by-hop headers: `Connection` and every header it names, `Keep-Alive`, every
/// `Proxy-*` header, `TE`, `Trailer`, `Transfer-Encoding` and `Upgrade` (RFC 9110 §7.6.1,
/// RFC 9112 §9.6). HTTP/2 forbids them anyway (RFC 9113 §8.2.2).
///
/// Most messages carry none, or only `Connection: keep-alive`: one pass over the names finds
/// that out, and nothing is allocated unless `Connection` names other headers.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut hop = headers.keys().filter(|k| always_hop_by_hop(k));
    let only_connection = match (hop.next(), hop.next()) {
        (None, _) => return,
        (Some(first), None) => first == header::CONNECTION,
        _ => false,
    };
    if only_connection
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .all(|v| names_no_header(v.as_bytes()))
    {
        headers.remove(header::CONNECTION);
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !names_no_header(t.as_bytes()))
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(&name);
    }
    while let Some(name) = headers.keys().find(|k| always_hop_by_hop(k)).cloned() {
        headers.remove(&name);
    }
}

/// The client's address as an `X-Forwarded-For` entry, formatted once per connection rather
/// than once per request.
#[derive(Debug, Clone)]
pub(crate) struct ClientAddr {
    /// The address, as text.
    ip: HeaderValue,
}

impl ClientAddr {
    /// The client at `addr` (its port is left out).
    pub(crate) fn new(addr: SocketAddr) -> Self {
        let ip = HeaderValue::try_from(addr.ip().to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("unknown"));
        Self { ip }
    }

    /// The address, as text (an IP address is always ASCII).
    pub(crate) fn ip(&self) -> &str {
        self.ip.to_str().unwrap_or("unknown")
    }
}

/// Sets the `X-Forwarded-*` headers of a request going upstream.
///
/// - `X-Forwarded-For`: the client's address is appended to the list it came with.
/// - `X-Forwarded-Proto`: `http` (the gateway listens in cleartext), unless `trust` keeps a value
///   a proxy in front set.
/// - `X-Forwarded-Host`: the `Host` (or `:authority`) the client asked for, unless `trust` keeps
///   a value a proxy in front set.
pub(crate) fn set_forwarded(
    headers: &mut HeaderMap,
    client: &ClientAddr,
    inbound_host: Option<HeaderValue>,
    trust: bool,
) {
    match headers.entry(&X_FORWARDED_FOR) {
        Entry::Vacant(e) => {
            e.insert(client.ip.clone());
        }
        Entry::Occupied(mut e) => {
            let mut joined = String::new();
            for v in e.iter() {
                if let Ok(s) = v.to_str() {
                    let s = s.trim();
                    if !s.is_empty() {
                        joined.push_str(s);
                        joined.push_str(", ");
                    }
                }
            }
            joined.push_str(client.ip());
            if let Ok(v) = HeaderValue::try_from(joined) {
                e.insert(v);
            }
        }
    }
    if !(trust && headers.contains_key(&X_FORWARDED_PROTO)) {
        headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static("http"));
    }
    if !(trust && headers.contains_key(&X_FORWARDED_HOST)) {
        match inbound_host {
            Some(v) => {
                headers.insert(X_FORWARDED_HOST.clone(), v);
            }
            None => {
                headers.remove(&X_FORWARDED_HOST);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_what_connection_names() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("close, x-secret-hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("proxy-authorization", HeaderValue::from_static("Basic x"));
        h.insert("proxy-foo", HeaderValue::from_static("y"));
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("trailer", HeaderValue::from_static("x-checksum"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert("x-kept", HeaderValue::from_static("ok"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-type", "x-kept"]);

        // The usual answer of an HTTP/1.1 upstream, and a message with none.
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("keep-alive"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("close", HeaderValue::from_static("x"));
        h.insert("content-length", HeaderValue::from_static("2"));
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["close", "content-length"]);
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 2);

        // `Connection` the only hop-by-hop header: removed alone when it names no header, with
        // what it names otherwise.
        for (values, left) in [
            (&["keep-alive"][..], &["close", "x-hop"][..]),
            (&["Close"][..], &["close", "x-hop"][..]),
            (&["keep-alive", "x-hop"][..], &["close"][..]),
            (&["Keep-Alive, X-Hop"][..], &["close"][..]),
            (&["close", "close"][..], &["close", "x-hop"][..]),
        ] {
            let mut h = HeaderMap::new();
            for v in values {
                h.append("connection", HeaderValue::from_static(v));
            }
            h.insert("x-hop", HeaderValue::from_static("1"));
            h.insert("close", HeaderValue::from_static("x"));
            strip_hop_by_hop(&mut h);
            let mut kept: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
            kept.sort_unstable();
            assert_eq!(kept, left, "{values:?}");
        }
    }

    #[test]
    fn appends_forwarded_for_and_replaces_untrusted_proto_and_host() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        h.append("x-forwarded-for", HeaderValue::from_static("10.0.0.2"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        h.insert("x-forwarded-host", HeaderValue::from_static("evil.example"));
        set_forwarded(
            &mut h,
            &ClientAddr::new("127.0.0.1:5000".parse().unwrap()),
            Some(HeaderValue::from_static("gw.example:8081")),
            false,
        );
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 127.0.0.1");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "gw.example:8081");

        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        set_forwarded(
            &mut h,
            &ClientAddr::new("[::1]:5000".parse().unwrap()),
            Some(HeaderValue::from_static("gw")),
            true,
        );
        assert_eq!(h["x-forwarded-for"], "::1");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-host"], "gw");
    }
}
