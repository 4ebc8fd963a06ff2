//! One token request at a time per cache entry: the first caller that needs a token starts a
//! fetch in its own task, every other caller joins it, and all get its result. The fetch runs to
//! completion even when every caller has given up (their futures dropped): the next caller finds
//! the token it brought.

use crate::{AccessToken, Error};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// What a fetch ends with, shared by all its waiters.
pub(crate) type FlightResult = Result<AccessToken, Error>;

type Receiver = watch::Receiver<Option<FlightResult>>;

/// The fetch in flight, if any.
pub(crate) struct SingleFlight {
    slot: Arc<Mutex<Option<(u64, Receiver)>>>,
    next_id: AtomicU64,
}

/// How a caller got its result.
pub(crate) enum Joined<R> {
    /// The re-check under the lock found a usable value: no fetch needed.
    Ready(R),
    /// A fetch was already in flight; wait on it.
    Coalesced(Waiter),
    /// This caller started the fetch; wait on it.
    Started(Waiter),
}

/// Waits for a fetch's result.
pub(crate) struct Waiter(Receiver);

impl Waiter {
    /// The fetch's result; [`Error::FetchAborted`] if its task ended without one.
    pub(crate) async fn wait(mut self) -> FlightResult {
        match self.0.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or(Err(Error::FetchAborted)),
            Err(_) => Err(Error::FetchAborted),
        }
    }
}

/// Given to the task that runs a fetch: publishes its result. If dropped without
/// [`Completion::finish`] (the task was cancelled or panicked), it frees the slot and waiters get
/// [`Error::FetchAborted`].
pub(crate) struct Completion {
    id: u64,
    slot: Arc<Mutex<Option<(u64, Receiver)>>>,
    tx: Option<watch::Sender<Option<FlightResult>>>,
}

impl Completion {
    fn release(&self) {
        let mut slot = self.slot.lock();
        if slot.as_ref().is_some_and(|(id, _)| *id == self.id) {
            *slot = None;
        }
    }

    /// Frees the slot, then hands `result` to every waiter. Callers that come after the slot is
    /// freed see whatever the fetch stored in the cache before calling this.
    pub(crate) fn finish(mut self, result: FlightResult) {
        self.release();
        if let Some(tx) = self.tx.take() {
            tx.send_replace(Some(result));
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if self.tx.is_some() {
            self.release();
        }
    }
}

impl SingleFlight {
    pub(crate) fn new() -> Self {
        Self {
            slot: Arc::new(Mutex::new(None)),
            next_id: AtomicU64::new(1),
        }
    }

    /// Joins the fetch in flight; else, if `recheck` finds a usable value, returns it; else
    /// starts a fetch by calling `start` with its [`Completion`] (`start` must spawn it).
    pub(crate) fn join_or_start<R>(
        &self,
        recheck: impl FnOnce() -> Option<R>,
        start: impl FnOnce(Completion) -> Result<(), Error>,
    ) -> Result<Joined<R>, Error> {
        let mut slot = self.slot.lock();
        if let Some((_, rx)) = slot.as_ref() {
            // A dead flight (its task gone without a result) is replaced.
            if rx.has_changed().is_ok() {
                return Ok(Joined::Coalesced(Waiter(rx.clone())));
            }
        }
        if let Some(ready) = recheck() {
            return Ok(Joined::Ready(ready));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        *slot = Some((id, rx.clone()));
        drop(slot);
        let completion = Completion {
            id,
            slot: Arc::clone(&self.slot),
            tx: Some(tx),
        };
        start(completion)?;
        Ok(Joined::Started(Waiter(rx)))
    }

    /// Whether a fetch is in flight.
    pub(crate) fn in_flight(&self) -> bool {
        self.slot.lock().is_some()
    }
}
