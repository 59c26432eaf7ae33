//! The worker run loop.
//!
//! # Ownership
//!
//! A `WorkerCtx` lives on the worker thread's stack for the whole loop. Its `core` (local
//! ring, LIFO slot, tick, searching flag) is borrowed only briefly, never across a task
//! poll or a park, so a wake from inside a poll (or from the driver during a park) can
//! push to the local ring through the thread-local pointer in [`super::current`]. If the
//! core is borrowed anyway (a wake from a destructor run while the core is borrowed), the
//! task goes to the inject queue.
//!
//! # One tick
//!
//! 1. Every 61st tick: maintenance (zero-timeout driver turn, deferred tasks re-queued).
//! 2. Take a task: every 61st tick the inject queue, then the ring, first; otherwise LIFO
//!    slot, the `ready` batch of driver-woken tasks (refilled from the shared woken queue),
//!    local ring, a batch from the inject queue.
//! 3. None: search (the woken queue, steal from a random victim, then the inject queue), at
//!    most half of the workers at once. Still none and no other searcher: keep searching
//!    for up to [`SPIN_TIME`] before parking (`spin_for_work`).
//! 4. Found while searching: stop searching; if this was the last searcher and the queues
//!    still hold work, wake another.
//! 5. Run it with a fresh budget of 128, then up to 3 tasks from the LIFO slot sharing
//!    that budget; a LIFO task beyond that (or with the budget spent) goes to the ring,
//!    without waking a sibling (this worker is awake and runs it soon).
//! 6. Nothing anywhere: park (see `park()` below).
//!
//! # Current-thread runtimes
//!
//! A current-thread runtime has one worker core (index 0) and no thread: the core waits in
//! `Shared` ([`ParkedCore`]) until a `block_on` takes it ([`block_on_core`]). That thread
//! then runs the steps above between polls of its future, with the same `WorkerCtx`, so
//! wakes, the LIFO slot, budgets, driver turns and parking are this file's code, not a
//! copy. The future's waker ([`MainWaker`]) sets a flag and unparks worker 0's parker;
//! the flag counts as local work, so it ends a park like a woken task. The future is
//! polled when its flag is set and no task is runnable (so a future that yields lets the
//! queued tasks run first, as a task's yield does), and at least every 61 tasks. When the
//! `block_on` ends (or unwinds) the core goes back to `Shared`, with its queued tasks.
//!
//! # Handing the worker over (`block_in_place`)
//!
//! A task about to block its thread calls [`WorkerCtx::hand_over`] from inside its poll
//! (when the core is not borrowed): the worker's identity (its index, so its parker, its
//! stealable half and its timer shard), its core (ring, LIFO slot, `ready` batch, tick)
//! and its deferred wakers move, as one [`Handover`], to a replacement thread that runs
//! this same loop with them ([`Handover::start`]); from then on the replacement parks
//! (and so drives I/O and timers) in its place. The old thread keeps an empty core, is
//! no longer this thread's worker (wakes from it go to the inject queue), and leaves the
//! loop when the blocking task's poll returns. Nothing is shared between the two threads
//! but the moved values: no new synchronization, only the move into the new thread.
//! The blocked-worker monitor (`monitor.rs`) builds the same `Handover` from another
//! thread when a poll runs too long: it claims the core through the worker's poll slot
//! (`poll_slot.rs`), moves it out ([`WorkerSlot::take_over`]) and starts the replacement;
//! the stuck thread learns it at the end of its poll and leaves the loop.
//!
//! # Polls and core sections
//!
//! Every task poll is framed by [`PollSlot::begin_poll`] and [`PollSlot::end_poll`], and
//! whatever touches `core` or `deferred` from inside a poll (a wake into the LIFO slot,
//! a deferred waker, `hand_over`) runs as a core section ([`PollSlot::with_core`]),
//! which is refused once the monitor claims the core: the task then goes to the inject
//! queue. Outside polls the core is only this thread's.
//!
//! # Driver turns
//!
//! Every turn of the driver on this worker (maintenance, park) runs with `turning_driver`
//! set: the wakes it causes are collected in `Core::driver_wakes` instead of the LIFO
//! slot, then `publish_driver_wakes` keeps a fair share in `ready` and pushes the rest to
//! the shared woken queue (see the scheduler docs for why they go first).

