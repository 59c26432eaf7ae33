//! A multi-producer, multi-consumer broadcast channel: every receiver sees every value.
//!
//! # State
//!
//! One allocation shared by every handle holds:
//!
//! * `buffer`: a ring of `capacity` slots (rounded up to a power of two), each behind its
//!   own `std::sync::Mutex`. A slot carries `pos` (the position of the value it holds),
//!   `rem` (receivers that have not seen it yet) and `val` (the value, until its last
//!   receiver takes it or a later send overwrites it). Slot `i` starts with
//!   `pos = i - capacity`, a position that is never read.
//! * `tail`: one `std::sync::Mutex` guarding `pos` (where the next value goes), the sender
//!   and receiver counts, `closed`, and a FIFO `WaitList` of receivers waiting for a
//!   value.
//!
//! A receiver holds `next`, the position it reads next, and the key of its wait-list node
//! (at most one: `recv` borrows the receiver mutably).
//!
//! Lock order: `tail` before a slot. A receiver reading a value takes only the slot's lock.
//!
//! # Protocols
//!
//! 1. *Send*: lock `tail`; no receivers → give the value back. Else lock the slot at
//!    `tail.pos`, store the value with `rem = receivers` (the old value is moved out), bump
//!    `tail.pos`, and unlink every waiting receiver, taking their wakers, *before* unlocking
//!    the slot; unlock; wake; drop the old value.
//! 2. *Receive*, fast path: lock the slot at `next`; if its `pos == next`, clone the value
//!    (or move it out, if this is the last receiver to see it: `rem == 1`), decrement
//!    `rem`, advance `next`. No other lock is taken.
//! 3. *Receive*, slow path (the slot holds another position): lock `tail`, then the slot.
//!    * `next == tail.pos`: nothing new. Closed → `Closed`. Otherwise the receiver links
//!      its node with its waker (replacing an older, already unlinked node of its own)
//!      and returns `Pending`.
//!    * the slot now holds `next`: a send slipped in; retry the fast path.
//!    * otherwise the value at `next` was overwritten: jump to the oldest retained
//!      position, `tail.pos - capacity`, and report `Lagged(skipped)` once.
//! 4. *Close* (the last sender drops): lock `tail`; set `closed`; unlink every waiter;
//!    unlock; wake. Receivers still read what is buffered, then get `Closed`.
//! 5. *Receiver dropped*: lock `tail`; decrement the receiver count, remove its node, read
//!    `tail.pos`; unlock. Then, for each retained position it had not read, lock that slot
//!    and, if it still holds that position, decrement `rem`, taking the value out when
//!    `rem` reaches zero; drop it after unlocking.
//!
//! Why a receiver that got a value may skip unlinking its node (no lock on the fast
//! path): it linked the node under `tail` while `tail.pos == next`, so the value at `next`
//! comes from a later send, and that send unlinked every node (taking the wakers) before
//! unlocking the slot it wrote. The receiver's next registration, or its drop, removes
//! the unlinked node from the slab.
//!
//! Values: a slot's value is dropped exactly once, when its last receiver takes it (moved,
//! not cloned), when it is overwritten, or when the channel goes away. `rem` counts the
//! receivers alive at the send, so one that subscribes later does not hold values back.
//!
//! A receiver clones a value while holding that one slot's lock, so a slow `Clone` delays
//! only the other receivers of the same value and a sender wrapping around onto that slot.
//! A `Clone` that panics leaves the slot unchanged (the lock is recovered: `rem` is
//! decremented only after the clone succeeds).

use super::wait_list::WaitList;
use super::{lock, wake_all};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{ready, Context, Poll, Waker};

