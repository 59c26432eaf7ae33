//! The sending half: [`Sender`], its [`Send`] future and the [`SendSink`] adapter.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::chan::{Chan, SendOp, TrySend};
use crate::closed::Closed;
use crate::hooks::WaitOp;
use crate::loom::{Arc, Ordering};
use crate::select::{arm_poll, sealed::ChannelOp, ArmPoll, ArmTurn, ChannelArmTag, Matches, Mode};
use crate::{SendError, TrySendError};

/// The sending half of a channel. Clone it for more producers.
///
/// The channel closes when the last `Sender` is dropped (receivers still drain it).
///
/// # Examples
///
/// ```
/// let (tx, rx) = waza_channel::unbounded();
/// let tx2 = tx.clone();
/// std::thread::spawn(move || tx2.send_blocking(1).unwrap()).join().unwrap();
/// tx.send_blocking(2).unwrap();
/// drop(tx);
/// assert_eq!(rx.recv_blocking(), Some(1));
/// assert_eq!(rx.recv_blocking(), Some(2));
/// assert_eq!(rx.recv_blocking(), None);
/// ```
pub struct Sender<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `v`, waiting for room (or, on a rendezvous channel, for a receiver).
    ///
    /// # Errors
    ///
    /// `Err(SendError(v))` if the channel is closed, also if it closes while waiting.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes either delivered the value exactly once
    /// or not at all (then the value is dropped with the future).
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = waza_channel::bounded(1);
    ///     tx.send(5).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(5));
    /// });
    /// ```
    pub fn send(&self, v: T) -> Send<'_, T> {
        Send {
            chan: &self.chan,
            op: SendOp::new(v),
        }
    }

    /// Sends `v` only if that can happen right now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when the buffer is full (rendezvous: no receiver is
    /// waiting), [`TrySendError::Closed`] when the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = waza_channel::rendezvous::<i32>();
    /// assert!(tx.try_send(1).unwrap_err().is_full());
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        match self.chan.try_send(v) {
            TrySend::Sent => Ok(()),
            TrySend::Full(v) => Err(TrySendError::Full(v)),
            TrySend::Closed(v) => Err(TrySendError::Closed(v)),
        }
    }

    /// Sends `v`, blocking the current thread while waiting. For plain OS threads.
    ///
    /// # Errors
    ///
    /// `Err(SendError(v))` if the channel is closed, also if it closes while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza_channel::rendezvous();
    /// let t = std::thread::spawn(move || tx.send_blocking("hi"));
    /// assert_eq!(rx.recv_blocking(), Some("hi"));
    /// t.join().unwrap().unwrap();
    /// ```
    ///
    /// # Panics
    ///
    /// On a thread whose runtime forbids blocking (a worker thread: see
    /// [`hooks`](crate::hooks)).
    #[track_caller]
    pub fn send_blocking(&self, v: T) -> Result<(), SendError<T>> {
        crate::hooks::check_blocking("Sender::send_blocking");
        let mut op = SendOp::new(v);
        let r = crate::blocking::block_on(|cx| op.poll(&self.chan, cx.waker()));
        op.cancel(&self.chan);
        r
    }

    /// Wraps a clone of this sender as a [`futures_sink::Sink`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::SinkExt;
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = waza_channel::unbounded();
    ///     let mut sink = tx.into_sink();
    ///     sink.send(3).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(3));
    /// });
    /// ```
    pub fn into_sink(self) -> SendSink<T> {
        SendSink {
            sender: self,
            op: None,
        }
    }

    /// Closes the channel (Go's `close(ch)`); `true` if this call closed it.
    ///
    /// Waiting senders get their values back; receivers drain the buffer, then get `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza_channel::unbounded::<()>();
    /// assert!(tx.close());
    /// assert!(!rx.close());
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Returns `true` if the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Number of buffered values (always 0 on a rendezvous channel).
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Returns `true` if no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.chan.len() == 0
    }

    /// Returns `true` if the buffer is full (always on a rendezvous channel, never on an
    /// unbounded one).
    pub fn is_full(&self) -> bool {
        self.chan.is_full()
    }

    /// Buffer capacity: `None` for unbounded, `Some(0)` for rendezvous.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(waza_channel::bounded::<u8>(3).0.capacity(), Some(3));
    /// assert_eq!(waza_channel::rendezvous::<u8>().0.capacity(), Some(0));
    /// assert_eq!(waza_channel::unbounded::<u8>().0.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// Waits until the channel is closed: nothing sent from now on can be received.
    ///
    /// A waza channel closes when the last [`Receiver`](crate::Receiver) is dropped, when
    /// either end calls `close()`, or when the last `Sender` is dropped (which cannot
    /// happen while this future borrows one). It completes at once if the channel is
    /// already closed. Values still buffered may yet be received: "closed" means no
    /// *new* value gets in. Typical use: stop producing when every consumer is gone.
    ///
    /// tokio's `Sender::closed` completes when every receiver is gone or the receiver
    /// called `close()`; waza's also completes when a sender called [`Sender::close`]
    /// (tokio's senders cannot close a channel).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes. A dropped future removes its registration from the
    /// channel; nothing is left behind.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = waza_channel::bounded::<u32>(1);
    ///     let consumer = std::thread::spawn(move || {
    ///         assert_eq!(rx.recv_blocking(), Some(1));
    ///         // `rx` is dropped here: the channel closes.
    ///     });
    ///     tx.send(1).await.unwrap();
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    ///     assert!(tx.send(2).await.is_err());
    ///     consumer.join().unwrap();
    /// });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed::new(&self.chan)
    }

    /// Returns `true` if both handles belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("chan", &*self.chan).finish()
    }
}

