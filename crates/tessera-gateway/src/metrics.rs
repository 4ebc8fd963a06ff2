//! Prometheus metrics per route, kept in atomics (no lock and no allocation on the request path)
//! and rendered in the text exposition format at `/metrics`, followed by what the `metrics`
//! facade recorded (the token client's `tessera_client_*` and the guard's `tessera_guard_*`) when
//! the gateway's process installed the Prometheus recorder ([`install_recorder`]).
//!
//! | name | kind | labels |
//! | --- | --- | --- |
//! | `tessera_gateway_requests_total` | counter | `route`, `status` |
//! | `tessera_gateway_request_duration_seconds` | histogram | `route` (until the response head) |
//! | `tessera_gateway_token_fetches_total` | counter | `route`, `outcome` (`ok`: a new token was put in use on this route; `error`: none could be had) |
//! | `tessera_gateway_retries_total` | counter | `route` (replays after an upstream `401`) |
//! | `tessera_gateway_upstream_errors_total` | counter | `route`, `kind` (`connect`, `timeout`, `other`) |
//! | `tessera_gateway_guard_rejections_total` | counter | `route`, `error` |
//! | `tessera_gateway_reloads_total` | counter | `outcome` (`ok`, `refused`) |
//! | `tessera_gateway_routes` | gauge | — |

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// Statuses 100…599 are counted one by one; anything else in one slot.
const STATUS_SLOTS: usize = 501;

/// Why an upstream request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpstreamError {
    /// The connection could not be made.
    Connect,
    /// No response head in time.
    Timeout,
    /// Anything else (reset, protocol error, TLS).
    Other,
}

const GUARD_ERRORS: [&str; 6] = [
    "missing_token",
    "invalid_request",
    "invalid_token",
    "insufficient_scope",
    "unavailable",
    "other",
];

/// One route's counters.
#[derive(Debug)]
pub(crate) struct RouteMetrics {
    statuses: Box<[AtomicU64]>,
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    retries: AtomicU64,
    tokens_ok: AtomicU64,
    tokens_error: AtomicU64,
    upstream_errors: [AtomicU64; 3],
    guard: [AtomicU64; GUARD_ERRORS.len()],
}

