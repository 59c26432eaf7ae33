//! The runtime's clock: real time, or test time that moves only when told to.
//!
//! # States
//!
//! - Real (every runtime starts so): `now()` is `Instant::now()`; `virtual_` is false and
//!   nothing else is read.
//! - Paused ([`pause`]): `now()` is `base`, which moves only by [`advance`] or, when every
//!   task is idle, by a jump to the next timer (the current-thread worker's park: see
//!   [`Clock::take_auto_advance`] and `reactor::Driver::park`).
//! - Resumed after a pause ([`resume`]): `now()` is `base + unfrozen.elapsed()`, so time
//!   goes on from where the paused clock stood (instants never go backwards).
//!
//! The state is under one mutex; `virtual_` (set on the first pause, never cleared) lets
//! a runtime that never paused skip it, and the process-wide [`VIRTUAL_CLOCKS`] count lets
//! [`now`] skip even the runtime lookup while no runtime anywhere has paused.
//!
//! Test time is for current-thread runtimes (as in tokio): there the thread that parks is
//! the one that runs every task, so "every task is idle" is a fact it knows when it parks.

use crate::loom::std_sync::{AtomicBool, AtomicUsize, Mutex, Ordering};
use std::time::{Duration, Instant};

/// Runtimes whose clock has ever been paused.
static VIRTUAL_CLOCKS: AtomicUsize = AtomicUsize::new(0);

/// One runtime's clock (see the module docs).
pub(crate) struct Clock {
    /// True once paused: `now()` must read `state`.
    virtual_: AtomicBool,
    state: Mutex<State>,
}