/// Creates a broadcast channel holding at most `capacity` values; returns the first
/// sender and the first receiver.
///
/// Every value sent reaches every receiver that exists at the time of the send, each
/// receiving its own clone. `capacity` is rounded up to a power of two. When a receiver
/// falls more than `capacity` values behind, the oldest values are overwritten and its
/// next `recv` reports how many it missed with [`RecvError::Lagged`]. Senders never wait.
///
/// # Panics
///
/// If `capacity` is 0 or larger than `usize::MAX / 2`.
///
/// # Examples
///
/// ```
/// use waza::sync::broadcast;
///
/// # futures::executor::block_on(async {
/// let (tx, mut rx1) = broadcast::channel(16);
/// let mut rx2 = tx.subscribe();
/// assert_eq!(tx.send(10), Ok(2)); // two receivers got it
/// assert_eq!(rx1.recv().await, Ok(10));
/// assert_eq!(rx2.recv().await, Ok(10));
/// # });
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "broadcast channel capacity cannot be zero");
    assert!(
        capacity <= usize::MAX >> 1,
        "broadcast channel capacity exceeded `usize::MAX / 2`"
    );
    let cap = capacity.next_power_of_two();
    let buffer = (0..cap)
        .map(|i| {
            StdMutex::new(Slot {
                pos: (i as u64).wrapping_sub(cap as u64),
                rem: 0,
                val: None,
            })
        })
        .collect();
    let shared = Arc::new(Shared {
        buffer,
        mask: cap as u64 - 1,
        tail: StdMutex::new(Tail {
            pos: 0,
            receivers: 1,
            senders: 1,
            closed: false,
            waiters: WaitList::new(),
        }),
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
        waiter: None,
    };
    (Sender { shared }, rx)
}

struct Shared<T> {
    buffer: Box<[StdMutex<Slot<T>>]>,
    /// `buffer.len() - 1`; the length is a power of two.
    mask: u64,
    tail: StdMutex<Tail>,
}

struct Slot<T> {
    /// Position of the value in `val` (or of the value that was there).
    pos: u64,
    /// Receivers that have not yet seen the value at `pos`. Invariant: `val` is `Some`
    /// while `rem > 0`.
    rem: usize,
    val: Option<T>,
}

struct Tail {
    /// Position of the next value sent.
    pos: u64,
    receivers: usize,
    senders: usize,
    /// Every sender is gone (final).
    closed: bool,
    /// Receivers waiting for the value at `pos`.
    waiters: WaitList<()>,
}

/// The sending half of a [`broadcast`](self) channel; clone it for more senders.
///
/// The channel closes when the last sender is dropped.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = waza::sync::broadcast::channel::<u32>(4);
/// let tx2 = tx.clone();
/// tx2.send(1).unwrap();
/// drop((tx, tx2));
/// # futures::executor::block_on(async move {
/// assert_eq!(rx.recv().await, Ok(1));
/// assert_eq!(rx.recv().await, Err(waza::sync::broadcast::RecvError::Closed));
/// # });
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a [`broadcast`](self) channel: it sees every value sent after
/// it was created.
///
/// Get more receivers with [`Sender::subscribe`] or [`Receiver::resubscribe`].
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = waza::sync::broadcast::channel(4);
/// tx.send("a").unwrap();
/// assert_eq!(rx.recv().await, Ok("a"));
/// # });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Position of the next value to read.
    next: u64,
    /// This receiver's node in `tail.waiters`: linked while a `recv` waits, otherwise
    /// unlinked (its waker already taken) until the next registration or the drop.
    waiter: Option<usize>,
}

/// Future returned by [`Receiver::recv`].
///
/// # Cancel safety
///
/// Cancel-safe: a value is taken from the channel only when the future returns it, so
/// dropping a pending `Recv` loses nothing; its place in the wait queue is released.
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    /// The receiver's node is linked for this future (it returned `Pending`).
    registered: bool,
}

/// Error of [`Sender::send`]: there is no receiver; the value is given back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Error of [`Receiver::recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecvError {
    /// Every sender is gone and this receiver has read every value it will get.
    Closed,
    /// The receiver fell behind: this many values were overwritten before it read them.
    /// The next receive returns the oldest value still held.
    Lagged(u64),
}

/// Error of [`Receiver::try_recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// No value is available now; senders remain.
    Empty,
    /// Every sender is gone and this receiver has read every value it will get.
    Closed,
    /// The receiver fell behind: this many values were overwritten before it read them.
    Lagged(u64),
}

impl<T> Shared<T> {
    fn slot(&self, pos: u64) -> &StdMutex<Slot<T>> {
        &self.buffer[(pos & self.mask) as usize]
    }

    fn capacity(&self) -> u64 {
        self.mask + 1
    }
}

