//! A single-value channel whose receivers wait for changes: the latest value wins.
//!
//! # State
//!
//! One allocation shared by every handle holds:
//!
//! * `value`: the current value, behind an `RwLock` (readers borrow it in place).
//! * `word`: an atomic `version << 1 | CLOSED`. The version counts changes; `CLOSED` means
//!   every sender is gone. Invariant: the version is bumped only while holding both the
//!   value's write lock and the `state` lock, and `CLOSED` is set only under `state`, so a
//!   read under the read lock sees the version of the value it reads, and a read under
//!   `state` is exact.
//! * `state`: a mutex around the sender and receiver counts, the receivers waiting in
//!   [`changed`](Receiver::changed) (a `WaitList`) and the senders waiting in
//!   [`closed`](Sender::closed).
//!
//! A receiver keeps `seen`, the version it last marked seen, and the key of its wait-list
//! node (at most one: `changed` borrows the receiver mutably).
//!
//! Lock order: `value` before `state`. Nobody holds `state` while taking `value`.
//!
//! # Protocols
//!
//! 1. *Change* (`send*`): write-lock `value`; let the caller modify it (no change → stop);
//!    lock `state`; unlink every waiting receiver, taking its waker; *then* bump the
//!    version; unlock both; wake.
//! 2. *changed*, fast path: load `word`; a version other than `seen` → mark it seen, done.
//! 3. *changed*, slow path: lock `state`; reload `word`: changed → done; `CLOSED` →
//!    error; else link this receiver's node with its waker (replacing its older, unlinked
//!    node) and return `Pending`. A change after this point must take `state` to bump the
//!    version, so it finds the node: no lost wake-up.
//! 4. *Close* (the last sender drops): lock `state`; unlink every waiting receiver; set
//!    `CLOSED`; unlock; wake.
//! 5. *Sender::closed*: lock `state`; no receivers → done; else link a node. The last
//!    receiver to drop unlinks them all, marking them released.
//!
//! Why a `changed` that completed may leave its node in the slab without taking the lock:
//! it saw a new version or `CLOSED`, and both are published only after every node was
//! unlinked (steps 1 and 4), so its node is unlinked and holds no waker. The receiver's
//! next registration, or its drop, frees the slab entry.
//!
//! Memory ordering: `word` is written with `Release` and read with `Acquire`; the value
//! itself is always read under the lock, which orders it.

use super::wait_list::WaitList;
use super::wake_all;
use crate::loom::{Arc, AtomicUsize, Mutex, MutexGuard, Ordering};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::PoisonError;
use std::task::{ready, Context, Poll};

use crate::loom::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// `word` bit: every sender is gone.
const CLOSED: usize = 1;
/// `word` increment of one change (the version lives above `CLOSED`).
const STEP: usize = 2;

fn version(word: usize) -> usize {
    word & !CLOSED
}

/// Creates a watch channel holding `init`; returns its sender and a first receiver, which
/// has seen `init`.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = waza::sync::watch::channel("starting");
/// tx.send("ready").unwrap();
/// rx.changed().await.unwrap();
/// assert_eq!(*rx.borrow_and_update(), "ready");
/// # });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        word: AtomicUsize::new(0),
        state: Mutex::new(State {
            senders: 1,
            receivers: 1,
            changed_waiters: WaitList::new(),
            closed_waiters: WaitList::new(),
        }),
    });
    let rx = Receiver {
        shared: shared.clone(),
        seen: 0,
        waiter: None,
    };
    (Sender { shared }, rx)
}

struct Shared<T> {
    value: RwLock<T>,
    /// `version << 1 | CLOSED`; see the module docs for who writes it when.
    word: AtomicUsize,
    state: Mutex<State>,
}

struct State {
    senders: usize,
    receivers: usize,
    /// Receivers waiting for a version other than the current one.
    changed_waiters: WaitList<()>,
    /// Senders waiting for `receivers == 0`; the payload is set once that happened.
    closed_waiters: WaitList<bool>,
}

impl<T> Shared<T> {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A read guard; a panic in a `send_modify` closure does not make the value unreadable.
    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn load(&self) -> usize {
        self.word.load(Ordering::Acquire)
    }

    /// Protocol 1: runs `modify` on the value; if it reports a change, publishes it.
    fn publish<R>(&self, modify: impl FnOnce(&mut T) -> (bool, R)) -> R {
        let mut value = self.write();
        let (changed, out) = modify(&mut value);
        if changed {
            let mut wakers = Vec::new();
            {
                let mut st = self.state();
                st.changed_waiters.drain(&mut wakers, |_| {});
                self.word.fetch_add(STEP, Ordering::Release);
            }
            drop(value);
            wake_all(wakers);
        }
        out
    }
}

