//! [`JoinSet`]: a set of tasks whose outputs come back in completion order.
//!
//! # How completions are found
//!
//! Every entry has its own waker ([`EntryWaker`]: the entry's slab key and the set's
//! [`ReadyList`]), registered as the join waker of its task by polling the entry's
//! `JoinHandle` once. A join waker fires only when its task completes, so a wake means
//! "entry `key` has an output": the waker pushes `key` onto the ready list (once: its
//! `queued` flag) and wakes the task waiting in `join_next`, if any.
//!
//! `join_next` works from `pending`, a private list of keys to poll (new entries, whose
//! waker is not registered yet, and keys moved over from the ready list in one batch
//! under its lock), so the lock is taken once per batch, not once per completion. A key
//! may be stale (its entry was joined and the slot reused): polling the new entry then is
//! a harmless extra poll. Before returning `Pending`, `join_next` stores its waker under
//! the ready list's lock after seeing the list empty, so a completion racing it either is
//! in the list or finds the waker.

use crate::runtime::Handle;
use crate::task::abort::AbortHandle;
use crate::task::error::JoinError;
use crate::task::join::JoinHandle;
use slab::Slab;
use std::fmt;
use std::future::{poll_fn, Future};
use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A collection of tasks spawned on a runtime, joined in the order they complete
/// (tokio's `JoinSet`).
///
/// Dropping the set aborts every task still in it. All tasks must have the same output
/// type `T`.
///
/// # Examples
///
/// ```
/// use waza::task::JoinSet;
///
/// waza::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u64 {
///         set.spawn(async move { i * i });
///     }
///     let mut sum = 0;
///     while let Some(res) = set.join_next().await {
///         sum += res.unwrap();
///     }
///     assert_eq!(sum, 285);
///     assert!(set.is_empty());
/// });
/// ```
pub struct JoinSet<T> {
    entries: Slab<Entry<T>>,
    /// Keys to poll before looking at the ready list (see the module docs).
    pending: Vec<usize>,
    ready: Arc<ReadyList>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Arc<EntryWaker>,
}

/// Keys of entries whose tasks completed, and the waker of a waiting `join_next`.
#[derive(Default)]
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

#[derive(Default)]
struct ReadyInner {
    keys: Vec<usize>,
    waiter: Option<Waker>,
}

