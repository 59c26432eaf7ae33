//! Helpers shared by the `sync_*` and `context_*` tests: a waker that counts its wakes, and
//! single-step polling.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Counts how often it was woken.
#[derive(Default)]
pub struct WakeCounter(AtomicUsize);

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker plus its wake counter.
pub struct Counted {
    counter: Arc<WakeCounter>,
    pub waker: Waker,
}

impl Counted {
    pub fn new() -> Self {
        let counter = Arc::new(WakeCounter::default());
        let waker = Waker::from(counter.clone());
        Counted { counter, waker }
    }

    /// Number of wakes so far.
    pub fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }

    /// Polls `fut` once with this waker.
    pub fn poll<F: Future + Unpin>(&self, fut: &mut F) -> Poll<F::Output> {
        Pin::new(fut).poll(&mut Context::from_waker(&self.waker))
    }

    /// Polls a pinned future once with this waker.
    pub fn poll_pin<F: Future>(&self, fut: Pin<&mut F>) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(&self.waker))
    }
}

/// Counts drops of values, to check every value is dropped exactly once.
#[derive(Debug)]
pub struct DropCount(pub Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Iterations for stress loops: more in release builds.
pub fn scale(debug: usize, release: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}
