//! The fair counting semaphore under [`Semaphore`](super::Semaphore),
//! [`Mutex`](super::Mutex), [`RwLock`](super::RwLock) and [`OnceCell`](super::OnceCell).
//!
//! # State
//!
//! * `state: AtomicUsize` = `permits << 2 | CLOSED | WAITERS`: the free permits, whether
//!   the semaphore is closed, and whether the wait queue is non-empty.
//! * `queue: std::sync::Mutex<WaitList<Waiter>>`: FIFO waiters, each asking for `needed`
//!   permits at once and ending as `Waiting`, `Granted` or `Closed`.
//!
//! Who may change `state`:
//!
//! * `WAITERS` and `CLOSED` are set and cleared only under the queue lock. Invariant:
//!   `WAITERS` is set exactly when the queue has a linked node (checked at every unlock).
//! * While `WAITERS` is clear, anyone may add permits (release) or take them (acquire)
//!   with a CAS, without the lock: nobody is queued, so nobody can be overtaken.
//! * While `WAITERS` is set, lock-free acquirers fail (fairness: queued waiters first) and
//!   releasers take the lock, so permits change only under the lock.
//!
//! Invariant (fairness): permits are handed out strictly in queue order: while the head
//! waiter cannot be served, nobody behind it is, and a new arrival never barges past a
//! queued one. This makes `Mutex` FIFO-fair and `RwLock` writer-preferring without
//! starvation (a writer asks for every permit; readers arriving after it queue behind it).
//!
//! # Protocols
//!
//! 1. *Acquire*: a lock-free CAS takes the permits if `WAITERS` and `CLOSED` are clear and
//!    enough are free. Otherwise lock the queue and retry in a CAS loop: closed → error;
//!    enough permits and no waiters → take them; else set `WAITERS` (by CAS, so a release
//!    that slipped in is noticed and retried) and link a node carrying the waker; unlock;
//!    `Pending`. Once `WAITERS` is set, every release goes through the lock and sees the
//!    node, so no wake-up can be lost.
//! 2. *Release* (`release(n)`): while `WAITERS` is clear, CAS the permits up and stop.
//!    Otherwise lock; add the permits; while the head waiter's `needed` fits, subtract it,
//!    unlink the head, mark it `Granted`, collect its waker; clear `WAITERS` if the queue
//!    emptied; unlock; wake. A granted waiter owns its permits from this moment on.
//! 3. *Cancel* (the acquire future is dropped): lock; remove the node. If it was `Granted`,
//!    its permits go back through step 2 (no permit is lost). If it was still `Waiting` and
//!    was the head, the waiters behind it may now fit, so step 2 runs with `n = 0`.
//! 4. *Close*: lock; set `CLOSED`; unlink every waiter as `Closed`, clear `WAITERS`,
//!    collect wakers; unlock; wake. Permits already held stay valid and are returned
//!    normally.
//!
//! Memory ordering: every read-modify-write of `state` is `AcqRel` and loads are
//! `Acquire`, so whatever a releaser did before giving a permit back happens-before what
//! the next holder does after taking it (the `Mutex` data handoff). Hand-offs through the
//! queue are ordered by the queue lock.
//!
//! Wakers are always called after the lock is released, and a poisoned lock is recovered
//! (no user code runs under it, so its state is always consistent).

use super::wait_list::WaitList;
use super::wake_all;
use crate::loom::{AtomicUsize, Mutex as QueueMutex, MutexGuard as QueueGuard, Ordering};
use std::future::Future;
use std::pin::Pin;
use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};

/// The most permits a semaphore can hold; larger counts panic.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// `state` bit: the wait queue has at least one linked node.
const WAITERS: usize = 0b01;
/// `state` bit: the semaphore is closed.
const CLOSED: usize = 0b10;
/// Permits are counted above the flag bits.
const SHIFT: u32 = 2;

/// A fair semaphore whose waiters may ask for several permits at once.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    queue: QueueMutex<WaitList<Waiter>>,
}

#[derive(Debug)]
struct Waiter {
    needed: usize,
    status: Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Granted,
    Closed,
}

