//! Metrics set-up (logs: `tessera_log`).

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

static METRICS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process and returns its handle.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    METRICS
        .get_or_init(|| {
            let buckets = [
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()?;
            // Histogram samples wait in the recorder until they are folded into buckets, which
            // rendering `/metrics` does; with no scraper they would pile up (8 bytes a request).
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("tessera-metrics".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(METRICS_UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            Some(handle)
        })
        .clone()
}

/// How often recorded histogram samples are folded into buckets when nobody scrapes.
const METRICS_UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
