//! The timer half of the driver: one timer wheel per worker (a shard), each behind its own
//! mutex, shared by `Sleep`s and `park`.
//!
//! # Where the timers meet the reactor
//!
//! The reactor owns the runtime's [`Timers`] (in an `Arc` beside its `DriverHandle`) and
//! turns them when it parks; the timers know nothing of the reactor. The interface, both
//! ways, is small:
//! - the reactor calls the driver half: [`Timers::before_park`] (protocol 2),
//!   [`Timers::process`] (protocols 3 and 5), [`Timers::next_expiration`] and the
//!   [`Clock`] (paused test time), and [`Timers::shutdown`];
//! - the timers get one thing from the reactor: the `unpark` [`Waker`] given to
//!   [`Timers::new`], which ends a blocking park (protocol 1's poke).
//!
//! Tasks reach the timers through a [`TimerRef`] from the thread's current runtime
//! (`scheduler::current::timer_ref`).
//!
//! # Fields
//!
//! [`Timers`] holds a power-of-two number of shards (one per worker, at most
//! [`MAX_SHARDS`]); a timer registered on worker `i` goes to shard `i % shards`, elsewhere
//! to shard 0, so workers registering and polling their own timers do not contend (a single
//! mutex for every timer was the hottest lock of a 200k-sleep run). A key handed out
//! encodes the shard in its low bits, so every later operation on the entry finds its
//! shard without asking where it runs. Each shard's mutex guards:
//! - `wheel`: that shard's entries, keyed; an entry is owned by exactly one `Sleep` (or
//!   channel timer), which frees it on drop;
//! - `shutdown`: set once, by `Driver::shutdown`.
//!
//! Outside the shards, `parked_until` (an `AtomicU64`) says what the driver does: `0` while it
//! does not block in `park` (no registration needs to poke it); [`COMPUTING`] while it
//! gathers the shards' next expirations before blocking; otherwise the tick at which the
//! blocked driver wakes by itself.
//!
//! Each [`Entry`] holds `fired` (set by the driver, cleared by a reset) and the waker of the
//! task waiting on it, or, for Go's `after`/`tick`, a channel timer: the `Sender` to deliver
//! the time to and the period (ticks). Channel timers are owned by the wheel itself: the
//! driver frees a one-shot entry when it fires and a periodic one when its receiver is gone.
//!
//! # Protocols
//!
//! 1. **Register (task).** Under its shard's lock: if the deadline's tick is not after the
//!    shard wheel's `elapsed` tick it is already due: no entry is made and the task completes
//!    without waiting. Otherwise allocate the entry and schedule it; then, still under the
//!    lock, `fetch_min(tick)` on `parked_until`: if the previous value was larger, the driver
//!    is blocking (or about to) past this deadline, and the registrant, after unlocking, pokes
//!    the driver's waker so it recomputes its timeout. Lowering the value means later,
//!    no-earlier registrations do not poke again.
//! 2. **Park (driver, only before a blocking park).** Store `COMPUTING` (every registration
//!    from now on pokes), then lock each shard in turn and read its next expiration, then
//!    `fetch_min` the earliest into `parked_until` (keeping a lower value a registration
//!    stored meanwhile) and block until it, rounded up to the [`PARK_GRAIN`] grid. A registration in shard `i` either locked it
//!    before the driver did (the driver's read includes it) or after: then the driver's
//!    `COMPUTING` store happened before the driver unlocked shard `i`, so the registration's
//!    `fetch_min` (after its lock) sees `COMPUTING` or the final value and pokes if its tick
//!    is earlier. The poke is sticky (the mio waker), so a poke before the block still ends
//!    it. A zero-timeout turn (a busy worker's maintenance) skips this step: nobody blocks.
//! 3. **Fire (driver).** Store `0` in `parked_until`, then for each shard, under its lock:
//!    advance the wheel to the current tick, mark each due entry fired and move its waker out.
//!    The wakers are called by the driver after unlocking.
//! 4. **Poll (task).** Under the entry's shard lock: fired means done, and the entry is freed
//!    right there (its owner stops using the key); otherwise store the new waker.
//! 5. **Channel timers (driver, in step 3).** Still under the shard lock, a due one-shot
//!    entry is freed (its sender moved out) and a periodic one is rescheduled for its next
//!    tick (skipping ticks the driver was too late for, as Go's ticker does) with a clone of
//!    its sender. After unlocking, the driver `try_send`s the current time on each: a full
//!    channel drops the tick (a slow reader, as in Go); a closed one makes the driver lock
//!    the shard again and free the periodic entry.
//!
//! A tick is [`TICK_NANOS`] (62.5 µs, a sixteenth of a millisecond). Deadlines become ticks
//! by rounding *up* to the next tick and the current time by rounding *down*, so an entry
//! fires only when its deadline has passed: never early. The short tick keeps two costs of
//! coarse ticks small: the rounding's share of a timer's lateness (at most one tick; with
//! 1 ms ticks, half a millisecond on average), and the cascade stall: a level-1 slot (64
//! ticks, 4 ms) is re-sorted into level 0 in one go when its time comes, under the shard
//! lock, and with 200,000 pending sleeps a 16 ms slot (0.25 ms ticks) held tens of
//! thousands of entries and stalled firing for milliseconds. The wheel's eight levels
//! span about 557 years, so even "never" deadlines (30 years) are not clamped.

