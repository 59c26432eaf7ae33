//! The multi-threaded work-stealing scheduler.
//!
//! # Where a runnable task goes
//!
//! - Woken (or spawned) by the task running on a worker: that worker's LIFO slot, so it
//!   runs next while its data is hot; the slot's previous occupant moves to the back of
//!   the worker's local ring ([`queue`]).
//! - Woken during its own poll, or after spending its budget: the back of the local ring
//!   (a yield; never the LIFO slot).
//! - Woken by a driver turn (a timer fired, a socket became ready) on a worker: collected
//!   during the turn; afterwards that worker keeps a fair share (`ceil(k / workers)` of the
//!   `k` wakes) in its private `ready` batch and pushes the rest to the shared `woken`
//!   queue, notifying a parked worker. On a `block_on` thread's turn: the `woken` queue.
//!   Both are drained before the rings and the inject queue, where a spawn burst can leave
//!   tens of thousands of never-polled tasks: a woken task runs within a few ticks of its
//!   wake-up instead of behind that backlog.
//! - Woken from any other thread (plain threads, `block_on`, the blocking pool, another
//!   runtime): the [`inject`] queue, then one parked worker is notified.
//!
//! A wake reaches this module through `SharedHandoff` (see `task::Schedule`): the task's
//! own `Arc<Shared>` lives in the task's cell, which the task's completion on another
//! worker may free while the wake is still pushing and notifying. So the decision is made
//! first, reading that `Arc` only to compare it with the current worker's: on a worker of
//! this runtime the hand-off goes through the worker (which owns its own `Arc<Shared>`,
//! nothing is copied); anywhere else it works on a clone of the `Arc`, paid only there.
//!
//! A current-thread runtime is this scheduler with one worker core and no worker thread:
//! each `block_on` takes the core and runs the worker loop's steps between polls of its
//! future (`worker.rs`, "Current-thread runtimes").
//!
//! # How a worker finds work (`worker.rs`)
//!
//! Every 61st tick the inject queue, then the local ring, first (so neither starves behind
//! woken tasks); otherwise LIFO slot, `ready` batch (refilled with a fair share of the
//! `woken` queue), local ring, then a batch from the inject queue. With nothing local it
//! searches ([`idle`]): the `woken` queue, half of a random victim's ring, then the inject
//! queue; a lone searcher keeps looking for a few microseconds. Then it parks ([`park`]):
//! the first parker runs the I/O driver, the others sleep on a condvar.
//!
//! # Fewer wake-ups
//!
//! A parked worker costs a futex or eventfd round trip (and two context switches) to
//! wake, so it is woken only for work the running workers leave behind: not for a task
//! pushed to an empty ring (its worker runs it next), not while a searcher is still
//! looking (it takes the task), not by a searcher that found work and left nothing
//! behind; and a condvar sleeper goes before the worker blocked in the driver.

pub(crate) mod coop;
pub(crate) mod current;
pub(crate) mod idle;
pub(crate) mod inject;
pub(crate) mod monitor;
pub(crate) mod park;
pub(crate) mod poll_slot;
pub(crate) mod queue;
pub(crate) mod worker;

use crate::blocking::BlockingPool;
use crate::loom::std_sync::{Arc, AtomicBool, AtomicU64, Mutex, Ordering};
use crate::task::join::JoinHandle;
use crate::task::raw::RawTask;
use crate::task::registry::Registry;
use crate::task::schedule::{Handoff, Notified, Schedule};
use idle::Idle;
use inject::Inject;
use monitor::Monitor;
use park::{Parker, SharedDriver};
use queue::Steal;
use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::task::Waker;
use std::thread::{JoinHandle as ThreadHandle, ThreadId};
use worker::{WorkerCtx, WorkerSlot};

/// What other threads may touch of one worker.
///
/// Aligned to 128 bytes (two cache lines, against the adjacent-line prefetcher): the
/// worker bumps `steals` and its parker's state, which must not invalidate a sibling's
/// `Remote`.
#[repr(align(128))]
pub(crate) struct Remote {
    pub(crate) steal: Steal<Notified>,
    pub(crate) parker: Parker,
    /// Task polls run by the threads of this worker whose slots are gone (a poll slot
    /// counts its own: see [`Remote::polls`]).
    pub(crate) polls_retired: AtomicU64,
    /// Tasks this worker stole from others (written only by it).
    pub(crate) steals: AtomicU64,
    /// The poll slot of the thread running this worker now, for the monitor (set and
    /// cleared by that thread; see `worker::Published`).
    pub(crate) slot: Mutex<Option<Arc<WorkerSlot>>>,
}

impl Remote {
    pub(crate) fn new(steal: Steal<Notified>, parker: Parker) -> Remote {
        Remote {
            steal,
            parker,
            polls_retired: AtomicU64::new(0),
            steals: AtomicU64::new(0),
            slot: Mutex::new(None),
        }
    }

