//! Starting tasks and giving way: `spawn` (Go's `go`), `spawn_blocking`,
//! `block_in_place` and `yield_now`.

use super::join::JoinHandle;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

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
        None => crate::scheduler::current::panic_outside_runtime(location),
    })
}

/// Runs a blocking closure on the runtime's blocking thread pool.
///
/// Use it for synchronous work that would stall a worker thread (file I/O, CPU-heavy
/// loops, blocking calls). Threads are started on demand up to
/// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads) and retire after
/// 10 s idle. If `f` panics, the handle yields a panic [`JoinError`](super::JoinError).
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
        None => crate::scheduler::current::panic_outside_runtime(location),
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
