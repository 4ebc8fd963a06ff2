//! The access log: one line per request (target `tessera_gateway::access`, level `info`) with the
//! route, method, path, status, time until the response head, upstream and replays.
//!
//! It never holds a secret: the query string is left out (it may carry keys or tokens), headers
//! are not logged, and a refusal reason comes from the guard, whose messages never echo a token.

use http::Method;
use std::time::Duration;

/// The longest path logged; longer ones are cut (with `…`).
const MAX_PATH: usize = 256;

/// What one access log line says.
#[derive(Debug)]
pub(crate) struct Access<'a> {
    /// The route's name, `-` when none matched.
    pub(crate) route: &'a str,
    /// The method.
    pub(crate) method: &'a Method,
    /// The path, without the query.
    pub(crate) path: &'a str,
    /// The status answered.
    pub(crate) status: u16,
    /// Until the response head.
    pub(crate) took: Duration,
    /// The upstream, `-` when the request did not go out.
    pub(crate) upstream: &'a str,
    /// Replays after a `401`.
    pub(crate) retries: u32,
    /// The client's address.
    pub(crate) client: &'a str,
    /// Why the gateway answered itself, if it did.
    pub(crate) reason: Option<&'a str>,
}

/// The access log's target.
const TARGET: &str = "tessera_gateway::access";

/// Logs the line, an `info` event of target [`TARGET`] (so `RUST_LOG=…,tessera_gateway::access=off`
/// silences it). Every value is a string or a number, so the text format quotes and escapes
/// the strings.
pub(crate) fn record(a: &Access<'_>) {
    // Whole microseconds, so that the milliseconds have at most three decimals.
    let micros = u64::try_from(a.took.as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: TARGET,
        route = a.route,
        method = a.method.as_str(),
        path = cut(a.path),
        status = a.status,
        duration_ms = micros as f64 / 1e3,
        upstream = a.upstream,
        retries = a.retries,
        client = a.client,
        reason = a.reason.unwrap_or("-"),
        "request"
    );
}

fn cut(path: &str) -> &str {
    if path.len() <= MAX_PATH {
        return path;
    }
    let mut end = MAX_PATH;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    path.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_long_paths_on_char_boundaries() {
        let long = "é".repeat(300);
        let c = cut(&long);
        assert!(c.len() <= MAX_PATH);
        assert!(c.chars().all(|ch| ch == 'é'));
        assert_eq!(cut("/a"), "/a");
    }
}
