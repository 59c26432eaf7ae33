//! tokio's `mpsc` names over [`waza::chan`](crate::chan): porting a tokio program is
//! mostly a change of imports.
//!
//! | tokio | waza | notes |
//! |---|---|---|
//! | `mpsc::channel(n)` | [`channel(n)`](channel) | `n == 0` panics, as in tokio; Go's unbuffered channel is [`chan::rendezvous`] |
//! | `mpsc::unbounded_channel()` | [`unbounded_channel()`](unbounded_channel) | `send` is synchronous, as in tokio |
//! | `tx.send(v).await`, `try_send`, `reserve().await`, `closed().await` | the same | |
//! | `rx.recv().await`, `try_recv`, `recv_many`, `close` | the same, `&mut self` | |
//!
//! # Design
//!
//! A bounded channel is an unbounded [`chan`] plus a [`Semaphore`] of `n`
//! permits beside it: a send first takes a permit (waiting for one if need be), then
//! pushes into the channel, which never refuses for lack of room; a receive that takes a
//! value gives its permit back. So capacity can be *reserved*: [`Sender::reserve`] takes
//! a permit ahead of time, and the [`Permit`] it returns sends without waiting and
//! without failing for lack of room. Buffered values plus outstanding permits never
//! exceed `n`.
//!
//! Because a receive must return its permit, the bounded [`Receiver::recv`] is a wrapper
//! future: in [`select!`](crate::select!) it is an ordinary future arm, as tokio's is
//! (cancel safe; a value that the arm's pattern refutes is dropped). An
//! [`UnboundedReceiver::recv`] is the channel's own receive and keeps `select!`'s full
//! channel-arm guarantees (a refuted value goes back), as does every `waza::chan`
//! channel.
//!
//! # Where waza differs from tokio
//!
//! * After [`Receiver::close`], a [`Permit`] obtained before the close drops its value
//!   instead of delivering it (tokio still delivers it); new sends fail in both.
//! * `Receiver::recv` and friends take `&mut self` here as in tokio, while `waza::chan`'s
//!   receivers are MPMC and take `&self`.
//!
//! # Examples
//!
//! ```
//! use waza::sync::mpsc;
//!
//! # waza::block_on(async {
//! let (tx, mut rx) = mpsc::channel(16);
//! for i in 0..3 {
//!     let tx = tx.clone();
//!     waza::spawn(async move { tx.send(i).await.unwrap() });
//! }
//! drop(tx);
//! let mut got = Vec::new();
//! while let Some(v) = rx.recv().await {
//!     got.push(v);
//! }
//! got.sort();
//! assert_eq!(got, [0, 1, 2]);
//! # });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::chan;
use crate::sync::{Semaphore, TryAcquireError};

use self::error::{SendError, TryRecvError, TrySendError};

/// Error types, with tokio's names.
pub mod error {
    use std::fmt;

    pub use crate::chan::{SendError, TrySendError};

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::sync::mpsc::{self, error::TryRecvError};
    /// let (tx, mut rx) = mpsc::channel::<u8>(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// Nothing is buffered right now; the channel is open.
        Empty,
        /// The channel is closed and drained: no value will ever arrive.
        Disconnected,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                TryRecvError::Empty => "receiving on an empty channel",
                TryRecvError::Disconnected => "receiving on a closed channel",
            })
        }
    }

    impl std::error::Error for TryRecvError {}

    impl From<crate::chan::TryRecvError> for TryRecvError {
        fn from(e: crate::chan::TryRecvError) -> Self {
            match e {
                crate::chan::TryRecvError::Empty => TryRecvError::Empty,
                crate::chan::TryRecvError::Closed => TryRecvError::Disconnected,
            }
        }
    }
}

/// What the two ends of a bounded channel share besides the channel.
#[derive(Debug)]
struct Room {
    /// One permit per free slot: `n` minus buffered values minus outstanding [`Permit`]s.
    permits: Semaphore,
    max: usize,
}

/// Creates a bounded channel with room for `buffer` values (tokio's `mpsc::channel`).
///
/// # Panics
///
/// If `buffer == 0` (as tokio; for Go's unbuffered channel use
/// [`chan::rendezvous`]) or if `buffer` exceeds
/// [`Semaphore::MAX_PERMITS`].
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = waza::sync::mpsc::channel(1);
/// tx.try_send(1).unwrap();
/// assert!(tx.try_send(2).is_err()); // full
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        buffer > 0,
        "mpsc bounded channel requires buffer > 0 (for an unbuffered channel, where a send \
         waits for a receiver, use waza::chan::rendezvous)"
    );
    assert!(
        buffer <= Semaphore::MAX_PERMITS,
        "mpsc bounded channel buffer is larger than Semaphore::MAX_PERMITS"
    );
    let (tx, rx) = chan::unbounded();
    let room = Arc::new(Room {
        permits: Semaphore::new(buffer),
        max: buffer,
    });
    (
        Sender {
            tx,
            room: room.clone(),
        },
        Receiver { rx, room },
    )
}

