//! The setting that chooses how a listener's connections are served.

use serde::{Deserialize, Serialize};

/// How a listener's connections are served; `threading = "per_core" | "shared"` in the server's
/// and the gateway's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threading {
    /// One thread per core, each with its own single-threaded runtime
    /// ([`ServingThreads`](crate::ServingThreads)); a connection and its requests stay on one
    /// thread, as with nginx's workers. The most requests per second.
    #[default]
    PerCore,
    /// Every connection on the caller's work-stealing runtime: somewhat fewer requests per second
    /// on a busy machine, but a thread the system deschedules cannot hold up the connections it
    /// serves.
    Shared,
}

impl Threading {
    /// How many threads serve connections: one per core, or the one runtime for all.
    pub fn serving_threads(self) -> usize {
        match self {
            Self::PerCore => crate::cores(),
            Self::Shared => 1,
        }
    }
}
