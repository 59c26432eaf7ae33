//! [`Handle`]: a cloneable reference to a running runtime.

use crate::loom::std_sync::Arc;
use crate::reactor::DriverHandle;
use crate::runtime::{RuntimeMetrics, TaskDump, TaskState};
use crate::scheduler::{current, Shared};
use crate::task::join::JoinHandle;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;

/// Returned by [`Handle::enter`]: the runtime stays current on this thread while it lives.
///
/// Not `Send`: it restores this thread's previous runtime when dropped.
#[derive(Debug)]
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    _guard: current::CurrentGuard,
    _handle: PhantomData<(&'a Handle, *const ())>,
}

/// A handle to a runtime: spawn onto it from any thread, inspect it.
///
/// `Clone + Send + Sync`. A handle does not keep the runtime running: once the
/// [`Runtime`](crate::Runtime) is dropped, tasks spawned through it are cancelled at once.
///
/// # Examples
///
/// ```
/// let rt = waza::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let h = std::thread::spawn(move || handle.spawn(async { 3 })).join().unwrap();
/// assert_eq!(rt.block_on(h).unwrap(), 3);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.num_workers())
            .finish()
    }
}

impl Handle {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// The handle of the runtime this thread runs in (a worker, inside `block_on`, or a
    /// blocking-pool thread).
    ///
    /// # Panics
    ///
    /// Panics with "must be called from within a waza runtime" on any other thread.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let h = waza::Handle::current();
    ///     assert!(h.metrics().num_workers() >= 1);
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match current::current() {
            Some(shared) => Handle::from_shared(shared),
            None => current::panic_outside_runtime(Location::caller()),
        }
    }

    /// Like [`Handle::current`], but `None` outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(waza::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        current::current().map(Handle::from_shared)
    }

    /// Spawns a task on this runtime; works from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// let h = rt.handle().spawn(async { 1 });
    /// assert_eq!(rt.block_on(h).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn_at(future, Location::caller())
    }

    /// Runs `f` on this runtime's blocking pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// let h = rt.handle().spawn_blocking(|| 2 + 2);
    /// assert_eq!(rt.block_on(h).unwrap(), 4);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.spawn_blocking_at(f, Location::caller())
    }

    /// Runs `future` to completion on the calling thread (see [`Runtime::block_on`](crate::Runtime::block_on)).
    ///
    /// # Panics
    ///
    /// Panics if called from a worker thread or inside another `block_on`.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        super::block_on_with(self, future)
    }

    /// Makes this runtime the current one on this thread until the guard drops:
    /// [`spawn`](fn@crate::spawn), [`Handle::current`] and timers work on a plain thread.
    ///
    /// Guards must be dropped in the reverse order of their creation (each restores the
    /// runtime that was current before it).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// let h = {
    ///     let _guard = rt.handle().enter();
    ///     waza::spawn(async { 5 })
    /// };
    /// assert!(waza::Handle::try_current().is_none());
    /// assert_eq!(rt.block_on(h).unwrap(), 5);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: current::enter(self.shared.clone()),
            _handle: PhantomData,
        }
    }

    /// Live counters of this runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::builder().workers(2).build().unwrap();
    /// assert_eq!(rt.handle().metrics().num_workers(), 2);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics::new(self.clone())
    }

    /// A snapshot of every live task, with where it was spawned and its state.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// let _h = rt.spawn(std::future::pending::<()>());
    /// let dump = rt.handle().dump();
    /// assert_eq!(dump.tasks().len(), 1);
    /// println!("{dump}");
    /// ```
    pub fn dump(&self) -> TaskDump {
        let mut tasks = crate::runtime::dump::snapshot(&self.shared.registry);
        for task in &mut tasks {
            if task.state() == TaskState::Running {
                task.set_blocked_for(self.shared.monitor.blocked_for(task.id()));
            }
        }
        TaskDump::new(tasks)
    }

    /// The I/O driver's shared half, for registering timers and sockets.
    pub(crate) fn driver_handle(&self) -> &Arc<DriverHandle> {
        &self.shared.driver.handle
    }
}