use super::current;
use super::poll_slot::{self, PollSlot, Section};
use super::queue::{self, Local, Overflow};
use super::Shared;
use crate::loom::std_sync::{Arc, AtomicBool, AtomicU64, Ordering};
use crate::scheduler::coop::{self, Budget};
use crate::task::schedule::Notified;
use crate::time::TimerRef;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicPtr;
use std::task::{Poll, Waker};
use std::thread::ThreadId;

/// Every this many ticks, check the inject queue first and do maintenance (Go uses 61).
const GLOBAL_QUEUE_INTERVAL: u32 = 61;
/// Consecutive polls from the LIFO slot before it yields to the ring.
const MAX_LIFO_POLLS: u32 = 3;
/// Most tasks a worker takes from the shared woken queue at once (its private `ready`).
const READY_BATCH: usize = 64;
/// A worker whose only work is tasks that spent their budget turns the driver before
/// running them again only if its last driver turn is at least this many ticks old; in
/// between it re-queues them at once. A task that is always ready (a consumer that never
/// finds its channel empty) would otherwise cost a driver turn (a syscall) every budget.
/// I/O and timers still get a turn within this many task polls.
const DEFER_TURN_TICKS: u32 = 16;
/// How long a searcher that found nothing keeps looking before it parks (step 3b).
const SPIN_TIME: std::time::Duration = std::time::Duration::from_micros(20);
/// `spin_loop` hints between two looks at the queues while spinning: a look reads a
/// cache line per worker, which the owners write; not hammering them keeps it cheap.
const SPIN_PAUSES: u32 = 32;

/// The worker's own, single-threaded state.
struct Core {
    local: Local<Notified>,
    lifo: Option<Notified>,
    /// Tasks woken by a driver turn, taken by this worker: run before the ring (see
    /// `next_task`). Not stealable; at most a fair share of one turn or [`READY_BATCH`].
    ready: VecDeque<Notified>,
    /// Tasks woken during this worker's current driver turn, published when it ends.
    driver_wakes: Vec<Notified>,
    tick: u32,
    /// `tick` at this worker's last driver turn.
    last_turn: u32,
    rand: FastRand,
    is_searching: bool,
}

/// Everything the worker loop owns, reachable from its thread through `current`.
pub(crate) struct WorkerCtx {
    shared: Arc<Shared>,
    index: usize,
    core: RefCell<Core>,
    /// Wakers of tasks that spent their budget; woken when this worker runs dry (after a
    /// driver turn if the last one is [`DEFER_TURN_TICKS`] old) or at maintenance.
    deferred: RefCell<Vec<Waker>>,
    /// True while `deferred` is being woken: those wakes are yields.
    waking_deferred: Cell<bool>,
    /// True while this worker turns the driver: its wakes go to `Core::driver_wakes`.
    turning_driver: Cell<bool>,
    /// This worker's reference to the driver, cloned by the timers registered here.
    timer_ref: Arc<TimerRef>,
    /// Set when this thread handed the worker over (`hand_over`): leave the loop.
    retired: Cell<bool>,
    /// On a current-thread runtime's `block_on` thread: the wake flag of the future being
    /// blocked on, which is local work too (it ends a park).
    main: Option<Arc<MainWaker>>,
    /// This thread's poll slot, published in `Remote::slot` for the monitor.
    slot: Arc<WorkerSlot>,
}

/// A worker thread's poll slot as the monitor sees it: the protocol words
/// (`poll_slot.rs`) and what the monitor needs to take the core once its claim is
/// confirmed.
pub(crate) struct WorkerSlot {
    pub(crate) poll: PollSlot,
    /// The owner's `WorkerCtx` (on the owner's stack); dereferenced only by
    /// [`WorkerSlot::take_over`], under a confirmed claim.
    ctx: AtomicPtr<WorkerCtx>,
    /// The owner thread, retired (not joined at shutdown) when its core is taken.
    thread: ThreadId,
    /// False on a current-thread runtime (its tasks never move to another thread) and
    /// where the monitor cannot claim (`poll_slot::heavy_barrier_available`).
    claimable: bool,
}

impl WorkerSlot {
    fn new(claimable: bool) -> Arc<WorkerSlot> {
        Arc::new(WorkerSlot {
            poll: PollSlot::new(),
            ctx: AtomicPtr::new(std::ptr::null_mut()),
            thread: std::thread::current().id(),
            claimable: claimable && poll_slot::heavy_barrier_available(),
        })
    }

    /// True if the monitor may move this worker's queues to a replacement.
    pub(crate) fn is_claimable(&self) -> bool {
        self.claimable
    }

