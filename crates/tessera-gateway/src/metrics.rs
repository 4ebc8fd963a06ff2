//! The gateway's Prometheus metrics, recorded through the `metrics` facade and rendered at
//! `/metrics` by `metrics-exporter-prometheus`, followed by what the process-wide recorder holds
//! (the token client's `tessera_client_*` and the guard's `tessera_guard_*`) when the gateway's
//! process installed one ([`install_recorder`]).
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
//! | `tessera_gateway_connections_open` | gauge | — (both listeners) |
//! | `tessera_gateway_connections_refused_total` | counter | — (closed at once: a listener already served `max_connections`) |
//!
//! Each gateway records these into a Prometheus recorder of its own, not the process-wide one:
//! its handles are registered under [`metrics::with_local_recorder`], so gateways that share a
//! process (tests, or a program that embeds several) count apart, and a gateway's `/metrics`
//! shows its own routes only. The handles are registered once per route where their labels are
//! fixed (and so show `0` until counted), and per request where a label comes from the request
//! (`status`, the guard's `error`).

use metrics::{Counter, Gauge, Histogram, SharedString};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// How often histogram samples are folded into their buckets when nobody scrapes (a render
/// folds them too); until then each sample is kept.
const UPKEEP: Duration = Duration::from_secs(5);

const REQUESTS: &str = "tessera_gateway_requests_total";
const DURATION: &str = "tessera_gateway_request_duration_seconds";
const TOKEN_FETCHES: &str = "tessera_gateway_token_fetches_total";
const RETRIES: &str = "tessera_gateway_retries_total";
const UPSTREAM_ERRORS: &str = "tessera_gateway_upstream_errors_total";
const GUARD_REJECTIONS: &str = "tessera_gateway_guard_rejections_total";
const RELOADS: &str = "tessera_gateway_reloads_total";
const ROUTES: &str = "tessera_gateway_routes";
const CONNECTIONS_OPEN: &str = "tessera_gateway_connections_open";
const CONNECTIONS_REFUSED: &str = "tessera_gateway_connections_refused_total";

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

/// The values of the guard rejections' `error` label; the last one stands for any other.
const GUARD_ERRORS: [&str; 6] = [
    "missing_token",
    "invalid_request",
    "invalid_token",
    "insufficient_scope",
    "unavailable",
    "other",
];

/// Statuses 100…599 each have a slot of [`RouteMetrics::statuses`]; anything else the last one.
const STATUS_SLOTS: usize = 501;

/// One route's metrics.
pub(crate) struct RouteMetrics {
    recorder: Arc<PrometheusRecorder>,
    route: SharedString,
    /// `tessera_gateway_requests_total` by status, each handle registered at its status's first
    /// answer (so only statuses seen show), then reused without a registry look-up.
    statuses: Box<[OnceLock<Counter>]>,
    duration: Histogram,
    retries: Counter,
    tokens_ok: Counter,
    tokens_error: Counter,
    /// `connect`, `timeout`, `other`.
    upstream_errors: [Counter; 3],
}

