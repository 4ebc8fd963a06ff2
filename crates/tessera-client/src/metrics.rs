//! Metrics the token client records through the `metrics` facade. Install a recorder (for example
//! `metrics-exporter-prometheus`) before building token sources: handles are registered when a
//! cache entry is created. No metric carries a token or a secret; labels are the client id and
//! bounded error labels ([`crate::Error::label`]).
//!
//! | name | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `tessera_client_cache_hits_total` | counter | `client_id` | tokens served from the cache (counted per thread, published in batches of 256) |
//! | `tessera_client_fetches_total` | counter | `client_id`, `outcome` (`ok`/`error`), `reason` (`cold`/`refresh_ahead`/`expired`/`forced`) | token fetches (each may be several requests) |
//! | `tessera_client_coalesced_waits_total` | counter | `client_id` | callers that waited on a fetch another caller started |
//! | `tessera_client_retries_total` | counter | `client_id`, `error` | token requests retried, by the error that caused it |
//! | `tessera_client_failures_total` | counter | `client_id`, `error` | failed token requests, by error code or kind |
//! | `tessera_client_token_seconds_to_expiry` | gauge | `client_id` | seconds left on the cached token, updated at each fetch and each published batch of hits |
//! | `tessera_client_token_lifetime_seconds` | histogram | `client_id` | lifetime of fetched tokens |
//! | `tessera_client_request_seconds` | histogram | `client_id` | token endpoint round trips |
//! | `tessera_client_middleware_retries_total` | counter | `client_id` | requests replayed with a new token after a `401` |

use std::time::Duration;

/// Tokens served from the cache.
pub const CACHE_HITS: &str = "tessera_client_cache_hits_total";
/// Token fetches.
pub const FETCHES: &str = "tessera_client_fetches_total";
/// Callers that joined a fetch in flight.
pub const COALESCED_WAITS: &str = "tessera_client_coalesced_waits_total";
/// Token requests retried.
pub const RETRIES: &str = "tessera_client_retries_total";
/// Failed token requests.
pub const FAILURES: &str = "tessera_client_failures_total";
/// Seconds left on the cached token.
pub const SECONDS_TO_EXPIRY: &str = "tessera_client_token_seconds_to_expiry";
/// Lifetime of fetched tokens.
pub const TOKEN_LIFETIME: &str = "tessera_client_token_lifetime_seconds";
/// Token endpoint round trips.
pub const REQUEST_SECONDS: &str = "tessera_client_request_seconds";
/// Requests replayed by the middleware after a 401.
pub const MIDDLEWARE_RETRIES: &str = "tessera_client_middleware_retries_total";

pub(crate) fn hits_counter(client_id: &str) -> metrics::Counter {
    metrics::counter!(CACHE_HITS, "client_id" => client_id.to_owned())
}

pub(crate) fn expiry_gauge(client_id: &str) -> metrics::Gauge {
    metrics::gauge!(SECONDS_TO_EXPIRY, "client_id" => client_id.to_owned())
}

pub(crate) fn fetch(client_id: &str, ok: bool, reason: &'static str) {
    metrics::counter!(FETCHES, "client_id" => client_id.to_owned(), "outcome" => if ok { "ok" } else { "error" }, "reason" => reason)
        .increment(1);
}

pub(crate) fn coalesced(client_id: &str) {
    metrics::counter!(COALESCED_WAITS, "client_id" => client_id.to_owned()).increment(1);
}

pub(crate) fn retry(client_id: &str, error: &str) {
    metrics::counter!(RETRIES, "client_id" => client_id.to_owned(), "error" => error.to_owned())
        .increment(1);
}

pub(crate) fn fetch_error(client_id: &str, error: &str) {
    metrics::counter!(FAILURES, "client_id" => client_id.to_owned(), "error" => error.to_owned())
        .increment(1);
}

pub(crate) fn lifetime(client_id: &str, lifetime: Duration) {
    metrics::histogram!(TOKEN_LIFETIME, "client_id" => client_id.to_owned())
        .record(lifetime.as_secs_f64());
}

pub(crate) fn request_seconds(client_id: &str, d: Duration) {
    metrics::histogram!(REQUEST_SECONDS, "client_id" => client_id.to_owned())
        .record(d.as_secs_f64());
}

pub(crate) fn middleware_retry(client_id: &str) {
    metrics::counter!(MIDDLEWARE_RETRIES, "client_id" => client_id.to_owned()).increment(1);
}