    /// The monitor's hand-off: if the owner is still inside poll `s` (and outside core
    /// sections), moves its core out as a [`Handover`] for a replacement thread and marks
    /// the owner thread retired; the owner leaves the loop when its poll returns. `None`
    /// if the poll ended meanwhile (nothing changed).
    pub(crate) fn take_over(&self, s: u64) -> Option<Handover> {
        if !self.claimable || !self.poll.claim(s) {
            return None;
        }
        let ctx = self.ctx.load(Ordering::Acquire);
        // The claim is confirmed (`poll_slot` protocol 3): the owner thread is inside poll
        // `s`, so its loop, and the `WorkerCtx` on its stack that `ctx` points at (set
        // before the slot was published), cannot end before `end_poll` returns, which
        // waits for our grant or release. Until then the owner touches neither `core` nor
        // `deferred` (every access from a poll is a core section, refused while we
        // claim), and `surrender` reads nothing else the owner writes. What the owner
        // wrote before the poll is visible: `claim` read `state == s` with acquire.
        // SAFETY: by the confirmed claim just described, `ctx` is alive and its core and
        // deferred wakers are ours until we grant or release.
        let taken = unsafe { (*ctx).surrender() };
        match taken {
            Some(handover) => {
                handover.shared.retire_thread(self.thread);
                self.poll.grant(s);
                Some(handover)
            }
            None => {
                self.poll.release();
                None
            }
        }
    }
}

/// Publishes a worker thread's slot in its `Remote` (for the monitor) and withdraws it
/// when the loop ends, unless a replacement published its own meanwhile.
struct Published<'a> {
    shared: &'a Shared,
    index: usize,
    slot: Arc<WorkerSlot>,
}

impl<'a> Published<'a> {
    fn new(shared: &'a Shared, index: usize, ctx: &WorkerCtx) -> Published<'a> {
        let slot = ctx.slot.clone();
        slot.ctx
            .store(ctx as *const WorkerCtx as *mut WorkerCtx, Ordering::Release);
        let remote = &shared.remotes[index];
        let replaced = remote.slot.lock().unwrap().replace(slot.clone());
        if let Some(old) = replaced {
            // A worker taken over: its stuck thread's polls stay counted.
            remote
                .polls_retired
                .fetch_add(old.poll.polls(), Ordering::Relaxed);
        }
        shared.monitor.nudge();
        Published {
            shared,
            index,
            slot,
        }
    }
}

impl Drop for Published<'_> {
    fn drop(&mut self) {
        let remote = &self.shared.remotes[self.index];
        let mut current = remote.slot.lock().unwrap();
        if current.as_ref().is_some_and(|s| Arc::ptr_eq(s, &self.slot)) {
            *current = None;
            remote
                .polls_retired
                .fetch_add(self.slot.poll.polls(), Ordering::Relaxed);
        }
    }
}

/// A current-thread runtime's core while no `block_on` drives it (kept in `Shared`).
pub(crate) struct ParkedCore {
    core: Core,
    deferred: Vec<Waker>,
}

impl ParkedCore {
    pub(crate) fn new(local: Local<Notified>) -> ParkedCore {
        ParkedCore {
            core: Core::new(local, 0),
            deferred: Vec::new(),
        }
    }
}

/// The waker of the future of a current-thread `block_on`: marks it woken and unparks the
/// thread (which is the runtime's only worker, possibly asleep in the driver).
pub(crate) struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl MainWaker {
    fn is_woken(&self) -> bool {
        self.woken.load(Ordering::Acquire)
    }
}

impl std::task::Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.shared.remotes[0].parker.unpark();
        }
    }
}

/// A worker's identity and queues on their way to a replacement thread (module docs).
pub(crate) struct Handover {
    shared: Arc<Shared>,
    index: usize,
    core: Core,
    deferred: Vec<Waker>,
}

impl Core {
    fn new(local: Local<Notified>, index: usize) -> Core {
        Core {
            local,
            lifo: None,
            ready: VecDeque::with_capacity(READY_BATCH),
            driver_wakes: Vec::new(),
            tick: 0,
            last_turn: 0,
            rand: FastRand::new(index as u64 + 1),
            is_searching: false,
        }
    }
}

/// Runs worker `index` until shutdown (or until it is handed over).
pub(crate) fn run(shared: Arc<Shared>, index: usize, local: Local<Notified>) {
    let core = Core::new(local, index);
    run_with(Handover {
        shared,
        index,
        core,
        deferred: Vec::new(),
    });
}