impl std::fmt::Debug for RouteMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteMetrics")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl RouteMetrics {
    fn new(recorder: Arc<PrometheusRecorder>, name: &str) -> Self {
        let route = SharedString::from(Arc::<str>::from(name));
        let r = route.clone();
        let (duration, retries, tokens_ok, tokens_error, upstream_errors) =
            metrics::with_local_recorder(&*recorder, || {
                (
                    metrics::histogram!(DURATION, "route" => r.clone()),
                    metrics::counter!(RETRIES, "route" => r.clone()),
                    metrics::counter!(TOKEN_FETCHES, "route" => r.clone(), "outcome" => "ok"),
                    metrics::counter!(TOKEN_FETCHES, "route" => r.clone(), "outcome" => "error"),
                    ["connect", "timeout", "other"].map(|kind| {
                        metrics::counter!(UPSTREAM_ERRORS, "route" => r.clone(), "kind" => kind)
                    }),
                )
            });
        Self {
            recorder,
            route,
            statuses: (0..STATUS_SLOTS).map(|_| OnceLock::new()).collect(),
            duration,
            retries,
            tokens_ok,
            tokens_error,
            upstream_errors,
        }
    }

    /// Counts an answered request (statuses outside 100…599 as `other`).
    pub(crate) fn request(&self, status: u16, took: Duration) {
        let known = (100..600).contains(&status);
        let slot = if known {
            usize::from(status - 100)
        } else {
            STATUS_SLOTS - 1
        };
        if let Some(counter) = self.statuses.get(slot) {
            counter
                .get_or_init(|| {
                    let status: SharedString = if known {
                        status.to_string().into()
                    } else {
                        "other".into()
                    };
                    metrics::with_local_recorder(&*self.recorder, || {
                        metrics::counter!(REQUESTS, "route" => self.route.clone(), "status" => status)
                    })
                })
                .increment(1);
        }
        self.duration.record(took);
    }

    /// Counts a replay after a `401`.
    pub(crate) fn retry(&self) {
        self.retries.increment(1);
    }

    /// Counts a new token put in use (`ok`) or a failure to get one.
    pub(crate) fn token_fetch(&self, ok: bool) {
        if ok {
            self.tokens_ok.increment(1);
        } else {
            self.tokens_error.increment(1);
        }
    }

    /// Counts a failed upstream request.
    pub(crate) fn upstream_error(&self, kind: UpstreamError) {
        let [connect, timeout, other] = &self.upstream_errors;
        match kind {
            UpstreamError::Connect => connect,
            UpstreamError::Timeout => timeout,
            UpstreamError::Other => other,
        }
        .increment(1);
    }

    /// Counts a request refused by the route's guard, by RFC 6750 error (`missing_token` when
    /// there was none, `other` for a name not in the list).
    pub(crate) fn guard_rejection(&self, error: Option<&str>) {
        let name = error.unwrap_or("missing_token");
        let error = GUARD_ERRORS
            .iter()
            .find(|e| **e == name)
            .copied()
            .unwrap_or("other");
        metrics::with_local_recorder(&*self.recorder, || {
            metrics::counter!(GUARD_REJECTIONS, "route" => self.route.clone(), "error" => error)
                .increment(1);
        });
    }
}

/// All of the gateway's metrics. They live as long as the gateway, so a route that keeps its
/// name across reloads keeps counting.
pub(crate) struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    reloads_ok: Counter,
    reloads_refused: Counter,
    routes: Gauge,
    process: Option<PrometheusHandle>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The gateway's metrics, with the process-wide recorder's handle to render after them.
    /// Within a Tokio runtime, a task folds histogram samples into buckets every [`UPKEEP`]
    /// for as long as the metrics live.
    pub(crate) fn new(process: Option<PrometheusHandle>) -> Self {
        let recorder = Arc::new(
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &BUCKETS)
                // Refused only for an empty list of buckets.
                .unwrap_or_else(|_| PrometheusBuilder::new())
                .build_recorder(),
        );
        let (reloads_ok, reloads_refused, routes) =
            metrics::with_local_recorder(&*recorder, || {
                describe();
                (
                    metrics::counter!(RELOADS, "outcome" => "ok"),
                    metrics::counter!(RELOADS, "outcome" => "refused"),
                    metrics::gauge!(ROUTES),
                )
            });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(upkeep(Arc::downgrade(&recorder)));
        }
        Self {
            recorder,
            reloads_ok,
            reloads_refused,
            routes,
            process,
        }
    }

    /// The metrics of route `name` (counting on from where an earlier route of that name left).
    pub(crate) fn route(&self, name: &str) -> Arc<RouteMetrics> {
        Arc::new(RouteMetrics::new(Arc::clone(&self.recorder), name))
    }

    /// Counts a reload.
    pub(crate) fn reload(&self, ok: bool) {
        if ok {
            self.reloads_ok.increment(1);
        } else {
            self.reloads_refused.increment(1);
        }
    }

    /// The handles the listeners count their connections with.
    pub(crate) fn connections(&self) -> tessera_serve::ConnectionMetrics {
        metrics::with_local_recorder(&*self.recorder, || tessera_serve::ConnectionMetrics {
            open: metrics::gauge!(CONNECTIONS_OPEN),
            refused: metrics::counter!(CONNECTIONS_REFUSED),
        })
    }

    /// Sets the number of routes in force.
    pub(crate) fn set_routes(&self, n: usize) {
        self.routes.set(n as f64);
    }

    /// The text exposition (version 0.0.4): the gateway's metrics, then the process-wide ones.
    pub(crate) fn render(&self) -> String {
        let mut out = self.recorder.handle().render();
        if let Some(h) = &self.process {
            tessera_log::publish_dropped_lines();
            out.push_str(&h.render());
        }
        out
    }
}

