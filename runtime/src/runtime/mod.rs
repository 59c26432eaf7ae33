//! [`Runtime`], [`Builder`], [`Handle`], metrics and task dumps.

mod builder;
mod dump;
mod handle;
mod metrics;
pub(crate) mod wait;

pub use builder::Builder;
pub use dump::{TaskDump, TaskInfo, TaskState};
pub use handle::{EnterGuard, Handle};
pub use metrics::RuntimeMetrics;

use crate::blocking::BlockingPool;
use crate::loom::std_sync::Arc;
use crate::reactor::Driver;
use crate::scheduler::coop;
use crate::scheduler::park::{Parker, SharedDriver};
use crate::scheduler::{self, current, queue, Remote, Shared};
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A waza runtime: worker threads running tasks, an I/O and timer driver, a blocking pool.
///
/// # Examples
///
/// ```
/// let rt = waza::Runtime::new().unwrap();
/// let h = rt.spawn(async { "hello" });
/// assert_eq!(rt.block_on(h).unwrap(), "hello");
/// ```
pub struct Runtime {
    handle: Handle,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.handle.shared.num_workers())
            .finish()
    }
}

impl Runtime {
    /// A runtime with the default configuration (see [`Builder::new`]).
    ///
    /// # Errors
    ///
    /// The OS error of creating the driver or a thread.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure a runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Starts a runtime with `workers` worker threads, or, for a current-thread runtime,
    /// none: its one core (a worker's queues, index 0) waits in `Shared` for `block_on`.
    pub(crate) fn start(builder: &Builder, workers: usize) -> io::Result<Runtime> {
        let current_thread = builder.current_thread;
        let workers = if current_thread { 1 } else { workers };
        let (driver, driver_handle) = Driver::new(workers)?;
        let driver = Arc::new(SharedDriver {
            driver: crate::loom::Mutex::new(driver),
            handle: driver_handle,
        });
        let (locals, remotes): (Vec<_>, Vec<_>) = (0..workers)
            .map(|_| {
                let (local, steal) = queue::local();
                (local, Remote::new(steal, Parker::new(driver.clone())))
            })
            .unzip();
        let blocking = BlockingPool::new(
            builder.max_blocking_threads,
            builder.keep_alive,
            builder.thread_name.clone(),
        );
        let mut locals = locals;
        let core = current_thread.then(|| scheduler::worker::ParkedCore::new(locals.remove(0)));
        let shared = Arc::new(Shared::new(
            remotes.into(),
            driver,
            blocking,
            scheduler::RuntimeHooks {
                on_driving_thread: install_channel_hooks,
                check_deadlock: builder.detect_deadlock.then_some(check_deadlock_when),
            },
            builder.thread_name.clone(),
            core,
            builder.monitor_config(),
        ));
        let rt = Runtime {
            handle: Handle::from_shared(shared.clone()),
        };
        if builder.start_paused {
            shared.driver.handle.timers().pause();
        }
        if shared.monitor.is_enabled() {
            let monitor_shared = shared.clone();
            let thread = std::thread::Builder::new()
                .name(format!("sysmon-{}", builder.thread_name))
                .spawn(move || scheduler::monitor::run(monitor_shared))?;
            shared.add_thread(thread);
        }
        for (index, local) in locals.into_iter().enumerate() {
            let worker_shared = shared.clone();
            let thread = std::thread::Builder::new()
                .name(format!("{}-{index}", builder.thread_name))
                .spawn(move || scheduler::worker::run(worker_shared, index, local))?;
            shared.add_thread(thread);
        }
        Ok(rt)
    }

    /// Runs `future` to completion on the calling thread while the workers run tasks.
    ///
    /// # Panics
    ///
    /// Panics if called from a worker thread or inside another `block_on` (that would stall
    /// the thread driving the tasks), and re-raises a panic of `future`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::builder().workers(1).build().unwrap();
    /// assert_eq!(rt.block_on(async { 7 }), 7);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// let h = rt.spawn(async { 5 });
    /// assert_eq!(rt.block_on(h).unwrap(), 5);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool (see [`spawn_blocking`](crate::spawn_blocking)).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// let h = rt.spawn_blocking(|| 6 * 7);
    /// assert_eq!(rt.block_on(h).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> crate::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to this runtime (`Clone + Send + Sync`): spawn onto it from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let h = std::thread::spawn(move || handle.spawn(async { 1 })).join().unwrap();
    /// assert_eq!(rt.block_on(h).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Shuts the runtime down: every task's future is dropped, the worker threads are
    /// joined, and blocking-pool threads get up to `timeout` to finish their closures.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::new().unwrap();
    /// rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_timeout(std::time::Duration::from_millis(10));
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for blocking-pool threads (same as dropping).
    pub fn shutdown_background(self) {
        self.shutdown(None);
    }

    /// Shutdown sequence: close queues, stop and join workers, cancel every remaining
    /// task, stop the blocking pool, stop the driver.
    fn shutdown(&self, blocking_wait: Option<Duration>) {
        let shared = &self.handle.shared;
        shared.begin_shutdown();
        shared.join_threads();
        drop(shared.inject.close());
        drop(shared.woken.close());
        // Futures dropped now may look up the runtime (to deregister I/O, or even spawn:
        // such spawns are cancelled at once since the registry is closing).
        let _enter = current::enter(self.handle.shared.clone());
        shared.registry.close_and_shutdown_all();
        shared.drop_core();
        shared.blocking.shutdown(blocking_wait);
        shutdown_driver(shared);
    }
}