fn run_with(handover: Handover) {
    let Handover {
        shared,
        index,
        core,
        deferred,
    } = handover;
    let _enter = current::enter(shared.clone());
    let _driving = current::enter_driving();
    (shared.hooks.on_driving_thread)();
    let ctx = WorkerCtx {
        core: RefCell::new(core),
        index,
        deferred: RefCell::new(deferred),
        waking_deferred: Cell::new(false),
        turning_driver: Cell::new(false),
        timer_ref: TimerRef::new(shared.driver.handle.timers().clone()),
        retired: Cell::new(false),
        main: None,
        slot: WorkerSlot::new(true),
        shared,
    };
    let published = Published::new(&ctx.shared, index, &ctx);
    let guard = current::set_worker(&ctx);
    ctx.run_loop();
    drop(guard);
    drop(published);
    // Dropping `ctx` drops the tasks left in the ring and the LIFO slot.
}

/// A current-thread runtime's `block_on` with its core: this thread is the runtime's
/// worker 0 until `future` completes, polling it whenever it is woken and running tasks
/// (and the driver, when parking) in between, with the same loop steps as a worker.
/// `None` if shutdown began (the caller goes on without the core). The core goes back to
/// `Shared` on return, also on unwind.
pub(crate) fn block_on_core<F: Future>(
    shared: &Arc<Shared>,
    parked: ParkedCore,
    mut future: Pin<&mut F>,
) -> Option<F::Output> {
    let main = Arc::new(MainWaker {
        woken: AtomicBool::new(true),
        shared: shared.clone(),
    });
    let waker = Waker::from(main.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    let ctx = WorkerCtx {
        core: RefCell::new(parked.core),
        index: 0,
        deferred: RefCell::new(parked.deferred),
        waking_deferred: Cell::new(false),
        turning_driver: Cell::new(false),
        timer_ref: TimerRef::new(shared.driver.handle.timers().clone()),
        retired: Cell::new(false),
        main: Some(main.clone()),
        slot: WorkerSlot::new(false),
        shared: shared.clone(),
    };
    let _published = Published::new(shared, 0, &ctx);
    let _worker = current::set_worker(&ctx);
    let _restore = RestoreCore(&ctx);
    loop {
        if shared.is_shutdown() {
            return None;
        }
        if main.woken.swap(false, Ordering::AcqRel) {
            let polled = coop::with_budget(Budget::initial(), || future.as_mut().poll(&mut cx));
            if let Poll::Ready(out) = polled {
                return Some(out);
            }
        }
        ctx.run_until_main_woken();
    }
}

/// Puts a current-thread runtime's core back into `Shared` when its `block_on` ends.
struct RestoreCore<'a>(&'a WorkerCtx);

impl Drop for RestoreCore<'_> {
    fn drop(&mut self) {
        let ctx = self.0;
        let (Ok(mut core), Ok(mut deferred)) =
            (ctx.core.try_borrow_mut(), ctx.deferred.try_borrow_mut())
        else {
            return; // unreachable (never borrowed across a poll); the registry still owns the tasks
        };
        let (empty, _unreachable) = queue::local();
        let parked = ParkedCore {
            core: std::mem::replace(&mut *core, Core::new(empty, 0)),
            deferred: std::mem::take(&mut *deferred),
        };
        ctx.shared.put_core(parked);
    }
}

impl Handover {
    /// Starts a thread that runs the worker loop with this handover (module docs).
    pub(crate) fn start(self) {
        let shared = self.shared.clone();
        let name = format!("{}-{}", shared.thread_name, self.index);
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || run_with(self))
            .expect("waza: failed to start a replacement worker thread");
        shared.add_thread(thread);
    }
}

impl WorkerCtx {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// This worker's reference to the runtime's timers (see `time::TimerRef`).
    pub(crate) fn timer_ref(&self) -> &Arc<TimerRef> {
        &self.timer_ref
    }

    /// This worker's index in `Shared::remotes`.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// Moves this worker's identity and queues out, for a replacement thread, if this is a
    /// task's poll (the core is not borrowed, no driver turn runs); this thread stops being
    /// a worker (module docs). The caller starts the replacement ([`Handover::start`]).
    pub(crate) fn hand_over(&self) -> Option<Handover> {
        if self.main.is_some()
            || self.retired.get()
            || self.turning_driver.get()
            || self.waking_deferred.get()
        {
            return None;
        }
        // A core section: refused if the monitor has claimed (or taken) the core.
        let handover = self.slot.poll.retire_with(|| self.surrender())?;
        self.retired.set(true);
        current::clear_worker();
        self.shared.retire_thread(std::thread::current().id());
        Some(handover)
    }

