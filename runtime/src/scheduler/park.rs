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
//!
//!    **Park without the driver** (`block_on` threads, so that the workers run the
//!    driver): this protocol with a timeout, never trying the driver; returns whether it
//!    consumed a wake-up. A timed-out sleep swaps the state back to `EMPTY`: a wake-up
//!    that landed before the swap is reported as consumed, a later one stays `NOTIFIED`
//!    for the next park.
//! 3. **Driver park**: CAS `EMPTY → PARKED_DRIVER`, call `Driver::park(timeout)`, then swap
//!    back to `EMPTY` (consuming a wake-up that arrived while inside).
//! 4. **Unpark**: swap in `NOTIFIED`. If the old state was `PARKED_CONDVAR`, take and
//!    release `mutex` (so the sleeper is inside `wait`, not between its check and its wait)
//!    and notify the condvar; if `PARKED_DRIVER`, poke `DriverHandle::unpark`, which makes a
//!    concurrent or the next driver park return.
//!
//! The driver is abstracted by [`ParkDriver`]/[`UnparkDriver`] so that loom can check
//! these protocols against a mock driver (the models at the bottom of this file: an unpark
//! racing a driver park, a condvar park, and two parkers sharing one driver).
//!
//! # The worker's park step
//!
//! [`park_worker`] is step 6 of the worker loop: register as parked in [`Idle`]
//! (protocol 4 there; the last searcher re-checks the queues), then sleep on the parker
//! until a notifier has taken this worker off the sleepers list (protocol 5), shutdown
//! begins, or a driver turn woke tasks onto this worker. It reaches the worker through
//! [`ParkingWorker`], so the loom model in `idle.rs` runs this same function against
//! a producer that pushes and notifies.

use super::idle::Idle;
use crate::loom::{AtomicUsize, Condvar, Mutex, Ordering};
use crate::reactor::{Driver, DriverHandle};
use std::sync::Arc;
use std::task::Wake;
use std::time::Duration;

/// What a parker needs from the driver it may run (the reactor; a mock under loom).
pub(crate) trait ParkDriver: Send {
    /// Blocks until I/O, a timer, the timeout or [`UnparkDriver::unpark`].
    fn park(&mut self, timeout: Option<Duration>);
}

/// The shared half of a [`ParkDriver`].
pub(crate) trait UnparkDriver: Send + Sync {
    /// Makes a concurrent or the next [`ParkDriver::park`] return promptly.
    fn unpark(&self);
}

impl ParkDriver for Driver {
    fn park(&mut self, timeout: Option<Duration>) {
        Driver::park(self, timeout);
    }
}

impl UnparkDriver for DriverHandle {
    fn unpark(&self) {
        DriverHandle::unpark(self);
    }
}

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The driver shared by the threads of one runtime, with its unpark handle.
pub(crate) struct SharedDriver<D = Driver, H = DriverHandle> {
    pub(crate) driver: Mutex<D>,
    pub(crate) handle: Arc<H>,
}

/// One thread's parker (see the module docs).
pub(crate) struct Parker<D = Driver, H = DriverHandle> {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
    driver: Arc<SharedDriver<D, H>>,
}

impl<D: ParkDriver, H: UnparkDriver> Parker<D, H> {
    pub(crate) fn new(driver: Arc<SharedDriver<D, H>>) -> Self {
        Parker {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
            driver,
        }
    }

    /// Protocol 1: sleeps until unparked (or, on the driver, until I/O or a timer fires).
    /// Returns true if this thread ran the driver.
    pub(crate) fn park(&self) -> bool {
        self.park_timeout(None)
    }

    /// [`Parker::park`], returning after `timeout` at the latest (as a spurious wake-up).
    pub(crate) fn park_timeout(&self, timeout: Option<Duration>) -> bool {
        if self.consume_notification() {
            return false;
        }
        match self.driver.driver.try_lock() {
            Ok(mut driver) => {
                self.park_driver(&mut *driver, timeout);
                true
            }
            Err(_) => {
                self.park_condvar(timeout);
                false
            }
        }
    }

