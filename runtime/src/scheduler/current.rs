//! What this thread currently is to a runtime: which runtime it belongs to, and (on a
//! worker) the worker's state, so that a wake from the running task can use the local
//! queue. (Not Go's `context`, which is `crate::context`, nor `std::task::Context`.)
//!
//! - `runtime`: the runtime's shared state (`Shared`, which the public `Handle` wraps), set
//!   on worker threads, inside `block_on`, and on blocking-pool threads; it is what
//!   `Handle::current`, `spawn`, timers and the I/O driver registration look up.
//! - `worker`: a pointer to the `WorkerCtx` on the stack of the worker loop, set only
//!   while that loop runs on this thread (and cleared by a guard, also on unwind).
//! - `entered`: true on worker threads and inside `block_on`, to refuse a nested
//!   `block_on` that would stall the thread that drives it.
//! - `driver_turn`: true while a `block_on` thread parks (and so may run the driver): the
//!   tasks it wakes then are timer or I/O wakes and go to the woken queue, ahead of the
//!   inject queue. (Workers track their own turns in `WorkerCtx`.)

use super::worker::WorkerCtx;
use super::Shared;
use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::Arc;

struct Current {
    runtime: RefCell<Option<Arc<Shared>>>,
    worker: Cell<*const WorkerCtx>,
    entered: Cell<bool>,
    driver_turn: Cell<bool>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            runtime: RefCell::new(None),
            worker: Cell::new(ptr::null()),
            entered: Cell::new(false),
            driver_turn: Cell::new(false),
        }
    };
}

/// Runs `f` with this thread's runtime, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Arc<Shared>>) -> R) -> R {
    let mut f = Some(f);
    let res = CURRENT.try_with(|c| {
        let runtime = c.runtime.borrow();
        (f.take().unwrap())(runtime.as_ref())
    });
    match res {
        Ok(r) => r,
        Err(_) => (f.take().unwrap())(None),
    }
}

/// This thread's runtime, if any.
pub(crate) fn current() -> Option<Arc<Shared>> {
    with_current(|h| h.cloned())
}

/// Restores the previous runtime when dropped.
pub(crate) struct CurrentGuard {
    prev: Option<Arc<Shared>>,
}

impl std::fmt::Debug for CurrentGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentGuard").finish_non_exhaustive()
    }
}

/// Makes `shared` this thread's current runtime until the guard drops.
pub(crate) fn enter(shared: Arc<Shared>) -> CurrentGuard {
    let prev = CURRENT.with(|c| c.runtime.replace(Some(shared)));
    CurrentGuard { prev }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| c.runtime.replace(prev));
    }
}

/// Marks this thread as driving a runtime (worker loop or `block_on`).
pub(crate) struct DrivingGuard(());

/// Marks the thread as driving a runtime.
///
/// # Panics
///
/// Panics if the thread already drives one: blocking it in a nested `block_on` would stall
/// every task that thread is responsible for.
pub(crate) fn enter_driving() -> DrivingGuard {
    let was = CURRENT.with(|c| c.entered.replace(true));
    if was {
        panic!(
            "cannot block_on from within a waza runtime thread (a worker or another \
             block_on): this would stall the thread driving the tasks; use `.await` instead"
        );
    }
    DrivingGuard(())
}

/// True on a thread that drives a runtime (a worker loop or inside `block_on`).
pub(crate) fn is_driving() -> bool {
    CURRENT.try_with(|c| c.entered.get()).unwrap_or(false)
}

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.entered.set(false));
    }
}

/// Clears the worker pointer when dropped.
pub(crate) struct WorkerGuard(());

/// Publishes the worker loop's state for this thread.
pub(crate) fn set_worker(worker: &WorkerCtx) -> WorkerGuard {
    CURRENT.with(|c| c.worker.set(worker as *const WorkerCtx));
    WorkerGuard(())
}

/// This thread stops being a worker (it handed its worker over) before the worker loop
/// ends; the loop's guard clears the pointer again, harmlessly.
pub(crate) fn clear_worker() {
    let _ = CURRENT.try_with(|c| c.worker.set(ptr::null()));
}

/// Restores the `entered` mark when dropped.
pub(crate) struct DrivingPaused(bool);

/// Lifts the "drives a runtime" mark for a blocking section (`block_in_place`), so that
/// it may `block_on`: the thread no longer drives anything while it blocks.
pub(crate) fn exit_driving() -> DrivingPaused {
    DrivingPaused(CURRENT.with(|c| c.entered.replace(false)))
}

impl Drop for DrivingPaused {
    fn drop(&mut self) {
        let was = self.0;
        let _ = CURRENT.try_with(|c| c.entered.set(was));
    }
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.worker.set(ptr::null()));
    }
}

/// A reference to the current runtime's timers for a timer to hold: this worker's own if
/// the thread is a worker of that runtime, else the runtime's shared one; `None` outside a
/// runtime. See `time::TimerRef`.
pub(crate) fn timer_ref() -> Option<std::sync::Arc<crate::time::TimerRef>> {
    with_current(|handle| {
        let shared = handle?;
        let own = with_worker(|worker| {
            let worker = worker.filter(|w| std::sync::Arc::ptr_eq(w.shared(), shared))?;
            Some(worker.timer_ref().clone())
        });
        Some(own.unwrap_or_else(|| shared.timer_ref.clone()))
    })
}

/// The I/O driver of this thread's runtime.
///
/// # Panics
///
/// Outside a waza runtime.
#[track_caller]
pub(crate) fn current_driver() -> std::sync::Arc<crate::reactor::DriverHandle> {
    let driver = with_current(|h| h.map(|h| h.driver.handle.clone()));
    match driver {
        Some(driver) => driver,
        // Not in a closure: `#[track_caller]` reaches `Location::caller` only directly.
        None => panic_outside_runtime(std::panic::Location::caller()),
    }
}

/// The panic of every call that needs a current runtime and has none (`spawn`,
/// `Handle::current`, timers, sockets), naming the caller's location.
#[cold]
#[track_caller]
pub(crate) fn panic_outside_runtime(location: &std::panic::Location<'_>) -> ! {
    panic!("must be called from within a waza runtime (called at {location})")
}

/// The index of the worker running on this thread, if it is a worker.
pub(crate) fn worker_index() -> Option<usize> {
    with_worker(|worker| worker.map(WorkerCtx::index))
}

/// Runs `f` with this thread's worker state, if it is a worker.
pub(crate) fn with_worker<R>(f: impl FnOnce(Option<&WorkerCtx>) -> R) -> R {
    let ptr = CURRENT.try_with(|c| c.worker.get()).unwrap_or(ptr::null());
    // SAFETY: the pointer is set by `set_worker` for the duration of the worker loop, whose
    // stack frame owns the `WorkerCtx`, and cleared by the guard before that frame ends;
    // only this thread reads it.
    let worker = unsafe { ptr.as_ref() };
    f(worker)
}

/// True while this thread is inside [`driver_turn`].
pub(crate) fn in_driver_turn() -> bool {
    CURRENT.try_with(|c| c.driver_turn.get()).unwrap_or(false)
}

/// Runs `park` (a park that may run the driver) marked as a driver turn (see the module
/// docs); the mark is cleared also on unwind.
pub(crate) fn driver_turn<R>(park: impl FnOnce() -> R) -> R {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|c| c.driver_turn.set(false));
        }
    }
    CURRENT.with(|c| c.driver_turn.set(true));
    let _clear = Clear;
    park()
}