use std::task::Waker;
use std::time::{Duration, Instant};

use waza_channel::{Sender, TrySendError};

use super::clock::Clock;
use super::wheel::{AlreadyDue, Wheel};
use crate::loom::{AtomicU64, Mutex, MutexGuard, Ordering};
use std::ops::Deref;
use std::sync::Arc;

/// Nanoseconds per tick.
const TICK_NANOS: u32 = 62_500;
/// Ticks per second.
const TICKS_PER_SEC: u64 = 1_000_000_000 / TICK_NANOS as u64;

/// Most shards a runtime's timers are split into.
pub(crate) const MAX_SHARDS: usize = 64;
/// A blocking park wakes on a grid of this many ticks (250 µs): with timers spread thinly,
/// waking for every 62.5 µs tick cost a sleeping runtime 16,000 wake-ups a second (a
/// 20k-sleeps run took 1.4x tokio's CPU; 0.8x with the grid). Busy workers' turns still
/// fire every tick.
const PARK_GRAIN: u64 = 4;
/// `parked_until` while the driver gathers the shards' next expirations (protocol 2).
const COMPUTING: u64 = u64::MAX;
/// `parked_until` while the driver does not block (protocol 3).
const NOT_PARKED: u64 = 0;

/// Timer state of one runtime (see the module docs).
pub(crate) struct Timers {
    /// Tick 0.
    start: Instant,
    /// Real or test time (see `time::clock`); every `now` of the timers comes from it.
    clock: Clock,
    shards: Box<[Shard]>,
    /// `log2(shards.len())`: keys carry the shard in this many low bits.
    shard_bits: u32,
    /// See the module docs; written by the driver (protocols 2, 3) and lowered by
    /// registrations (protocol 1).
    parked_until: AtomicU64,
    /// Ends the driver's block (protocol 1's poke): the one thing the timers need from
    /// the reactor, handed in at construction.
    unpark: Waker,
}

/// One shard, alone on its cache lines (its lock is written by every timer operation of
/// the worker that owns it).
#[repr(align(128))]
struct Shard(Mutex<TimerState>);

struct TimerState {
    wheel: Wheel<Entry>,
    shutdown: bool,
}

/// One timer.
pub(crate) struct Entry {
    fired: bool,
    waker: Option<Waker>,
    /// `Some` for `after`/`tick` timers (owned by the wheel); boxed to keep `Sleep`
    /// entries small.
    chan: Option<Box<ChanTimer>>,
}

/// The payload of an `after`/`tick` timer.
struct ChanTimer {
    tx: Sender<Instant>,
    /// Ticks between deliveries; `None` for a one-shot timer.
    period: Option<u64>,
}

