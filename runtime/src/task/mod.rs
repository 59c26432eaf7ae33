//! The task core: one allocation per task, its state word, `JoinHandle`, wakers, the
//! registry of live tasks. Public as [`waza::task`](crate::task), with `Group` and
//! `JoinSet`, which live above it (`group.rs`, `join_set.rs`): the core imports nothing
//! above the scheduler's interface ([`Schedule`], [`Handoff`]).
//!
//! # Internals
//!
//! A task is one heap allocation (see `raw.rs` for the layout) with one atomic state word
//! (see `state.rs` for the bits and the numbered protocols). Three kinds of owned handles
//! point at it, each holding one reference:
//!
//! - `Task`: the registry's entry, alive until the task completes or shutdown takes it;
//! - `Notified`: permission to run the task once, sitting in a run queue;
//! - [`JoinHandle`]: the right to the output.
//!
//! Wakers hold references too. `harness.rs` runs tasks (poll, cancel, complete), and
//! `registry.rs` keeps the sharded list of live tasks.
//!
//! Handing a `Notified` to the scheduler is in two steps (`Schedule::handoff`, then
//! `Handoff`) because the scheduler is stored in the task's own cell, which may be freed
//! as soon as the task is in a queue; `raw.rs` ("Freeing") explains the shape and its cost.

mod abort;
mod error;
mod harness;
pub(crate) mod info;
mod join;
pub(crate) mod local;
pub(crate) mod raw;
pub(crate) mod registry;
pub(crate) mod state;
mod task_local;
pub(crate) mod wait;

pub use crate::scheduler::coop::consume_budget;
pub use abort::AbortHandle;
pub use error::JoinError;
pub use join::JoinHandle;
pub use local::{spawn_local, LocalEnterGuard, LocalSet, RunUntil};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};

use crate::loom::{Ordering, StdAtomicU64};
use raw::RawTask;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The result of awaiting a [`JoinHandle`].
pub(crate) type Result<T> = std::result::Result<T, JoinError>;

/// Futures larger than this are boxed before spawning, so moving them cannot overflow a
/// thread's stack.
pub(crate) const BOX_FUTURE_THRESHOLD: usize = 16 * 1024;

/// A process-unique task id (never 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TaskId(pub(crate) u64);

impl TaskId {
    pub(crate) fn next() -> TaskId {
        /// The counter alone on its cache lines: every spawn bumps it, and no other static
        /// should share its line.
        #[repr(align(128))]
        struct Counter(StdAtomicU64);
        static NEXT: Counter = Counter(StdAtomicU64::new(1));
        TaskId(NEXT.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// Where tasks go when they are woken, and who tracks them while alive.
///
/// A task's scheduler is stored inside the task's own cell, so a hand-off goes in two
/// steps. [`Schedule::handoff`] reads the scheduler, with the cell borrowed, and returns a
/// [`Handoff`]; the borrow ends there. The handoff then takes the `Notified`. Once the
/// `Notified` is handed over, another thread may run the task to completion and free the
/// cell (scheduler included) before the hand-off returns, so the handoff must own (or
/// borrow from elsewhere) all it uses afterwards; the `'static` bound keeps it from
/// borrowing the cell.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// What a hand-off needs of the scheduler, out of the task's cell.
    type Handoff: Handoff;
    /// Prepares a hand-off. Reads the scheduler only: it must not hand anything over.
    fn handoff(&self) -> Self::Handoff;
    /// The task completed: unlink it from the registry. True if it was linked, in which
    /// case the registry's reference now belongs to the caller. (No reference is handed
    /// away: the caller's keeps the cell alive for the call.)
    fn release(&self, task: RawTask) -> bool;
}

/// The second step of a hand-off (see [`Schedule`]): owns what it needs, not the cell.
pub(crate) trait Handoff: 'static {
    /// A wake: run the task soon (a worker may use its LIFO slot).
    fn schedule(self, task: Notified);
    /// A task woken during its own poll: run it after the work already queued.
    fn yield_now(self, task: Notified);
}

/// Permission to run a task once; owns one reference.
pub(crate) struct Notified(pub(crate) RawTask);

impl Notified {
    /// Runs the task (poll, or drop the future if it was aborted).
    pub(crate) fn run(self) {
        let raw = self.0;
        std::mem::forget(self);
        raw.run();
    }

