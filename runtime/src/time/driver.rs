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
//! task waiting on it.
//!
//! # Protocols
//!
//! 1. **Register (task).** Under the lock: allocate the entry, schedule it; if the driver is
//!    parked until a later tick, lower `parked_until` and, after unlocking, poke the driver's
//!    waker so it recomputes its timeout. If the deadline is already due the entry is born
//!    fired and the task completes without waiting.
//! 2. **Park (driver).** Under the lock: read the next expiration and publish it as
//!    `parked_until`. Unlock and block. A registration racing with the block either ran
//!    before (the expiration includes it) or after (it sees `parked_until` and pokes).
//! 3. **Fire (driver).** Under the lock: clear `parked_until`, advance the wheel to the
//!    current tick, mark each due entry fired and move its waker out. The wakers are called by
//!    the driver after unlocking.
//! 4. **Poll (task).** Under the lock: fired means done; otherwise store the new waker.
//!
//! Deadlines become ticks by rounding *up* to the next millisecond and the current time by
//! rounding *down*, so an entry fires only when its deadline has passed: never early.

use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use super::wheel::{AlreadyDue, Wheel};

/// Nanoseconds per tick.
const TICK_NANOS: u128 = 1_000_000;

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
}

/// What [`TimerHandle::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The entry waits in the wheel; `unpark`: the driver must be poked.
    Waiting { key: usize, unpark: bool },
    /// The deadline had already passed; the entry exists and is fired.
    Due { key: usize },
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
        let nanos = deadline.saturating_duration_since(self.start).as_nanos();
        u64::try_from(nanos.div_ceil(TICK_NANOS)).unwrap_or(u64::MAX)
    }

    /// The last tick at or before `now` (rounded down).
    pub(crate) fn now_tick(&self, now: Instant) -> u64 {
        let nanos = now.saturating_duration_since(self.start).as_nanos();
        u64::try_from(nanos / TICK_NANOS).unwrap_or(u64::MAX)
    }

    /// The instant at which `tick` begins.
    fn tick_instant(&self, tick: u64) -> Option<Instant> {
        self.start.checked_add(Duration::from_millis(tick))
    }

    /// Protocol 1: a new entry for `deadline` that wakes `waker`.
    pub(crate) fn insert(&self, deadline: Instant, waker: &Waker) -> Inserted {
        let tick = self.deadline_tick(deadline);
        let mut st = self.lock();
        if st.shutdown {
            return Inserted::Shutdown;
        }
        let key = st.wheel.alloc(Entry {
            fired: false,
            waker: Some(waker.clone()),
        });
        match st.schedule(key, tick) {
            Ok(unpark) => Inserted::Waiting { key, unpark },
            Err(AlreadyDue) => Inserted::Due { key },
        }
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
    pub(crate) fn poll_entry(&self, key: usize, waker: &Waker) -> bool {
        let mut st = self.lock();
        let entry = st.wheel.data_mut(key);
        if entry.fired {
            return true;
        }
        match &entry.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => entry.waker = Some(waker.clone()),
        }
        false
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
        let now = self.now_tick(now);
        let mut st = self.lock();
        st.parked_until = None;
        st.wheel.poll(now, |_, entry| fire(entry, wakers));
    }

    /// Fires every entry and refuses new ones.
    pub(crate) fn shutdown(&self, wakers: &mut Vec<Waker>) {
        let mut st = self.lock();
        st.shutdown = true;
        st.parked_until = None;
        st.wheel.drain_scheduled(|_, entry| fire(entry, wakers));
    }

    /// Number of stored entries (tests and diagnostics).
    #[allow(dead_code)]
    pub(crate) fn entries(&self) -> usize {
        self.lock().wheel.len()
    }
}

/// Marks an entry fired and collects its waker.
fn fire(entry: &mut Entry, wakers: &mut Vec<Waker>) {
    entry.fired = true;
    wakers.extend(entry.waker.take());
}

impl TimerState {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn ticks_round_deadlines_up_and_now_down() {
        let start = Instant::now();
        let t = TimerHandle::new(start);
        assert_eq!(t.deadline_tick(start), 0);
        assert_eq!(t.deadline_tick(start + Duration::from_nanos(1)), 1);
        assert_eq!(t.deadline_tick(start + Duration::from_millis(3)), 3);
        assert_eq!(t.now_tick(start + Duration::from_micros(3999)), 3);
        assert_eq!(t.deadline_tick(start - Duration::from_millis(1)), 0);
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
        assert_eq!(t.insert(start, w), Inserted::Due { key: 3 });
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
}
