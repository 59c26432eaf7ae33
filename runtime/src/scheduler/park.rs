//! A parker per worker (and per `block_on` call): sleep until unparked, without lost
//! wake-ups, either on a condvar or inside the I/O driver.
//!
//! # States
//!
//! - `EMPTY`: running, no pending wake-up.
//! - `PARKED_CONDVAR`: asleep on `condvar`.
//! - `PARKED_DRIVER`: asleep inside `Driver::park` (this thread holds the driver lock).
//! - `NOTIFIED`: a wake-up is pending; the next park returns at once.
//!
//! # Protocols
//!
//! 1. **Park**: consume a pending `NOTIFIED` and return. Otherwise try to take the driver
//!    (`try_lock`): the first thread to park runs the reactor; the rest use the condvar.
//! 2. **Condvar park**: under `mutex`, CAS `EMPTY → PARKED_CONDVAR` (on failure a wake-up
//!    arrived: consume it); wait until the state is `NOTIFIED`, then reset it to `EMPTY`.
//! 3. **Driver park**: CAS `EMPTY → PARKED_DRIVER`, call `Driver::park(timeout)`, then swap
//!    back to `EMPTY` (consuming a wake-up that arrived while inside).
//! 4. **Unpark**: swap in `NOTIFIED`. If the old state was `PARKED_CONDVAR`, take and
//!    release `mutex` (so the sleeper is inside `wait`, not between its check and its wait)
//!    and notify the condvar; if `PARKED_DRIVER`, poke `DriverHandle::unpark`, which makes a
//!    concurrent or the next driver park return.

use crate::loom::std_sync::{Arc, AtomicUsize, Condvar, Mutex, Ordering};
use crate::reactor::{Driver, DriverHandle};
use std::task::{RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The driver shared by the threads of one runtime, with its unpark handle.
pub(crate) struct SharedDriver {
    pub(crate) driver: Mutex<Driver>,
    pub(crate) handle: Arc<DriverHandle>,
}

pub(crate) struct Parker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
    driver: Arc<SharedDriver>,
}

impl Parker {
    pub(crate) fn new(driver: Arc<SharedDriver>) -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
            driver,
        }
    }

    /// Protocol 1: sleeps until unparked (or, on the driver, until I/O or a timer fires).
    /// Returns true if this thread ran the driver.
    pub(crate) fn park(&self, timeout: Option<Duration>) -> bool {
        if self.consume_notification() {
            return false;
        }
        match self.driver.driver.try_lock() {
            Ok(mut driver) => {
                self.park_driver(&mut driver, timeout);
                true
            }
            Err(_) => {
                self.park_condvar(timeout);
                false
            }
        }
    }

    /// Polls the driver without blocking if no other thread is inside it. True if it ran.
    pub(crate) fn poll_driver_now(&self) -> bool {
        match self.driver.driver.try_lock() {
            Ok(mut driver) => {
                driver.park(Some(Duration::ZERO));
                true
            }
            Err(_) => false,
        }
    }

    fn consume_notification(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Protocol 2.
    fn park_condvar(&self, timeout: Option<Duration>) {
        let mut guard = self.mutex.lock().unwrap();
        if let Err(actual) =
            self.state
                .compare_exchange(EMPTY, PARKED_CONDVAR, Ordering::SeqCst, Ordering::SeqCst)
        {
            debug_assert_eq!(actual, NOTIFIED);
            self.state.store(EMPTY, Ordering::SeqCst);
            return;
        }
        loop {
            guard = match timeout {
                None => self.condvar.wait(guard).unwrap(),
                Some(t) => {
                    let (g, res) = self.condvar.wait_timeout(guard, t).unwrap();
                    if res.timed_out() {
                        // A racing unpark may have set NOTIFIED: either way we are awake.
                        self.state.store(EMPTY, Ordering::SeqCst);
                        return;
                    }
                    g
                }
            };
            if self.consume_notification() {
                return;
            }
        }
    }

    /// Protocol 3.
    fn park_driver(&self, driver: &mut Driver, timeout: Option<Duration>) {
        if let Err(actual) =
            self.state
                .compare_exchange(EMPTY, PARKED_DRIVER, Ordering::SeqCst, Ordering::SeqCst)
        {
            debug_assert_eq!(actual, NOTIFIED);
            self.state.store(EMPTY, Ordering::SeqCst);
            return;
        }
        driver.park(timeout);
        self.state.store(EMPTY, Ordering::SeqCst);
    }

    /// Protocol 4.
    pub(crate) fn unpark(&self) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                drop(self.mutex.lock().unwrap());
                self.condvar.notify_one();
            }
            PARKED_DRIVER => self.driver.handle.unpark(),
            other => unreachable!("parker state {other}"),
        }
    }
}

/// A waker that unparks `parker` (used by `block_on`).
pub(crate) fn waker(parker: Arc<Parker>) -> Waker {
    let raw = RawWaker::new(Arc::into_raw(parker) as *const (), &PARKER_WAKER_VTABLE);
    // SAFETY: the vtable below treats the data pointer as an `Arc<Parker>` it owns.
    unsafe { Waker::from_raw(raw) }
}

static PARKER_WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(parker_clone, parker_wake, parker_wake_by_ref, parker_drop);

unsafe fn parker_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` came from `Arc::into_raw` and the waker being cloned owns one count.
    unsafe { Arc::increment_strong_count(data as *const Parker) };
    RawWaker::new(data, &PARKER_WAKER_VTABLE)
}

unsafe fn parker_wake(data: *const ()) {
    // SAFETY: the waker owns one count, which this call consumes.
    let parker = unsafe { Arc::from_raw(data as *const Parker) };
    parker.unpark();
}

unsafe fn parker_wake_by_ref(data: *const ()) {
    // SAFETY: the waker owns one count, so the parker is alive during this call.
    let parker = unsafe { &*(data as *const Parker) };
    parker.unpark();
}

unsafe fn parker_drop(data: *const ()) {
    // SAFETY: the waker owns one count, which this call releases.
    drop(unsafe { Arc::from_raw(data as *const Parker) });
}