    /// Moves the core and the deferred wakers out as a [`Handover`], leaving an empty
    /// core (an empty ring nobody can reach: its stealable half is dropped here), so the
    /// loop's last steps on this thread find nothing. `None` if either is borrowed.
    ///
    /// Reads only `core`, `deferred` and fields fixed at construction: the monitor calls
    /// it from another thread ([`WorkerSlot::take_over`]).
    fn surrender(&self) -> Option<Handover> {
        let mut core = self.core.try_borrow_mut().ok()?;
        let mut deferred = self.deferred.try_borrow_mut().ok()?;
        let (empty, _unreachable) = queue::local();
        let core = std::mem::replace(&mut *core, Core::new(empty, self.index));
        let deferred = std::mem::take(&mut *deferred);
        Some(Handover {
            shared: self.shared.clone(),
            index: self.index,
            core,
            deferred,
        })
    }

    /// The monitor took this worker's core during the poll that just ended: this thread
    /// stops being a worker and leaves the loop (the replacement runs in its place).
    #[cold]
    fn lost_core(&self) {
        self.retired.set(true);
        current::clear_worker();
    }

    /// The current-thread loop between two polls of the `block_on` future: run tasks (at
    /// most [`GLOBAL_QUEUE_INTERVAL`], so the future is polled that often while tasks keep
    /// coming) and park when there are none, until the future is woken.
    ///
    /// A future that woke itself (a yield) is polled again only after the tasks already
    /// queued ran, as a task's yield would be.
    fn run_until_main_woken(&self) {
        for _ in 0..GLOBAL_QUEUE_INTERVAL {
            if self.shared.is_shutdown() {
                return;
            }
            let tick = self.next_tick();
            if tick % GLOBAL_QUEUE_INTERVAL == 0 {
                self.maintenance();
            }
            if let Some(task) = self.next_task(tick) {
                self.run_task(task);
            } else if let Some(task) = self.steal_work() {
                self.run_task(task);
            } else if self.has_main_wake() {
                return;
            } else {
                self.park();
            }
        }
    }

    /// A current-thread worker about to park has nothing to run: if test time is paused
    /// and no blocking closure is in flight, every task is idle and the park may jump the
    /// clock to the next timer (`time::clock`).
    fn allow_auto_advance(&self) {
        let clock = self.shared.driver.handle.timers().clock();
        if clock.is_paused() {
            let idle = !self.has_local_work()
                && !self.shared.has_visible_work()
                && self.shared.blocking.is_idle();
            clock.set_auto_advance(idle);
        }
    }

    fn has_main_wake(&self) -> bool {
        self.main.as_ref().is_some_and(|m| m.is_woken())
    }

    fn run_loop(&self) {
        while !self.shared.is_shutdown() && !self.retired.get() {
            let tick = self.next_tick();
            if tick % GLOBAL_QUEUE_INTERVAL == 0 {
                self.maintenance();
            }
            if let Some(task) = self.next_task(tick) {
                self.run_task(task);
            } else if let Some(task) = self.steal_work().or_else(|| self.spin_for_work()) {
                self.run_task(task);
            } else {
                self.park();
            }
        }
    }

    fn next_tick(&self) -> u32 {
        let mut core = self.core.borrow_mut();
        core.tick = core.tick.wrapping_add(1);
        core.tick
    }

