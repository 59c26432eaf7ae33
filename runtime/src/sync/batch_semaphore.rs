//! The fair counting semaphore under [`Semaphore`](super::Semaphore),
//! [`Mutex`](super::Mutex), [`RwLock`](super::RwLock) and [`OnceCell`](super::OnceCell).
//!
//! # State
//!
//! One `std::sync::Mutex` guards `permits` (free permits), `closed`, and a FIFO
//! [`WaitList`] of waiters, each asking for `needed` permits at once and ending as
//! `Waiting`, `Granted` or `Closed`.
//!
//! Invariant (fairness): a waiter is queued only if, at the time, the queue was non-empty or
//! `permits < needed`. Permits are handed out strictly in queue order: while the head waiter
//! cannot be served, nobody behind it is, and a new arrival never barges past a queued one.
//! This is what makes `Mutex` FIFO-fair and `RwLock` writer-preferring without starvation
//! (a writer asks for every permit; readers arriving after it queue behind it).
//!
//! # Protocols
//!
//! 1. *Acquire*: lock; closed → error; queue empty and enough permits → take them; else
//!    link a node carrying the waker and return `Pending`.
//! 2. *Release* (`release(n)`): lock; `permits += n`; then, while the head waiter's `needed`
//!    fits, subtract it, unlink the head, mark it `Granted`, collect its waker; unlock;
//!    wake. A granted waiter owns its permits from this moment on.
//! 3. *Cancel* (the acquire future is dropped): lock; remove the node. If it was `Granted`,
//!    its permits go back through step 2 (no permit is lost). If it was still `Waiting` and
//!    was the head, the waiters behind it may now fit, so step 2 runs with `n = 0`.
//! 4. *Close*: lock; set `closed`; unlink every waiter as `Closed`, collect wakers; unlock;
//!    wake. Permits already held stay valid and are returned normally.
//!
//! Wakers are always called after the mutex is released, and a poisoned mutex is recovered
//! (no user code runs under it, so its state is always consistent).

use super::wait_list::WaitList;
use super::{lock, wake_all};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex as StdMutex;
use std::task::{Context, Poll, Waker};

/// The most permits a semaphore can hold; larger counts panic.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// A fair semaphore whose waiters may ask for several permits at once.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    state: StdMutex<State>,
}