    /// Task polls run by this worker: the current thread's poll slot counts them, the
    /// counts of earlier threads (a replaced worker, finished `block_on`s) were added to
    /// `polls_retired` when their slots left. A reading may be a moment stale.
    pub(crate) fn polls(&self) -> u64 {
        let slot = self.slot.lock().unwrap();
        let current = slot.as_ref().map_or(0, |s| s.poll.polls());
        self.polls_retired.load(Ordering::Relaxed) + current
    }
}

/// State shared by every thread of one runtime.
///
/// Aligned to 128 bytes so that, inside the `Arc`, the reference counts (bumped by every
/// spawn and task free) sit on other cache lines than the fields every worker reads.
/// `inject` and `idle` are aligned the same way: each is written often by some thread.
#[repr(align(128))]
pub(crate) struct Shared {
    pub(crate) remotes: Box<[Remote]>,
    pub(crate) inject: Inject<Notified>,
    /// Tasks woken by a worker's driver turn beyond that worker's own share; every worker
    /// takes from it before its ring and the inject queue.
    pub(crate) woken: Inject<Notified>,
    pub(crate) idle: Idle,
    pub(crate) registry: Registry,
    pub(crate) driver: Arc<SharedDriver>,
    /// The reference to the timers that timers registered off the workers hold (see
    /// `time::TimerRef`; each worker has its own).
    pub(crate) timer_ref: std::sync::Arc<crate::time::TimerRef>,
    pub(crate) blocking: BlockingPool,
    /// What the runtime layer above hands in (thread set-up, the deadlock check).
    pub(crate) hooks: RuntimeHooks,
    /// Prefix of worker thread names (a replacement worker takes the same name).
    pub(crate) thread_name: String,
    /// The blocked-worker monitor (`monitor.rs`).
    pub(crate) monitor: Monitor,
    /// Worker threads to join at shutdown, replacements included.
    threads: Mutex<Vec<ThreadHandle<()>>>,
    /// `Some` on a current-thread runtime: its core, while no `block_on` drives it.
    core: Option<Mutex<Option<worker::ParkedCore>>>,
    /// Threads that handed their worker over (`block_in_place`): not joined at shutdown,
    /// since they may block for as long as their closure runs.
    retired: Mutex<Vec<ThreadId>>,
    shutdown: AtomicBool,
}

/// What the scheduler needs from the runtime layer above it, handed in when the runtime
/// is built, so that the scheduler names nothing of `runtime/`.
#[derive(Clone, Copy)]
pub(crate) struct RuntimeHooks {
    /// Sets up a thread that starts driving the runtime (a worker, a replacement, a
    /// `block_on`): the channels' thread-local hooks.
    pub(crate) on_driving_thread: fn(),
    /// `Builder::detect_deadlock`: called by a thread about to sleep while no task may be
    /// able to run; panics with a task dump if `looks_dead` still holds after a grace
    /// period. `None` when off.
    pub(crate) check_deadlock: Option<DeadlockCheck>,
}

/// See [`RuntimeHooks::check_deadlock`].
pub(crate) type DeadlockCheck = fn(&Shared, &Parker, looks_dead: &dyn Fn(&Shared) -> bool);

/// How long a thread that checks for deadlocks sleeps between checks.
pub(crate) const DEADLOCK_CHECK_INTERVAL: std::time::Duration =
    std::time::Duration::from_millis(50);

impl Shared {
    pub(crate) fn new(
        remotes: Box<[Remote]>,
        driver: Arc<SharedDriver>,
        blocking: BlockingPool,
        hooks: RuntimeHooks,
        thread_name: String,
        core: Option<worker::ParkedCore>,
        monitor: monitor::Config,
    ) -> Shared {
        let n = remotes.len();
        Shared {
            remotes,
            inject: Inject::new(),
            woken: Inject::new(),
            idle: Idle::new(n),
            registry: Registry::new(),
            timer_ref: crate::time::TimerRef::new(driver.handle.timers().clone()),
            driver,
            blocking,
            hooks,
            thread_name,
            monitor: Monitor::new(monitor),
            threads: Mutex::new(Vec::new()),
            core: core.map(|c| Mutex::new(Some(c))),
            retired: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
        }
    }

    /// Spawns `future` onto this runtime (`spawn`, `go!`, `Handle::spawn`); a future
    /// bigger than `BOX_FUTURE_THRESHOLD` is boxed first, so that moving it cannot
    /// overflow a thread's stack.
    pub(crate) fn spawn_at<F>(
        self: &Arc<Self>,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        crate::task::schedule::spawn_boxing_big!(self.spawn_inner(future, location))
    }