/// Why `try_acquire` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryAcquireFailure {
    /// The semaphore is closed.
    Closed,
    /// Not enough permits right now (or others are queued first).
    NoPermits,
}

/// What the locked acquire path decided.
enum Locked {
    Acquired,
    Closed,
    Queued(usize),
}

fn permits_of(state: usize) -> usize {
    state >> SHIFT
}

impl RawSemaphore {
    loom_const_fn! {
        /// A semaphore holding `permits` permits.
        pub(crate) fn new(permits: usize) -> Self {
            assert!(permits <= MAX_PERMITS, "semaphore permit count too large");
            RawSemaphore {
                state: AtomicUsize::new(permits << SHIFT),
                queue: QueueMutex::new(WaitList::new()),
            }
        }
    }

    /// Locks the wait queue, recovering from poisoning (no user code runs under it).
    fn lock_queue(&self) -> QueueGuard<'_, WaitList<Waiter>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `n` permits if they are free and nobody is queued (lock-free).
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquireFailure> {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireFailure::Closed);
            }
            if cur & WAITERS != 0 || permits_of(cur) < n {
                return Err(TryAcquireFailure::NoPermits);
            }
            match self.state.compare_exchange_weak(
                cur,
                cur - (n << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// A future that takes `n` permits (protocol 1).
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`MAX_PERMITS`]: such a request could never be served, and queueing it
    /// would block every later waiter forever.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        assert!(
            n <= MAX_PERMITS,
            "cannot wait for {n} semaphore permits: more than Semaphore::MAX_PERMITS \
             ({MAX_PERMITS}), so the request could never be served"
        );
        Acquire {
            sem: self,
            needed: n,
            key: None,
        }
    }

    /// The locked half of protocol 1.
    fn acquire_locked(&self, n: usize, waker: &Waker) -> Locked {
        let mut queue = self.lock_queue();
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Locked::Closed;
            }
            let (next, queue_it) = if cur & WAITERS == 0 && permits_of(cur) >= n {
                (cur - (n << SHIFT), false)
            } else {
                (cur | WAITERS, true)
            };
            if next != cur {
                if let Err(actual) =
                    self.state
                        .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire)
                {
                    cur = actual;
                    continue;
                }
            }
            if !queue_it {
                return Locked::Acquired;
            }
            let waiter = Waiter {
                needed: n,
                status: Status::Waiting,
            };
            return Locked::Queued(queue.push_back(waiter, waker));
        }
    }

    /// Returns `n` permits and serves waiters (protocol 2).
    ///
    /// # Panics
    ///
    /// If the total would exceed [`MAX_PERMITS`].
    pub(crate) fn release(&self, n: usize) {
        let mut cur = self.state.load(Ordering::Acquire);
        while cur & WAITERS == 0 {
            let next = self.add_permits(cur, n);
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let mut wakers = Vec::new();
        {
            let mut queue = self.lock_queue();
            self.add_permits_locked(&mut queue, n, &mut wakers);
        }
        wake_all(wakers);
    }

    /// `cur` with `n` more permits.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`MAX_PERMITS`].
    fn add_permits(&self, cur: usize, n: usize) -> usize {
        match permits_of(cur).checked_add(n) {
            Some(total) if total <= MAX_PERMITS => cur + (n << SHIFT),
            _ => panic!("semaphore permit count overflow (more than {MAX_PERMITS} permits)"),
        }
    }

    /// Protocol 2 under the lock: add `n` permits, serve the queue in order, keep `WAITERS`
    /// in step with the queue.
    fn add_permits_locked(&self, queue: &mut WaitList<Waiter>, n: usize, wakers: &mut Vec<Waker>) {
        let mut cur = self.state.load(Ordering::Acquire);
        // Lock-free releasers may still add permits (while WAITERS is clear), so use CAS.
        let mut avail = loop {
            let next = self.add_permits(cur, n);
            match self
                .state
                .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break permits_of(next),
                Err(actual) => cur = actual,
            }
        };
        while let Some(key) = queue.front() {
            let needed = queue.data(key).needed;
            if avail < needed {
                break;
            }
            // WAITERS is set (the queue is non-empty), so only lock holders change permits.
            self.state.fetch_sub(needed << SHIFT, Ordering::AcqRel);
            avail -= needed;
            queue.pop_front();
            queue.data_mut(key).status = Status::Granted;
            wakers.extend(queue.take_waker(key));
        }
        self.sync_waiters_bit(queue);
    }

    /// Clears `WAITERS` if the queue has emptied (under the lock).
    fn sync_waiters_bit(&self, queue: &WaitList<Waiter>) {
        if queue.is_empty() {
            self.state.fetch_and(!WAITERS, Ordering::AcqRel);
        }
    }

    /// Closes the semaphore (protocol 4); returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut wakers = Vec::new();
        {
            let mut queue = self.lock_queue();
            if self.state.fetch_or(CLOSED, Ordering::AcqRel) & CLOSED != 0 {
                return false;
            }
            queue.drain(&mut wakers, |w| w.status = Status::Closed);
            self.sync_waiters_bit(&queue);
        }
        wake_all(wakers);
        true
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Free permits right now.
    pub(crate) fn available_permits(&self) -> usize {
        permits_of(self.state.load(Ordering::Acquire))
    }

    /// Number of queued waiters right now (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn waiter_count(&self) -> usize {
        self.lock_queue().len()
    }
}