/// Future of [`Sender::send`].
///
/// `Unpin` (the value is never pinned), so it can be polled through `&mut`.
#[must_use = "futures do nothing unless polled"]
pub struct Send<'a, T> {
    chan: &'a Chan<T>,
    op: SendOp<T>,
}

impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if crate::hooks::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let r = this.op.poll(this.chan, cx.waker());
        if r.is_pending() {
            this.chan.report_wait(WaitOp::Send);
        }
        r
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        self.op.cancel(self.chan);
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send").finish_non_exhaustive()
    }
}

impl<T> ChannelArmTag for Send<'_, T> {}

impl<T> ChannelOp for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn chan_addr(&self) -> usize {
        self.chan.addr()
    }

    fn lock_into(&self, turn: &mut ArmTurn<'_, '_>) {
        self.chan.lock_into(turn.locks());
    }

    #[inline]
    fn poll_select(
        &mut self,
        turn: &mut ArmTurn<'_, '_>,
        matches: Matches<'_, Self::Output>,
    ) -> ArmPoll<Self::Output> {
        match turn.mode() {
            Mode::Poll { .. } | Mode::Try => {
                let try_only = turn.try_only(self.op.holds_node());
                arm_poll(self.op.poll_arm(self.chan, turn.party(try_only), matches))
            }
            Mode::TryLocked => self.chan.step_locked(turn, |st, cap, party, wakes| {
                self.op.step(st, cap, party, &mut None, wakes, matches)
            }),
            Mode::Probe | Mode::Lock | Mode::Published => ArmPoll::Pending,
        }
    }

    fn abandon(&mut self) {
        // Keep an undelivered value in the future: through `&mut`, it may be polled again.
        self.op.reset(self.chan);
    }

    fn after_publish(&self) {
        if self.op.holds_node() {
            self.chan.after_publish();
        }
    }
}

/// A [`futures_sink::Sink`] that sends into a channel; made by [`Sender::into_sink`].
///
/// `start_send` stores the value; it is sent by the next `poll_ready`/`poll_flush`.
/// `poll_close` flushes and then closes the channel for everyone (like Go's `close`).
pub struct SendSink<T> {
    sender: Sender<T>,
    op: Option<SendOp<T>>,
}

impl<T> SendSink<T> {
    /// The underlying sender.
    pub fn sender(&self) -> &Sender<T> {
        &self.sender
    }

    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        let Some(op) = self.op.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        if crate::hooks::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let r = op.poll(&self.sender.chan, cx.waker());
        if r.is_ready() {
            self.op = None;
        } else {
            self.sender.chan.report_wait(WaitOp::Send);
        }
        r
    }
}

impl<T> Unpin for SendSink<T> {}

impl<T> futures_sink::Sink<T> for SendSink<T> {
    type Error = SendError<T>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_pending(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
        let this = self.get_mut();
        if this.sender.is_closed() {
            return Err(SendError(item));
        }
        assert!(this.op.is_none(), "start_send called without poll_ready");
        this.op = Some(SendOp::new(item));
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_pending(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        let r = this.poll_pending(cx);
        if r.is_ready() {
            this.sender.close();
        }
        r
    }
}

impl<T> Drop for SendSink<T> {
    fn drop(&mut self) {
        if let Some(op) = self.op.as_mut() {
            op.cancel(&self.sender.chan);
        }
    }
}

impl<T> fmt::Debug for SendSink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSink")
            .field("sender", &self.sender)
            .field("pending", &self.op.is_some())
            .finish()
    }
}
