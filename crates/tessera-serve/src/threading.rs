//! The `threading` setting of the server's and the gateway's configuration.

use serde::{Deserialize, Serialize};

/// `threading = "per_core" | "shared"` in the server's (`http.threading`) and the gateway's
/// (`[gateway] threading`) configuration. Both values are accepted so that existing
/// configuration files still load, and both mean the same: every connection is served on the
/// process's one multi-thread Tokio runtime, with one worker thread per core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threading {
    /// The default.
    #[default]
    PerCore,
    /// The same as [`Threading::PerCore`].
    Shared,
}
