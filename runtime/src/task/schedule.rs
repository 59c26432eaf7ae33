//! The scheduler's interface to the task core: task ids, [`Schedule`] and [`Handoff`]
//! (where a woken task goes), the run permission [`Notified`], the registry's [`Task`],
//! and [`new_task`], which allocates all three handles of a task at once.

use super::error::JoinError;
use super::join::JoinHandle;
use super::raw::RawTask;
use crate::loom::{Ordering, StdAtomicU64};
use std::future::Future;
use std::panic::Location;

/// The result of awaiting a [`JoinHandle`].
pub(crate) type Result<T> = std::result::Result<T, JoinError>;

/// Futures larger than this are boxed before spawning, so moving them cannot overflow a
/// thread's stack.
pub(crate) const BOX_FUTURE_THRESHOLD: usize = 16 * 1024;

/// `spawn_boxing_big!(self.spawn_inner(future, location))` calls the method with
/// `future` boxed first when it is bigger than [`BOX_FUTURE_THRESHOLD`]. A macro, not a
/// function: the two calls are at different future types, and the runtime's and a
/// `LocalSet`'s spawns differ in their `Send` bounds.
macro_rules! spawn_boxing_big {
    ($this:ident . $spawn:ident ($future:expr, $location:expr)) => {{
        let future = $future;
        if ::std::mem::size_of_val(&future) > $crate::task::schedule::BOX_FUTURE_THRESHOLD {
            $this.$spawn(::std::boxed::Box::pin(future), $location)
        } else {
            $this.$spawn(future, $location)
        }
    }};
}
pub(crate) use spawn_boxing_big;

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
