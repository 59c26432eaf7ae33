//! A channel for sending exactly one value from one place to another.
//!
//! # State
//!
//! Both handles share an `Arc`'d `std::sync::Mutex` guarding: `value` (the sent value, until
//! received), `sender_gone` (the [`Sender`] was consumed by `send` or dropped), `receiver_gone`
//! (the [`Receiver`] was dropped or closed), and one waker for each side (the receiver
//! waiting for a value; the sender waiting in [`Sender::closed`]).
//!
//! # Protocols
//!
//! 1. *send*: lock; receiver gone → give the value back; else store it, mark the sender
//!    gone, take the receiver's waker; unlock; wake.
//! 2. *Sender dropped* without sending: lock; mark it gone, take the receiver's waker;
//!    unlock; wake. The receiver then sees "no value, no sender" → [`RecvError`].
//! 3. *Receive* (poll): lock; a value → take it; sender gone → error; else store the waker.
//! 4. *Receiver dropped or closed*: lock; mark it gone, take the value (if any) and the
//!    sender's waker; unlock; wake; drop the value outside the lock.

use super::lock;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll, Waker};

/// Creates a one-shot channel: the [`Sender`] sends one value, the [`Receiver`] awaits it.
///
/// # Examples
///
/// ```
/// use waza::sync::oneshot;
///
/// # futures::executor::block_on(async {
/// let (tx, rx) = oneshot::channel();
/// std::thread::spawn(move || tx.send(42).unwrap());
/// assert_eq!(rx.await, Ok(42));
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(StdMutex::new(State {
        value: None,
        sender_gone: false,
        receiver_gone: false,
        rx_waker: None,
        tx_waker: None,
    }));
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver {
            inner,
            finished: false,
        },
    )
}

struct State<T> {
    value: Option<T>,
    sender_gone: bool,
    receiver_gone: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

/// Sends the channel's one value; see [`channel`].
pub struct Sender<T> {
    inner: Arc<StdMutex<State<T>>>,
}

/// Receives the channel's one value by being awaited; see [`channel`].
///
/// Resolves to `Err(RecvError)` if the sender was dropped without sending.
///
/// # Cancel safety
///
/// Dropping the receiver drops a value that was sent but not received; awaiting a `&mut
/// Receiver` inside `select!` and dropping that borrow loses nothing.
pub struct Receiver<T> {
    inner: Arc<StdMutex<State<T>>>,
    /// The value (or the error) has been returned; later polls return `Err(RecvError)`.
    finished: bool,
}

/// The sender was dropped without sending a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecvError(());

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// Nothing was sent yet, and the sender still exists.
    Empty,
    /// The sender is gone without sending, or the value was already received.
    Closed,
}

impl<T> Sender<T> {
    /// Sends the value; fails, giving it back, if the receiver is gone.
    ///
    /// # Errors
    ///
    /// `Err(value)` if the [`Receiver`] was dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("hi"), Err("hi"));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut st = lock(&self.inner);
            if st.receiver_gone {
                return Err(value);
            }
            st.value = Some(value);
            st.sender_gone = true;
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone (a `send` would fail).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::oneshot::channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        lock(&self.inner).receiver_gone
    }

    /// Waits until the receiver is gone (useful to abandon work nobody wants any more).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (mut tx, rx) = waza::sync::oneshot::channel::<u8>();
    /// std::thread::spawn(move || drop(rx));
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver being gone; registers `cx`'s waker if it is not.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = lock(&self.inner);
        if st.receiver_gone {
            return Poll::Ready(());
        }
        match &st.tx_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.tx_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut st = lock(&self.inner);
            if st.sender_gone {
                return;
            }
            st.sender_gone = true;
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing was sent yet; [`TryRecvError::Closed`] if the
    /// sender is gone without sending or the value was already taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::sync::oneshot::{self, TryRecvError};
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut st = lock(&self.inner);
        if let Some(v) = st.value.take() {
            self.finished = true;
            return Ok(v);
        }
        if st.sender_gone || self.finished {
            self.finished = true;
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Closes the channel from the receiving side: a later `send` fails. A value sent
    /// before this call can still be taken with [`try_recv`](Self::try_recv) or `.await`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = waza::sync::oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(5), Err(5));
    /// ```
    pub fn close(&mut self) {
        let waker = {
            let mut st = lock(&self.inner);
            st.receiver_gone = true;
            // Nothing can arrive any more, so the sender counts as gone for receiving.
            st.sender_gone = true;
            st.tx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Blocks the current OS thread until the value arrives; for plain threads, not tasks.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is dropped without sending.
    ///
    /// # Panics
    ///
    /// On a waza worker thread (inside a task): use the async method there.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza::sync::oneshot::channel();
    /// std::thread::spawn(move || tx.send(3).unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok(3));
    /// ```
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        super::block_on_thread(self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(Err(RecvError(())));
        }
        let mut st = lock(&this.inner);
        if let Some(v) = st.value.take() {
            this.finished = true;
            return Poll::Ready(Ok(v));
        }
        if st.sender_gone {
            this.finished = true;
            return Poll::Ready(Err(RecvError(())));
        }
        match &st.rx_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.rx_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> futures_core::FusedFuture for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (value, waker) = {
            let mut st = lock(&self.inner);
            st.receiver_gone = true;
            (st.value.take(), st.tx_waker.take())
        };
        if let Some(w) = waker {
            w.wake();
        }
        drop(value);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("finished", &self.finished)
            .finish()
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "oneshot channel is empty",
            TryRecvError::Closed => "oneshot channel is closed",
        })
    }
}

impl std::error::Error for TryRecvError {}
