//! Go's `sync.WaitGroup`: wait until a counter of outstanding jobs drops to zero.
//!
//! # State
//!
//! Clones share one `Arc`'d `std::sync::Mutex` guarding `count` (outstanding jobs, never
//! negative) and a [`WaitList`] of waiting [`Wait`] futures, each `false` (waiting) or
//! `true` (released).
//!
//! # Protocols
//!
//! 1. *add(delta)*: lock; a result below zero panics before anything changes (Go's
//!    "negative WaitGroup counter"); store it; if it is zero, mark every waiter released;
//!    unlock; wake them.
//! 2. *wait*: first poll, under the lock: `count == 0` → ready; else link a node. Later
//!    polls: released → ready. A waiter released by one drop to zero returns even if the
//!    counter has gone up again since (Go's waiters wake at the moment it hits zero).
//! 3. *Cancel*: a dropped `Wait` removes its node; nothing else depends on it.

use super::wait_list::WaitList;
use super::{lock, wake_all};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll};

/// Waits for a collection of tasks to finish (Go's `sync.WaitGroup`).
///
/// Call [`add`](Self::add) before starting jobs, [`done`](Self::done) as each finishes, and
/// [`wait`](Self::wait) to wait until the count is zero. Clones share one counter, so each
/// job can carry its own clone.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use waza::sync::WaitGroup;
///
/// # futures::executor::block_on(async {
/// let wg = WaitGroup::new();
/// let finished = Arc::new(AtomicUsize::new(0));
/// for _ in 0..4 {
///     wg.add(1);
///     let (wg, finished) = (wg.clone(), finished.clone());
///     std::thread::spawn(move || {
///         finished.fetch_add(1, Ordering::SeqCst);
///         wg.done();
///     });
/// }
/// wg.wait().await;
/// assert_eq!(finished.load(Ordering::SeqCst), 4);
/// # });
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<StdMutex<State>>,
}

#[derive(Debug)]
struct State {
    count: i64,
    waiters: WaitList<bool>,
}

/// Future returned by [`WaitGroup::wait`].
///
/// # Cancel safety
///
/// Cancel-safe: dropping it only stops this waiter from waiting.
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    wg: &'a WaitGroup,
    key: Option<usize>,
    done: bool,
}

/// An integer accepted by [`WaitGroup::add`]: any primitive integer type, so that both
/// `wg.add(tasks.len())` and Go-style `wg.add(-1)` work.
pub trait Delta: sealed::Sealed {
    /// The delta as an `i64`, or `None` if it does not fit.
    fn to_i64(self) -> Option<i64>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! impl_delta {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Delta for $t {
            fn to_i64(self) -> Option<i64> {
                i64::try_from(self).ok()
            }
        }
    )*};
}
impl_delta!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128, u128);

impl WaitGroup {
    /// A wait group with a count of zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = waza::sync::WaitGroup::new();
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn new() -> Self {
        WaitGroup {
            inner: Arc::new(StdMutex::new(State {
                count: 0,
                waiters: WaitList::new(),
            })),
        }
    }

    /// Adds `delta` (which may be negative) to the count; at zero, every waiter is released.
    ///
    /// # Panics
    ///
    /// If the count would become negative ("sync: negative WaitGroup counter", as in Go)
    /// or overflow `i64`. The count is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = waza::sync::WaitGroup::new();
    /// wg.add(3);
    /// wg.add(-1);
    /// assert_eq!(wg.count(), 2);
    /// ```
    pub fn add<D: Delta>(&self, delta: D) {
        let delta = delta.to_i64();
        let mut wakers = Vec::new();
        {
            let mut st = lock(&self.inner);
            let new = delta.and_then(|d| st.count.checked_add(d));
            let Some(new) = new else {
                drop(st);
                panic!("sync: WaitGroup counter overflow");
            };
            if new < 0 {
                drop(st);
                panic!("sync: negative WaitGroup counter");
            }
            st.count = new;
            if new == 0 {
                st.waiters.drain(&mut wakers, |released| *released = true);
            }
        }
        wake_all(wakers);
    }

    /// Decrements the count by one (Go's `wg.Done()`).
    ///
    /// # Panics
    ///
    /// If the count is already zero ("sync: negative WaitGroup counter").
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = waza::sync::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn done(&self) {
        self.add(-1i64);
    }

    /// The current count (useful for diagnostics; it may change right after).
    pub fn count(&self) -> usize {
        lock(&self.inner).count as usize
    }

    /// Waits until the count is zero (returns at once if it is zero now).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let wg = waza::sync::WaitGroup::new();
    /// wg.wait().await; // nothing outstanding
    /// # });
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            wg: self,
            key: None,
            done: false,
        }
    }

    /// Starts `future` as a task counted by this group (Go 1.25's `wg.Go(f)`): `add(1)`
    /// now, `done()` when the task ends, also if it panics or is aborted.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime, like [`spawn`](fn@crate::spawn) (the count is left unchanged).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// waza::block_on(async {
    ///     let wg = waza::sync::WaitGroup::new();
    ///     let hits = Arc::new(AtomicUsize::new(0));
    ///     for _ in 0..10 {
    ///         let hits = hits.clone();
    ///         wg.go(async move {
    ///             hits.fetch_add(1, Ordering::SeqCst);
    ///         });
    ///     }
    ///     wg.wait().await;
    ///     assert_eq!(hits.load(Ordering::SeqCst), 10);
    /// });
    /// ```
    #[track_caller]
    pub fn go<F>(&self, future: F) -> crate::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        /// Calls `done()` when the task's future is dropped: completed, panicked or aborted.
        struct DoneOnDrop(WaitGroup);
        impl Drop for DoneOnDrop {
            fn drop(&mut self) {
                self.0.done();
            }
        }
        if crate::Handle::try_current().is_none() {
            panic!("WaitGroup::go must be called from within a waza runtime");
        }
        self.add(1);
        let guard = DoneOnDrop(self.clone());
        crate::spawn(async move {
            let _guard = guard;
            future.await
        })
    }

    /// Blocks the current OS thread until the count is zero; for plain threads, not tasks.
    ///
    /// # Panics
    ///
    /// On a waza worker thread (inside a task): use the async method there.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = waza::sync::WaitGroup::new();
    /// wg.add(1);
    /// let wg2 = wg.clone();
    /// std::thread::spawn(move || wg2.done());
    /// wg.wait_blocking();
    /// ```
    #[track_caller]
    pub fn wait_blocking(&self) {
        super::block_on_thread(self.wait());
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(());
        }
        let mut st = lock(&this.wg.inner);
        match this.key {
            Some(key) if !*st.waiters.data(key) => {
                st.waiters.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            Some(key) => {
                st.waiters.remove(key);
                this.key = None;
            }
            None if st.count == 0 => {}
            None => {
                this.key = Some(st.waiters.push_back(false, cx.waker()));
                return Poll::Pending;
            }
        }
        this.done = true;
        Poll::Ready(())
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.wg.inner).waiters.remove(key);
        }
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").field("done", &self.done).finish()
    }
}
