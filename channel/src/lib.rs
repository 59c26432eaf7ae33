//! Go-style MPMC channels for async Rust, with Go's `select`.
//!
//! Three flavours behind one [`Sender`]/[`Receiver`] pair, all multi-producer
//! multi-consumer and closable:
//!
//! | Go | waza |
//! |---|---|
//! | `make(chan T, n)` | [`bounded(n)`](bounded) |
//! | `make(chan T)` | [`rendezvous()`](rendezvous) (= `bounded(0)`) |
//! | — | [`unbounded()`](unbounded) |
//! | `ch <- v` | `tx.send(v).await`, [`Sender::send_blocking`] |
//! | `v, ok := <-ch` | `rx.recv().await` (`None` = closed and drained) |
//! | `close(ch)` | [`Sender::close`] / [`Receiver::close`] |
//! | `for v := range ch` | `while let Some(v) = rx.recv().await` / `Stream` |
//! | `select { … }` | [`select!`] |
//!
//! The crate needs no runtime: the futures work under any executor, and the blocking
//! calls let plain threads and tasks share a channel.
//!
//! # Guarantees
//!
//! * Every value sent successfully is received exactly once; values from one sender
//!   arrive in the order sent, across receivers, also when receives are dropped after a
//!   value was handed to them. One exception, on rendezvous channels with several
//!   receivers: there a value handed to a receive stays with it (the send paired with
//!   that receive), and if the receive is dropped the value goes back as a waiting
//!   sender, behind which another receiver may already have taken a later value.
//! * On a rendezvous channel a send completes only once a receiver has claimed the value.
//! * Cancel safety: a dropped `recv` future never loses a value (one already handed to it
//!   goes back to the channel front); a dropped `send` future delivered its value exactly
//!   once or not at all.
//! * In a [`select!`], exactly one arm takes effect; losing channel arms have no effect.
//!
//! # Examples
//!
//! ```
//! futures::executor::block_on(async {
//!     let (tx, rx) = waza_channel::rendezvous();
//!     let t = std::thread::spawn(move || {
//!         for i in 0..3 {
//!             tx.send_blocking(i).unwrap();
//!         }
//!     });
//!     let mut got = Vec::new();
//!     while let Some(v) = rx.recv().await {
//!         got.push(v);
//!     }
//!     t.join().unwrap();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

//!
//! Handles are `Send + Sync` only for `T: Send`, so a channel of `Rc`s stays on one
//! thread:
//!
//! ```compile_fail
//! let (tx, _rx) = waza_channel::unbounded::<std::rc::Rc<u8>>();
//! std::thread::spawn(move || drop(tx));
//! ```
//!
//! A `Send` future borrows its sender, so the sender cannot be dropped while it is
//! pending:
//!
//! ```compile_fail
//! let (tx, _rx) = waza_channel::bounded::<u8>(1);
//! let fut = tx.send(1);
//! drop(tx);
//! drop(fut);
//! ```

//!
//! The select driver behind [`select!`] is not public API: safe code cannot reach it, so
//! it cannot break the rule that a select outlives its arms' waiter nodes.
//!
//! ```compile_fail
//! let _ = waza_channel::select::Select::new(1, false, false);
//! ```
//!
//! Its hidden entry point for the macro is an `unsafe fn`:
//!
//! ```compile_fail,E0133
//! use core::task::{Context, Waker};
//! let mut sel = core::pin::pin!(waza_channel::__private::Select::new(1, false, true));
//! let mut cx = Context::from_waker(futures::task::noop_waker_ref());
//! let _ = sel.as_mut().poll_with(&mut cx, |_, _| waza_channel::__private::ArmPoll::<()>::Disabled);
//! ```

#![warn(missing_docs)]

mod arm_kind;
mod blocking;
mod chan;
mod closed;
mod error;
pub mod hooks;
#[cfg(not(any(loom, shuttle)))]
mod lock;
mod loom;
mod receiver;
mod ring;
mod select;
mod sender;
mod waiters;

pub use closed::Closed;
pub use error::{RecvError, SendError, TryRecvError, TrySendError};
pub use receiver::{Receiver, Recv};
pub use sender::{Send, SendSink, Sender};

use crate::chan::Chan;
use crate::loom::Arc;