/// Creates an unbounded channel (tokio's `mpsc::unbounded_channel`): sends never wait.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel();
/// tx.send("hi").unwrap(); // synchronous
/// assert_eq!(rx.try_recv(), Ok("hi"));
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = chan::unbounded();
    (UnboundedSender { tx }, UnboundedReceiver { rx })
}

/// The sending half of a bounded channel; clone it for more producers.
///
/// # Examples
///
/// ```
/// # waza::block_on(async {
/// let (tx, mut rx) = waza::sync::mpsc::channel(4);
/// let tx2 = tx.clone();
/// tx.send(1).await.unwrap();
/// tx2.send(2).await.unwrap();
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, Some(2));
/// # });
/// ```
pub struct Sender<T> {
    tx: chan::Sender<T>,
    room: Arc<Room>,
}

impl<T> Sender<T> {
    /// Sends `v`, waiting for room.
    ///
    /// # Errors
    ///
    /// `Err(SendError(v))` if the receiver is gone or closed (also while waiting).
    ///
    /// # Cancel safety
    ///
    /// The only wait is for room; the value goes into the channel in the same poll that
    /// returns `Ok`. So a dropped future never sent its value (which is dropped with it),
    /// and it gives up its place in the queue of waiting senders.
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, mut rx) = waza::sync::mpsc::channel(1);
    /// tx.send(3).await.unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(4).await.unwrap_err().0, 4);
    /// # });
    /// ```
    pub async fn send(&self, v: T) -> Result<(), SendError<T>> {
        match self.room.permits.acquire().await {
            Ok(p) => p.forget(),
            Err(_) => return Err(SendError(v)),
        }
        self.push(v)
    }

    /// Sends `v` only if there is room right now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] without room (or while earlier senders wait for it),
    /// [`TrySendError::Closed`] if the receiver is gone or closed; both give `v` back.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::sync::mpsc::{self, error::TrySendError};
    /// let (tx, _rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        match self.room.permits.try_acquire() {
            Ok(p) => p.forget(),
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(v)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(v)),
        }
        self.push(v).map_err(|SendError(v)| TrySendError::Closed(v))
    }

    /// Sends `v`, blocking the thread while waiting for room. For plain OS threads.
    ///
    /// # Errors
    ///
    /// As [`Sender::send`].
    ///
    /// # Panics
    ///
    /// On a waza worker thread, where blocking would stall every task of that worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::mpsc::channel(1);
    /// std::thread::spawn(move || tx.blocking_send(5).unwrap()).join().unwrap();
    /// assert_eq!(rx.blocking_recv(), Some(5));
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, v: T) -> Result<(), SendError<T>> {
        super::block_on_thread(self.send(v))
    }

    /// Waits for room for one value and reserves it: the returned [`Permit`] sends without
    /// waiting and without failing for lack of room. Dropping the permit unused frees the
    /// room again.
    ///
    /// # Errors
    ///
    /// `Err(SendError(()))` if the receiver is gone or closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future reserved nothing (it loses its place in the queue).
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, mut rx) = waza::sync::mpsc::channel(1);
    /// let permit = tx.reserve().await.unwrap();
    /// assert!(tx.try_send(1).is_err(), "the only slot is reserved");
    /// permit.send(2);
    /// assert_eq!(rx.recv().await, Some(2));
    /// # });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.room.permits.acquire().await {
            Ok(p) => p.forget(),
            Err(_) => return Err(SendError(())),
        }
        Ok(Permit { sender: self })
    }

    /// Reserves room for one value if there is some right now.
    ///
    /// # Errors
    ///
    /// `TrySendError::Full(())` without room, `TrySendError::Closed(())` if the receiver is
    /// gone or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::mpsc::channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().unwrap_err().is_full());
    /// permit.send(7);
    /// assert_eq!(rx.try_recv(), Ok(7));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.room.permits.try_acquire() {
            Ok(p) => p.forget(),
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(())),
        }
        Ok(Permit { sender: self })
    }

    /// Waits until the receiver is gone or has called [`Receiver::close`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future leaves no registration behind.
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, rx) = waza::sync::mpsc::channel::<u8>(1);
    /// waza::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// Returns `true` if the receiver is gone or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::mpsc::channel::<u8>(1);
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Room left now: the buffer size minus buffered values and reserved permits.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = waza::sync::mpsc::channel(3);
    /// tx.try_send(1).unwrap();
    /// let _p = tx.try_reserve().unwrap();
    /// assert_eq!((tx.capacity(), tx.max_capacity()), (1, 3));
    /// ```
    pub fn capacity(&self) -> usize {
        self.room.permits.available_permits()
    }

    /// The buffer size given to [`channel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = waza::sync::mpsc::channel::<u8>(8);
    /// assert_eq!(tx.max_capacity(), 8);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.room.max
    }

    /// Returns `true` if both senders belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = waza::sync::mpsc::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.tx.same_channel(&other.tx)
    }

    /// Pushes `v` into the channel, for which a permit is already held (the unbounded
    /// channel underneath never refuses for lack of room).
    fn push(&self, v: T) -> Result<(), SendError<T>> {
        self.tx.try_send(v).map_err(|e| SendError(e.into_inner()))
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
            room: self.room.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("chan", &self.tx)
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Room for one value, reserved by [`Sender::reserve`]; [`Permit::send`] uses it.
///
/// Dropping it unused frees the room.
///
/// # Examples
///
/// ```
/// # waza::block_on(async {
/// let (tx, _rx) = waza::sync::mpsc::channel::<u8>(1);
/// let permit = tx.reserve().await.unwrap();
/// assert_eq!(tx.capacity(), 0);
/// drop(permit);
/// assert_eq!(tx.capacity(), 1);
/// # });
/// ```
pub struct Permit<'a, T> {
    sender: &'a Sender<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `v` into the reserved room: never waits, never fails for lack of room.
    ///
    /// If the receiver is gone (or, unlike tokio, has called [`Receiver::close`]) the value
    /// is dropped, since nobody will receive it.
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, mut rx) = waza::sync::mpsc::channel(1);
    /// tx.reserve().await.unwrap().send("x");
    /// assert_eq!(rx.recv().await, Some("x"));
    /// # });
    /// ```
    pub fn send(self, v: T) {
        let sender = self.sender;
        // The permit's room now belongs to the value; the receiver frees it on receipt.
        std::mem::forget(self);
        let _ = sender.push(v);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.sender.room.permits.add_permits(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// The receiving half of a bounded channel (single consumer: not `Clone`).
///
/// Dropping it closes the channel: senders fail, buffered values are dropped.
///
/// # Examples
///
/// ```
/// # waza::block_on(async {
/// let (tx, mut rx) = waza::sync::mpsc::channel(2);
/// waza::spawn(async move {
///     for i in 0..5 {
///         tx.send(i).await.unwrap();
///     }
/// });
/// let mut sum = 0;
/// while let Some(v) = rx.recv().await {
///     sum += v;
/// }
/// assert_eq!(sum, 10);
/// # });
/// ```
pub struct Receiver<T> {
    rx: chan::Receiver<T>,
    room: Arc<Room>,
}

impl<T> Receiver<T> {
    /// Receives a value, waiting for one; `None` once the channel is closed (every sender
    /// gone, or [`Receiver::close`]) and drained.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a value handed to a dropped future goes back to the front of the
    /// channel. In `select!` this is an ordinary future arm (see the module docs).
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, mut rx) = waza::sync::mpsc::channel(1);
    /// tx.send(1).await.unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            inner: self.rx.recv(),
            room: &self.room,
        }
    }

    /// Receives a value if one is buffered right now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is buffered, [`TryRecvError::Disconnected`] if the
    /// channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::mpsc::channel(1);
    /// tx.try_send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let v = self.rx.try_recv()?;
        self.room.permits.add_permits(1);
        Ok(v)
    }

    /// Receives a value, blocking the thread while waiting. For plain OS threads.
    ///
    /// # Panics
    ///
    /// On a waza worker thread, where blocking would stall every task of that worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::mpsc::channel(1);
    /// std::thread::spawn(move || tx.blocking_send(1).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(1));
    /// assert_eq!(rx.blocking_recv(), None);
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        super::block_on_thread(self.recv())
    }

    /// Receives up to `limit` values into `buf`, waiting for the first; returns how many
    /// were appended (0 only when closed and drained, or when `limit == 0`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future took nothing (see
    /// [`chan::Receiver::recv_many`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, mut rx) = waza::sync::mpsc::channel(4);
    /// for i in 0..4 {
    ///     tx.send(i).await.unwrap();
    /// }
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
    /// assert_eq!(tx.capacity(), 3, "room came back with the values");
    /// # });
    /// ```
    pub async fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        let n = self.rx.recv_many(buf, limit).await;
        if n > 0 {
            self.room.permits.add_permits(n);
        }
        n
    }

    /// Closes the channel without dropping the receiver: sends and reservations fail from
    /// now on, buffered values can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.room.permits.close();
        self.rx.close();
    }

    /// Returns `true` if the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::mpsc::channel::<u8>(1);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// Number of buffered values.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Returns `true` if nothing is buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = waza::sync::mpsc::channel::<u8>(2);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Room left now (as [`Sender::capacity`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.capacity(), 1);
    /// ```
    pub fn capacity(&self) -> usize {
        self.room.permits.available_permits()
    }

    /// The buffer size given to [`channel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = waza::sync::mpsc::channel::<u8>(2);
    /// assert_eq!(rx.max_capacity(), 2);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.room.max
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Senders waiting for room fail now; the channel itself closes as `rx` drops.
        self.room.permits.close();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("chan", &self.rx).finish()
    }
}