/// The help lines of the gateway's metrics, given to the current recorder.
fn describe() {
    metrics::describe_counter!(REQUESTS, "Requests answered, by route and status.");
    metrics::describe_histogram!(DURATION, "Time until the response head, by route.");
    metrics::describe_counter!(
        TOKEN_FETCHES,
        "New upstream tokens put in use (ok) and failures to get one (error), by route."
    );
    metrics::describe_counter!(
        RETRIES,
        "Requests replayed with a new token after an upstream 401, by route."
    );
    metrics::describe_counter!(
        UPSTREAM_ERRORS,
        "Upstream requests that failed, by route and kind."
    );
    metrics::describe_counter!(
        GUARD_REJECTIONS,
        "Inbound requests refused by the route's guard, by RFC 6750 error."
    );
    metrics::describe_counter!(RELOADS, "Configuration reloads, applied (ok) or refused.");
    metrics::describe_gauge!(ROUTES, "Routes in force.");
    metrics::describe_gauge!(CONNECTIONS_OPEN, "Connections open, on both listeners.");
    metrics::describe_counter!(
        CONNECTIONS_REFUSED,
        "Connections closed as soon as accepted because a listener served max_connections."
    );
}

/// Folds histogram samples into buckets every [`UPKEEP`] until the recorder is gone.
async fn upkeep(recorder: Weak<PrometheusRecorder>) {
    loop {
        tokio::time::sleep(UPKEEP).await;
        let Some(recorder) = recorder.upgrade() else {
            return;
        };
        recorder.handle().run_upkeep();
    }
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
                        std::thread::sleep(UPKEEP);
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
        r.request(99, Duration::from_secs(1));
        r.retry();
        r.token_fetch(true);
        r.upstream_error(UpstreamError::Timeout);
        r.guard_rejection(Some("insufficient_scope"));
        r.guard_rejection(Some("no such error"));
        m.reload(false);
        m.set_routes(3);
        let text = m.render();
        let route = "route=\"billing \\\"v1\\\"\"";
        for line in [
            format!("{REQUESTS}{{{route},status=\"200\"}} 2"),
            format!("{REQUESTS}{{{route},status=\"502\"}} 1"),
            format!("{REQUESTS}{{{route},status=\"other\"}} 1"),
            format!("{DURATION}_bucket{{{route},le=\"0.0005\"}} 1"),
            format!("{DURATION}_bucket{{{route},le=\"0.005\"}} 2"),
            format!("{DURATION}_bucket{{{route},le=\"60\"}} 3"),
            format!("{DURATION}_bucket{{{route},le=\"+Inf\"}} 4"),
            format!("{DURATION}_count{{{route}}} 4"),
            format!("{RETRIES}{{{route}}} 1"),
            format!("{TOKEN_FETCHES}{{{route},outcome=\"ok\"}} 1"),
            format!("{TOKEN_FETCHES}{{{route},outcome=\"error\"}} 0"),
            format!("{UPSTREAM_ERRORS}{{{route},kind=\"timeout\"}} 1"),
            format!("{UPSTREAM_ERRORS}{{{route},kind=\"connect\"}} 0"),
            format!("{GUARD_REJECTIONS}{{{route},error=\"insufficient_scope\"}} 1"),
            format!("{GUARD_REJECTIONS}{{{route},error=\"other\"}} 1"),
            format!("{RELOADS}{{outcome=\"refused\"}} 1"),
            format!("{RELOADS}{{outcome=\"ok\"}} 0"),
            format!("{ROUTES} 3"),
            format!("# TYPE {DURATION} histogram"),
            format!("# HELP {ROUTES} Routes in force."),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        let sum: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{DURATION}_sum{{{route}}} ")))
            .unwrap()
            .parse()
            .unwrap();
        assert!((sum - 101.0033).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn two_gateways_count_apart_and_a_route_keeps_counting_across_reloads() {
        let (a, b) = (Metrics::new(None), Metrics::new(None));
        a.route("r").retry();
        b.route("r").retry();
        // A reload builds the route again.
        a.route("r").retry();
        assert!(a.render().contains(&format!("{RETRIES}{{route=\"r\"}} 2")));
        assert!(b.render().contains(&format!("{RETRIES}{{route=\"r\"}} 1")));
    }
}
