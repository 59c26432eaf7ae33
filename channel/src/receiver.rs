//! The receiving half: [`Receiver`] (also a `Stream`) and its [`Recv`] future.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::chan::{Chan, RecvOp, TryRecv, WatchOp};
use crate::hooks::WaitOp;
use crate::loom::{Arc, Ordering};
use crate::select::{arm_poll, sealed::ChannelOp, ArmPoll, ArmTurn, ChannelArmTag, Matches, Mode};
use crate::TryRecvError;

/// The receiving half of a channel. Clone it for more consumers; each value goes to
/// exactly one of them.
///
/// The channel closes when the last `Receiver` is dropped; buffered values are then
/// dropped and senders fail.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// futures::executor::block_on(async {
///     let (tx, mut rx) = waza_channel::bounded(4);
///     for i in 0..3 {
///         tx.send(i).await.unwrap();
///     }
///     drop(tx);
///     let all: Vec<i32> = (&mut rx).collect().await;
///     assert_eq!(all, [0, 1, 2]);
/// });
/// ```
pub struct Receiver<T> {
    pub(crate) chan: Arc<Chan<T>>,
    /// The `Stream` impl's registration: a watch node, never filled, so an abandoned
    /// `next()` leaves no value behind.
    stream: WatchOp,
    terminated: bool,
}

impl<T> Receiver<T> {
    pub(crate) fn new(chan: Arc<Chan<T>>) -> Self {
        Receiver {
            chan,
            stream: WatchOp::new(),
            terminated: false,
        }
    }

    /// Receives a value, waiting for one; `None` once the channel is closed and drained.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped after a value was handed to it but before
    /// it returned that value, the value goes back to the front of the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = waza_channel::unbounded();
    ///     tx.send(1).await.unwrap();
    ///     tx.close();
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&self) -> Recv<'_, T> {
        Recv {
            chan: &self.chan,
            op: RecvOp::new(),
        }
    }

    /// Receives a value, waiting for one: the same future as [`Receiver::recv`].
    ///
    /// This inherent method takes precedence over `StreamExt::next`, so `rx.next()`
    /// gets `recv`'s guarantees, also as a `select!` arm (where it is a receive arm, not
    /// an arbitrary future).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`Receiver::recv`].
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = waza_channel::bounded(1);
    ///     tx.send(7).await.unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.next().await, Some(7));
    ///     assert_eq!(rx.next().await, None);
    /// });
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Recv<'_, T> {
        self.recv()
    }

    /// Receives up to `limit` values into `buf`, waiting for the first; returns how many
    /// were appended.
    ///
    /// Waits until at least one value is available, then takes it and whatever else is
    /// available right now, up to `limit` in all, without waiting again. Returns 0 only
    /// when the channel is closed and drained, or at once when `limit == 0`. Values keep
    /// their channel order and are appended after what `buf` already holds. On a
    /// rendezvous channel "available" means a sender is waiting.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the only wait is for the first value, with [`Receiver::recv`]'s
    /// guarantee (a value handed to a dropped future goes back to the channel front);
    /// the rest are taken without waiting, in the same poll that returns them. A dropped
    /// future has appended nothing to `buf` and taken nothing from the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = waza_channel::unbounded();
    ///     for i in 0..5 {
    ///         tx.send(i).await.unwrap();
    ///     }
    ///     tx.close();
    ///     let mut buf = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
    ///     assert_eq!(rx.recv_many(&mut buf, 3).await, 2);
    ///     assert_eq!(buf, [0, 1, 2, 3, 4]);
    ///     assert_eq!(rx.recv_many(&mut buf, 3).await, 0, "closed and drained");
    /// });
    /// ```
    pub async fn recv_many(&self, buf: &mut Vec<T>, limit: usize) -> usize {
        if limit == 0 {
            return 0;
        }
        let Some(first) = self.recv().await else {
            return 0;
        };
        // Room first: the values are moved in under the channel lock, which should not
        // wait for an allocation.
        buf.reserve(limit.min(self.len() + 1));
        buf.push(first);
        // The rest of what is there now, under one lock.
        1 + self.chan.try_recv_many(buf, limit - 1)
    }

    /// Receives a value only if one is available right now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is available (rendezvous: no sender is waiting),
    /// [`TryRecvError::Closed`] if the channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza_channel::bounded(1);
    /// tx.try_send(9).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(9));
    /// assert_eq!(rx.try_recv(), Err(waza_channel::TryRecvError::Empty));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.chan.try_recv() {
            TryRecv::Got(v) => Ok(v),
            TryRecv::Empty => Err(TryRecvError::Empty),
            TryRecv::Closed => Err(TryRecvError::Closed),
        }
    }

    /// Receives a value, blocking the current thread while waiting. For plain OS threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza_channel::bounded(1);
    /// std::thread::spawn(move || tx.send_blocking(4).unwrap());
    /// assert_eq!(rx.recv_blocking(), Some(4));
    /// assert_eq!(rx.recv_blocking(), None);
    /// ```
    ///
    /// # Panics
    ///
    /// On a thread whose runtime forbids blocking (a worker thread: see
    /// [`hooks`](crate::hooks)).
    #[track_caller]
    pub fn recv_blocking(&self) -> Option<T> {
        crate::hooks::check_blocking("Receiver::recv_blocking");
        let mut op = RecvOp::new();
        let r = crate::blocking::block_on(|cx| op.poll(&self.chan, cx.waker()));
        op.cancel(&self.chan);
        r
    }

    /// Closes the channel (Go's `close(ch)`); `true` if this call closed it.
    ///
    /// Buffered values can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = waza_channel::unbounded();
    /// tx.try_send(1).unwrap();
    /// assert!(rx.close());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.try_recv().unwrap_err().is_closed());
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
    pub fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// Returns `true` if both handles belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver::new(self.chan.clone())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.stream.cancel(&self.chan);
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close_and_drain();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &*self.chan)
            .finish()
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        if crate::hooks::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let r = this.stream.poll(&this.chan, cx.waker());
        match r {
            Poll::Ready(None) => this.terminated = true,
            Poll::Pending => this.chan.report_wait(WaitOp::Recv),
            Poll::Ready(Some(_)) => {}
        }
        r
    }
}

impl<T> FusedStream for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

/// Future of [`Receiver::recv`]; always `Unpin`.
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    chan: &'a Chan<T>,
    op: RecvOp,
}

impl<T> Unpin for Recv<'_, T> {}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if crate::hooks::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let r = this.op.poll(this.chan, cx.waker());
        if r.is_pending() {
            this.chan.report_wait(WaitOp::Recv);
        }
        r
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.op.cancel(self.chan);
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").finish_non_exhaustive()
    }
}

impl<T> ChannelArmTag for Recv<'_, T> {}

impl<T> ChannelOp for Recv<'_, T> {
    type Output = Option<T>;

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
        matches: Matches<'_, Option<T>>,
    ) -> ArmPoll<Option<T>> {
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
        self.op.cancel(self.chan);
    }

    fn after_publish(&self) {}
}
