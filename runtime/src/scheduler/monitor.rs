//! The blocked-worker monitor: Go's sysmon for waza.
//!
//! A task that blocks inside `poll` (a synchronous lock, a blocking read, a long
//! computation) stalls every task queued behind it on that worker. One monitor thread
//! per runtime samples each worker's poll slot (`poll_slot.rs`): a worker seen in the
//! same poll for longer than the threshold is *blocked*. The monitor then
//!
//! 1. reports it once: [`BlockedPoll`] to the `on_blocked_poll` callback, a line on
//!    stderr with `warn_on_blocked_poll`, the `blocked_polls_count` metric;
//! 2. on a multi-threaded runtime, takes the worker's core (local ring, LIFO slot, ready
//!    batch, deferred wakers, and with its index the parker and so the driver duty) and
//!    starts a replacement thread that runs the worker loop with it
//!    ([`WorkerSlot::take_over`], the `Handover` of `block_in_place`). The stuck thread
//!    learns it when its poll returns and exits: workers running tasks stay at
//!    `workers`, plus the stuck threads, at most `max_blocking_threads` of them.
//!    A current-thread runtime is only reported: its tasks (`spawn_local` ones too) never
//!    move to another thread.
//!
//! # Cost when nothing blocks
//!
//! The worker's side is plain loads and stores of its own slot (`poll_slot.rs`): three
//! stores and three loads per poll, two stores and two loads per wake from inside a
//! poll; no read-modify-write, no clock read. The monitor reads the slots. It wakes
//! every [`BASE_INTERVAL`] (or a quarter of the threshold, if shorter) while some worker
//! is in a poll that spans two samples, backs off to a quarter of the threshold while
//! every poll it sees is new, and sleeps when every worker is parked, until one wakes
//! ([`Monitor::worker_awake`]). A poll is timed from the first sample that saw it, so a
//! reported poll ran at least the threshold (never a false report), and one is found
//! within the threshold plus two intervals of its start.

use super::worker::WorkerSlot;
use super::Shared;
use crate::loom::std_sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};
use std::panic::Location;
use std::time::{Duration, Instant};

/// The sampling interval while a poll spans samples.
const BASE_INTERVAL: Duration = Duration::from_millis(1);
/// A sleep with every worker parked still ends after this long (a safety net; a worker
/// that wakes up also wakes the monitor).
const IDLE_SLEEP: Duration = Duration::from_secs(1);

/// A task that blocked a worker: passed to [`Builder::on_blocked_poll`].
///
/// [`Builder::on_blocked_poll`]: crate::Builder::on_blocked_poll
#[derive(Clone, Debug)]
pub struct BlockedPoll {
    task_id: u64,
    location: &'static Location<'static>,
    duration: Duration,
    worker: usize,
}

impl BlockedPoll {
    /// The task's id, as [`JoinHandle::task_id`](crate::JoinHandle::task_id).
    pub fn task_id(&self) -> u64 {
        self.task_id
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// How long the poll had run when it was reported (at least the threshold).
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The index of the worker it blocked.
    pub fn worker(&self) -> usize {
        self.worker
    }
}

/// The callback of [`Builder::on_blocked_poll`](crate::Builder::on_blocked_poll).
pub(crate) type OnBlockedPoll = Arc<dyn Fn(&BlockedPoll) + Send + Sync + 'static>;

/// What the builder configures.
#[derive(Clone)]
pub(crate) struct Config {
    /// `None`: no monitor.
    pub(crate) threshold: Option<Duration>,
    pub(crate) on_blocked: Option<OnBlockedPoll>,
    pub(crate) warn: bool,
    pub(crate) max_replacements: usize,
}

/// The monitor's shared state (in `Shared`); its thread runs [`run`].
pub(crate) struct Monitor {
    config: Config,
    /// True while the monitor sleeps because every worker is parked.
    asleep: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
    blocked_polls: AtomicU64,
    longest_nanos: AtomicU64,
    /// Threads whose core was taken and whose poll has not returned yet.
    replacements: AtomicUsize,
    /// Tasks blocking a thread right now, with the first sample that saw their poll.
    blocked_now: Mutex<Vec<(u64, Instant)>>,
}

impl Monitor {
    pub(crate) fn new(config: Config) -> Monitor {
        Monitor {
            config,
            asleep: AtomicBool::new(false),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            blocked_polls: AtomicU64::new(0),
            longest_nanos: AtomicU64::new(0),
            replacements: AtomicUsize::new(0),
            blocked_now: Mutex::new(Vec::new()),
        }
    }