    /// Cancels the task without running it (a queue that is shutting down).
    pub(crate) fn shutdown(self) {
        let raw = self.0;
        std::mem::forget(self);
        raw.shutdown();
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}

impl std::fmt::Debug for Notified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notified({})", self.0.header().id.0)
    }
}

/// The registry's reference to a live task.
pub(crate) struct Task(RawTask);

impl Task {
    pub(crate) fn from_raw(raw: RawTask) -> Task {
        Task(raw)
    }

    pub(crate) fn raw(&self) -> RawTask {
        self.0
    }

    /// Cancels the task for runtime shutdown (consumes this reference).
    pub(crate) fn shutdown(self) {
        let raw = self.0;
        std::mem::forget(self);
        raw.shutdown();
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}

/// Allocates a task: its registry entry, its first run permission and its join handle.
pub(crate) fn new_task<T, S>(
    future: T,
    scheduler: S,
    location: &'static Location<'static>,
) -> (Task, Notified, JoinHandle<T::Output>)
where
    T: Future + Send + 'static,
    T::Output: Send + 'static,
    S: Schedule,
{
    let raw = RawTask::new(future, scheduler, TaskId::next(), location);
    (Task(raw), Notified(raw), JoinHandle::new(raw))
}

/// Spawns a future onto the current runtime; Go's `go` statement.
///
/// The task starts running in the background at once; the returned [`JoinHandle`] yields
/// its output. Dropping the handle detaches the task.
///
/// # Panics
///
/// Panics if called outside a waza runtime ("must be called from within a waza runtime").
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let h = waza::spawn(async { 1 + 2 });
///     assert_eq!(h.await.unwrap(), 3);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    crate::scheduler::current::with_current(|handle| match handle {
        Some(handle) => handle.spawn_at(future, location),
        None => panic_outside_runtime(location),
    })
}

#[cold]
#[track_caller]
pub(crate) fn panic_outside_runtime(location: &Location<'_>) -> ! {
    panic!("must be called from within a waza runtime (called at {location})")
}

/// Runs a blocking closure on the runtime's blocking thread pool.
///
/// Use it for synchronous work that would stall a worker thread (file I/O, CPU-heavy
/// loops, blocking calls). Threads are started on demand up to
/// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads) and retire after
/// 10 s idle. If `f` panics, the handle yields a panic [`JoinError`].
///
/// # Panics
///
/// Panics if called outside a waza runtime.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let n = waza::spawn_blocking(|| (1..=10u32).product::<u32>()).await.unwrap();
///     assert_eq!(n, 3_628_800);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let location = Location::caller();
    crate::scheduler::current::with_current(|handle| match handle {
        Some(handle) => handle.spawn_blocking_at(f, location),
        None => panic_outside_runtime(location),
    })
}

/// Runs `f`, which may block its thread, from inside a task without stalling the tasks
/// queued behind it.
///
/// On a worker thread the worker first hands its local queue, its LIFO slot and its
/// share of driving I/O and timers to a new worker thread (Go does this for a goroutine
/// entering a blocking system call), then runs `f` here; once the task's poll returns,
/// this thread leaves the runtime. Inside `f`, [`Handle::block_on`](crate::Handle::block_on)
/// is allowed. Outside a runtime, or on a multi-threaded runtime's `block_on` thread, `f`
/// simply runs.
///
/// Prefer [`spawn_blocking`] where the code can be moved into a `'static` closure:
/// `block_in_place` starts a thread on every call from a worker.
///
/// # Panics
///
/// On a current-thread runtime (as tokio's does): its only thread cannot be replaced.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let h = waza::spawn(async {
///         waza::task::block_in_place(|| {
///             std::thread::sleep(std::time::Duration::from_millis(1));
///             "done"
///         })
///     });
///     assert_eq!(h.await.unwrap(), "done");
/// });
/// ```
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    crate::scheduler::block_in_place(f)
}

/// Yields to the scheduler, letting other tasks run first; Go's `runtime.Gosched()`.
///
/// The task is re-queued behind the work already queued on its worker.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     waza::yield_now().await;
/// });
/// ```
///
/// # Cancel safety
///
/// Cancel safe.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // A wake during the poll makes the worker re-queue the task at the back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
