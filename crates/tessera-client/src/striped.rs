//! A hit counter that threads do not fight over: one cache-line-padded stripe per thread slot, so
//! that counting a cache hit never bounces a shared cache line between cores. Every
//! [`FLUSH_EVERY`] hits on a stripe are published to the `metrics` counter at once.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const STRIPES: usize = 16;

/// Hits published to the metrics recorder in batches of this size.
pub(crate) const FLUSH_EVERY: u64 = 256;

#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

/// A striped counter.
pub(crate) struct StripedCounter {
    stripes: [Padded; STRIPES],
}

fn slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SLOT.with(|s| {
        let v = s.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
        s.set(v);
        v
    })
}

impl StripedCounter {
    pub(crate) fn new() -> Self {
        Self {
            stripes: Default::default(),
        }
    }

    /// Adds one; returns true when this stripe just completed a batch of [`FLUSH_EVERY`].
    #[inline]
    pub(crate) fn increment(&self) -> bool {
        let i = slot();
        let old = self
            .stripes
            .get(i)
            .map(|s| s.0.fetch_add(1, Ordering::Relaxed))
            .unwrap_or(0);
        (old + 1).is_multiple_of(FLUSH_EVERY)
    }

    /// The total so far.
    pub(crate) fn sum(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum()
    }
}