    /// Step 2.
    fn next_task(&self, tick: u32) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        if tick % GLOBAL_QUEUE_INTERVAL == 0 {
            // Fairness: neither the inject queue nor the ring starves behind woken tasks.
            if let Some(task) = self.shared.inject.pop().or_else(|| core.local.pop()) {
                return Some(task);
            }
        }
        if let Some(task) = core.lifo.take() {
            return Some(task);
        }
        if let Some(task) = self.take_ready(&mut core) {
            return Some(task);
        }
        if let Some(task) = core.local.pop() {
            return Some(task);
        }
        self.pull_from_inject(&mut core)
    }

    /// The next task woken by a driver turn: from the private `ready` batch, refilled with
    /// a fair share of the shared woken queue.
    fn take_ready(&self, core: &mut Core) -> Option<Notified> {
        if let Some(task) = core.ready.pop_front() {
            return Some(task);
        }
        let woken = &self.shared.woken;
        if woken.is_empty() {
            return None;
        }
        let n = (woken.len() / self.shared.num_workers() + 1).min(READY_BATCH);
        let ready = &mut core.ready;
        woken.pop_n_with(n, |task| ready.push_back(task));
        core.ready.pop_front()
    }

    /// Takes a fair share of the inject queue into the local ring; returns one task.
    fn pull_from_inject(&self, core: &mut Core) -> Option<Notified> {
        let share = self.shared.inject.len() / self.shared.num_workers() + 1;
        let n = share
            .min(core.local.remaining_slots())
            .min(queue::CAPACITY / 2);
        // Straight from the inject queue into the ring under its lock: no batch buffer
        // (a 1 KiB allocation per refill made glibc consolidate its fastbins).
        let mut first = None;
        let mut no_room = Vec::new();
        let local = &mut core.local;
        self.shared.inject.pop_n_with(n, |task| {
            if first.is_none() {
                first = Some(task);
            } else if let Err(task) = local.push_back_within_capacity(task) {
                // Unreachable while `n <= remaining_slots` (only we push); kept safe.
                no_room.push(task);
            }
        });
        if !no_room.is_empty() {
            self.shared.inject.push_batch(no_room.into_iter());
        }
        first
    }

    /// Steps 3 and 4 (the search part).
    fn steal_work(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        if !core.is_searching {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            core.is_searching = true;
        }
        self.search_once(&mut core)
    }

    /// Step 3b: a searcher that found nothing keeps searching for up to [`SPIN_TIME`]
    /// before it parks. While it counts as searching, a wake on a running worker notifies
    /// nobody (idle protocol 2), so work queued in the next few microseconds is stolen
    /// here instead of costing a futex or eventfd round trip to a parked worker. Only a
    /// lone searcher spins (one spinner suffices to catch the next wake; more would take
    /// CPU time from the workers running tasks); the rings, the woken queue and the
    /// inject queue are checked, never another worker's LIFO slot (the task its waker is
    /// about to run).
    fn spin_for_work(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        if !core.is_searching
            || self.shared.num_workers() == 1
            || self.main.is_some()
            || !self.deferred.borrow().is_empty()
        {
            return None;
        }
        let start = std::time::Instant::now();
        loop {
            for _ in 0..SPIN_PAUSES {
                std::hint::spin_loop();
            }
            if self.shared.is_shutdown() || self.shared.idle.num_searching() > 1 {
                return None;
            }
            if self.shared.has_visible_work() {
                if let Some(task) = self.search_once(&mut core) {
                    return Some(task);
                }
            }
            if start.elapsed() >= SPIN_TIME {
                return None;
            }
        }
    }

    /// One pass over the queues a searcher may take from: the woken queue, a random
    /// victim's ring (half of it), the inject queue.
    fn search_once(&self, core: &mut Core) -> Option<Notified> {
        if let Some(task) = self.take_ready(core) {
            return Some(task);
        }
        let n = self.shared.num_workers();
        let start = core.rand.next_below(n);
        for i in (0..n).map(|k| (start + k) % n) {
            if i == self.index {
                continue;
            }
            if let Some((task, count)) = self.shared.remotes[i].steal.steal_into(&mut core.local) {
                bump(&self.shared.remotes[self.index].steals, count as u64);
                return Some(task);
            }
        }
        self.pull_from_inject(core)
    }

    /// Steps 4 and 5.
    fn run_task(&self, task: Notified) {
        let was_searching = std::mem::take(&mut self.core.borrow_mut().is_searching);
        if was_searching
            && self.shared.idle.transition_worker_from_searching()
            && self.shared.has_visible_work()
        {
            self.shared.notify_parked();
        }
        coop::with_budget(Budget::initial(), || {
            if self.poll(task) {
                return self.lost_core();
            }
            for _ in 0..MAX_LIFO_POLLS {
                let Some(next) = self.core.borrow_mut().lifo.take() else {
                    return;
                };
                if !coop::current().has_remaining() {
                    return self.requeue(next);
                }
                if self.poll(next) {
                    return self.lost_core();
                }
            }
            let next = self.core.borrow_mut().lifo.take();
            if let Some(next) = next {
                self.requeue(next);
            }
        });
    }

    /// Polls `task` inside the poll slot's frame; true if this thread lost its core
    /// meanwhile (to the monitor, or to its own `hand_over`).
    #[inline(always)]
    fn poll(&self, task: Notified) -> bool {
        self.slot.poll.begin_poll(task.0.header().id.0);
        task.run();
        self.slot.poll.end_poll()
    }

    /// Moves a LIFO task to the back of the ring, where others may steal it.
    ///
    /// No sibling is woken for it: this worker is running and takes it from its own ring
    /// (a sibling that searches finds it there too). Waking one here cost a park/unpark
    /// round trip every `MAX_LIFO_POLLS + 1` links of a spawn chain.
    fn requeue(&self, task: Notified) {
        self.core
            .borrow_mut()
            .local
            .push_back_or_overflow(task, &self.shared.inject);
    }

    /// Called by the scheduler for a task woken on this thread. Returns the task back if it
    /// must go to the inject queue instead.
    pub(crate) fn schedule_local(&self, task: Notified, is_yield: bool) -> Option<Notified> {
        // A core section (module docs): refused while the monitor claims the core.
        let section = self.slot.poll.enter();
        if section == Section::Refused {
            return Some(task);
        }
        let rest = self.schedule_on_core(task, is_yield);
        self.slot.poll.leave(section);
        rest
    }

    #[inline(always)]
    fn schedule_on_core(&self, task: Notified, is_yield: bool) -> Option<Notified> {
        let Ok(mut core) = self.core.try_borrow_mut() else {
            return Some(task);
        };
        // A task pushed to an empty ring is the next one this worker runs (after the LIFO
        // slot): waking a sibling for it would only move it away, at the price of a
        // futex or eventfd round trip. A sibling is woken once the ring holds more.
        let surplus = !core.local.is_empty();
        let notify = if is_yield || self.waking_deferred.get() {
            core.local.push_back_or_overflow(task, &self.shared.inject);
            surplus
        } else if self.turning_driver.get() {
            // Published (and siblings notified) when the turn ends: `end_driver_turn`.
            core.driver_wakes.push(task);
            false
        } else {
            let prev = core.lifo.replace(task);
            let had_prev = prev.is_some();
            if let Some(prev) = prev {
                core.local.push_back_or_overflow(prev, &self.shared.inject);
            }
            had_prev && surplus
        };
        drop(core);
        if notify {
            self.shared.notify_parked();
        }
        None
    }

    /// Records a task that spent its budget.
    pub(crate) fn defer(&self, waker: &Waker) {
        // A core section (module docs): refused while the monitor claims the core.
        let deferred = self.slot.poll.with_core(|| {
            let Ok(mut deferred) = self.deferred.try_borrow_mut() else {
                return false;
            };
            if !deferred.iter().any(|w| w.will_wake(waker)) {
                deferred.push(waker.clone());
            }
            true
        });
        if deferred != Some(true) {
            waker.wake_by_ref();
        }
    }

    /// Re-queues the deferred tasks (as yields). True if there were any.
    fn wake_deferred(&self) -> bool {
        let wakers = std::mem::take(&mut *self.deferred.borrow_mut());
        if wakers.is_empty() {
            return false;
        }
        self.waking_deferred.set(true);
        for waker in wakers {
            waker.wake();
        }
        self.waking_deferred.set(false);
        true
    }

    /// Step 1: keep I/O and timers moving even when this worker never runs dry.
    fn maintenance(&self) {
        self.turn_driver(|| self.parker().poll_driver_now());
        self.wake_deferred();
    }

    /// Runs `turn` (a park or a poll that may run the driver) with this worker's driver
    /// wakes collected, then publishes them; returns how many tasks the turn woke here.
    fn turn_driver<R>(&self, turn: impl FnOnce() -> R) -> usize {
        /// Ends the turn also if a waker panics, so later wakes are not held back.
        struct Turn<'a>(&'a WorkerCtx);
        impl Drop for Turn<'_> {
            fn drop(&mut self) {
                self.0.turning_driver.set(false);
            }
        }
        self.turning_driver.set(true);
        {
            let mut core = self.core.borrow_mut();
            core.last_turn = core.tick;
        }
        let guard = Turn(self);
        turn();
        drop(guard);
        self.publish_driver_wakes()
    }

    /// Woken tasks go ahead of the ring and the inject queue, where tasks never polled may
    /// wait by the thousand: this worker keeps a fair share (`ceil(k / workers)` of `k`
    /// wakes) in its private `ready` batch and publishes the rest to the shared woken
    /// queue, notifying a parked sibling. A single wake therefore costs no lock and no
    /// notification. Returns `k`.
    fn publish_driver_wakes(&self) -> usize {
        let mut core = self.core.borrow_mut();
        let k = core.driver_wakes.len();
        if k == 0 {
            return 0;
        }
        let keep = k.div_ceil(self.shared.num_workers());
        let Core {
            ready,
            driver_wakes,
            ..
        } = &mut *core;
        let mut wakes = driver_wakes.drain(..);
        ready.extend(wakes.by_ref().take(keep));
        let publish = wakes.len() > 0;
        if publish {
            self.shared.woken.push_batch(wakes);
        } else {
            drop(wakes);
        }
        drop(core);
        if publish {
            self.shared.notify_parked();
        }
        k
    }

    fn parker(&self) -> &super::Parker {
        &self.shared.remotes[self.index].parker
    }

    fn has_local_work(&self) -> bool {
        let core = self.core.borrow();
        core.lifo.is_some()
            || !core.ready.is_empty()
            || !core.local.is_empty()
            || self.has_main_wake()
    }

    /// Step 6: sleep until notified, re-checking the queues if this was the last searcher
    /// (`park::park_worker`).
    fn park(&self) {
        // Deferred tasks are runnable work: give the driver a turn if it has not had one
        // lately, then run them.
        if !self.deferred.borrow().is_empty() {
            let due = {
                let core = self.core.borrow();
                core.tick.wrapping_sub(core.last_turn) >= DEFER_TURN_TICKS
            };
            if due {
                self.turn_driver(|| self.parker().poll_driver_now());
            }
            self.wake_deferred();
            return;
        }
        let is_searching = std::mem::take(&mut self.core.borrow_mut().is_searching);
        let searching = super::park::park_worker(self, is_searching);
        self.core.borrow_mut().is_searching = searching;
        // Running again (counted as unparked): a monitor asleep because every worker
        // was parked must watch again.
        self.shared.monitor.worker_awake();
    }
}