impl<T> Sender<T> {
    /// Sends `value` to every current receiver, overwriting the oldest value if the ring is
    /// full; returns how many receivers will see it. Never waits.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::broadcast::channel(2);
    /// assert_eq!(tx.send(1), Ok(1));
    /// drop(rx);
    /// assert_eq!(tx.send(2), Err(waza::sync::broadcast::SendError(2)));
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = Vec::new();
        let (old, receivers) = {
            let mut tail = lock(&self.shared.tail);
            if tail.receivers == 0 {
                return Err(SendError(value));
            }
            let mut slot = lock(self.shared.slot(tail.pos));
            slot.pos = tail.pos;
            slot.rem = tail.receivers;
            let old = slot.val.replace(value);
            tail.pos += 1;
            // Under the slot lock: whoever reads this value finds its node unlinked.
            tail.waiters.drain(&mut wakers, |_| {});
            drop(slot);
            (old, tail.receivers)
        };
        wake_all(wakers);
        drop(old);
        Ok(receivers)
    }

    /// Creates a receiver that sees every value sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, _rx) = waza::sync::broadcast::channel(4);
    /// tx.send(1).unwrap(); // before the subscription: not seen by rx2
    /// let mut rx2 = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx2.recv().await, Ok(2));
    /// # });
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }

    /// Number of receivers that exist now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::broadcast::channel::<u8>(4);
    /// let rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// drop((rx, rx2));
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.tail).receivers
    }

    /// Number of values held that some receiver has not seen yet (at most the rounded-up
    /// capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx1) = waza::sync::broadcast::channel(4);
    /// let mut rx2 = tx.subscribe();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx1.recv().await.unwrap();
    /// assert_eq!(tx.len(), 2); // rx2 has not seen value 1 yet
    /// rx2.recv().await.unwrap();
    /// assert_eq!(tx.len(), 1);
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        let tail = lock(&self.shared.tail);
        let held = tail.pos.min(self.shared.capacity());
        let oldest = tail.pos - held;
        // Receivers read in order, so the unseen values form a suffix: binary search for
        // the first held position some receiver still needs.
        let (mut lo, mut hi) = (0, held);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if lock(self.shared.slot(oldest + mid)).rem == 0 {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (held - lo) as usize
    }

    /// True if every held value has been seen by every receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::broadcast::channel(4);
    /// assert!(tx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn new_receiver<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let next = {
        let mut tail = lock(&shared.tail);
        tail.receivers += 1;
        tail.pos
    };
    Receiver {
        shared: shared.clone(),
        next,
        waiter: None,
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared.tail).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = Vec::new();
        {
            let mut tail = lock(&self.shared.tail);
            tail.senders -= 1;
            if tail.senders > 0 {
                return;
            }
            tail.closed = true;
            tail.waiters.drain(&mut wakers, |_| {});
        }
        wake_all(wakers);
    }
}

/// What the locked slow path of a receive decided.
enum Slow {
    Retry,
    Err(TryRecvError),
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value, waiting for one if needed.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] once after values were overwritten before this receiver read
    /// them (it then continues from the oldest value held); [`RecvError::Closed`] when every
    /// sender is gone and every remaining value has been read.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future before it completes takes no value from the
    /// channel, so it can be used as a `select!` arm in a loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::sync::broadcast::{self, RecvError};
    ///
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = broadcast::channel(2);
    /// for i in 0..3 {
    ///     tx.send(i).unwrap(); // the third send overwrites 0
    /// }
    /// assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
    /// assert_eq!(rx.recv().await, Ok(1));
    /// assert_eq!(rx.recv().await, Ok(2));
    /// # });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            rx: self,
            registered: false,
        }
    }

    /// Receives the next value if one is available, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if there is no value now; `Lagged` and `Closed` as for
    /// [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.recv_inner(None)
    }

    /// Protocols 2 and 3; with a waker, an empty channel links this receiver's node.
    fn recv_inner(&mut self, waker: Option<&Waker>) -> Result<T, TryRecvError> {
        loop {
            if let Some(v) = self.read_next() {
                return Ok(v);
            }
            match self.recv_slow(waker) {
                Slow::Retry => continue,
                Slow::Err(e) => return Err(e),
            }
        }
    }

    /// Protocol 2: the value at `next`, if its slot holds it.
    fn read_next(&mut self) -> Option<T> {
        let mut slot = lock(self.shared.slot(self.next));
        if slot.pos != self.next {
            return None;
        }
        let v = if slot.rem == 1 {
            slot.val.take()
        } else {
            slot.val.clone()
        };
        let v = v.expect("broadcast: a slot lost a value that a receiver had not seen");
        slot.rem -= 1;
        drop(slot);
        self.next += 1;
        Some(v)
    }
}