/// The sending half of a [`watch`](self) channel; clone it for more senders.
///
/// The channel closes for receivers when the last sender is dropped.
///
/// # Examples
///
/// ```
/// let (tx, rx) = waza::sync::watch::channel(0);
/// tx.send_modify(|v| *v += 1);
/// assert_eq!(*rx.borrow(), 1);
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a [`watch`](self) channel: it reads the latest value and waits
/// for changes. Clones share the channel but track "seen" separately.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = waza::sync::watch::channel(1);
/// let mut rx2 = rx.clone();
/// tx.send(2).unwrap();
/// rx.changed().await.unwrap();
/// rx2.changed().await.unwrap(); // each receiver sees the change once
/// assert_eq!(*rx2.borrow(), 2);
/// # });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver marked seen (`CLOSED` bit clear).
    seen: usize,
    /// This receiver's node in `changed_waiters`: linked while a `changed` waits,
    /// otherwise unlinked until the next registration or the drop.
    waiter: Option<usize>,
}

/// A read borrow of the channel's value, from [`Receiver::borrow`] and friends.
///
/// While it lives, senders wait to change the value: keep it short, and do not hold it
/// across an `.await` or while sending on the same channel (that deadlocks).
///
/// # Examples
///
/// ```
/// let (_tx, rx) = waza::sync::watch::channel(String::from("hi"));
/// let r = rx.borrow();
/// assert_eq!(r.len(), 2);
/// assert!(!r.has_changed());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

/// Future returned by [`Receiver::changed`].
///
/// # Cancel safety
///
/// Cancel-safe: dropping it before it completes leaves the receiver's "seen" mark
/// unchanged (a later `changed` still reports the same change) and releases its place in
/// the wait queue.
#[must_use = "futures do nothing unless awaited"]
pub struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut usize,
    waiter: &'a mut Option<usize>,
    /// The waiter node is linked for this future (it returned `Pending`).
    registered: bool,
}

/// Future returned by [`Sender::closed`].
///
/// # Cancel safety
///
/// Cancel-safe: it observes the receiver count and changes nothing.
#[must_use = "futures do nothing unless awaited"]
pub struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<usize>,
}

/// Error of [`Sender::send`]: there is no receiver; the value is given back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Error of [`Receiver::changed`] and friends: every sender is gone (and, for `changed`,
/// the receiver has seen the last value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecvError(());