/// A channel delivery to make after unlocking: the sender, and the key to free if the
/// receiver is gone (periodic timers only).
type Delivery = (Sender<Instant>, Option<usize>);

/// What [`Timers::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The entry waits in the wheel; `unpark`: the driver must be poked.
    Waiting { key: usize, unpark: bool },
    /// The deadline had already passed; no entry was made.
    Due,
    /// The runtime is shut down; no entry was made.
    Shutdown,
}

impl Timers {
    /// Timer state whose tick 0 is `start`, split into `shards` shards (rounded up to a
    /// power of two, at most [`MAX_SHARDS`]); `unpark` ends a blocking park of the driver
    /// that turns them.
    pub(crate) fn new(start: Instant, shards: usize, unpark: Waker) -> Self {
        let shards = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        Timers {
            start,
            clock: Clock::new(),
            shards: (0..shards)
                .map(|_| {
                    Shard(Mutex::new(TimerState {
                        wheel: Wheel::new(),
                        shutdown: false,
                    }))
                })
                .collect(),
            shard_bits: shards.trailing_zeros(),
            parked_until: AtomicU64::new(NOT_PARKED),
            unpark,
        }
    }

    /// Pokes the driver: a registration was told to ([`Inserted::Waiting`]'s `unpark`,
    /// or `true` from [`Timers::reset`] / [`Timers::insert_chan`]), after unlocking.
    pub(crate) fn unpark(&self) {
        self.unpark.wake_by_ref();
    }

    /// The runtime's clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Pauses the clock on a tick boundary (see `Clock::pause`). False if already paused.
    pub(crate) fn pause(&self) -> bool {
        self.clock.pause(|now| {
            self.tick_instant(self.now_tick(now) + 1)
                .unwrap_or(now)
                .max(now)
        })
    }

    /// The clock's current time.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// When the earliest pending timer is due (a paused clock's jump target).
    pub(crate) fn next_expiration(&self) -> Option<Instant> {
        let next = (0..self.shards.len())
            .filter_map(|i| self.lock(i).wheel.next_expiration())
            .min()?;
        self.tick_instant(next)
    }

    /// Locks shard `index`.
    fn lock(&self, index: usize) -> MutexGuard<'_, TimerState> {
        // No user code runs under this lock; a poisoned state is still consistent.
        let shard = &self.shards[index].0;
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shard a timer registered on this thread goes to: the worker's own, else 0.
    fn home_shard(&self) -> usize {
        let worker = crate::scheduler::current::worker_index().unwrap_or(0);
        worker & (self.shards.len() - 1)
    }

    /// The key handed out for entry `key` of shard `shard`.
    fn encode(&self, shard: usize, key: usize) -> usize {
        (key << self.shard_bits) | shard
    }

    /// The shard and wheel key of a handed-out key.
    fn decode(&self, key: usize) -> (usize, usize) {
        (key & (self.shards.len() - 1), key >> self.shard_bits)
    }

    /// Protocol 1's last step, under the shard lock: whether the driver must be poked for
    /// an entry just scheduled at `tick`.
    ///
    /// A plain load first: while the driver does not block (`NOT_PARKED`, the usual state of
    /// a busy runtime) or blocks until an earlier tick, no read-modify-write dirties the
    /// shared cache line.
    fn needs_poke(&self, tick: u64) -> bool {
        tick < self.parked_until.load(Ordering::SeqCst)
            && tick < self.parked_until.fetch_min(tick, Ordering::SeqCst)
    }

