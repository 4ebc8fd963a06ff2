//! `tessera_token_requests_total{grant, client, outcome}`: token requests counted by grant, by
//! the client that authenticated (`-` before one did) and by outcome (`success` or the RFC 6749
//! error code).
//!
//! Looking a counter up by name and labels builds its key, hashes it and reads the recorder's
//! registry on every call, so the counters of tokens issued (the common outcome) are looked up
//! once per client and grant and kept with the client's registry entry ([`IssuedCounters`]);
//! an entry rebuilt after the client changed looks them up again and finds the same counters.

use super::token::SUPPORTED_GRANTS;
use metrics::Counter;
use std::borrow::Cow;
use std::sync::OnceLock;
use tessera_proto::GrantType;

const NAME: &str = "tessera_token_requests_total";

/// One client's counters of tokens issued, one per supported grant, each looked up on first use.
#[derive(Default)]
pub struct IssuedCounters([OnceLock<Counter>; SUPPORTED_GRANTS.len()]);

impl IssuedCounters {
    /// Counts a token issued to `client_id` (the entry's own client) under `grant`.
    pub fn increment(&self, grant: GrantType, client_id: &str) {
        let slot = SUPPORTED_GRANTS
            .iter()
            .position(|g| *g == grant)
            .and_then(|i| self.0.get(i));
        match slot {
            Some(slot) => slot
                .get_or_init(|| counter(grant.as_str(), client_id.to_owned(), "success".into()))
                .increment(1),
            None => counter(grant.as_str(), client_id.to_owned(), "success".into()).increment(1),
        }
    }
}

/// Counts a refused token request: `grant` is `unknown` when `grant_type` named none this server
/// supports, `client` is `-` until a client authenticated (so that the exposition, which anyone
/// may read, never tells which client ids exist or are being attacked).
pub fn refused(grant: &'static str, client: String, error: Cow<'static, str>) {
    counter(grant, client, error).increment(1);
}

fn counter(grant: &'static str, client: String, outcome: Cow<'static, str>) -> Counter {
    metrics::counter!(NAME, "grant" => grant, "client" => client, "outcome" => outcome)
}
