//! Accepting TCP connections and serving them, shared by Tessera's authorization server and its
//! gateway.
//!
//! [`accept_next`] takes the next connection off a listener until told to stop.
//! [`ServingThreads`] serves connections on one thread per core, each with its own
//! single-threaded Tokio runtime, as nginx runs one worker per core: a connection and every
//! request on it stay on one thread, so a request never waits for another thread to be woken and
//! no task moves between cores. On a busy two-core machine, a server that only signs a token per
//! request answered 32–45 % more requests per second this way than on one work-stealing runtime;
//! Tessera's token endpoint, with more work of its own per request, 3 % more (see
//! `bench/README.md`). [`batch`] holds answers on a serving thread until it runs out of work, so
//! that they leave together and wake their clients once per batch. [`drain`] ends a graceful
//! shutdown.

mod accept;
pub mod batch;
mod drain;
mod threading;
mod threads;

pub use accept::accept_next;
pub use drain::drain;
pub use threading::Threading;
pub use threads::{OpenConnection, ServingThreads, cores};
