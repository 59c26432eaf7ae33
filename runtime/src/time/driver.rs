//! The timer half of the driver: the wheel behind one mutex, shared by `Sleep`s and `park`.
//!
//! # Handles and fields
//!
//! [`TimerHandle`] lives inside the runtime's `DriverHandle`. Its mutex guards:
//! - `wheel`: every timer entry, keyed; an entry is owned by exactly one `Sleep` (or channel
//!   timer), which frees it on drop;
//! - `parked_until`: `Some(tick)` while the driver blocks in `park` and will wake by itself at
//!   `tick`; `None` while it is not blocked;
//! - `shutdown`: set once, by `Driver::shutdown`.
//!
//! Each [`Entry`] holds `fired` (set by the driver, cleared by a reset) and the waker of the
//! task waiting on it, or, for Go's `after`/`tick`, a channel timer: the `Sender` to deliver
//! the time to and the period (ticks). Channel timers are owned by the wheel itself: the
//! driver frees a one-shot entry when it fires and a periodic one when its receiver is gone.
//!
//! # Protocols
//!
//! 1. **Register (task).** Under the lock: if the deadline's tick is not after the wheel's
//!    `elapsed` tick it is already due: no entry is made and the task completes without
//!    waiting. Otherwise allocate the entry and schedule it; if the driver is parked until a
//!    later tick, lower `parked_until` and, after unlocking, poke the driver's waker so it
//!    recomputes its timeout.
//! 2. **Park (driver).** Under the lock: read the next expiration and publish it as
//!    `parked_until`. Unlock and block. A registration racing with the block either ran
//!    before (the expiration includes it) or after (it sees `parked_until` and pokes).
//! 3. **Fire (driver).** Under the lock: clear `parked_until`, advance the wheel to the
//!    current tick, mark each due entry fired and move its waker out. The wakers are called by
//!    the driver after unlocking.
//! 4. **Poll (task).** Under the lock: fired means done, and the entry is freed right there
//!    (its owner stops using the key); otherwise store the new waker.
//! 5. **Channel timers (driver, in step 3).** Still under the lock, a due one-shot entry is
//!    freed (its sender moved out) and a periodic one is rescheduled for its next tick
//!    (skipping ticks the driver was too late for, as Go's ticker does) with a clone of its
//!    sender. After unlocking, the driver `try_send`s the current time on each: a full
//!    channel drops the tick (a slow reader, as in Go); a closed one makes the driver lock
//!    again and free the periodic entry.
//!
//! A tick is [`TICK_NANOS`] (a quarter of a millisecond). Deadlines become ticks by rounding
//! *up* to the next tick and the current time by rounding *down*, so an entry fires only
//! when its deadline has passed: never early. The quarter-millisecond tick keeps the
//! rounding's share of a timer's lateness small (a sleep is due at most one tick after its
//! deadline; with 1 ms ticks, half a millisecond on average); the wheel's seven levels
//! still span about 35 years, so even "never" deadlines (30 years) are not clamped.

use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use waza_channel::{Sender, TrySendError};

use super::wheel::{AlreadyDue, Wheel};

/// Nanoseconds per tick.
const TICK_NANOS: u32 = 250_000;
/// Ticks per second.
const TICKS_PER_SEC: u64 = 1_000_000_000 / TICK_NANOS as u64;

/// Timer state of one runtime (see the module docs).
pub(crate) struct TimerHandle {
    /// Tick 0.
    start: Instant,
    inner: Mutex<TimerState>,
}

struct TimerState {
    wheel: Wheel<Entry>,
    parked_until: Option<u64>,
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

/// What [`TimerHandle::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The entry waits in the wheel; `unpark`: the driver must be poked.
    Waiting { key: usize, unpark: bool },
    /// The deadline had already passed; no entry was made.
    Due,
    /// The runtime is shut down; no entry was made.
    Shutdown,
}

