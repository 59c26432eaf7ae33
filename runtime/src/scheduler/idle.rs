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
//!    The caller may prefer some sleepers (the scheduler prefers those asleep on a
//!    condvar: a futex wake is cheaper than kicking the driver out of `epoll_wait`, and
//!    the driver keeps being turned); which one is woken does not matter for correctness.
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

    /// Protocol 2: the worker to wake, already counted as unparked and searching: the
    /// most recently parked one for which `prefer` holds, else the most recently parked.
    #[inline]
    pub(crate) fn worker_to_notify(&self, prefer: impl Fn(usize) -> bool) -> Option<usize> {
        // Pairs with the fences in `transition_worker_to_parked` and
        // `transition_worker_from_searching` (store-buffering: the caller's queue push vs
        // a parking or leaving searcher's queue re-check).
        fence(Ordering::SeqCst);
        if !self.should_notify() {
            return None;
        }
        self.pick_sleeper(&prefer)
    }

    /// [`Idle::worker_to_notify`] once a wake-up looks needed. Out of line: the common
    /// call (every local push while all workers are busy) ends at the check above.
    #[inline(never)]
    fn pick_sleeper(&self, prefer: &dyn Fn(usize) -> bool) -> Option<usize> {
        let mut sleepers = self.sleepers.lock().unwrap();
        if !self.should_notify() || sleepers.is_empty() {
            return None;
        }
        let last = sleepers.len() - 1;
        let pos = sleepers.iter().rposition(|&w| prefer(w)).unwrap_or(last);
        let worker = sleepers.remove(pos);
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

    /// Number of workers not parked (running, searching, or on their way to park).
    pub(crate) fn num_unparked(&self) -> usize {
        unparked(self.state.load(Ordering::SeqCst))
    }

    /// Number of workers currently searching.
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
        assert_eq!(idle.worker_to_notify(|_| false), Some(1));
        // the woken worker counts as searching: no second wake
        assert_eq!(idle.worker_to_notify(|_| false), None);
        assert!(!idle.is_parked(1));
        assert!(idle.is_parked(0));
        assert!(idle.transition_worker_from_searching());
        assert_eq!(idle.worker_to_notify(|_| false), Some(0));
    }

    #[test]
    fn notify_prefers_the_chosen_sleepers() {
        let idle = Idle::new(3);
        for w in 0..3 {
            assert!(!idle.transition_worker_to_parked(w, false));
        }
        assert_eq!(idle.worker_to_notify(|w| w == 0), Some(0));
        assert!(idle.transition_worker_from_searching());
        // nobody preferred: the most recently parked
        assert_eq!(idle.worker_to_notify(|_| false), Some(2));
        assert!(idle.is_parked(1));
        assert_eq!(idle.num_parked(), 1);
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
mod loom_tests;