/// Future of [`Receiver::recv`]: the channel's receive, giving the value's room back.
/// Always `Unpin`.
///
/// # Cancel safety
///
/// As [`Receiver::recv`].
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    inner: chan::Recv<'a, T>,
    room: &'a Room,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let r = Pin::new(&mut self.inner).poll(cx);
        if let Poll::Ready(Some(_)) = r {
            self.room.permits.add_permits(1);
        }
        r
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").finish_non_exhaustive()
    }
}

/// The sending half of an unbounded channel; clone it for more producers.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel();
/// tx.clone().send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct UnboundedSender<T> {
    tx: chan::Sender<T>,
}

impl<T> UnboundedSender<T> {
    /// Sends `v` without waiting (synchronous, as tokio's).
    ///
    /// # Errors
    ///
    /// `Err(SendError(v))` if the receiver is gone or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        self.tx.try_send(v).map_err(|e| SendError(e.into_inner()))
    }

    /// Waits until the receiver is gone or has called [`UnboundedReceiver::close`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future leaves no registration behind.
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel::<u8>();
    /// rx.close();
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// Returns `true` if the receiver is gone or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::mpsc::unbounded_channel::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Returns `true` if both senders belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = waza::sync::mpsc::unbounded_channel::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.tx)
            .finish()
    }
}