/// Future returned by [`RawSemaphore::acquire`]; resolves to `Err(())` if closed.
///
/// Cancel safety: dropping it before completion never loses permits (protocol 3).
#[derive(Debug)]
pub(crate) struct Acquire<'a> {
    sem: &'a RawSemaphore,
    needed: usize,
    /// Our node while queued or granted-but-unobserved; `None` before the first pending
    /// poll and after completion.
    key: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = Result<(), ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(key) = this.key {
            let mut queue = this.sem.lock_queue();
            let status = queue.data(key).status;
            if status == Status::Waiting {
                queue.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            queue.remove(key);
            this.key = None;
            return Poll::Ready(if status == Status::Granted {
                Ok(())
            } else {
                Err(())
            });
        }
        match this.sem.try_acquire(this.needed) {
            Ok(()) => return Poll::Ready(Ok(())),
            Err(TryAcquireFailure::Closed) => return Poll::Ready(Err(())),
            Err(TryAcquireFailure::NoPermits) => {}
        }
        match this.sem.acquire_locked(this.needed, cx.waker()) {
            Locked::Acquired => Poll::Ready(Ok(())),
            Locked::Closed => Poll::Ready(Err(())),
            Locked::Queued(key) => {
                this.key = Some(key);
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakers = Vec::new();
        {
            let mut queue = self.sem.lock_queue();
            let was_head = queue.front() == Some(key);
            let (waiter, _) = queue.remove(key);
            match waiter.status {
                Status::Granted => {
                    self.sem
                        .add_permits_locked(&mut queue, waiter.needed, &mut wakers)
                }
                Status::Waiting if was_head => {
                    self.sem.add_permits_locked(&mut queue, 0, &mut wakers)
                }
                Status::Waiting | Status::Closed => self.sem.sync_waiters_bit(&queue),
            }
        }
        wake_all(wakers);
    }
}

/// Single-threaded unit tests (std build only: under loom, primitives exist only inside a
/// model; the models below cover the same paths).
// Future-level unit tests on `tokio-test`'s mock task: it polls an `Acquire` in place and
// tells whether the semaphore woke it since the last poll.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use tokio_test::task::spawn;
    use tokio_test::{assert_pending, assert_ready_eq};

    #[test]
    fn head_blocks_later_small_requests() {
        let sem = RawSemaphore::new(2);
        assert_eq!(sem.try_acquire(1), Ok(()));
        let mut big = spawn(sem.acquire(2));
        assert_pending!(big.poll());
        // One permit is free, but the big waiter is first in line.
        let mut small = spawn(sem.acquire(1));
        assert_pending!(small.poll());
        assert_eq!(sem.try_acquire(1), Err(TryAcquireFailure::NoPermits));
        assert_eq!(sem.waiter_count(), 2);
        // Cancelling the head lets the small one through, and wakes it.
        drop(big);
        assert!(
            small.is_woken(),
            "the head's cancellation wakes the next waiter"
        );
        assert_ready_eq!(small.poll(), Ok(()));
        assert_eq!(sem.available_permits(), 0);
        sem.release(2);
        assert_eq!(sem.available_permits(), 2);
    }

    #[test]
    fn granted_then_dropped_passes_permits_on() {
        let sem = RawSemaphore::new(0);
        let mut a = spawn(sem.acquire(1));
        let mut b = spawn(sem.acquire(1));
        assert_pending!(a.poll());
        assert_pending!(b.poll());
        sem.release(1); // granted to `a`
        assert!(
            a.is_woken() && !b.is_woken(),
            "the grant wakes the head only"
        );
        assert_eq!(sem.available_permits(), 0);
        drop(a); // never observed its grant: the permit moves to `b`
        assert!(b.is_woken(), "the passed-on permit wakes `b`");
        assert_ready_eq!(b.poll(), Ok(()));
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(sem.waiter_count(), 0);
    }

    #[test]
    fn close_fails_waiters_and_later_acquires() {
        let sem = RawSemaphore::new(0);
        let mut a = spawn(sem.acquire(1));
        assert_pending!(a.poll());
        assert!(sem.close());
        assert!(a.is_woken(), "closing wakes the waiter");
        assert!(!sem.close());
        assert_ready_eq!(a.poll(), Err(()));
        assert_ready_eq!(spawn(sem.acquire(1)).poll(), Err(()));
        assert_eq!(sem.try_acquire(0), Err(TryAcquireFailure::Closed));
    }
}