    /// The first tick at or after `deadline` (rounded up).
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        // Whole seconds and the sub-second part separately: 64-bit arithmetic only (the
        // u128 nanosecond count would cost a 128-bit division per timer).
        let d = deadline.saturating_duration_since(self.start);
        let ticks = d.subsec_nanos().div_ceil(TICK_NANOS);
        d.as_secs()
            .saturating_mul(TICKS_PER_SEC)
            .saturating_add(u64::from(ticks))
    }

    /// The last tick at or before `now` (rounded down).
    pub(crate) fn now_tick(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.start);
        let ticks = d.subsec_nanos() / TICK_NANOS;
        d.as_secs()
            .saturating_mul(TICKS_PER_SEC)
            .saturating_add(u64::from(ticks))
    }

    /// The instant at which `tick` begins.
    fn tick_instant(&self, tick: u64) -> Option<Instant> {
        let secs = Duration::from_secs(tick / TICKS_PER_SEC);
        let rest = Duration::from_nanos(tick % TICKS_PER_SEC * u64::from(TICK_NANOS));
        self.start.checked_add(secs + rest)
    }

    /// Protocol 1: a new entry for `deadline` that wakes `waker`.
    pub(crate) fn insert(&self, deadline: Instant, waker: &Waker) -> Inserted {
        self.insert_in(self.home_shard(), deadline, waker)
    }

    /// [`Timers::insert`] into a given shard.
    fn insert_in(&self, shard: usize, deadline: Instant, waker: &Waker) -> Inserted {
        let tick = self.deadline_tick(deadline);
        let mut st = self.lock(shard);
        if st.shutdown {
            return Inserted::Shutdown;
        }
        if tick <= st.wheel.elapsed() {
            return Inserted::Due;
        }
        let key = st.wheel.alloc(Entry {
            fired: false,
            waker: Some(waker.clone()),
            chan: None,
        });
        match st.schedule(key, tick) {
            Ok(()) => Inserted::Waiting {
                key: self.encode(shard, key),
                unpark: self.needs_poke(tick),
            },
            Err(AlreadyDue) => unreachable!("tick {tick} is after the wheel's elapsed tick"),
        }
    }

    /// Protocol 5: a timer that sends the time on `tx` at `deadline`, then every `period`
    /// if given. Returns whether the driver must be poked; after shutdown `tx` is dropped
    /// (closing the channel) and nothing is scheduled.
    pub(crate) fn insert_chan(
        &self,
        deadline: Instant,
        tx: Sender<Instant>,
        period: Option<Duration>,
    ) -> bool {
        let period = period.map(|p| self.duration_ticks(p));
        let mut st = self.lock(self.home_shard());
        if st.shutdown {
            drop(st);
            drop(tx);
            return false;
        }
        // Never "already due": the next driver turn delivers it, and the deadline is passed.
        let tick = self.deadline_tick(deadline).max(st.wheel.elapsed() + 1);
        let key = st.wheel.alloc(Entry {
            fired: false,
            waker: None,
            chan: Some(Box::new(ChanTimer { tx, period })),
        });
        st.schedule(key, tick).is_ok() && self.needs_poke(tick)
    }

    /// A period in ticks, rounded up, at least 1.
    fn duration_ticks(&self, d: Duration) -> u64 {
        u64::try_from(d.as_nanos().div_ceil(u128::from(TICK_NANOS)))
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Moves an entry to a new deadline; returns whether the driver must be poked. The
    /// entry is fired at once (no wake-up) if the deadline is already due.
    pub(crate) fn reset(&self, key: usize, deadline: Instant) -> bool {
        let tick = self.deadline_tick(deadline);
        let (shard, key) = self.decode(key);
        let mut st = self.lock(shard);
        if st.shutdown {
            st.wheel.data_mut(key).fired = true;
            return false;
        }
        st.wheel.data_mut(key).fired = false;
        st.schedule(key, tick).is_ok() && self.needs_poke(tick)
    }

    /// Protocol 4: whether the entry fired; if not, `waker` will be woken when it does.
    /// The entry stays stored either way (tests; `Sleep` uses
    /// [`Timers::poll_entry_or_free`]).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn poll_entry(&self, key: usize, waker: &Waker) -> bool {
        let (shard, key) = self.decode(key);
        let mut st = self.lock(shard);
        let entry = st.wheel.data_mut(key);
        if !entry.fired {
            entry.set_waker(waker);
        }
        entry.fired
    }

    /// Protocol 4, freeing a fired entry in the same lock acquisition: `true` if the entry
    /// fired (and is gone: the key must not be used again); otherwise `waker` will be woken
    /// when it fires.
    pub(crate) fn poll_entry_or_free(&self, key: usize, waker: &Waker) -> bool {
        let (shard, key) = self.decode(key);
        let freed = {
            let mut st = self.lock(shard);
            let entry = st.wheel.data_mut(key);
            if !entry.fired {
                entry.set_waker(waker);
                return false;
            }
            st.wheel.free(key)
        };
        drop(freed); // a leftover waker is dropped outside the lock
        true
    }

    /// Removes an entry (its owner is gone).
    pub(crate) fn remove(&self, key: usize) {
        let (shard, key) = self.decode(key);
        let entry = self.lock(shard).wheel.free(key);
        drop(entry); // the waker is dropped outside the lock
    }

    /// Protocol 2: publishes a blocking park and returns how long the wheels let it last.
    pub(crate) fn before_park(&self, now: Instant) -> Option<Duration> {
        self.parked_until.store(COMPUTING, Ordering::SeqCst);
        let next = (0..self.shards.len())
            .filter_map(|i| self.lock(i).wheel.next_expiration())
            .min();
        self.parked_until
            .fetch_min(next.unwrap_or(COMPUTING), Ordering::SeqCst);
        // Coalesce: the park ends on the next multiple of PARK_GRAIN ticks at or after the
        // deadline (registrations still poke against the exact `next`).
        let wake = next?.div_ceil(PARK_GRAIN).saturating_mul(PARK_GRAIN);
        let at = self.tick_instant(wake)?;
        Some(at.saturating_duration_since(now))
    }

    /// Protocol 3: fires every entry due at `now`, moving the wakers into `wakers`.
    /// Returns how many entries fired (channel timers included).
    pub(crate) fn process(&self, now: Instant, wakers: &mut Vec<Waker>) -> usize {
        self.parked_until.store(NOT_PARKED, Ordering::SeqCst);
        let now_tick = self.now_tick(now);
        let mut due_chans = Vec::new();
        let mut fired = 0;
        for shard in 0..self.shards.len() {
            let deliveries = {
                let mut st = self.lock(shard);
                st.wheel.poll(now_tick, |key, entry| {
                    fired += 1;
                    fire(entry, wakers);
                    if entry.chan.is_some() {
                        due_chans.push(key);
                    }
                });
                if due_chans.is_empty() {
                    continue;
                }
                st.rearm_chans(due_chans.drain(..), now_tick)
            };
            self.deliver(shard, deliveries, now);
        }
        fired
    }

    /// Protocol 5, after unlocking: sends `now` on every due channel timer of `shard`.
    fn deliver(&self, shard: usize, deliveries: Vec<Delivery>, now: Instant) {
        for (tx, key) in deliveries {
            if let (Err(TrySendError::Closed(_)), Some(key)) = (tx.try_send(now), key) {
                let entry = self.lock(shard).wheel.free(key);
                drop(entry); // drops its sender outside the lock
            }
        }
    }

    /// Fires every entry and refuses new ones.
    ///
    /// Channel timers are freed, which drops their senders: their receivers see the channel
    /// closed instead of waiting forever.
    pub(crate) fn shutdown(&self, wakers: &mut Vec<Waker>) {
        self.parked_until.store(NOT_PARKED, Ordering::SeqCst);
        for shard in 0..self.shards.len() {
            let freed: Vec<Entry> = {
                let mut st = self.lock(shard);
                st.shutdown = true;
                let mut chans = Vec::new();
                st.wheel.drain_scheduled(|key, entry| {
                    fire(entry, wakers);
                    if entry.chan.is_some() {
                        chans.push(key);
                    }
                });
                chans.into_iter().map(|k| st.wheel.free(k)).collect()
            };
            drop(freed);
        }
    }

    /// Number of stored entries (deadlock checks, tests).
    pub(crate) fn entries(&self) -> usize {
        (0..self.shards.len())
            .map(|i| self.lock(i).wheel.len())
            .sum()
    }
}

