//! Helpers shared by this crate's unit tests (one place, not one copy per module).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// A waker that counts its wakes, for tests that check "woken exactly once" (which
/// `tokio_test`'s mock task, used by the channel crate's tests, cannot tell from "woken").
#[derive(Default)]
pub(crate) struct CountWaker(pub(crate) AtomicUsize);

impl CountWaker {
    /// A fresh counter and a waker that bumps it.
    pub(crate) fn new() -> (Arc<CountWaker>, Waker) {
        let count = Arc::new(CountWaker::default());
        (count.clone(), Waker::from(count))
    }
}

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