    fn spawn_inner<F>(
        self: &Arc<Self>,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) =
            crate::task::schedule::new_task(future, self.clone(), location);
        match self.registry.insert(task) {
            Ok(()) => self.schedule_task(notified, false),
            Err(task) => {
                // The runtime is shutting down: cancel at once.
                drop(notified);
                task.shutdown();
            }
        }
        join
    }

    /// Runs `f` on this runtime's blocking pool (`spawn_blocking`).
    pub(crate) fn spawn_blocking_at<F, R>(
        self: &Arc<Self>,
        f: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.blocking.spawn(f, self, location)
    }

    /// True for a current-thread runtime (no worker threads; `block_on` runs the tasks).
    pub(crate) fn is_current_thread(&self) -> bool {
        self.core.is_some()
    }

    /// A current-thread runtime's core, if no other `block_on` holds it.
    pub(crate) fn take_core(&self) -> Option<worker::ParkedCore> {
        self.core.as_ref()?.lock().unwrap().take()
    }

    /// Returns the core taken by [`Shared::take_core`]. After shutdown it is dropped
    /// instead (its queued tasks were cancelled through the registry).
    pub(crate) fn put_core(&self, core: worker::ParkedCore) {
        if let Some(slot) = &self.core {
            if !self.is_shutdown() {
                *slot.lock().unwrap() = Some(core);
            }
        }
    }

    /// Drops a current-thread runtime's parked core (shutdown).
    pub(crate) fn drop_core(&self) {
        if let Some(slot) = &self.core {
            drop(slot.lock().unwrap().take());
        }
    }

    /// Records a worker thread to join at shutdown.
    pub(crate) fn add_thread(&self, thread: ThreadHandle<()>) {
        let mut threads = self.threads.lock().unwrap();
        // Replacements come and go with `block_in_place`: forget the finished ones (and
        // their retirement records).
        let mut retired = self.retired.lock().unwrap();
        threads.retain(|t| {
            let finished = t.is_finished();
            if finished {
                retired.retain(|&id| id != t.thread().id());
            }
            !finished
        });
        threads.push(thread);
    }

    /// Records that thread `id` handed its worker over (see `retired`).
    pub(crate) fn retire_thread(&self, id: ThreadId) {
        let mut retired = self.retired.lock().unwrap();
        retired.push(id);
    }

    /// Joins every worker thread except the caller and the retired ones, until none is
    /// left (a replacement may start while shutdown joins).
    pub(crate) fn join_threads(&self) {
        let current = std::thread::current().id();
        loop {
            let threads = std::mem::take(&mut *self.threads.lock().unwrap());
            if threads.is_empty() {
                return;
            }
            let retired = self.retired.lock().unwrap().clone();
            for thread in threads {
                let id = thread.thread().id();
                if id != current && !retired.contains(&id) {
                    let _ = thread.join();
                }
            }
        }
    }

    /// Number of worker threads.
    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    /// True once shutdown began.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Starts shutdown: refuse new queued work, wake every thread. Returns false if it had
    /// already started.
    pub(crate) fn begin_shutdown(&self) -> bool {
        if self.shutdown.swap(true, Ordering::AcqRel) {
            return false;
        }
        drop(self.inject.close());
        drop(self.woken.close());
        for remote in self.remotes.iter() {
            remote.parker.unpark();
        }
        self.driver.handle.unpark();
        self.monitor.shutdown();
        true
    }

    /// Routes a runnable task (see the module docs). `self` must not live in the task's
    /// cell (a wake goes through [`Schedule::handoff`] instead).
    pub(crate) fn schedule_task(self: &Arc<Self>, task: Notified, is_yield: bool) {
        let remote = current::with_worker(|worker| match worker {
            Some(w) if Arc::ptr_eq(w.shared(), self) => w.schedule_local(task, is_yield),
            _ => Some(task),
        });
        if let Some(task) = remote {
            self.schedule_remote(task);
        }
    }

    /// A task woken off its runtime's workers (or while the worker's core is borrowed):
    /// the inject queue, then a parked worker is notified.
    fn schedule_remote(&self, task: Notified) {
        // A `block_on` thread's driver turn wakes timer and I/O waiters: they go ahead of
        // the inject queue, as a worker's driver wakes do.
        let queue = if current::in_driver_turn() {
            &self.woken
        } else {
            &self.inject
        };
        if queue.push(task) {
            self.notify_parked();
        }
    }

    /// Wakes one parked worker if nobody is searching (idle protocol 2), preferring one
    /// asleep on its condvar over the one inside the driver.
    pub(crate) fn notify_parked(&self) {
        let on_condvar = |index: usize| self.remotes[index].parker.is_parked_on_condvar();
        if let Some(index) = self.idle.worker_to_notify(on_condvar) {
            self.remotes[index].parker.unpark();
        }
    }

    /// Wakes a parked worker so that it takes over the driver (a `block_on` thread that
    /// ran the driver is leaving; condvar sleepers would not notice the driver is free).
    pub(crate) fn hand_off_driver(&self) {
        if let Some(index) = self.idle.any_worker_to_notify() {
            self.remotes[index].parker.unpark();
        }
    }

    /// Go's `checkdead`: every worker is parked, nothing is queued, no task is scheduled
    /// or running, the blocking pool is idle, no timer is pending and no task waits on a
    /// socket. Only other OS threads, or nothing at all, could wake a task then.
    pub(crate) fn looks_deadlocked(&self) -> bool {
        self.idle.num_parked() == self.num_workers() && self.nothing_can_run()
    }

    /// [`Shared::looks_deadlocked`] but for the parked workers: what a current-thread
    /// runtime's only worker checks right before it would park.
    pub(crate) fn nothing_can_run(&self) -> bool {
        self.inject.is_empty()
            && self.woken.is_empty()
            && self.blocking.is_idle()
            && self.driver.handle.timers().entries() == 0
            && self.registry.all_idle()
            && !self.driver.handle.has_io_waiters()
    }

    /// True if any queue visible to other workers holds a task.
    pub(crate) fn has_visible_work(&self) -> bool {
        !self.inject.is_empty()
            || !self.woken.is_empty()
            || self.remotes.iter().any(|r| !r.steal.is_empty())
    }
}

