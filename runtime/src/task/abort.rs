//! [`AbortHandle`]: cancel a task without owning its output.

use super::raw::RawTask;
use std::fmt;

/// A handle that can cancel a task but not await it (tokio's `AbortHandle`).
///
/// Made by [`JoinHandle::abort_handle`](crate::JoinHandle::abort_handle) and returned by
/// [`JoinSet::spawn`](crate::task::JoinSet::spawn). `Send + Sync`; dropping it does
/// nothing to the task. It holds one reference to the task's allocation (not its output):
/// a finished task's memory is freed once every handle is gone.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let h = waza::spawn(std::future::pending::<()>());
///     let a = h.abort_handle();
///     std::thread::spawn(move || a.abort()).join().unwrap();
///     assert!(h.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct AbortHandle {
    raw: RawTask,
}

// SAFETY: the handle only touches the task's state word (atomic) and hands a `Notified` to
// the task's scheduler, which every task's scheduler accepts from any thread.
unsafe impl Send for AbortHandle {}
// SAFETY: see the `Send` impl; `&AbortHandle` offers the same atomic operations.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Takes a new reference to `raw` (whose caller holds one).
    pub(super) fn new(raw: RawTask) -> AbortHandle {
        raw.state().ref_inc();
        AbortHandle { raw }
    }

    /// Cancels the task, as [`JoinHandle::abort`](crate::JoinHandle::abort) does: its
    /// future is dropped at its next scheduling point and its `JoinHandle` yields a
    /// cancelled [`JoinError`](crate::JoinError). A task that already completed keeps its
    /// output.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let h = waza::spawn(std::future::pending::<()>());
    ///     h.abort_handle().abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        super::join::abort_raw(self.raw);
    }

    /// True once the task has completed (with output, panic or cancellation).
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let h = waza::spawn(async {});
    ///     let a = h.abort_handle();
    ///     h.await.unwrap();
    ///     assert!(a.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The task's id (as [`JoinHandle::task_id`](crate::JoinHandle::task_id)).
    pub fn task_id(&self) -> u64 {
        self.raw.header().id.0
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.task_id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