impl WorkerCtx {
    /// A current-thread runtime with `detect_deadlock`: this thread runs every task, so
    /// it is the one to notice that nothing can ever run again. It sleeps at most
    /// [`DEADLOCK_CHECK_INTERVAL`](super::DEADLOCK_CHECK_INTERVAL) at a time
    /// and checks after each sleep (a blocking closure that ends wakes nobody here).
    fn sleep_checking_deadlock(&self, check: super::DeadlockCheck) {
        /// On the deadlock panic, leaves the sleepers list (this worker is not parked).
        struct LeaveSleepers<'a>(&'a WorkerCtx);
        impl Drop for LeaveSleepers<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.shared.idle.unpark_worker_by_id(self.0.index);
                }
            }
        }
        let timeout = super::DEADLOCK_CHECK_INTERVAL;
        self.turn_driver(|| self.parker().park_timeout(Some(timeout)));
        self.wake_deferred();
        let _leave = LeaveSleepers(self);
        check(&self.shared, self.parker(), &|shared| {
            !self.has_local_work() && shared.nothing_can_run()
        });
    }
}

impl super::park::ParkingWorker for WorkerCtx {
    fn idle(&self) -> &super::idle::Idle {
        &self.shared.idle
    }

    fn index(&self) -> usize {
        self.index
    }

    fn sleep(&self) {
        if self.main.is_some() {
            self.allow_auto_advance();
            if let Some(check) = self.shared.hooks.check_deadlock {
                return self.sleep_checking_deadlock(check);
            }
        }
        self.turn_driver(|| self.parker().park());
        self.wake_deferred();
    }

    fn is_shutdown(&self) -> bool {
        self.shared.is_shutdown()
    }

    fn has_visible_work(&self) -> bool {
        self.shared.has_visible_work()
    }

    fn has_local_work(&self) -> bool {
        WorkerCtx::has_local_work(self)
    }

    fn notify_parked(&self) {
        self.shared.notify_parked();
    }
}

/// Adds to a counter that only this worker writes (a plain load and store: no locked
/// read-modify-write on the hot path; readers may see a slightly stale value).
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

/// A small xorshift generator for victim selection.
struct FastRand(u64);

impl FastRand {
    fn new(seed: u64) -> FastRand {
        FastRand(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % n as u64) as usize
    }
}