impl Schedule for Arc<Shared> {
    type Handoff = SharedHandoff;

    // Inlined into the task's vtable `schedule`, with `hand_off`: on a worker, the wake
    // then costs what the single call it replaced did.
    #[inline]
    fn handoff(&self) -> SharedHandoff {
        current::with_worker(|worker| match worker {
            Some(w) if Arc::ptr_eq(w.shared(), self) => SharedHandoff::Worker(NonNull::from(w)),
            _ => SharedHandoff::Remote(self.clone()),
        })
    }

    fn release(&self, task: RawTask) -> bool {
        self.registry.remove(task)
    }
}

/// Where a woken task goes, decided while the task's `Arc<Shared>` could still be read
/// (see `task::Schedule`): the worker of this thread, which owns its own `Arc<Shared>`
/// (the hot path: nothing to clone), or a clone of the task's `Arc<Shared>` (a wake
/// from any other thread).
///
/// Not `Send` (the raw pointer): it is used on the thread that made it, at once.
pub(crate) enum SharedHandoff {
    /// This thread's worker, of the task's runtime.
    Worker(NonNull<WorkerCtx>),
    /// Any other thread.
    Remote(Arc<Shared>),
}

impl SharedHandoff {
    #[inline]
    fn hand_off(self, task: Notified, is_yield: bool) {
        match self {
            SharedHandoff::Worker(worker) => {
                // SAFETY: `handoff` took the pointer from this thread's `current` state, where it
                // stays valid while the worker loop runs; a handoff is used on the thread
                // that made it (it is not `Send`) within the same wake, which runs inside
                // that loop.
                let worker = unsafe { worker.as_ref() };
                if let Some(task) = worker.schedule_local(task, is_yield) {
                    worker.shared().schedule_remote(task);
                }
            }
            SharedHandoff::Remote(shared) => shared.schedule_remote(task),
        }
    }
}

impl Handoff for SharedHandoff {
    #[inline]
    fn schedule(self, task: Notified) {
        self.hand_off(task, false);
    }

    #[inline]
    fn yield_now(self, task: Notified) {
        self.hand_off(task, true);
    }
}

/// Budget exhausted: re-queue the current task after the next driver turn (on a worker),
/// or wake it at once (elsewhere).
pub(crate) fn defer(waker: &Waker) {
    let deferred = current::with_worker(|worker| match worker {
        Some(w) => {
            w.defer(waker);
            true
        }
        None => false,
    });
    if !deferred {
        waker.wake_by_ref();
    }
}

/// `task::block_in_place`: on a worker, hand the worker over to a replacement thread
/// first (see `worker.rs`), then run `f` on this thread, which may `block_on` inside it.
pub(crate) fn block_in_place<R>(f: impl FnOnce() -> R) -> R {
    let on_current_thread_rt = current::with_current(|h| h.is_some_and(|h| h.is_current_thread()));
    if on_current_thread_rt && current::is_driving() {
        panic!(
            "block_in_place cannot be called on a current-thread runtime (its only thread \
             cannot be replaced); use spawn_blocking, or a multi-threaded runtime"
        );
    }
    if let Some(handover) = current::with_worker(|w| w.and_then(WorkerCtx::hand_over)) {
        handover.start();
    }
    let in_runtime = current::with_current(|h| h.is_some());
    if !in_runtime {
        return f();
    }
    let _exited = current::exit_driving();
    coop::with_budget(coop::Budget::unconstrained(), f)
}