/// The receiving half of an unbounded channel (single consumer: not `Clone`).
///
/// # Examples
///
/// ```
/// # waza::block_on(async {
/// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub struct UnboundedReceiver<T> {
    rx: chan::Receiver<T>,
}

impl<T> UnboundedReceiver<T> {
    /// Receives a value, waiting for one; `None` once closed and drained.
    ///
    /// This is the channel's own receive: in `select!` it is a channel arm, with its
    /// exactly-one guarantee.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a value handed to a dropped future goes back to the channel front.
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel();
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.recv().await, Some(5));
    /// # });
    /// ```
    pub fn recv(&mut self) -> chan::Recv<'_, T> {
        self.rx.recv()
    }

    /// Receives a value if one is buffered right now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] or [`TryRecvError::Disconnected`].
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::sync::mpsc::error::TryRecvError;
    /// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        Ok(self.rx.try_recv()?)
    }

    /// Receives a value, blocking the thread while waiting. For plain OS threads.
    ///
    /// # Panics
    ///
    /// On a waza worker thread, where blocking would stall every task of that worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(1).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(1));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        super::block_on_thread(self.rx.recv())
    }

    /// Receives up to `limit` values into `buf`, waiting for the first; returns how many
    /// were appended (0 only when closed and drained, or when `limit == 0`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future took nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # waza::block_on(async {
    /// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.recv_many(&mut buf, 10).await, 2);
    /// # });
    /// ```
    pub async fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        self.rx.recv_many(buf, limit).await
    }

    /// Closes the channel without dropping the receiver; buffered values stay receivable.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// Returns `true` if the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::mpsc::unbounded_channel::<u8>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// Number of buffered values.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Returns `true` if nothing is buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = waza::sync::mpsc::unbounded_channel::<u8>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("chan", &self.rx)
            .finish()
    }
}
