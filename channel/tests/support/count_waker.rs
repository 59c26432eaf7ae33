//! A waker that counts its wakes, shared by the integration tests that check exact wake
//! counts ("woken exactly once", several futures sharing one waker), which `tokio_test`'s
//! mock task cannot tell from "woken". Tests that only ask "woken or not" use the mock
//! task instead. Its `Arc` count tells whether the channel still holds the waker.
//!
//! Include it with `#[path = "support/count_waker.rs"] mod count_waker;`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// Counts the wakes of the wakers made from it.
#[derive(Default)]
pub struct CountWaker(AtomicUsize);

impl CountWaker {
    /// A fresh counter and a waker that bumps it.
    pub fn new() -> (Arc<CountWaker>, Waker) {
        let count = Arc::new(CountWaker::default());
        (count.clone(), Waker::from(count))
    }

    /// The wakes so far.
    pub fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
