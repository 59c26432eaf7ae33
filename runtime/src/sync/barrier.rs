//! A reusable barrier: `n` tasks wait until all of them have arrived.
//!
//! # State
//!
//! One `std::sync::Mutex` guards `arrived` (tasks of the current generation waiting now),
//! `generation` (completed rounds) and a FIFO [`WaitList`] of waiting [`BarrierWait`]
//! futures, each ending as `Waiting` or `Released`.
//!
//! # Protocols
//!
//! 1. *Arrive* (first poll of a `BarrierWait`): lock; `arrived += 1`. If that makes `n`,
//!    this future is the generation's leader: reset `arrived`, bump `generation`, mark every
//!    waiter `Released`, unlock, wake them, return. Otherwise link a node and wait.
//! 2. *Released* (later polls): the node says `Released` → remove it and return as a
//!    follower.
//! 3. *Cancel* (a `BarrierWait` dropped while `Waiting`): lock; remove the node and
//!    `arrived -= 1`. A future that was already `Released` but never returned just removes
//!    its node: its generation completed and counted it.
//!
//! Exactly one leader per generation: the leader is the future whose arrival completes the
//! count, under the lock, and it returns in that same poll, so it cannot be cancelled
//! after being counted.

use super::wait_list::WaitList;
use super::{lock, wake_all};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex as StdMutex;
use std::task::{Context, Poll};

/// Lets `n` tasks wait until all `n` have called [`wait`](Self::wait), then releases them
/// together; it resets itself for the next round.
///
/// Unlike tokio's, waza's barrier counts only tasks that are still waiting: a `wait()`
/// future dropped before the round completes withdraws its arrival, so cancelling a waiter
/// (a `select!` with a timeout, say) can never release a round early or leave it one
/// short forever.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use waza::sync::Barrier;
///
/// # waza::block_on(async {
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         waza::spawn(async move { b.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for t in tasks {
///     leaders += t.await.unwrap() as usize;
/// }
/// assert_eq!(leaders, 1);
/// # });
/// ```
pub struct Barrier {
    n: usize,
    state: StdMutex<State>,
}

#[derive(Debug)]
struct State {
    /// Futures of the current generation that arrived and are still waiting.
    /// Invariant: `arrived < n` outside the lock.
    arrived: usize,
    generation: u64,
    waiters: WaitList<Status>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Released,
}

/// What [`Barrier::wait`] returns: whether this task was the round's leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

/// Future returned by [`Barrier::wait`].
///
/// # Cancel safety
///
/// Cancel-safe, unlike tokio's: dropping it before it completes withdraws its arrival
/// (the round still needs `n` tasks that are waiting at the same time). One race remains,
/// as for any wait that others act on: if the round completes between the future's last
/// poll and its drop, it was counted in that round (the others were already released and
/// cannot be held back), and the dropped future simply never reports it.
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    /// Our node, while linked or released but not yet returned.
    key: Option<usize>,
    /// The result, once returned.
    done: Option<BarrierWaitResult>,
}

impl Barrier {
    /// A barrier for `n` tasks; `n == 0` behaves as `n == 1` (every `wait` returns at
    /// once as leader), as in tokio.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let b = waza::sync::Barrier::new(1);
    /// assert!(b.wait().await.is_leader());
    /// assert!(b.wait().await.is_leader()); // a new round
    /// # });
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            state: StdMutex::new(State {
                arrived: 0,
                generation: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Waits until `n` tasks are waiting here, then releases them all. Exactly one of
    /// them (the last to arrive) gets a result whose
    /// [`is_leader`](BarrierWaitResult::is_leader) is true.
    ///
    /// The future arrives when first polled, not when created.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped pending future is no longer counted toward the round (see
    /// [`BarrierWait`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let b = waza::sync::Barrier::new(2);
    /// let (r1, r2) = futures::join!(b.wait(), b.wait());
    /// assert!(r1.is_leader() != r2.is_leader());
    /// # });
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            done: None,
        }
    }
}

impl BarrierWaitResult {
    /// True for exactly one task of each round: the one whose arrival completed it.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let b = waza::sync::Barrier::new(1);
    /// assert!(b.wait().await.is_leader());
    /// # });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = &mut *self;
        if let Some(r) = this.done {
            return Poll::Ready(r);
        }
        let mut wakers = Vec::new();
        let result = {
            let mut st = lock(&this.barrier.state);
            match this.key {
                Some(key) if *st.waiters.data(key) == Status::Waiting => {
                    st.waiters.set_waker(key, cx.waker());
                    return Poll::Pending;
                }
                Some(key) => {
                    // Protocol 2.
                    st.waiters.remove(key);
                    this.key = None;
                    BarrierWaitResult(false)
                }
                None if st.arrived + 1 < this.barrier.n => {
                    st.arrived += 1;
                    this.key = Some(st.waiters.push_back(Status::Waiting, cx.waker()));
                    return Poll::Pending;
                }
                None => {
                    // Protocol 1: the leader.
                    st.arrived = 0;
                    st.generation += 1;
                    st.waiters.drain(&mut wakers, |s| *s = Status::Released);
                    BarrierWaitResult(true)
                }
            }
        };
        wake_all(wakers);
        this.done = Some(result);
        Poll::Ready(result)
    }
}

impl Drop for BarrierWait<'_> {
    /// Protocol 3.
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut st = lock(&self.barrier.state);
        if st.waiters.remove(key).0 == Status::Waiting {
            st.arrived -= 1;
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &st.arrived)
            .field("generation", &st.generation)
            .finish()
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("waiting", &self.key.is_some())
            .field("done", &self.done)
            .finish()
    }
}