impl Entry {
    /// Stores `waker` unless the stored one already wakes the same task.
    fn set_waker(&mut self, waker: &Waker) {
        match &self.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => self.waker = Some(waker.clone()),
        }
    }
}

/// Marks an entry fired and collects its waker.
fn fire(entry: &mut Entry, wakers: &mut Vec<Waker>) {
    entry.fired = true;
    wakers.extend(entry.waker.take());
}

impl TimerState {
    /// Protocol 5, under the lock: frees due one-shot channel timers and reschedules
    /// periodic ones; returns the sends to make after unlocking.
    fn rearm_chans(&mut self, keys: impl Iterator<Item = usize>, now: u64) -> Vec<Delivery> {
        let mut out = Vec::new();
        for key in keys {
            let deadline = self.wheel.deadline(key);
            let entry = self.wheel.data_mut(key);
            let Some(chan) = &entry.chan else { continue };
            let Some(period) = chan.period else {
                let tx = self.wheel.free(key).chan.map(|c| c.tx);
                out.extend(tx.map(|tx| (tx, None)));
                continue;
            };
            let tx = chan.tx.clone();
            entry.fired = false;
            let late = now.saturating_sub(deadline) % period;
            let next = now.saturating_add(period - late);
            // `next > now == elapsed`, so the entry is always scheduled again.
            let _ = self.schedule(key, next);
            out.push((tx, Some(key)));
        }
        out
    }

