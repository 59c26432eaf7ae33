//! Which workers are searching for work and which are parked.
//!
//! # State
//!
//! One `AtomicUsize` packs `num_unparked` (high half) and `num_searching` (low
//! [`SEARCH_BITS`] bits); `sleepers` (under a mutex) lists the parked workers.
//!
//! # Protocols
//!
//! 1. **Start searching**: allowed only while fewer than half the workers search, so a
//!    burst of idle workers does not hammer the queues (Go's `spinning` limit).
//! 2. **Notify** (work was queued): if nobody is searching and someone is parked, lock
//!    `sleepers`, re-check, count the chosen worker as unparked *and searching* before
//!    waking it. Counting it as searching first stops a second notify from waking another.
//! 3. **Stop searching** (found work): decrement `num_searching`; if this was the last
//!    searcher, the caller re-checks the queues others can take from and, if they hold
//!    work, wakes one more worker (protocol 2): a push that saw this searcher notified
//!    nobody. Steps 2 and 3 are a store-buffering pair too (push, then read the idle
//!    state; stop searching, then read the queues), fenced the same way. With nothing
//!    left to take, waking a worker would only have it search and park again.
//! 4. **Park**: under the `sleepers` lock, decrement `num_unparked` (and `num_searching`
//!    if searching) and register as a sleeper. If it was the last searcher, the caller
//!    re-checks every queue and notifies if it finds work: no sleeping while work exists.
//!    Steps 2 and 4 are a store-buffering pair (push, then read the idle state; park,
//!    then read the queues), so each side has a `SeqCst` fence between its write and its
//!    read: at least one side sees the other.
//! 5. **Wake-up check**: a worker woken from its parker is running for real only if it is
//!    no longer in `sleepers` (a notifier removed it); otherwise the wake-up was spurious.

use crate::loom::{fence, AtomicUsize, Mutex, Ordering};

const SEARCH_BITS: usize = usize::BITS as usize / 2;
const SEARCH_MASK: usize = (1 << SEARCH_BITS) - 1;
const UNPARK_ONE: usize = 1 << SEARCH_BITS;