impl RouteMetrics {
    fn new() -> Self {
        Self {
            statuses: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            tokens_ok: AtomicU64::new(0),
            tokens_error: AtomicU64::new(0),
            upstream_errors: std::array::from_fn(|_| AtomicU64::new(0)),
            guard: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Counts an answered request.
    pub(crate) fn request(&self, status: u16, took: Duration) {
        let slot = usize::from(status)
            .checked_sub(100)
            .filter(|s| *s < STATUS_SLOTS - 1)
            .unwrap_or(STATUS_SLOTS - 1);
        if let Some(c) = self.statuses.get(slot) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        let b = BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(BUCKETS.len());
        if let Some(c) = self.buckets.get(b) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Counts a replay after a `401`.
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a new token put in use (`ok`) or a failure to get one.
    pub(crate) fn token_fetch(&self, ok: bool) {
        if ok {
            self.tokens_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.tokens_error.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a failed upstream request.
    pub(crate) fn upstream_error(&self, kind: UpstreamError) {
        let i = match kind {
            UpstreamError::Connect => 0,
            UpstreamError::Timeout => 1,
            UpstreamError::Other => 2,
        };
        if let Some(c) = self.upstream_errors.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a request refused by the route's guard, by RFC 6750 error (`missing_token` when
    /// there was none).
    pub(crate) fn guard_rejection(&self, error: Option<&str>) {
        let name = error.unwrap_or("missing_token");
        let i = GUARD_ERRORS
            .iter()
            .position(|e| *e == name)
            .unwrap_or(GUARD_ERRORS.len() - 1);
        if let Some(c) = self.guard.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// All of the gateway's metrics. Route counters live as long as the gateway, so they keep
/// counting across reloads for routes that keep their names.
#[derive(Debug)]
pub(crate) struct Metrics {
    routes: Mutex<BTreeMap<String, Arc<RouteMetrics>>>,
    reloads_ok: AtomicU64,
    reloads_refused: AtomicU64,
    active_routes: AtomicUsize,
    facade: Option<PrometheusHandle>,
}

impl Metrics {
    /// Metrics, with the facade's recorder handle to render too.
    pub(crate) fn new(facade: Option<PrometheusHandle>) -> Self {
        Self {
            routes: Mutex::new(BTreeMap::new()),
            reloads_ok: AtomicU64::new(0),
            reloads_refused: AtomicU64::new(0),
            active_routes: AtomicUsize::new(0),
            facade,
        }
    }

    /// The counters of route `name` (created on first use).
    pub(crate) fn route(&self, name: &str) -> Arc<RouteMetrics> {
        Arc::clone(
            self.routes
                .lock()
                .entry(name.to_owned())
                .or_insert_with(|| Arc::new(RouteMetrics::new())),
        )
    }

    /// Counts a reload.
    pub(crate) fn reload(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.reloads_refused.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sets the number of routes in force.
    pub(crate) fn set_routes(&self, n: usize) {
        self.active_routes.store(n, Ordering::Relaxed);
    }

    /// The text exposition (version 0.0.4).
    pub(crate) fn render(&self) -> String {
        let routes: Vec<(String, Arc<RouteMetrics>)> = self
            .routes
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        let mut out = String::with_capacity(4096);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);

        header(
            &mut out,
            "tessera_gateway_requests_total",
            "counter",
            "Requests answered, by route and status.",
        );
        for (name, m) in &routes {
            let r = escape(name);
            for (i, c) in m.statuses.iter().enumerate() {
                let n = load(c);
                if n == 0 {
                    continue;
                }
                let status = if i == STATUS_SLOTS - 1 {
                    "other".to_owned()
                } else {
                    (i + 100).to_string()
                };
                let _ = writeln!(
                    out,
                    "tessera_gateway_requests_total{{route=\"{r}\",status=\"{status}\"}} {n}"
                );
            }
        }

        header(
            &mut out,
            "tessera_gateway_request_duration_seconds",
            "histogram",
            "Time until the response head, by route.",
        );
        for (name, m) in &routes {
            let r = escape(name);
            let mut cumulative = 0u64;
            for (i, c) in m.buckets.iter().enumerate() {
                cumulative += load(c);
                let le = BUCKETS.get(i).map_or("+Inf".to_owned(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "tessera_gateway_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let sum = load(&m.sum_nanos) as f64 / 1e9;
            let _ = writeln!(
                out,
                "tessera_gateway_request_duration_seconds_sum{{route=\"{r}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "tessera_gateway_request_duration_seconds_count{{route=\"{r}\"}} {cumulative}"
            );
        }

        header(
            &mut out,
            "tessera_gateway_token_fetches_total",
            "counter",
            "New upstream tokens put in use (ok) and failures to get one (error), by route.",
        );
        for (name, m) in &routes {
            let r = escape(name);
            let _ = writeln!(
                out,
                "tessera_gateway_token_fetches_total{{route=\"{r}\",outcome=\"ok\"}} {}",
                load(&m.tokens_ok)
            );
            let _ = writeln!(
                out,
                "tessera_gateway_token_fetches_total{{route=\"{r}\",outcome=\"error\"}} {}",
                load(&m.tokens_error)
            );
        }

        header(
            &mut out,
            "tessera_gateway_retries_total",
            "counter",
            "Requests replayed with a new token after an upstream 401, by route.",
        );
        for (name, m) in &routes {
            let _ = writeln!(
                out,
                "tessera_gateway_retries_total{{route=\"{}\"}} {}",
                escape(name),
                load(&m.retries)
            );
        }

        header(
            &mut out,
            "tessera_gateway_upstream_errors_total",
            "counter",
            "Upstream requests that failed, by route and kind.",
        );
        for (name, m) in &routes {
            let r = escape(name);
            for (kind, c) in ["connect", "timeout", "other"]
                .iter()
                .zip(&m.upstream_errors)
            {
                let _ = writeln!(
                    out,
                    "tessera_gateway_upstream_errors_total{{route=\"{r}\",kind=\"{kind}\"}} {}",
                    load(c)
                );
            }
        }

        header(
            &mut out,
            "tessera_gateway_guard_rejections_total",
            "counter",
            "Inbound requests refused by the route's guard, by RFC 6750 error.",
        );
        for (name, m) in &routes {
            let r = escape(name);
            for (error, c) in GUARD_ERRORS.iter().zip(&m.guard) {
                let n = load(c);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "tessera_gateway_guard_rejections_total{{route=\"{r}\",error=\"{error}\"}} {n}"
                    );
                }
            }
        }

        header(
            &mut out,
            "tessera_gateway_reloads_total",
            "counter",
            "Configuration reloads, applied (ok) or refused.",
        );
        let _ = writeln!(
            out,
            "tessera_gateway_reloads_total{{outcome=\"ok\"}} {}",
            load(&self.reloads_ok)
        );
        let _ = writeln!(
            out,
            "tessera_gateway_reloads_total{{outcome=\"refused\"}} {}",
            load(&self.reloads_refused)
        );

        header(
            &mut out,
            "tessera_gateway_routes",
            "gauge",
            "Routes in force.",
        );
        let _ = writeln!(
            out,
            "tessera_gateway_routes {}",
            self.active_routes.load(Ordering::Relaxed)
        );

        if let Some(h) = &self.facade {
            out.push_str(&h.render());
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value (`\`, `"`, newline).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Installs the Prometheus recorder of the `metrics` facade for this process, once, and returns
/// its handle (`None` if another recorder is installed). Call it before starting the gateway, in
/// a process that runs only the gateway, so that `/metrics` also shows the token client's and the
/// guard's metrics.
pub fn install_recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new().install_recorder().ok()?;
            // The token client's and the guard's histograms keep raw samples until they are
            // folded into buckets; without a scraper they would grow for ever. Fold them every 5 s.
            let h = handle.clone();
            let _ = std::thread::Builder::new()
                .name("gateway-metrics".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        h.run_upkeep();
                    }
                });
            Some(handle)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::new(None);
        let r = m.route("billing \"v1\"");
        r.request(200, Duration::from_micros(300));
        r.request(200, Duration::from_millis(3));
        r.request(502, Duration::from_secs(100));
        r.retry();
        r.token_fetch(true);
        r.guard_rejection(Some("insufficient_scope"));
        m.reload(false);
        let text = m.render();
        let route = "route=\"billing \\\"v1\\\"\"";
        assert!(
            text.contains(&format!(
                "tessera_gateway_requests_total{{{route},status=\"200\"}} 2"
            )),
            "{text}"
        );
        assert!(text.contains(&format!(
            "tessera_gateway_requests_total{{{route},status=\"502\"}} 1"
        )));
        assert!(text.contains(&format!(
            "tessera_gateway_request_duration_seconds_bucket{{{route},le=\"0.0005\"}} 1"
        )));
        assert!(text.contains(&format!(
            "tessera_gateway_request_duration_seconds_bucket{{{route},le=\"0.005\"}} 2"
        )));
        assert!(text.contains(&format!(
            "tessera_gateway_request_duration_seconds_bucket{{{route},le=\"+Inf\"}} 3"
        )));
        assert!(text.contains(&format!("tessera_gateway_retries_total{{{route}}} 1")));
        assert!(text.contains(&format!(
            "tessera_gateway_token_fetches_total{{{route},outcome=\"ok\"}} 1"
        )));
        assert!(text.contains(&format!(
            "tessera_gateway_guard_rejections_total{{{route},error=\"insufficient_scope\"}} 1"
        )));
        assert!(text.contains("tessera_gateway_reloads_total{outcome=\"refused\"} 1"));
    }
}