impl TimerHandle {
    /// Timer state whose tick 0 is `start`.
    pub(crate) fn new(start: Instant) -> Self {
        TimerHandle {
            start,
            inner: Mutex::new(TimerState {
                wheel: Wheel::new(),
                parked_until: None,
                shutdown: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, TimerState> {
        // No user code runs under this lock; a poisoned state is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
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
        let tick = self.deadline_tick(deadline);
        let mut st = self.lock();
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
            Ok(unpark) => Inserted::Waiting { key, unpark },
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
        let mut st = self.lock();
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
        st.schedule(key, tick).unwrap_or(false)
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
        let mut st = self.lock();
        if st.shutdown {
            st.wheel.data_mut(key).fired = true;
            return false;
        }
        st.wheel.data_mut(key).fired = false;
        st.schedule(key, tick).unwrap_or(false)
    }

    /// Protocol 4: whether the entry fired; if not, `waker` will be woken when it does.
    /// The entry stays stored either way (tests; `Sleep` uses
    /// [`TimerHandle::poll_entry_or_free`]).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn poll_entry(&self, key: usize, waker: &Waker) -> bool {
        let mut st = self.lock();
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
        let freed = {
            let mut st = self.lock();
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
        let entry = self.lock().wheel.free(key);
        drop(entry); // the waker is dropped outside the lock
    }

    /// Protocol 2: publishes the park and returns how long the wheel lets it last.
    pub(crate) fn before_park(&self, now: Instant) -> Option<Duration> {
        let mut st = self.lock();
        let next = st.wheel.next_expiration();
        st.parked_until = Some(next.unwrap_or(u64::MAX));
        let at = self.tick_instant(next?)?;
        Some(at.saturating_duration_since(now))
    }

    /// Protocol 3: fires every entry due at `now`, moving the wakers into `wakers`.
    pub(crate) fn process(&self, now: Instant, wakers: &mut Vec<Waker>) {
        let now_tick = self.now_tick(now);
        let mut due_chans = Vec::new();
        let deliveries = {
            let mut st = self.lock();
            st.parked_until = None;
            st.wheel.poll(now_tick, |key, entry| {
                fire(entry, wakers);
                if entry.chan.is_some() {
                    due_chans.push(key);
                }
            });
            st.rearm_chans(due_chans, now_tick)
        };
        self.deliver(deliveries, now);
    }

    /// Protocol 5, after unlocking: sends `now` on every due channel timer.
    fn deliver(&self, deliveries: Vec<Delivery>, now: Instant) {
        for (tx, key) in deliveries {
            if let (Err(TrySendError::Closed(_)), Some(key)) = (tx.try_send(now), key) {
                let entry = self.lock().wheel.free(key);
                drop(entry); // drops its sender outside the lock
            }
        }
    }

    /// Fires every entry and refuses new ones.
    ///
    /// Channel timers are freed, which drops their senders: their receivers see the channel
    /// closed instead of waiting forever.
    pub(crate) fn shutdown(&self, wakers: &mut Vec<Waker>) {
        let freed: Vec<Entry> = {
            let mut st = self.lock();
            st.shutdown = true;
            st.parked_until = None;
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

    /// Number of stored entries (tests and diagnostics).
    #[allow(dead_code)]
    pub(crate) fn entries(&self) -> usize {
        self.lock().wheel.len()
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
    fn rearm_chans(&mut self, keys: Vec<usize>, now: u64) -> Vec<Delivery> {
        let mut out = Vec::with_capacity(keys.len());
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

    /// Schedules `key` at `tick`; `Ok(true)` if a parked driver must be poked.
    fn schedule(&mut self, key: usize, tick: u64) -> Result<bool, AlreadyDue> {
        if let Err(due) = self.wheel.schedule(key, tick) {
            let entry = self.wheel.data_mut(key);
            entry.fired = true;
            entry.waker = None;
            return Err(due);
        }
        match self.parked_until {
            Some(until) if tick < until => {
                self.parked_until = Some(tick);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

// Plain-thread unit tests: they build wakers and clocks outside any loom model, so they
// cannot run under `--cfg loom`.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn a_sleep_entry_stays_small() {
        // One million pending sleeps cost about this many bytes each in the wheel.
        let size = Wheel::<Entry>::entry_size();
        assert!(size <= 64, "wheel entry is {size} bytes");
    }

    #[test]
    fn ticks_round_deadlines_up_and_now_down() {
        let start = Instant::now();
        let t = TimerHandle::new(start);
        let us = Duration::from_micros;
        assert_eq!(t.deadline_tick(start), 0);
        assert_eq!(t.deadline_tick(start + Duration::from_nanos(1)), 1);
        assert_eq!(t.deadline_tick(start + Duration::from_millis(3)), 12);
        assert_eq!(t.deadline_tick(start + us(3001)), 13);
        assert_eq!(t.now_tick(start + us(3249)), 12);
        assert_eq!(t.now_tick(start + us(3250)), 13);
        assert_eq!(t.deadline_tick(start - Duration::from_millis(1)), 0);
        let secs = Duration::from_secs(7);
        assert_eq!(
            t.deadline_tick(start + secs + Duration::from_nanos(999_750_001)),
            32_000
        );
        assert_eq!(
            t.now_tick(start + secs + Duration::from_nanos(999_999_999)),
            31_999
        );
        assert_eq!(t.deadline_tick(start + secs), 28_000);
        assert_eq!(t.now_tick(start + secs), 28_000);
        // A tick begins exactly where the rounding puts it.
        for tick in [0, 1, 3, 3999, 4000, 28_001, 1 << 40] {
            let at = t.tick_instant(tick).unwrap();
            assert_eq!(t.deadline_tick(at), tick);
            assert_eq!(t.now_tick(at), tick);
        }
    }

    #[test]
    fn a_registration_during_park_asks_for_an_unpark_once() {
        let start = Instant::now();
        let t = TimerHandle::new(start);
        let w = &Waker::from(Arc::new(Noop));
        assert_eq!(t.before_park(start), None);
        let far = t.insert(start + Duration::from_millis(500), w);
        assert!(matches!(far, Inserted::Waiting { unpark: true, .. }));
        let later = t.insert(start + Duration::from_millis(900), w);
        assert!(matches!(later, Inserted::Waiting { unpark: false, .. }));
        let mut wakers = Vec::new();
        t.process(start, &mut wakers);
        let idle = t.insert(start + Duration::from_millis(10), w);
        assert!(matches!(idle, Inserted::Waiting { unpark: false, .. }));
        assert!(t.before_park(start).unwrap() <= Duration::from_millis(10));
        assert_eq!(t.insert(start, w), Inserted::Due);
        assert_eq!(t.entries(), 3, "a due deadline takes no entry");
    }

    #[test]
    fn process_fires_only_due_entries() {
        let start = Instant::now();
        let t = TimerHandle::new(start);
        let w = &Waker::from(Arc::new(Noop));
        let Inserted::Waiting { key: a, .. } = t.insert(start + Duration::from_millis(5), w) else {
            panic!()
        };
        let Inserted::Waiting { key: b, .. } = t.insert(start + Duration::from_millis(50), w)
        else {
            panic!()
        };
        let mut wakers = Vec::new();
        t.process(start + Duration::from_micros(4999), &mut wakers);
        assert!(wakers.is_empty());
        t.process(start + Duration::from_millis(5), &mut wakers);
        assert_eq!(wakers.len(), 1);
        assert!(t.poll_entry(a, w));
        assert!(!t.poll_entry(b, w));
        assert!(!t.reset(b, start + Duration::from_millis(60)));
        t.reset(a, start); // already due: fired at once
        assert!(t.poll_entry(a, w));
        t.shutdown(&mut wakers);
        assert_eq!(wakers.len(), 2);
        assert!(t.poll_entry(b, w));
        assert_eq!(t.insert(start, w), Inserted::Shutdown);
        t.remove(a);
        t.remove(b);
        assert_eq!(t.entries(), 0);
    }

    #[test]
    fn after_delivers_once_then_closes_and_frees_its_entry() {
        let start = Instant::now();
        let t = TimerHandle::new(start);
        let (tx, rx) = waza_channel::bounded(1);
        t.insert_chan(start + Duration::from_millis(3), tx, None);
        let mut wakers = Vec::new();
        t.process(start + Duration::from_millis(2), &mut wakers);
        assert!(rx.try_recv().is_err());
        t.process(start + Duration::from_millis(3), &mut wakers);
        assert_eq!(rx.try_recv().ok(), Some(start + Duration::from_millis(3)));
        assert!(rx.is_closed(), "the only sender was dropped");
        assert_eq!(t.entries(), 0);
        assert!(wakers.is_empty());
    }

    #[test]
    fn tick_drops_for_slow_readers_skips_late_ticks_and_stops_when_unread() {
        let start = Instant::now();
        let t = TimerHandle::new(start);
        let ms = Duration::from_millis;
        let (tx, rx) = waza_channel::bounded(1);
        t.insert_chan(start + ms(10), tx, Some(ms(10)));
        let mut w = Vec::new();
        t.process(start + ms(10), &mut w);
        t.process(start + ms(20), &mut w); // buffer full: dropped
        assert_eq!(rx.try_recv().ok(), Some(start + ms(10)));
        assert!(rx.try_recv().is_err());
        t.process(start + ms(35), &mut w); // late: delivered now, next at 40 (skip 30's slot)
        assert_eq!(rx.try_recv().ok(), Some(start + ms(35)));
        t.process(start + ms(39), &mut w);
        assert!(rx.try_recv().is_err());
        t.process(start + ms(40), &mut w);
        assert_eq!(rx.try_recv().ok(), Some(start + ms(40)));
        assert_eq!(t.entries(), 1);
        drop(rx);
        t.process(start + ms(50), &mut w);
        assert_eq!(t.entries(), 0, "closed receiver stops the ticker");
    }

    #[test]
    fn shutdown_closes_channel_timers() {
        let start = Instant::now();
        let t = TimerHandle::new(start);
        let (tx, rx) = waza_channel::bounded::<Instant>(1);
        t.insert_chan(start + Duration::from_secs(60), tx, None);
        t.shutdown(&mut Vec::new());
        assert!(rx.is_closed());
        assert_eq!(t.entries(), 0);
        let (tx, rx) = waza_channel::bounded::<Instant>(1);
        assert!(!t.insert_chan(start, tx, Some(Duration::from_millis(1))));
        assert!(rx.is_closed());
    }
}