    /// Sleeps on the condvar only, never inside the driver, until unparked or `timeout`.
    /// Returns true if it was unparked (false: timed out, or woke spuriously).
    pub(crate) fn park_without_driver(&self, timeout: Duration) -> bool {
        self.consume_notification() || self.park_condvar(Some(timeout))
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

    /// True if a wake-up is pending.
    pub(crate) fn is_notified(&self) -> bool {
        self.state.load(Ordering::SeqCst) == NOTIFIED
    }

    /// True if the thread sleeps on the condvar (not inside the driver).
    pub(crate) fn is_parked_on_condvar(&self) -> bool {
        self.state.load(Ordering::Relaxed) == PARKED_CONDVAR
    }

    fn consume_notification(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Protocol 2; with a timeout, returns whether it consumed a wake-up (without one,
    /// it always does).
    fn park_condvar(&self, timeout: Option<Duration>) -> bool {
        let mut guard = self.mutex.lock().unwrap();
        if let Err(actual) =
            self.state
                .compare_exchange(EMPTY, PARKED_CONDVAR, Ordering::SeqCst, Ordering::SeqCst)
        {
            debug_assert_eq!(actual, NOTIFIED);
            self.state.store(EMPTY, Ordering::SeqCst);
            return true;
        }
        if let Some(timeout) = timeout {
            drop(self.condvar.wait_timeout(guard, timeout).unwrap());
            // Timed out or notified: a wake-up that landed before this swap is consumed
            // (and reported), a later one stays pending for the next park.
            return self.state.swap(EMPTY, Ordering::SeqCst) == NOTIFIED;
        }
        loop {
            guard = self.condvar.wait(guard).unwrap();
            if self.consume_notification() {
                return true;
            }
        }
    }

    /// Protocol 3.
    fn park_driver(&self, driver: &mut D, timeout: Option<Duration>) {
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

/// What [`park_worker`] needs of the worker that parks.
pub(crate) trait ParkingWorker {
    /// The runtime's idle state.
    fn idle(&self) -> &Idle;
    /// This worker's index (its id in [`Idle`]).
    fn index(&self) -> usize;
    /// Sleeps once on this worker's parker (perhaps turning the driver), then re-queues
    /// what the turn woke.
    fn sleep(&self);
    /// True once shutdown began.
    fn is_shutdown(&self) -> bool;
    /// True if a queue other workers can take from holds a task.
    fn has_visible_work(&self) -> bool;
    /// True if this worker's own queues hold a task (woken by its driver turn).
    fn has_local_work(&self) -> bool;
    /// Wakes one parked worker if nobody searches (idle protocol 2).
    fn notify_parked(&self);
}

/// The worker loop's step 6 (see the module docs). `is_searching`: whether the worker
/// counted as searching when it ran out of work. Returns whether it counts as searching
/// now (a notifier counted it so when it took it off the sleepers list).
pub(crate) fn park_worker(worker: &impl ParkingWorker, is_searching: bool) -> bool {
    let idle = worker.idle();
    let index = worker.index();
    // Idle protocol 4: the last searcher to park re-checks the queues, so that work pushed
    // while everyone was searching is never left behind with nobody awake.
    if idle.transition_worker_to_parked(index, is_searching) && worker.has_visible_work() {
        worker.notify_parked();
    }
    loop {
        worker.sleep();
        if worker.is_shutdown() {
            return false;
        }
        if !idle.is_parked(index) {
            // A notifier woke us and counted us as searching.
            return true;
        }
        if worker.has_local_work() {
            // The driver woke tasks onto this worker: run them, and hand the driver to a
            // sibling first (eager handoff).
            if idle.unpark_worker_by_id(index) {
                worker.notify_parked();
                return false;
            }
            // A notifier took us off the list meanwhile: it counted us as searching.
            return true;
        }
    }
}

/// `block_on` wakes its thread through its parker.
impl<D: ParkDriver, H: UnparkDriver> Wake for Parker<D, H> {
    fn wake(self: Arc<Self>) {
        self.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.unpark();
    }
}

/// A driver for loom models: blocks until unparked (sticky, like the reactor's waker).
#[cfg(all(test, loom))]
pub(crate) mod mock {
    use super::*;

    pub(crate) struct MockHandle {
        flag: Mutex<bool>,
        cv: Condvar,
    }

    pub(crate) struct MockDriver(Arc<MockHandle>);

    impl ParkDriver for MockDriver {
        fn park(&mut self, timeout: Option<Duration>) {
            let mut flag = self.0.flag.lock().unwrap();
            if timeout != Some(Duration::ZERO) {
                while !*flag {
                    flag = self.0.cv.wait(flag).unwrap();
                }
            }
            *flag = false;
        }
    }

    impl UnparkDriver for MockHandle {
        fn unpark(&self) {
            *self.flag.lock().unwrap() = true;
            self.cv.notify_one();
        }
    }

    pub(crate) fn shared_driver() -> Arc<SharedDriver<MockDriver, MockHandle>> {
        let handle = Arc::new(MockHandle {
            flag: Mutex::new(false),
            cv: Condvar::new(),
        });
        Arc::new(SharedDriver {
            driver: Mutex::new(MockDriver(handle.clone())),
            handle,
        })
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::mock::shared_driver;
    use super::*;
    use loom::thread;

    #[test]
    fn loom_unpark_racing_driver_park_is_not_lost() {
        loom::model(|| {
            let p = Arc::new(Parker::new(shared_driver()));
            let p2 = p.clone();
            let th = thread::spawn(move || p2.unpark());
            p.park();
            th.join().unwrap();
        });
    }

    /// `block_on`'s sleep off the driver: an unpark is either consumed by it or still
    /// pending for the next park (otherwise that park would never return).
    #[test]
    fn loom_unpark_racing_park_without_driver_is_not_lost() {
        loom::model(|| {
            let p = Arc::new(Parker::new(shared_driver()));
            let p2 = p.clone();
            let th = thread::spawn(move || p2.unpark());
            if !p.park_without_driver(Duration::from_millis(10)) {
                p.park();
            }
            th.join().unwrap();
        });
    }

    #[test]
    fn loom_unpark_racing_condvar_park_is_not_lost() {
        loom::model(|| {
            let driver = shared_driver();
            let p = Arc::new(Parker::new(driver.clone()));
            let p2 = p.clone();
            // someone else runs the driver: this parker must use the condvar
            let busy = driver.driver.lock().unwrap();
            let th = thread::spawn(move || {
                assert!(!p2.park(), "the driver was taken");
            });
            p.unpark();
            th.join().unwrap();
            drop(busy);
        });
    }

    #[test]
    fn loom_two_parkers_one_driver() {
        loom::model(|| {
            let driver = shared_driver();
            let a = Arc::new(Parker::new(driver.clone()));
            let b = Arc::new(Parker::new(driver));
            let (a2, b2) = (a.clone(), b.clone());
            let ta = thread::spawn(move || {
                a2.park();
            });
            let tb = thread::spawn(move || {
                b2.park();
            });
            a.unpark();
            b.unpark();
            ta.join().unwrap();
            tb.join().unwrap();
        });
    }
}