    /// True if the runtime runs a monitor thread.
    pub(crate) fn is_enabled(&self) -> bool {
        self.config.threshold.is_some()
    }

    /// Polls reported as blocked so far.
    pub(crate) fn blocked_polls(&self) -> u64 {
        self.blocked_polls.load(Ordering::Relaxed)
    }

    /// The longest blocked poll seen (one still running counts with its time so far).
    pub(crate) fn longest(&self) -> Duration {
        Duration::from_nanos(self.longest_nanos.load(Ordering::Relaxed))
    }

    /// How long `task` has been blocking a thread, if the monitor sees it blocked.
    pub(crate) fn blocked_for(&self, task: u64) -> Option<Duration> {
        let now = self.blocked_now.lock().unwrap();
        let since = now.iter().find(|(t, _)| *t == task)?.1;
        Some(since.elapsed())
    }

    /// A worker left its park: wake the monitor if it sleeps for want of running workers.
    #[inline]
    pub(crate) fn worker_awake(&self) {
        // Pairs with `sleep_while_idle`: the worker was counted unparked (a SeqCst
        // read-modify-write) before this load; the monitor sets `asleep` before it reads
        // that count. Either it sees the worker running, or this load sees `asleep`.
        if self.asleep.load(Ordering::SeqCst) {
            self.nudge();
        }
    }

    /// Wakes the monitor (a new worker slot, a worker running again, shutdown).
    pub(crate) fn nudge(&self) {
        if self.asleep.swap(false, Ordering::SeqCst) {
            let _guard = self.lock.lock().unwrap();
            self.wake.notify_one();
        }
    }