impl<T> Receiver<T> {
    /// Protocol 3, under the `tail` lock.
    fn recv_slow(&mut self, waker: Option<&Waker>) -> Slow {
        let mut tail = lock(&self.shared.tail);
        if self.next == tail.pos {
            if tail.closed {
                return Slow::Err(TryRecvError::Closed);
            }
            if let Some(w) = waker {
                if let Some(old) = self.waiter.take() {
                    tail.waiters.remove(old);
                }
                self.waiter = Some(tail.waiters.push_back((), w));
            }
            return Slow::Err(TryRecvError::Empty);
        }
        if lock(self.shared.slot(self.next)).pos == self.next {
            return Slow::Retry;
        }
        let oldest = tail.pos - self.shared.capacity();
        let missed = oldest - self.next;
        self.next = oldest;
        Slow::Err(TryRecvError::Lagged(missed))
    }

    /// Removes this receiver's wait-list node (a `Recv` dropped while pending).
    fn deregister(&mut self) {
        if let Some(key) = self.waiter.take() {
            lock(&self.shared.tail).waiters.remove(key);
        }
    }

    /// Creates a receiver of the same channel that starts at the newest position (it does
    /// not see the values this one has not read yet).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = waza::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.recv().await, Ok(1));
    /// assert_eq!(rx2.recv().await, Ok(2));
    /// # });
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }

    /// Number of values sent that this receiver has not read yet, capped at the rounded-up
    /// capacity (the rest were overwritten).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let pos = lock(&self.shared.tail).pos;
        (pos - self.next).min(self.shared.capacity()) as usize
    }

    /// True if this receiver has read every value sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::broadcast::channel(4);
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    /// Protocol 5: gives up this receiver's claim on every value it has not read.
    fn drop(&mut self) {
        let until = {
            let mut tail = lock(&self.shared.tail);
            tail.receivers -= 1;
            if let Some(key) = self.waiter.take() {
                tail.waiters.remove(key);
            }
            tail.pos
        };
        let from = self.next.max(until.saturating_sub(self.shared.capacity()));
        for pos in from..until {
            let val = {
                let mut slot = lock(self.shared.slot(pos));
                if slot.pos != pos {
                    continue; // overwritten meanwhile
                }
                slot.rem -= 1;
                if slot.rem == 0 {
                    slot.val.take()
                } else {
                    None
                }
            };
            drop(val);
        }
    }
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(crate::scheduler::coop::poll_proceed(cx));
        let this = &mut *self;
        let res = match this.rx.recv_inner(Some(cx.waker())) {
            Ok(v) => Ok(v),
            Err(TryRecvError::Empty) => {
                this.registered = true;
                return Poll::Pending;
            }
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
        };
        // Any outcome but `Empty` means a send or the close ran after the registration,
        // and it unlinked the node (see the module docs).
        this.registered = false;
        Poll::Ready(res)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if self.registered {
            self.rx.deregister();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = lock(&self.shared.tail);
        f.debug_struct("Sender")
            .field("capacity", &self.shared.capacity())
            .field("position", &tail.pos)
            .field("receivers", &tail.receivers)
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("registered", &self.registered)
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
        f.write_str("broadcast channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("broadcast channel closed"),
            RecvError::Lagged(n) => write!(f, "broadcast receiver lagged behind by {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("broadcast channel empty"),
            TryRecvError::Closed => f.write_str("broadcast channel closed"),
            TryRecvError::Lagged(n) => {
                write!(f, "broadcast receiver lagged behind by {n} values")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn assert_send_sync<X: Send + Sync>() {}

    #[test]
    fn handles_and_futures_are_send_sync() {
        assert_send_sync::<Sender<String>>();
        assert_send_sync::<Receiver<String>>();
        assert_send_sync::<Recv<'static, String>>();
    }

    #[test]
    fn dropped_receiver_releases_its_unread_values() {
        let (tx, rx1) = channel(4);
        let mut rx2 = tx.subscribe();
        tx.send(String::from("a")).unwrap();
        assert_eq!(rx2.try_recv().as_deref(), Ok("a")); // a clone: rx1 has not seen it
        assert!(lock(&tx.shared.buffer[0]).val.is_some());
        drop(rx1);
        assert!(lock(&tx.shared.buffer[0]).val.is_none());
        assert_eq!(tx.len(), 0);
    }

    #[test]
    fn last_reader_moves_the_value_out() {
        let (tx, mut rx1) = channel(2);
        let mut rx2 = tx.subscribe();
        tx.send(vec![1]).unwrap();
        rx1.try_recv().unwrap();
        assert_eq!(lock(&tx.shared.buffer[0]).rem, 1);
        rx2.try_recv().unwrap();
        let slot = lock(&tx.shared.buffer[0]);
        assert_eq!((slot.rem, slot.val.is_none()), (0, true));
    }
}