#[derive(Debug)]
struct State {
    permits: usize,
    closed: bool,
    waiters: WaitList<Waiter>,
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

impl RawSemaphore {
    /// A semaphore holding `permits` permits.
    pub(crate) const fn new(permits: usize) -> Self {
        assert!(permits <= MAX_PERMITS, "semaphore permit count too large");
        RawSemaphore {
            state: StdMutex::new(State {
                permits,
                closed: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Takes `n` permits if they are free and nobody is queued.
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquireFailure> {
        let mut st = lock(&self.state);
        if st.closed {
            return Err(TryAcquireFailure::Closed);
        }
        if st.waiters.is_empty() && st.permits >= n {
            st.permits -= n;
            Ok(())
        } else {
            Err(TryAcquireFailure::NoPermits)
        }
    }

    /// A future that takes `n` permits (protocol 1).
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            needed: n,
            key: None,
        }
    }

    /// Returns `n` permits and serves waiters (protocol 2).
    ///
    /// # Panics
    ///
    /// If the total would exceed [`MAX_PERMITS`].
    pub(crate) fn release(&self, n: usize) {
        let mut wakers = Vec::new();
        {
            let mut st = lock(&self.state);
            let total = st.permits.checked_add(n).filter(|&t| t <= MAX_PERMITS);
            let Some(total) = total else {
                drop(st);
                panic!("semaphore permit count overflow (more than {MAX_PERMITS} permits)");
            };
            st.permits = total;
            st.grant(&mut wakers);
        }
        wake_all(wakers);
    }

    /// Closes the semaphore (protocol 4); returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut wakers = Vec::new();
        {
            let mut st = lock(&self.state);
            if st.closed {
                return false;
            }
            st.closed = true;
            st.waiters.drain(&mut wakers, |w| w.status = Status::Closed);
        }
        wake_all(wakers);
        true
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Free permits right now.
    pub(crate) fn available_permits(&self) -> usize {
        lock(&self.state).permits
    }

    /// Number of queued waiters right now (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn waiter_count(&self) -> usize {
        lock(&self.state).waiters.len()
    }
}

impl State {
    /// Serves queued waiters in order while the head fits (protocol 2, under the lock).
    fn grant(&mut self, wakers: &mut Vec<Waker>) {
        while let Some(key) = self.waiters.front() {
            let needed = self.waiters.data(key).needed;
            if self.permits < needed {
                break;
            }
            self.permits -= needed;
            self.waiters.pop_front();
            self.waiters.data_mut(key).status = Status::Granted;
            wakers.extend(self.waiters.take_waker(key));
        }
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
        let mut st = lock(&this.sem.state);
        if let Some(key) = this.key {
            return match st.waiters.data(key).status {
                Status::Waiting => {
                    st.waiters.set_waker(key, cx.waker());
                    Poll::Pending
                }
                Status::Granted => {
                    st.waiters.remove(key);
                    this.key = None;
                    Poll::Ready(Ok(()))
                }
                Status::Closed => {
                    st.waiters.remove(key);
                    this.key = None;
                    Poll::Ready(Err(()))
                }
            };
        }
        if st.closed {
            return Poll::Ready(Err(()));
        }
        if st.waiters.is_empty() && st.permits >= this.needed {
            st.permits -= this.needed;
            return Poll::Ready(Ok(()));
        }
        let waiter = Waiter {
            needed: this.needed,
            status: Status::Waiting,
        };
        this.key = Some(st.waiters.push_back(waiter, cx.waker()));
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakers = Vec::new();
        {
            let mut st = lock(&self.sem.state);
            let was_head = st.waiters.front() == Some(key);
            let (waiter, _) = st.waiters.remove(key);
            match waiter.status {
                Status::Granted => {
                    st.permits += waiter.needed;
                    st.grant(&mut wakers);
                }
                Status::Waiting if was_head => st.grant(&mut wakers),
                Status::Waiting | Status::Closed => {}
            }
        }
        wake_all(wakers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    fn poll_once(f: &mut Acquire<'_>) -> Poll<Result<(), ()>> {
        let w = noop_waker();
        Pin::new(f).poll(&mut Context::from_waker(&w))
    }

    #[test]
    fn head_blocks_later_small_requests() {
        let sem = RawSemaphore::new(2);
        assert_eq!(sem.try_acquire(1), Ok(()));
        let mut big = sem.acquire(2);
        assert!(poll_once(&mut big).is_pending());
        // One permit is free, but the big waiter is first in line.
        let mut small = sem.acquire(1);
        assert!(poll_once(&mut small).is_pending());
        assert_eq!(sem.try_acquire(1), Err(TryAcquireFailure::NoPermits));
        assert_eq!(sem.waiter_count(), 2);
        // Cancelling the head lets the small one through.
        drop(big);
        assert_eq!(poll_once(&mut small), Poll::Ready(Ok(())));
        assert_eq!(sem.available_permits(), 0);
        sem.release(2);
        assert_eq!(sem.available_permits(), 2);
    }

    #[test]
    fn granted_then_dropped_passes_permits_on() {
        let sem = RawSemaphore::new(0);
        let mut a = sem.acquire(1);
        let mut b = sem.acquire(1);
        assert!(poll_once(&mut a).is_pending());
        assert!(poll_once(&mut b).is_pending());
        sem.release(1); // granted to `a`
        assert_eq!(sem.available_permits(), 0);
        drop(a); // never observed its grant: the permit moves to `b`
        assert_eq!(poll_once(&mut b), Poll::Ready(Ok(())));
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(sem.waiter_count(), 0);
    }

    #[test]
    fn close_fails_waiters_and_later_acquires() {
        let sem = RawSemaphore::new(0);
        let mut a = sem.acquire(1);
        assert!(poll_once(&mut a).is_pending());
        assert!(sem.close());
        assert!(!sem.close());
        assert_eq!(poll_once(&mut a), Poll::Ready(Err(())));
        assert_eq!(poll_once(&mut sem.acquire(1)), Poll::Ready(Err(())));
        assert_eq!(sem.try_acquire(0), Err(TryAcquireFailure::Closed));
    }
}