impl<T> Sender<T> {
    /// Replaces the value and notifies every receiver.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver (the channel's value is then
    /// left unchanged; [`send_replace`](Self::send_replace) stores it regardless).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::watch::channel(1);
    /// assert!(tx.send(2).is_ok());
    /// drop(rx);
    /// assert_eq!(tx.send(3), Err(waza::sync::watch::SendError(3)));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Replaces the value, notifies every receiver and returns the previous value; works
    /// with no receiver too.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = waza::sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        self.shared.publish(|v| (true, std::mem::replace(v, value)))
    }

    /// Modifies the value in place and notifies every receiver, even if `modify` changed
    /// nothing; works with no receiver too.
    ///
    /// # Panics
    ///
    /// If `modify` panics: the panic propagates, no receiver is notified, and whatever
    /// `modify` did before panicking stays visible to later borrows (as in tokio).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.shared.publish(|v| {
            modify(v);
            (true, ())
        })
    }

    /// Modifies the value in place; notifies the receivers only if `modify` returns true,
    /// and returns that.
    ///
    /// # Panics
    ///
    /// If `modify` panics, as for [`send_modify`](Self::send_modify).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::watch::channel(5);
    /// assert!(!tx.send_if_modified(|v| *v == 0)); // no change: receivers not notified
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| { *v = 0; true }));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        self.shared.publish(|v| {
            let changed = modify(v);
            (changed, changed)
        })
    }

    /// Borrows the current value. See [`Ref`] for what holding it blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = waza::sync::watch::channel(7);
    /// assert_eq!(*tx.borrow(), 7);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    /// Creates a receiver that has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let seen = {
            let mut st = self.shared.state();
            st.receivers += 1;
            version(self.shared.load())
        };
        Receiver {
            shared: self.shared.clone(),
            seen,
            waiter: None,
        }
    }

    /// Number of receivers that exist now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.state().receivers
    }

    /// True when there is no receiver (until [`subscribe`](Self::subscribe) makes one).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Completes when there is no receiver.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: see [`Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = waza::sync::watch::channel(());
    /// std::thread::spawn(move || drop(rx));
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            shared: &self.shared,
            key: None,
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    /// Protocol 4 when this is the last sender.
    fn drop(&mut self) {
        let mut wakers = Vec::new();
        {
            let mut st = self.shared.state();
            st.senders -= 1;
            if st.senders > 0 {
                return;
            }
            st.changed_waiters.drain(&mut wakers, |_| {});
            self.shared.word.fetch_or(CLOSED, Ordering::Release);
        }
        wake_all(wakers);
    }
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen; [`Ref::has_changed`] tells
    /// whether it is unseen. See [`Ref`] for what holding it blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert!(rx.borrow().has_changed());
    /// assert!(rx.borrow().has_changed()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let has_changed = version(self.shared.load()) != self.seen;
        Ref { guard, has_changed }
    }

    /// Borrows the current value and marks it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.borrow_and_update().has_changed());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let current = version(self.shared.load());
        let has_changed = current != self.seen;
        self.seen = current;
        Ref { guard, has_changed }
    }

    /// Whether the value changed since this receiver last marked it seen.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone (as in tokio, even if a change is unseen).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::watch::channel(0);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let word = self.shared.load();
        if word & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(version(word) != self.seen)
    }

    /// Makes the current value count as unseen, so the next [`changed`](Self::changed)
    /// returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (_tx, mut rx) = waza::sync::watch::channel(0);
    /// rx.mark_changed();
    /// rx.changed().await.unwrap();
    /// # });
    /// ```
    pub fn mark_changed(&mut self) {
        self.seen = version(self.shared.load()).wrapping_sub(STEP);
    }

    /// Marks the current value seen without borrowing it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = version(self.shared.load());
    }

    /// Waits until the value differs from the one this receiver last marked seen, then
    /// marks the new one seen. Returns at once if the current value is unseen.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone and the current value was already seen.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: see [`Changed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = waza::sync::watch::channel(0);
    /// std::thread::spawn(move || tx.send(1).unwrap());
    /// rx.changed().await.unwrap();
    /// assert_eq!(*rx.borrow(), 1);
    /// assert!(rx.changed().await.is_err()); // the sender is gone now
    /// # });
    /// ```
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            shared: &self.shared,
            seen: &mut self.seen,
            waiter: &mut self.waiter,
            registered: false,
        }
    }

    /// Waits until `pred` holds for the value, checking the current value first, and
    /// returns it borrowed and marked seen. `pred` runs under the read lock: keep it
    /// short and do not touch this channel from it. The returned [`Ref::has_changed`] is
    /// true if the value was unseen when this call began or arrived while it waited.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone before a value satisfying `pred` appeared.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping it while it waits releases its place in the wait queue; the
    /// values it already rejected stay marked seen.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = waza::sync::watch::channel(0);
    /// std::thread::spawn(move || {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// let v = rx.wait_for(|v| *v >= 3).await.expect("5, the last value, is >= 3");
    /// assert!(*v >= 3);
    /// # });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut pred: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver {
            shared,
            seen,
            waiter,
        } = self;
        let shared: &Shared<T> = shared;
        let (mut closed, mut waited) = (false, false);
        loop {
            {
                let guard = shared.read();
                let current = version(shared.load());
                // A value that arrived while this call waited counts as changed too.
                let has_changed = current != *seen || waited;
                *seen = current;
                // Once closed, only a value not yet checked is worth checking.
                if (!closed || has_changed) && pred(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            let changed = Changed {
                shared,
                seen: &mut *seen,
                waiter: &mut *waiter,
                registered: false,
            };
            closed = changed.await.is_err();
            waited = !closed;
        }
    }

    /// True if both receivers belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = waza::sync::watch::channel(());
    /// let (_tx2, other) = waza::sync::watch::channel(());
    /// assert!(rx.same_channel(&rx.clone()));
    /// assert!(!rx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        std::ptr::eq(&*self.shared, &*other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
            waiter: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut wakers = Vec::new();
        {
            let mut st = self.shared.state();
            st.receivers -= 1;
            if let Some(key) = self.waiter.take() {
                st.changed_waiters.remove(key);
            }
            if st.receivers == 0 {
                st.closed_waiters.drain(&mut wakers, |gone| *gone = true);
            }
        }
        wake_all(wakers);
    }
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(crate::scheduler::coop::poll_proceed(cx));
        let this = &mut *self;
        // Protocol 2.
        let current = version(this.shared.load());
        if current != *this.seen {
            *this.seen = current;
            this.registered = false;
            return Poll::Ready(Ok(()));
        }
        // Protocol 3.
        let mut st = this.shared.state();
        let word = this.shared.load();
        if version(word) != *this.seen {
            *this.seen = version(word);
        } else if word & CLOSED != 0 {
            this.registered = false;
            return Poll::Ready(Err(RecvError(())));
        } else {
            if let Some(old) = this.waiter.take() {
                st.changed_waiters.remove(old);
            }
            *this.waiter = Some(st.changed_waiters.push_back((), cx.waker()));
            this.registered = true;
            return Poll::Pending;
        }
        this.registered = false;
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if !self.registered {
            return;
        }
        if let Some(key) = self.waiter.take() {
            self.shared.state().changed_waiters.remove(key);
        }
    }
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut st = this.shared.state();
        match this.key {
            Some(key) if !*st.closed_waiters.data(key) => {
                st.closed_waiters.set_waker(key, cx.waker());
                Poll::Pending
            }
            Some(key) => {
                st.closed_waiters.remove(key);
                this.key = None;
                Poll::Ready(())
            }
            None if st.receivers == 0 => Poll::Ready(()),
            None => {
                this.key = Some(st.closed_waiters.push_back(false, cx.waker()));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.state().closed_waiters.remove(key);
        }
    }
}