struct State {
    /// The paused time, or the time at which the clock was resumed.
    base: Instant,
    /// `Some(real instant of the resume)` while running after a pause; `None` while paused.
    unfrozen: Option<Instant>,
    /// Set by the worker about to park with every task idle; taken by that park.
    auto_advance: bool,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            virtual_: AtomicBool::new(false),
            state: Mutex::new(State {
                base: Instant::now(),
                unfrozen: None,
                auto_advance: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The clock's current time.
    pub(crate) fn now(&self) -> Instant {
        if !self.virtual_.load(Ordering::Acquire) {
            return Instant::now();
        }
        let st = self.lock();
        match st.unfrozen {
            None => st.base,
            Some(at) => st.base + at.elapsed(),
        }
    }

    /// True while paused.
    pub(crate) fn is_paused(&self) -> bool {
        self.virtual_.load(Ordering::Acquire) && self.lock().unfrozen.is_none()
    }

    /// Stops the clock at `align(now)`, where `align` rounds the current time up to the
    /// timer grid (so that `advance(d)` fires a `sleep(d)` made while paused, whose
    /// deadline is rounded up to that grid). False if it was already paused.
    pub(crate) fn pause(&self, align: impl FnOnce(Instant) -> Instant) -> bool {
        let now = align(self.now());
        let mut st = self.lock();
        if self.virtual_.load(Ordering::Acquire) && st.unfrozen.is_none() {
            return false;
        }
        st.base = now;
        st.unfrozen = None;
        if !self.virtual_.swap(true, Ordering::AcqRel) {
            VIRTUAL_CLOCKS.fetch_add(1, Ordering::AcqRel);
        }
        true
    }

    /// Lets the paused clock run again from where it stands. False if it was not paused.
    pub(crate) fn resume(&self) -> bool {
        let mut st = self.lock();
        if !self.virtual_.load(Ordering::Acquire) || st.unfrozen.is_some() {
            return false;
        }
        st.unfrozen = Some(Instant::now());
        true
    }

    /// Moves the paused clock forward by `d`. False if it was not paused.
    pub(crate) fn advance(&self, d: Duration) -> bool {
        let mut st = self.lock();
        if !self.virtual_.load(Ordering::Acquire) || st.unfrozen.is_some() {
            return false;
        }
        st.base = st.base.checked_add(d).unwrap_or(st.base);
        true
    }

    /// Moves the paused clock forward to `to` if it is later (a jump to the next timer).
    pub(crate) fn advance_to(&self, to: Instant) {
        let mut st = self.lock();
        if st.unfrozen.is_none() && to > st.base {
            st.base = to;
        }
    }

    /// Whether the next park may jump to the next timer (true: every task is idle).
    pub(crate) fn set_auto_advance(&self, allowed: bool) {
        self.lock().auto_advance = allowed;
    }

    /// Whether the park now starting may jump the paused clock to the next timer (and
    /// clears the permission: it is given per park).
    pub(crate) fn take_auto_advance(&self) -> bool {
        std::mem::take(&mut self.lock().auto_advance)
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if *self.virtual_.get_mut() {
            VIRTUAL_CLOCKS.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The current runtime's clock time: [`Instant::now`] unless the runtime's time was paused
/// (see [`pause`]); outside a runtime, `Instant::now()`.
///
/// `std::time::Instant::now()` always reads real time; use this one in code that paused
/// test time must control.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = waza::Runtime::builder().current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let t0 = waza::time::now();
///     waza::time::sleep(Duration::from_secs(3600)).await; // returns at once
///     assert_eq!(waza::time::now() - t0, Duration::from_secs(3600));
/// });
/// ```
pub fn now() -> Instant {
    if VIRTUAL_CLOCKS.load(Ordering::Acquire) == 0 {
        return Instant::now();
    }
    crate::scheduler::current::with_current(|h| match h {
        Some(h) => h.driver.handle.timers().now(),
        None => Instant::now(),
    })
}

/// The current runtime's handle, which must be current-thread, for `what`.
#[track_caller]
fn current_thread_runtime(what: &str) -> crate::Handle {
    let Some(handle) = crate::Handle::try_current() else {
        panic!("waza::time::{what} must be called from within a waza runtime");
    };
    if !handle.shared.is_current_thread() {
        panic!(
            "waza::time::{what} needs a current-thread runtime (as tokio's): build it with \
             Builder::current_thread() or use #[waza::test(start_paused = true)]"
        );
    }
    handle
}

/// Stops the current runtime's clock (test time): from now on [`now`], timers,
/// [`interval`](fn@super::interval), [`timeout`](fn@super::timeout), [`after`](super::after),
/// [`tick`](super::tick) and context deadlines see time move only by [`advance`], or, when
/// every task is idle, by a jump to the next timer, so a test of a one-hour timeout
/// finishes at once.
///
/// # Panics
///
/// Outside a runtime, on a multi-threaded runtime, or if time is already paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = waza::Runtime::builder().current_thread().build().unwrap();
/// rt.block_on(async {
///     waza::time::pause();
///     let r = waza::time::timeout(Duration::from_secs(60), std::future::pending::<()>()).await;
///     assert!(r.is_err()); // elapsed in virtual time
/// });
/// ```
#[track_caller]
pub fn pause() {
    let handle = current_thread_runtime("pause");
    if !handle.driver_handle().timers().pause() {
        panic!("waza::time::pause: time is already paused");
    }
}

/// Lets the paused clock run again, from the time it stands at.
///
/// # Panics
///
/// Outside a runtime, or if time is not paused.
///
/// # Examples
///
/// ```
/// let rt = waza::Runtime::builder().current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async { waza::time::resume() });
/// ```
#[track_caller]
pub fn resume() {
    let handle = current_thread_runtime("resume");
    if !handle.driver_handle().timers().clock().resume() {
        panic!("waza::time::resume: time is not paused");
    }
}

/// Moves the paused clock forward by `duration`; the timers due by then fire, and the
/// tasks they wake run before this returns.
///
/// # Panics
///
/// When polled outside a runtime, or if time is not paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = waza::Runtime::builder().current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let t0 = waza::time::now();
///     waza::time::advance(Duration::from_millis(1500)).await;
///     assert_eq!(waza::time::now() - t0, Duration::from_millis(1500));
/// });
/// ```
///
/// # Cancel safety
///
/// The clock moves on the first poll; dropping the future afterwards loses nothing.
pub async fn advance(duration: Duration) {
    let handle = current_thread_runtime("advance");
    let driver = handle.driver_handle().clone();
    if !driver.timers().clock().advance(duration) {
        panic!("waza::time::advance: time is not paused");
    }
    let mut wakers = Vec::new();
    driver.timers().process(driver.timers().now(), &mut wakers);
    for waker in wakers {
        waker.wake();
    }
    // The woken tasks run first (a yield goes behind them).
    crate::yield_now().await;
}
