//! Helpers shared by this crate's unit tests and loom models (one place, not one copy per
//! module).

use crate::loom::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// A waker that counts its wakes, for tests that check "woken exactly once" (which
/// `tokio_test`'s mock task, used by the future-level tests, cannot tell from "woken").
/// Its counter is loom's under `--cfg loom`, so models see the wakes as the other
/// threads made them. Its `Arc` count tells whether a task still holds it.
pub(crate) struct CountWaker(pub(crate) AtomicUsize);

impl Default for CountWaker {
    fn default() -> Self {
        CountWaker(AtomicUsize::new(0))
    }
}

impl CountWaker {
    /// A fresh counter and a waker that bumps it.
    pub(crate) fn new() -> (Arc<CountWaker>, Waker) {
        let count = Arc::new(CountWaker::default());
        (count.clone(), Waker::from(count))
    }

    /// The wakes so far.
    pub(crate) fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
