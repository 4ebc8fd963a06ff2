//! Answers held back until their serving thread runs out of work, so that they leave together.
//!
//! On a busy machine the costliest part of a small request is often not the work it asks for but
//! the wake-ups around it: every answer written to a client that sleeps in `epoll_wait` wakes it
//! (on a virtual machine, an inter-processor interrupt and an exit to the hypervisor), and the
//! woken client, writing its next request at once, preempts the server. Answers that leave one
//! at a time, each after its own signature, wake the client once each. Held until the thread has
//! nothing left to do and then written in one burst, they wake it once for all of them, and its
//! next requests arrive together while the server is still awake.
//!
//! [`hold`] is awaited by a handler once its answer is ready; [`release`] lets every held answer
//! go. A serving thread of [`ServingThreads`](crate::ServingThreads) releases them just before
//! it would sleep, when a batch has grown to [`MAX_HELD`] answers, or when the oldest has waited
//! [`MAX_WAIT`]: holding never adds more than the time the thread spends on the requests already
//! in front of it, bounded. On any other thread [`hold`] returns at once.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The most answers held at once on one thread; the one that would exceed it releases them all.
pub const MAX_HELD: usize = 32;

/// The longest the oldest held answer waits before a newly held one releases them all.
pub const MAX_WAIT: Duration = Duration::from_millis(1);

/// The answers held on one thread, and whether it holds any.
#[derive(Default)]
struct Held {
    /// Whether this thread releases held answers when it runs out of work (set by the serving
    /// threads; on any other thread holding would never end, so it does not happen).
    enabled: bool,
    /// Counts releases: a held answer goes once the count has moved past the one it saw.
    releases: u64,
    wakers: Vec<Waker>,
    /// When the oldest held answer was held.
    since: Option<Instant>,
}

thread_local! {
    static HELD: RefCell<Held> = RefCell::new(Held::default());
}

/// Makes the current thread one that holds answers; it must call [`release`] whenever it is
/// about to sleep (Tokio's `on_thread_park` on a current-thread runtime).
pub(crate) fn enable_on_this_thread() {
    HELD.with(|h| h.borrow_mut().enabled = true);
}

/// Lets every answer held on this thread go.
pub fn release() {
    let wakers = HELD.with(|h| {
        let mut h = h.borrow_mut();
        h.since = None;
        h.releases = h.releases.wrapping_add(1);
        std::mem::take(&mut h.wakers)
    });
    for w in wakers {
        w.wake();
    }
}

/// Waits until this thread releases held answers (see the module documentation); at once on a
/// thread that does not hold them.
pub fn hold() -> Hold {
    Hold { seen: None }
}

/// The future [`hold`] returns.
#[derive(Debug)]
#[must_use = "a future does nothing unless awaited"]
pub struct Hold {
    /// The release count when this answer was held; `None` before its first poll.
    seen: Option<u64>,
}

impl Future for Hold {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let seen = self.seen;
        // Which release this answer now waits for (`None`: it goes), and whether the batch is
        // full or old enough to be released now, this answer with it.
        let (waits_for, release_all) = HELD.with(|h| {
            let mut h = h.borrow_mut();
            if let Some(seen) = seen {
                if seen != h.releases {
                    return (None, false);
                }
                // Polled again before a release (woken by something else): keep waiting.
                if !h.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    h.wakers.push(cx.waker().clone());
                }
                return (Some(seen), false);
            }
            if !h.enabled {
                return (None, false);
            }
            let now = Instant::now();
            if h.wakers.len() >= MAX_HELD
                || h.since
                    .is_some_and(|s| now.saturating_duration_since(s) >= MAX_WAIT)
            {
                return (None, true);
            }
            h.since.get_or_insert(now);
            h.wakers.push(cx.waker().clone());
            (Some(h.releases), false)
        });
        if release_all {
            // After the borrow above ends: `release` takes the same cell.
            release();
        }
        match waits_for {
            Some(r) => {
                self.seen = Some(r);
                Poll::Pending
            }
            None => Poll::Ready(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn holding_ends_at_once_on_a_thread_that_does_not_release() {
        hold().await;
    }

    #[test]
    fn held_answers_go_when_the_thread_runs_out_of_work() {
        let done = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&done);
        let rt = tokio::runtime::Builder::new_current_thread()
            .on_thread_park(release)
            .build()
            .unwrap();
        rt.block_on(async move {
            enable_on_this_thread();
            let mut tasks = Vec::new();
            for _ in 0..3 {
                let d = Arc::clone(&d);
                tasks.push(tokio::spawn(async move {
                    hold().await;
                    d.fetch_add(1, Ordering::Relaxed);
                }));
            }
            // Every task has run up to its hold before the thread runs out of work.
            tokio::task::yield_now().await;
            assert_eq!(d.load(Ordering::Relaxed), 0);
            assert_eq!(HELD.with(|h| h.borrow().wakers.len()), 3);
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(done.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_full_batch_releases_itself_without_waiting_for_the_thread() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            enable_on_this_thread();
            let mut held = Vec::new();
            for _ in 0..MAX_HELD {
                held.push(tokio::spawn(hold()));
            }
            tokio::task::yield_now().await;
            // No park hook on this runtime: only a full batch can release them.
            hold().await;
            for h in held {
                h.await.unwrap();
            }
        });
    }
}
