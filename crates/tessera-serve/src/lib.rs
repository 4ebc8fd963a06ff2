//! Accepting TCP connections and serving them, shared by Tessera's authorization server and its
//! gateway.
//!
//! [`accept_next`] takes the next connection off a listener until told to stop.
//! [`ServingThreads`] serves connections on one thread per core, each with its own
//! single-threaded Tokio runtime, as nginx runs one worker per core: a connection and every
//! request on it stay on one thread, so a request never waits for another thread to be woken and
//! no task moves between cores. On a busy two-core machine this answers about 40 % more small
//! requests per second than one work-stealing runtime (see `bench/README.md`).

mod accept;
mod threads;

pub use accept::accept_next;
pub use threads::{OpenConnection, ServingThreads, cores};
