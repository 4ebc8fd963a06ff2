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

/// Writes the line: straight into the log when the process logs through `tessera_log::init`'s
/// subscriber (one line per request, so it skips `tracing`'s dispatch), else through `tracing`.
pub(crate) fn record(a: &Access<'_>) {
    if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
        return;
    }
    let path = cut(a.path);
    let micros = u64::try_from(a.took.as_micros()).unwrap_or(u64::MAX);
    let reason = a.reason.unwrap_or("-");
    use tessera_log::direct::{self, Value};
    let fields = [
        ("route", Value::Str(a.route)),
        ("method", Value::Str(a.method.as_str())),
        ("path", Value::Str(path)),
        ("status", Value::U64(a.status.into())),
        ("duration_ms", Value::Thousandths(micros)),
        ("upstream", Value::Str(a.upstream)),
        ("retries", Value::U64(a.retries.into())),
        ("client", Value::Str(a.client)),
        ("reason", Value::Str(reason)),
    ];
    if direct::write(tracing::Level::INFO, TARGET, "request", &fields) {
        return;
    }
    tracing::info!(
        target: TARGET,
        route = a.route,
        method = a.method.as_str(),
        path = path,
        status = a.status,
        duration_ms = micros as f64 / 1e3,
        upstream = a.upstream,
        retries = a.retries,
        client = a.client,
        reason = reason,
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