/// loom models of the fast path (lock-free CAS) racing the queue path: lost wake-ups show
/// up as loom deadlocks, lost or duplicated permits as failed counts.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::future::block_on;
    use loom::sync::atomic::AtomicUsize as Holders;
    use loom::sync::Arc;
    use loom::thread;

    #[test]
    fn release_racing_enqueue_wakes_the_waiter() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(0));
            let s2 = sem.clone();
            let t = thread::spawn(move || s2.release(1));
            assert_eq!(block_on(sem.acquire(1)), Ok(()));
            t.join().unwrap();
            assert_eq!(sem.available_permits(), 0);
        });
    }

    #[test]
    fn two_acquirers_exclude_each_other_and_conserve_the_permit() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(1));
            let holders = Arc::new(Holders::new(0));
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let (sem, holders) = (sem.clone(), holders.clone());
                    thread::spawn(move || {
                        block_on(sem.acquire(1)).unwrap();
                        assert_eq!(holders.fetch_add(1, Ordering::SeqCst), 0);
                        holders.fetch_sub(1, Ordering::SeqCst);
                        sem.release(1);
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(sem.available_permits(), 1);
            assert_eq!(sem.waiter_count(), 0);
        });
    }

    #[test]
    fn cancelled_acquire_racing_release_loses_nothing() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(0));
            let s2 = sem.clone();
            let canceller = thread::spawn(move || {
                let mut fut = s2.acquire(1);
                let waker = futures::task::noop_waker();
                let got = Pin::new(&mut fut).poll(&mut Context::from_waker(&waker));
                drop(fut);
                if got.is_ready() {
                    s2.release(1);
                }
            });
            sem.release(1);
            canceller.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
            assert_eq!(sem.waiter_count(), 0);
        });
    }

    #[test]
    fn close_racing_acquire_and_release() {
        loom::model(|| {
            let sem = Arc::new(RawSemaphore::new(0));
            let s2 = sem.clone();
            let waiter = thread::spawn(move || {
                if block_on(s2.acquire(1)).is_ok() {
                    s2.release(1);
                }
            });
            let s3 = sem.clone();
            let closer = thread::spawn(move || s3.close());
            sem.release(1);
            waiter.join().unwrap();
            closer.join().unwrap();
            assert!(sem.is_closed());
            assert_eq!(sem.available_permits(), 1);
            assert_eq!(sem.waiter_count(), 0);
        });
    }
}