impl<T> Ref<'_, T> {
    /// Whether the borrowed value was unseen by the receiver when borrowed (always false
    /// for [`Sender::borrow`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.borrow())
            .field("version", &(version(self.shared.load()) / STEP))
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &(self.seen / STEP))
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changed")
            .field("registered", &self.registered)
            .finish()
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed")
            .field("registered", &self.key.is_some())
            .finish()
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel closed: every sender is gone")
    }
}

impl std::error::Error for RecvError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn assert_send_sync<X: Send + Sync>() {}

    #[test]
    fn handles_and_futures_are_send_sync() {
        assert_send_sync::<Sender<String>>();
        assert_send_sync::<Receiver<String>>();
        assert_send_sync::<Changed<'static, String>>();
        assert_send_sync::<Closed<'static, String>>();
    }
}

/// loom models: a change or the close racing a receiver that registers in `changed`, a
/// cancelled `changed` racing a change, and the last receiver's drop racing `closed()`.
/// Futures are polled by hand with a counting waker, and a `Pending` poll must be
/// followed by exactly one wake (loom's `block_on` tolerates spurious wake-ups, which
/// would hide a lost one).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::test_support::CountWaker;
    use loom::thread;
    use std::sync::Arc as StdArc;

    /// Polls `fut` once with a fresh counting waker.
    fn poll_counted<F: Future + Unpin>(fut: &mut F) -> (Poll<F::Output>, StdArc<CountWaker>) {
        let (count, waker) = CountWaker::new();
        (Pin::new(fut).poll(&mut Context::from_waker(&waker)), count)
    }

    fn wakes(count: &CountWaker) -> usize {
        count.wakes()
    }

    #[test]
    fn send_racing_changed_wakes_the_receiver() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let t = thread::spawn(move || {
                tx.send(1).unwrap();
                tx
            });
            let mut fut = rx.changed();
            let (first, count) = poll_counted(&mut fut);
            let _tx = t.join().unwrap();
            if first.is_pending() {
                assert_eq!(wakes(&count), 1, "lost wake-up");
                assert!(matches!(poll_counted(&mut fut).0, Poll::Ready(Ok(()))));
            }
            drop(fut);
            assert_eq!(*rx.borrow_and_update(), 1);
        });
    }

    #[test]
    fn close_racing_changed_ends_the_wait() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let t = thread::spawn(move || drop(tx));
            let mut fut = rx.changed();
            let (first, count) = poll_counted(&mut fut);
            t.join().unwrap();
            let out = match first {
                Poll::Ready(out) => out,
                Poll::Pending => {
                    assert_eq!(wakes(&count), 1, "lost wake-up");
                    match poll_counted(&mut fut).0 {
                        Poll::Ready(out) => out,
                        Poll::Pending => panic!("woken but still pending"),
                    }
                }
            };
            assert!(out.is_err());
        });
    }

    #[test]
    fn cancelled_changed_racing_send_leaves_no_waiter() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let tx2 = tx.clone();
            let t = thread::spawn(move || tx2.send(1).unwrap());
            let (first, _count) = poll_counted(&mut rx.changed());
            t.join().unwrap();
            assert!(tx.shared.state().changed_waiters.is_empty());
            // The change is reported once: by the dropped future if it completed, else now.
            assert_eq!(rx.has_changed(), Ok(first.is_pending()));
        });
    }

    #[test]
    fn last_receiver_drop_racing_closed() {
        loom::model(|| {
            let (tx, rx) = channel(0);
            let t = thread::spawn(move || drop(rx));
            let mut fut = tx.closed();
            let (first, count) = poll_counted(&mut fut);
            t.join().unwrap();
            if first.is_pending() {
                assert_eq!(wakes(&count), 1, "lost wake-up");
                assert!(poll_counted(&mut fut).0.is_ready());
            }
            assert!(tx.is_closed());
        });
    }
}