/// Aligned to 128 bytes: search transitions write `state`, which must not invalidate
/// the read-mostly fields next to it in `Shared`.
#[repr(align(128))]
pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> SEARCH_BITS
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers * UNPARK_ONE),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Protocol 2: the worker to wake, already counted as unparked and searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // Pairs with the fence in `transition_worker_to_parked` (store-buffering: the
        // caller's queue push vs a parking worker's queue re-check).
        fence(Ordering::SeqCst);
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = self.sleepers.lock().unwrap();
        if !self.should_notify() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(UNPARK_ONE | 1, Ordering::SeqCst);
        Some(worker)
    }

    /// Like [`Idle::worker_to_notify`] but regardless of searchers: used to hand the
    /// driver back to a worker when a `block_on` thread stops running it.
    pub(crate) fn any_worker_to_notify(&self) -> Option<usize> {
        let mut sleepers = self.sleepers.lock().unwrap();
        let worker = sleepers.pop()?;
        self.state.fetch_add(UNPARK_ONE | 1, Ordering::SeqCst);
        Some(worker)
    }

    fn should_notify(&self) -> bool {
        let state = self.state.load(Ordering::SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Protocol 1: true if the caller may search.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(Ordering::SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Protocol 3: true if the caller was the last searcher (it must then re-check the
    /// queues and notify if they hold work).
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(searching(prev) > 0);
        // Pairs with the fence in `worker_to_notify` (store-buffering: a push that saw
        // this searcher and notified nobody vs the caller's queue re-check).
        fence(Ordering::SeqCst);
        searching(prev) == 1
    }

    /// Protocol 4: true if the caller was the last searcher.
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        let dec = UNPARK_ONE + usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(worker);
        drop(sleepers);
        // Pairs with the fence in `worker_to_notify`: either the notifier sees us parked,
        // or our queue re-check sees its push.
        fence(Ordering::SeqCst);
        is_searching && searching(prev) == 1
    }

    /// Protocol 5: true if the worker is still registered as a sleeper.
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().unwrap().contains(&worker)
    }

    /// Number of workers registered as sleepers.
    pub(crate) fn num_parked(&self) -> usize {
        self.sleepers.lock().unwrap().len()
    }

    /// Removes `worker` from the sleepers (shutdown); counts it as unparked, not searching.
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        let Some(pos) = sleepers.iter().position(|&w| w == worker) else {
            return false;
        };
        sleepers.swap_remove(pos);
        self.state.fetch_add(UNPARK_ONE, Ordering::SeqCst);
        true
    }

    /// Number of workers currently searching.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn num_searching(&self) -> usize {
        searching(self.state.load(Ordering::SeqCst))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn at_most_half_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_from_searching());
        assert!(idle.transition_worker_from_searching());
    }

    #[test]
    fn notify_wakes_one_parked_worker_once() {
        let idle = Idle::new(2);
        assert!(!idle.transition_worker_to_parked(0, false));
        assert!(!idle.transition_worker_to_parked(1, false));
        assert_eq!(idle.worker_to_notify(), Some(1));
        // the woken worker counts as searching: no second wake
        assert_eq!(idle.worker_to_notify(), None);
        assert!(!idle.is_parked(1));
        assert!(idle.is_parked(0));
        assert!(idle.transition_worker_from_searching());
        assert_eq!(idle.worker_to_notify(), Some(0));
    }

    #[test]
    fn last_searcher_parking_is_reported() {
        let idle = Idle::new(2);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_parked(0, true));
        assert_eq!(idle.num_searching(), 0);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::scheduler::inject::Inject;
    use crate::scheduler::park::mock::{MockDriver, MockHandle};
    use crate::scheduler::park::{mock::shared_driver, park_worker, Parker, ParkingWorker};
    use loom::thread;
    use std::sync::Arc;

    /// The runtime's pieces a worker parks against: its queues are one inject queue.
    struct Worker {
        idle: Arc<Idle>,
        inject: Arc<Inject<usize>>,
        parker: Arc<Parker<MockDriver, MockHandle>>,
    }

    /// `Shared::notify_parked` with one worker.
    fn notify(idle: &Idle, parker: &Parker<MockDriver, MockHandle>) {
        if idle.worker_to_notify().is_some() {
            parker.unpark();
        }
    }

    impl ParkingWorker for Worker {
        fn idle(&self) -> &Idle {
            &self.idle
        }
        fn index(&self) -> usize {
            0
        }
        fn sleep(&self) {
            self.parker.park();
        }
        fn is_shutdown(&self) -> bool {
            false
        }
        fn has_visible_work(&self) -> bool {
            !self.inject.is_empty()
        }
        fn has_local_work(&self) -> bool {
            false
        }
        fn notify_parked(&self) {
            notify(&self.idle, &self.parker);
        }
    }

    /// One worker searching, then parking through the worker loop's own park step
    /// (`park::park_worker`, on the real `Parker`), against a producer that pushes to the
    /// inject queue and notifies: the worker must get the item (no lost wake-up between
    /// "queue looked empty" and "parked").
    #[test]
    fn loom_push_and_notify_vs_last_searcher_parking() {
        loom::model(|| {
            let w = Worker {
                idle: Arc::new(Idle::new(1)),
                inject: Arc::new(Inject::<usize>::new()),
                parker: Arc::new(Parker::new(shared_driver())),
            };
            let producer = {
                let (idle, inject, parker) = (w.idle.clone(), w.inject.clone(), w.parker.clone());
                thread::spawn(move || {
                    assert!(inject.push(7));
                    notify(&idle, &parker);
                })
            };
            // The worker loop's steps 2-6 for one worker with one queue.
            let mut is_searching = false;
            let got = loop {
                if let Some(v) = w.inject.pop() {
                    if is_searching && w.idle.transition_worker_from_searching() {
                        w.notify_parked();
                    }
                    break v;
                }
                if !is_searching {
                    is_searching = w.idle.transition_worker_to_searching();
                    continue; // re-check the queue as a searcher
                }
                is_searching = park_worker(&w, is_searching);
            };
            assert_eq!(got, 7);
            producer.join().unwrap();
        });
    }
}