    /// Schedules `key` at `tick`; on `AlreadyDue` the entry is marked fired (no wake-up).
    fn schedule(&mut self, key: usize, tick: u64) -> Result<(), AlreadyDue> {
        self.wheel.schedule(key, tick).inspect_err(|_| {
            let entry = self.wheel.data_mut(key);
            entry.fired = true;
            entry.waker = None;
        })
    }
}

// Plain-thread unit tests: they build wakers and clocks outside any loom model, so they
// cannot run under `--cfg loom`.
#[cfg(all(test, not(loom)))]
mod tests;

/// A counted reference to a runtime's timers that a pending `Sleep` holds.
///
/// Each worker owns one (and the runtime one more, for other threads), so the reference
/// count a `Sleep` bumps when it registers and drops when it completes is its worker's,
/// not one cache line that every worker writes for every timer (RESULTS.md, "Numbers that
/// left the code comments").
pub(crate) struct TimerRef(Arc<Timers>);

impl TimerRef {
    pub(crate) fn new(timers: Arc<Timers>) -> Arc<TimerRef> {
        Arc::new(TimerRef(timers))
    }
}

impl Deref for TimerRef {
    type Target = Timers;

    fn deref(&self) -> &Timers {
        &self.0
    }
}

/// Protocols 1-3 against a registration (or a reset) racing the driver's park and the end
/// of its turn, on the real timers.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// Room for the wheels (eight levels of 64 slot vectors each) on a model thread.
    const STACK: usize = 4 << 20;

    /// Runs `f` under loom on a thread with a big enough stack.
    fn model(f: impl Fn() + Sync + Send + 'static) {
        let f = std::sync::Arc::new(f);
        loom::model(move || {
            let f = f.clone();
            let body = thread::Builder::new().stack_size(STACK).spawn(move || f());
            body.unwrap().join().unwrap();
        });
    }

    /// Spawns a model thread with a big enough stack.
    fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> thread::JoinHandle<T> {
        thread::Builder::new().stack_size(STACK).spawn(f).unwrap()
    }

    /// A registration in either shard, racing a blocking park: afterwards either the park's
    /// deadline is no later than the registration's (the driver saw it) or the registrant
    /// was told to poke the driver. Neither means the driver would oversleep the timer.
    #[test]
    fn loom_registration_racing_a_park_is_never_missed() {
        for shard in 0..2 {
            model(move || {
                let start = Instant::now();
                let t = Arc::new(Timers::new(start, 2, Waker::noop().clone()));
                let w = Waker::noop();
                // An existing timer in the other shard, later than the racing one.
                let far = start + Duration::from_millis(50);
                assert!(matches!(
                    t.insert_in(1 - shard, far, w),
                    Inserted::Waiting { .. }
                ));
                let t2 = t.clone();
                let near = start + Duration::from_millis(5);
                let registrant =
                    thread::spawn(move || match t2.insert_in(shard, near, Waker::noop()) {
                        Inserted::Waiting { unpark, .. } => unpark,
                        other => panic!("{other:?}"),
                    });
                let park = t.before_park(start).expect("a timer is pending");
                let poked = registrant.join().unwrap();
                assert!(
                    poked || park <= Duration::from_millis(5),
                    "the driver would sleep {park:?} past a 5 ms timer nobody told it about"
                );
            });
        }
    }

    /// A reset to an earlier deadline racing a blocking park: the reset's `fetch_min` after
    /// its shard lock (protocol 1's last step, shared by `reset`) either is seen by the
    /// park's read of the shards or pokes the driver.
    #[test]
    fn loom_reset_racing_a_park_is_never_missed() {
        model(|| {
            let start = Instant::now();
            let t = Arc::new(Timers::new(start, 2, Waker::noop().clone()));
            let w = Waker::noop();
            let far = start + Duration::from_millis(50);
            let Inserted::Waiting { key, .. } = t.insert_in(1, far, w) else {
                panic!("far is not due")
            };
            let t2 = t.clone();
            let registrant = spawn(move || t2.reset(key, start + Duration::from_millis(5)));
            let park = t.before_park(start).expect("a timer is pending");
            let poked = registrant.join().unwrap();
            assert!(
                poked || park <= Duration::from_millis(5),
                "the driver would sleep {park:?} past a reset to 5 ms nobody told it about"
            );
        });
    }

    /// The driver's turn ends a park with the `NOT_PARKED` store (protocol 3), then parks
    /// again; a registration anywhere in between either pokes or is seen by the second
    /// park. (Seeing `NOT_PARKED` it does not poke: the driver is awake and its next park
    /// reads the shards after that store.)
    #[test]
    fn loom_registration_racing_the_not_parked_store_is_never_missed() {
        model(|| {
            let start = Instant::now();
            let t = Arc::new(Timers::new(start, 2, Waker::noop().clone()));
            let far = start + Duration::from_millis(50);
            assert!(matches!(
                t.insert_in(0, far, Waker::noop()),
                Inserted::Waiting { .. }
            ));
            let t2 = t.clone();
            let registrant = spawn(move || {
                let near = start + Duration::from_millis(5);
                match t2.insert_in(1, near, Waker::noop()) {
                    Inserted::Waiting { unpark, .. } => unpark,
                    other => panic!("{other:?}"),
                }
            });
            let first = t.before_park(start).expect("far is pending");
            assert!(first <= Duration::from_millis(50));
            t.process(start, &mut Vec::new());
            let second = t.before_park(start).expect("far is pending");
            let poked = registrant.join().unwrap();
            assert!(
                poked || second <= Duration::from_millis(5),
                "the second park sleeps {second:?} past a 5 ms timer nobody told it about"
            );
        });
    }

    /// A registration while the driver is awake (after its turn) never pokes, and the next
    /// park includes it.
    #[test]
    fn loom_registration_after_a_turn_is_seen_by_the_next_park() {
        model(|| {
            let start = Instant::now();
            let t = Arc::new(Timers::new(start, 2, Waker::noop().clone()));
            t.process(start, &mut Vec::new());
            let t2 = t.clone();
            let registrant = spawn(move || {
                let near = start + Duration::from_millis(5);
                match t2.insert_in(1, near, Waker::noop()) {
                    Inserted::Waiting { unpark, .. } => unpark,
                    other => panic!("{other:?}"),
                }
            });
            let poked = registrant.join().unwrap();
            assert!(!poked, "nobody blocks");
            let park = t.before_park(start).expect("the registration is pending");
            assert!(park <= Duration::from_millis(5), "parks {park:?}");
        });
    }
}