    /// Wakes the monitor for shutdown.
    pub(crate) fn shutdown(&self) {
        let _guard = self.lock.lock().unwrap();
        self.asleep.store(false, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn sleep_for(&self, shared: &Shared, d: Duration) {
        let guard = self.lock.lock().unwrap();
        if !shared.is_shutdown() {
            drop(self.wake.wait_timeout(guard, d).unwrap());
        }
    }

    /// Sleeps until a worker wakes (or shutdown), if every worker is parked.
    fn sleep_while_idle(&self, shared: &Shared) {
        let mut guard = self.lock.lock().unwrap();
        self.asleep.store(true, Ordering::SeqCst);
        if !all_parked(shared) || shared.is_shutdown() {
            self.asleep.store(false, Ordering::SeqCst);
            return;
        }
        let deadline = Instant::now() + IDLE_SLEEP;
        while self.asleep.load(Ordering::SeqCst) && !shared.is_shutdown() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            guard = self.wake.wait_timeout(guard, left).unwrap().0;
        }
        self.asleep.store(false, Ordering::SeqCst);
    }

    fn note_duration(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.longest_nanos.fetch_max(nanos, Ordering::Relaxed);
    }

    fn report(&self, shared: &Shared, worker: usize, task: u64, duration: Duration) {
        self.blocked_polls.fetch_add(1, Ordering::Relaxed);
        self.note_duration(duration);
        // A polled task is in the registry until its completion; only a shutdown racing
        // the report can unlink it.
        let location = shared
            .registry
            .find(task, |header| header.location)
            .unwrap_or_else(unknown_location);
        let blocked = BlockedPoll {
            task_id: task,
            location,
            duration,
            worker,
        };
        if self.config.warn {
            eprintln!(
                "waza: task {task} (spawned at {location}) has blocked worker {worker} for \
                 {duration:?} inside one poll; its queue moves to another thread. Blocking \
                 work belongs in spawn_blocking or block_in_place."
            );
        }
        if let Some(on_blocked) = &self.config.on_blocked {
            let call = std::panic::AssertUnwindSafe(|| on_blocked(&blocked));
            if std::panic::catch_unwind(call).is_err() {
                eprintln!("waza: the on_blocked_poll callback panicked (ignored)");
            }
        }
    }
}

/// Where a task's spawn site is unknown (the registry was closed by shutdown).
#[track_caller]
fn unknown_location() -> &'static Location<'static> {
    Location::caller()
}

/// True if no worker runs: all parked, or (current-thread) no `block_on` holds the core.
fn all_parked(shared: &Shared) -> bool {
    let published = shared
        .remotes
        .iter()
        .filter(|r| r.slot.lock().unwrap().is_some())
        .count();
    published == 0 || shared.idle.num_unparked() == 0
}

/// What the monitor remembers of one worker between samples.
#[derive(Default)]
struct Watch {
    slot: Option<Arc<WorkerSlot>>,
    /// The odd state last seen (0: not in a poll).
    state: u64,
    task: u64,
    since: Option<Instant>,
    reported: bool,
}

/// A thread whose core was taken, until its poll returns.
struct Stuck {
    slot: Arc<WorkerSlot>,
    state: u64,
    task: u64,
    since: Instant,
}

/// The monitor thread's loop, until shutdown.
pub(crate) fn run(shared: Arc<Shared>) {
    let monitor = &shared.monitor;
    let Some(threshold) = monitor.config.threshold else {
        return;
    };
    let base = BASE_INTERVAL
        .min(threshold / 4)
        .max(Duration::from_micros(50));
    let max = (threshold / 4).max(base);
    let mut watches: Vec<Watch> = (0..shared.num_workers())
        .map(|_| Watch::default())
        .collect();
    let mut stuck: Vec<Stuck> = Vec::new();
    let mut interval = base;
    let mut idle_rounds = 0u32;
    loop {
        if shared.is_shutdown() {
            return;
        }
        if idle_rounds >= 2 && stuck.is_empty() {
            monitor.sleep_while_idle(&shared);
            idle_rounds = 0;
        } else {
            monitor.sleep_for(&shared, interval);
        }
        if shared.is_shutdown() {
            return;
        }
        let now = Instant::now();
        let mut spanning = false;
        let mut in_poll = false;
        let mut due = Vec::new();
        for (index, watch) in watches.iter_mut().enumerate() {
            let slot = shared.remotes[index].slot.lock().unwrap().clone();
            let Some(slot) = slot else {
                *watch = Watch::default();
                continue;
            };
            if !watch.slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                *watch = Watch {
                    slot: Some(slot.clone()),
                    ..Watch::default()
                };
            }
            let sample = slot.poll.sample();
            if sample.state & 1 == 0 {
                watch.state = 0;
                continue;
            }
            in_poll = true;
            if watch.state != sample.state {
                watch.state = sample.state;
                watch.task = sample.task;
                watch.since = Some(now);
                watch.reported = false;
                continue;
            }
            spanning = true;
            let since = watch.since.unwrap_or(now);
            let blocked = now.saturating_duration_since(since);
            if blocked >= threshold {
                due.push((index, blocked));
            }
        }
        // Dumps see a blocked task before its report goes out.
        publish_blocked(monitor, &watches, &stuck, threshold, now);
        for (index, blocked) in due.drain(..) {
            let watch = &mut watches[index];
            let Some(slot) = watch.slot.clone() else {
                continue;
            };
            if !watch.reported {
                watch.reported = true;
                monitor.report(&shared, index, watch.task, blocked);
            }
            monitor.note_duration(blocked);
            let room =
                monitor.replacements.load(Ordering::Relaxed) < monitor.config.max_replacements;
            if room && slot.is_claimable() {
                if let Some(handover) = slot.take_over(watch.state) {
                    monitor.replacements.fetch_add(1, Ordering::Relaxed);
                    stuck.push(Stuck {
                        slot,
                        state: watch.state,
                        task: watch.task,
                        since: watch.since.unwrap_or(now),
                    });
                    *watch = Watch::default();
                    handover.start();
                }
            }
        }
        stuck.retain(|s| {
            let still = s.slot.poll.sample().state == s.state;
            monitor.note_duration(now.saturating_duration_since(s.since));
            if !still {
                monitor.replacements.fetch_sub(1, Ordering::Relaxed);
            }
            still
        });
        publish_blocked(monitor, &watches, &stuck, threshold, now);
        if spanning || !stuck.is_empty() {
            interval = base;
        } else {
            interval = (interval * 2).min(max);
        }
        if in_poll || !all_parked(&shared) {
            idle_rounds = 0;
        } else {
            idle_rounds += 1;
        }
    }
}

/// Updates the list of tasks blocking a thread now (for task dumps), when it changed.
fn publish_blocked(
    monitor: &Monitor,
    watches: &[Watch],
    stuck: &[Stuck],
    threshold: Duration,
    now: Instant,
) {
    let blocked: Vec<(u64, Instant)> = watches
        .iter()
        .filter(|w| w.state != 0)
        .filter_map(|w| Some((w.task, w.since?)))
        .filter(|(_, since)| now.saturating_duration_since(*since) >= threshold)
        .chain(stuck.iter().map(|s| (s.task, s.since)))
        .collect();
    let mut current = monitor.blocked_now.lock().unwrap();
    if *current != blocked {
        *current = blocked;
    }
}