/// The join waker of one entry.
struct EntryWaker {
    key: usize,
    ready: Arc<ReadyList>,
    /// True while `key` sits in the ready list (so it is pushed once per completion).
    queued: AtomicBool,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let waiter = {
            let mut inner = lock(&self.ready.inner);
            inner.keys.push(self.key);
            inner.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

/// Locks a mutex whose data stays consistent across a panic (plain pushes and takes).
fn lock<V>(m: &Mutex<V>) -> std::sync::MutexGuard<'_, V> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = waza::task::JoinSet::<()>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            entries: Slab::new(),
            pending: Vec::new(),
            ready: Arc::new(ReadyList::default()),
        }
    }

    /// Number of tasks in the set (running, or completed but not joined yet).
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut set = waza::task::JoinSet::new();
    ///     set.spawn(async {});
    ///     assert_eq!(set.len(), 1);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a task spawned elsewhere to the set; returns a handle that can abort it.
    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let entry = self.entries.vacant_entry();
        let key = entry.key();
        let waker = Arc::new(EntryWaker {
            key,
            ready: self.ready.clone(),
            queued: AtomicBool::new(false),
        });
        entry.insert(Entry { handle, waker });
        // Its join waker is registered by the first poll.
        self.pending.push(key);
        abort
    }

    /// Aborts every task in the set. They stay in it until joined: `join_next` then
    /// yields their cancelled [`JoinError`]s (or the output of a task that completed
    /// first).
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut set = waza::task::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.abort_all();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_all(&mut self) {
        for (_, entry) in self.entries.iter() {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: they keep running, detached.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.pending.clear();
        lock(&self.ready.inner).keys.clear();
    }

    /// Waits for the next task to complete and returns its output, in completion order;
    /// `None` once the set is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no output is lost (the
    /// task stays in the set).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// waza::block_on(async {
    ///     let mut set = waza::task::JoinSet::new();
    ///     set.spawn(async {
    ///         waza::time::sleep(Duration::from_millis(20)).await;
    ///         "slow"
    ///     });
    ///     set.spawn(async { "fast" });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "fast");
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "slow");
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The output of a task that has already completed, without waiting: `None` if no
    /// task in the set has completed yet (or the set is empty).
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut set = waza::task::JoinSet::new();
    ///     set.spawn(async { 7 });
    ///     let out = loop {
    ///         if let Some(out) = set.try_join_next() {
    ///             break out;
    ///         }
    ///         waza::yield_now().await;
    ///     };
    ///     assert_eq!(out.unwrap(), 7);
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.next_completed()
    }

    /// Polls for the next output (see [`JoinSet::join_next`]).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.entries.is_empty() {
            return Poll::Ready(None);
        }
        std::task::ready!(crate::scheduler::coop::poll_proceed(cx));
        loop {
            if let Some(out) = self.next_completed() {
                return Poll::Ready(Some(out));
            }
            let mut inner = lock(&self.ready.inner);
            if inner.keys.is_empty() {
                // Under the lock: a completion now finds this waker (module docs).
                match &mut inner.waiter {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
        }
    }

    /// Polls the pending keys (refilled from the ready list) until one has an output.
    fn next_completed(&mut self) -> Option<Result<T, JoinError>> {
        loop {
            if self.pending.is_empty() {
                let mut inner = lock(&self.ready.inner);
                if inner.keys.is_empty() {
                    return None;
                }
                mem::swap(&mut self.pending, &mut inner.keys);
            }
            while let Some(key) = self.pending.pop() {
                let Some(entry) = self.entries.get_mut(key) else {
                    continue; // stale: joined and not reused
                };
                // Cleared before polling: a completion from now on queues the key again.
                entry.waker.queued.store(false, Ordering::Release);
                let waker = Waker::from(entry.waker.clone());
                if let Poll::Ready(out) = entry.handle.poll_output(&waker) {
                    self.entries.remove(key);
                    return Some(out);
                }
            }
        }
    }

    /// Aborts every task and waits until all are gone (their outputs are discarded).
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut set = waza::task::JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the tasks not yet joined stay in the set, aborted.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    ///
    /// If a task panicked, its panic is resumed here; if one was cancelled, this panics.
    /// Either way the tasks still in the set are aborted (the set is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut set = waza::task::JoinSet::new();
    ///     for i in 0..4 {
    ///         set.spawn(async move { i });
    ///     }
    ///     let mut all = set.join_all().await;
    ///     all.sort();
    ///     assert_eq!(all, [0, 1, 2, 3]);
    /// });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            match res {
                Ok(v) => out.push(v),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("JoinSet::join_all: {e}"),
            }
        }
        out
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime into the set; returns a handle that can
    /// abort it.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut set = waza::task::JoinSet::new();
    ///     let abort = set.spawn(std::future::pending::<u8>());
    ///     abort.abort();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns `future` on the runtime of `handle` into the set.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// let mut set = waza::task::JoinSet::new();
    /// set.spawn_on(async { 3 }, &rt.handle());
    /// assert_eq!(rt.block_on(set.join_next()).unwrap().unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs `f` on the current runtime's blocking pool, as a member of the set.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut set = waza::task::JoinSet::new();
    ///     set.spawn_blocking(|| 2 + 2);
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 4);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(crate::spawn_blocking(f))
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a `!Send` future on this thread's local task queue (see
    /// [`spawn_local`](crate::task::spawn_local)) into the set.
    ///
    /// # Panics
    ///
    /// Where [`spawn_local`](crate::task::spawn_local) panics.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(crate::task::local::spawn_local(future))
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