/// Creates a channel holding at most `cap` values; `bounded(0)` is a rendezvous channel.
///
/// Any `cap` is accepted, up to `usize::MAX`: the channel allocates room for at most 1024
/// values up front, and the buffer of a larger channel grows as values arrive (it keeps its
/// largest size until the channel is dropped).
///
/// # Examples
///
/// ```
/// let (tx, rx) = waza_channel::bounded(2);
/// tx.try_send(1).unwrap();
/// tx.try_send(2).unwrap();
/// assert!(tx.try_send(3).unwrap_err().is_full());
/// assert_eq!(rx.len(), 2);
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    pair(Chan::new(Some(cap)))
}

/// Creates a channel with an unlimited buffer: sends never wait.
///
/// # Examples
///
/// ```
/// let (tx, rx) = waza_channel::unbounded();
/// for i in 0..1000 {
///     tx.try_send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// assert_eq!(rx.capacity(), None);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    pair(Chan::new(None))
}

/// Creates a rendezvous channel (Go's unbuffered `make(chan T)`): a send completes only
/// when a receiver takes the value.
///
/// # Examples
///
/// ```
/// let (tx, rx) = waza_channel::rendezvous::<u32>();
/// assert_eq!(tx.capacity(), Some(0));
/// assert!(tx.try_send(1).is_err()); // nobody is receiving
/// # drop(rx);
/// ```
pub fn rendezvous<T>() -> (Sender<T>, Receiver<T>) {
    bounded(0)
}

fn pair<T>(chan: Chan<T>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(chan);
    (Sender { chan: chan.clone() }, Receiver::new(chan))
}

/// Support for the code that [`select!`] expands to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::arm_kind::{
        NotAFutureKind, NotAFutureTag, ReceiverArmTag, ReceiverIsNotAFuture, ReceiverKind,
        SelectArmFuture, SenderArmTag, SenderIsNotAFuture, SenderKind,
    };
    pub use crate::select::{
        ArmPoll, ArmTurn, ChannelArm, ChannelArmTag, ChannelKind, FutureArm, FutureArmTag,
        FutureKind, Matches, Select, SelectArm, SelectOutcome,
    };
    pub use core::future::poll_fn;
    pub use waza_macros::select_internal;
}

/// Go's `select`: waits on several channel operations and futures, runs the one arm that
/// completes first (a random one among those ready, unless `biased;`).
///
/// ```text
/// waza_channel::select! {
///     v = rx.recv() => …,               // Option<T>
///     Some(v) = other.recv() => …,      // refutable: no match disables the arm
///     res = tx.send(42) => …,           // Result<(), SendError<T>>
///     x = fut, if flag => …,            // any future; precondition
///     default => …,                     // Go's: nothing ready right now
///     else => …,                        // tokio's: every arm disabled
/// }
/// ```
///
/// Exactly one arm takes effect: losing send/recv arms send and take nothing (a losing
/// send arm's value is dropped with the select, as in Go).
///
/// An arm is *disabled* when its precondition is false, or for the rest of the select
/// once its pattern refutes a value (a refuted channel value goes back to the channel).
/// The two fallbacks answer different questions:
///
/// | | `default => …` (Go) | `else => …` (tokio) |
/// |---|---|---|
/// | runs when | no enabled arm is ready at the moment of the check | every arm is disabled |
/// | an enabled arm that is pending | `default` runs at once, the select never waits | the select waits for it |
/// | every arm disabled | `default` runs | `else` runs |
///
/// Both may appear in one select: then `else` runs when every arm is disabled (also in
/// a select with no arms at all), `default` when some arm is enabled but none is ready.
///
/// # Panics
///
/// If every arm is disabled and there is neither an `else` nor a `default` arm.
///
/// # Examples
///
/// ```
/// futures::executor::block_on(async {
///     let (tx, rx) = waza_channel::bounded(1);
///     let (_quit_tx, quit_rx) = waza_channel::rendezvous::<()>();
///     tx.send(1).await.unwrap();
///     let got = waza_channel::select! {
///         Some(v) = rx.recv() => v,
///         _ = quit_rx.recv() => -1,
///     };
///     assert_eq!(got, 1);
///     let none = waza_channel::select! {
///         v = rx.recv() => v,
///         default => None,
///     };
///     assert_eq!(none, None, "nothing ready: default ran, nothing was taken");
///     let closed = waza_channel::select! {
///         Some(v) = rx.recv(), if false => v,
///         else => -2,
///     };
///     assert_eq!(closed, -2, "every arm disabled: else ran");
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => { $crate::__private::select_internal! { crate = $crate; $($tokens)* } };
}

#[cfg(test)]
extern crate self as waza_channel;
#[cfg(test)]
mod tests;
