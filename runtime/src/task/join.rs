//! [`JoinHandle`]: the owned permission to await a task's output.

use super::abort::AbortHandle;
use super::raw::RawTask;
use super::schedule::Result;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned handle to a spawned task: await it for the task's output.
///
/// Dropping the handle detaches the task, which keeps running (Go's `go` semantics).
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let h = waza::go!(async { 6 * 7 });
///     assert_eq!(h.await.unwrap(), 42);
/// });
/// ```
///
/// # Cancel safety
///
/// Awaiting is cancel safe: dropping the `.await` leaves the output in the task until the
/// handle is polled again or dropped.
pub struct JoinHandle<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output `T` out of the task, so it needs `T: Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the state word (`is_finished`) or aborts (atomic).
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Wraps the `JoinHandle` reference of a freshly created task.
    pub(super) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// Cancels the task: its future is dropped at its next scheduling point instead of
    /// being polled, and awaiting this handle yields a cancelled [`JoinError`](crate::JoinError).
    /// A task that already completed keeps its output.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let h = waza::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        abort_raw(self.raw);
    }

    /// A handle that can cancel this task from anywhere, without owning its output.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let h = waza::spawn(std::future::pending::<()>());
    ///     let a = h.abort_handle();
    ///     a.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.raw)
    }

    /// The output if the task has completed; otherwise registers `waker` to be woken when
    /// it does. Spends no cooperative budget (the caller does: `JoinSet`).
    pub(crate) fn poll_output(&mut self, waker: &std::task::Waker) -> Poll<Result<T>> {
        let mut out: Poll<Result<T>> = Poll::Pending;
        // SAFETY: `out` has this task's output type and we are its JoinHandle.
        unsafe {
            self.raw
                .try_read_output(&mut out as *mut Poll<Result<T>> as *mut (), waker)
        };
        out
    }

    /// True once the task has completed (with output, panic or cancellation).
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let h = waza::spawn(async {});
    ///     while !h.is_finished() {
    ///         waza::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The task's id (the number shown in a [`TaskDump`](crate::TaskDump)).
    pub fn task_id(&self) -> u64 {
        self.raw.header().id.0
    }
}

/// Cancels a task through any handle that holds a reference to it.
pub(super) fn abort_raw(raw: RawTask) {
    use super::state::TransitionToNotified::*;
    match raw.state().transition_to_notified_and_cancel() {
        Submit => raw.schedule(),
        DoNothing => {}
        Dealloc => unreachable!("the caller keeps a reference"),
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        std::task::ready!(crate::scheduler::coop::poll_proceed(cx));
        self.get_mut().poll_output(cx.waker())
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we are the task's JoinHandle and this runs once.
        unsafe { self.raw.drop_join_handle() }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.raw.header().id.0)
            .field("finished", &self.is_finished())
            .finish()
    }
}
