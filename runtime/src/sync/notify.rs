//! Task notification: wake one waiter or all of them (a condition variable for tasks).
//!
//! # State
//!
//! One `std::sync::Mutex` guards `permit` (a stored `notify_one` that found nobody waiting),
//! a FIFO [`WaitList`] of waiting [`Notified`] futures, each ending as `Waiting`, `One` (woken
//! by `notify_one`) or `All` (woken by `notify_waiters`), and an epoch counter, also readable
//! without the lock (`AtomicUsize`), bumped by every `notify_waiters`.
//!
//! # Protocols
//!
//! 1. *notify_one*: lock; pop the oldest waiter and mark it `One`, or, if nobody waits,
//!    set `permit`; unlock; wake.
//! 2. *notify_waiters*: lock; bump the epoch; mark every waiter `All`; unlock; wake. It
//!    never stores a permit.
//! 3. *Notified*: created with a snapshot of the epoch. First poll, under the lock: a stored
//!    `permit` is consumed → ready; an epoch different from the snapshot → ready (the future
//!    existed when `notify_waiters` ran, so it counts as a waiter, as in tokio); otherwise
//!    link a node. Later polls read the node's outcome.
//! 4. *Cancel*: a dropped `Notified` removes its node; if it had been marked `One` but never
//!    returned, that notification is re-delivered through step 1, so no `notify_one` is lost.

use super::wait_list::WaitList;
use super::{lock, wake_all};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex as StdMutex;
use std::task::{Context, Poll, Waker};

/// Wakes tasks waiting in [`notified`](Self::notified).
///
/// [`notify_one`](Self::notify_one) wakes the oldest waiter, or, if none is waiting, stores
/// a single permit that the next `notified().await` consumes at once (permits do not stack).
/// [`notify_waiters`](Self::notify_waiters) wakes every current waiter and stores nothing.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use waza::sync::Notify;
///
/// # futures::executor::block_on(async {
/// let notify = Arc::new(Notify::new());
/// let n2 = notify.clone();
/// let t = std::thread::spawn(move || n2.notify_one());
/// notify.notified().await; // returns whether the notification came before or after
/// t.join().unwrap();
/// # });
/// ```
pub struct Notify {
    state: StdMutex<State>,
    /// Number of `notify_waiters` calls so far; written only under `state`'s lock.
    epoch: AtomicUsize,
}

#[derive(Debug)]
struct State {
    permit: bool,
    waiters: WaitList<Outcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Waiting,
    One,
    All,
}

/// Future returned by [`Notify::notified`].
///
/// # Cancel safety
///
/// Cancel-safe: if a `notify_one` was delivered to this future but it is dropped before
/// returning, the notification passes to the next waiter (or is stored as the permit).
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    epoch: usize,
    key: Option<usize>,
    done: bool,
}

impl Notify {
    /// A `Notify` with no stored permit.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: waza::sync::Notify = waza::sync::Notify::new();
    /// READY.notify_one();
    /// ```
    pub const fn new() -> Self {
        Notify {
            state: StdMutex::new(State {
                permit: false,
                waiters: WaitList::new(),
            }),
            epoch: AtomicUsize::new(0),
        }
    }

    /// Waits for a notification.
    ///
    /// The future counts as waiting for [`notify_waiters`](Self::notify_waiters) from the
    /// moment it is created, even before its first poll.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let n = waza::sync::Notify::new();
    /// n.notify_one(); // stored as a permit
    /// n.notified().await; // consumes it immediately
    /// # });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            epoch: self.epoch.load(Ordering::SeqCst),
            key: None,
            done: false,
        }
    }

    /// Wakes the oldest waiter, or stores a permit if nobody waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let n = waza::sync::Notify::new();
    /// n.notify_one();
    /// n.notify_one(); // permits do not accumulate
    /// n.notified().await;
    /// # });
    /// ```
    pub fn notify_one(&self) {
        let waker = {
            let mut st = lock(&self.state);
            st.notify_one()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes every task currently waiting (including `Notified` futures created but not yet
    /// polled). Stores no permit.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use futures::FutureExt;
    /// let n = waza::sync::Notify::new();
    /// let a = n.notified();
    /// let b = n.notified();
    /// n.notify_waiters();
    /// a.await;
    /// b.await;
    /// assert!(n.notified().now_or_never().is_none()); // nothing was stored
    /// # });
    /// ```
    pub fn notify_waiters(&self) {
        let mut wakers = Vec::new();
        {
            let mut st = lock(&self.state);
            self.epoch.fetch_add(1, Ordering::SeqCst);
            st.waiters.drain(&mut wakers, |o| *o = Outcome::All);
        }
        wake_all(wakers);
    }
}

impl State {
    /// Protocol 1 under the lock; returns the waker to call after unlocking.
    fn notify_one(&mut self) -> Option<Waker> {
        match self.waiters.pop_front() {
            Some(key) => {
                *self.waiters.data_mut(key) = Outcome::One;
                self.waiters.take_waker(key)
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("Notify")
            .field("permit", &st.permit)
            .field("waiting", &!st.waiters.is_empty())
            .finish()
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(());
        }
        let mut st = lock(&this.notify.state);
        if let Some(key) = this.key {
            if *st.waiters.data(key) == Outcome::Waiting {
                st.waiters.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            st.waiters.remove(key);
            this.key = None;
        } else if st.permit {
            st.permit = false;
        } else if this.notify.epoch.load(Ordering::SeqCst) == this.epoch {
            this.key = Some(st.waiters.push_back(Outcome::Waiting, cx.waker()));
            return Poll::Pending;
        }
        this.done = true;
        Poll::Ready(())
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            let mut st = lock(&self.notify.state);
            match st.waiters.remove(key) {
                (Outcome::One, _) => st.notify_one(),
                _ => None,
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("registered", &self.key.is_some())
            .field("done", &self.done)
            .finish()
    }
}