/// Stops the driver, nudging a `block_on` thread that may be parked inside it; gives up
/// (leaving the driver to be dropped with the runtime) rather than hang.
fn shutdown_driver(shared: &Shared) {
    for _ in 0..1000 {
        if let Ok(mut driver) = shared.driver.driver.try_lock() {
            return driver.shutdown();
        }
        shared.driver.handle.unpark();
        std::thread::yield_now();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

// Written here, not in the task core: the core knows no runtime handle.
impl crate::task::local::LocalSet {
    /// `rt.block_on(self.run_until(future))`.
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }
}

/// Runs `future` to completion on a new runtime with the default configuration.
///
/// # Panics
///
/// Panics if the runtime cannot be created, if called from inside a runtime thread, or if
/// `future` panics.
///
/// # Examples
///
/// ```
/// let v = waza::block_on(async {
///     let h = waza::go!(async { 21 * 2 });
///     h.await.unwrap()
/// });
/// assert_eq!(v, 42);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    let rt = Runtime::new().expect("waza: failed to start the runtime");
    rt.block_on(future)
}

/// `Handle::block_on` body: drive `future` on this thread with a parker-backed waker.
///
/// On a current-thread runtime this thread takes the runtime's core and runs its tasks
/// and driver too (`worker::block_on_core`); while another thread's `block_on` holds the
/// core, it polls its future only, and tries again for the core after every wake-up
/// (at least every [`DRIVER_FALLBACK_INTERVAL`]).
pub(crate) fn block_on_with<F: Future>(handle: &Handle, future: F) -> F::Output {
    let _enter = current::enter(handle.shared.clone());
    let _driving = current::enter_driving();
    install_channel_hooks();
    if handle.shared.is_current_thread() {
        // `spawn_local` works inside; the local tasks still pending at the end are
        // dropped with the set, here, while the runtime is still current.
        let local = crate::task::local::LocalSet::new();
        return drive(handle, local.run_until(future));
    }
    drive(handle, future)
}

/// The loop of [`block_on_with`], on a thread that has entered the runtime.
fn drive<F: Future>(handle: &Handle, future: F) -> F::Output {
    let parker = std::sync::Arc::new(Parker::new(handle.shared.driver.clone()));
    let waker = std::task::Waker::from(parker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let current_thread = handle.shared.is_current_thread();
    loop {
        if current_thread {
            if let Some(core) = handle.shared.take_core() {
                let out = scheduler::worker::block_on_core(&handle.shared, core, future.as_mut());
                if let Some(out) = out {
                    return out;
                }
                // Shutdown began: go on polling the future without running tasks.
            }
        }
        let polled = coop::with_budget(coop::Budget::initial(), || future.as_mut().poll(&mut cx));
        if let Poll::Ready(out) = polled {
            return out;
        }
        let timeout = if let Some(check) = handle.shared.hooks.check_deadlock {
            check(&handle.shared, &parker, &Shared::looks_deadlocked);
            // Wake up now and then to look again: the runtime may go quiet later.
            scheduler::DEADLOCK_CHECK_INTERVAL.min(DRIVER_FALLBACK_INTERVAL)
        } else {
            DRIVER_FALLBACK_INTERVAL
        };
        // The workers run the driver; this thread sleeps off it. Were it to sleep inside
        // the driver, every I/O event of the runtime would be seen here and handed to a
        // worker by a cross-thread wake. Only when it wakes by timeout does it turn the
        // driver once, without blocking, if no worker holds it (every worker busy or
        // blocked), so the runtime's I/O and timers still move; then a parked worker is
        // woken to take the driver over.
        if !parker.park_without_driver(timeout) && current::driver_turn(|| parker.poll_driver_now())
        {
            handle.shared.hand_off_driver();
        }
    }
}

/// How often a waiting `block_on` thread turns the driver itself if no worker holds it.
const DRIVER_FALLBACK_INTERVAL: Duration = Duration::from_millis(10);

/// With `detect_deadlock` (`RuntimeHooks::check_deadlock`): panics if, right before a
/// thread sleeps, nothing in the runtime can make progress by the test `looks_dead`, and
/// still nothing has moved a moment later (a grace period for wake-ups in flight, e.g.
/// from another OS thread). `block_on` tests `Shared::looks_deadlocked`; a current-thread
/// runtime's worker uses its own test (it is not parked while it checks).
fn check_deadlock_when(shared: &Shared, parker: &Parker, looks_dead: &dyn Fn(&Shared) -> bool) {
    if !looks_dead(shared) {
        return;
    }
    let polls = total_polls(shared);
    std::thread::sleep(Duration::from_millis(20));
    if parker.is_notified() || total_polls(shared) != polls || !looks_dead(shared) {
        return;
    }
    let dump = TaskDump::new(dump::snapshot(&shared.registry));
    panic!("all tasks are asleep - deadlock!\n\n{dump}");
}

fn total_polls(shared: &Shared) -> u64 {
    shared.remotes.iter().map(|r| r.polls()).sum()
}

/// The channels' side of this runtime on this thread (`waza_channel::hooks`): spent
/// budgets defer the task, wait reasons go to task dumps, and blocking calls panic on a
/// worker thread (as `waza::sync`'s do).
fn install_channel_hooks() {
    waza_channel::hooks::install(waza_channel::hooks::Hooks {
        exhausted: Some(crate::scheduler::coop::exhausted_hook),
        wait: Some(wait::hook),
        forbid_blocking: Some(on_worker),
    });
}

/// True on a thread that runs this runtime's tasks (where blocking stalls them).
fn on_worker() -> bool {
    current::with_worker(|w| w.is_some())
}
