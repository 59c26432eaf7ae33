//! Friendly errors for `select!` arms that are not futures.
//!
//! `select!` sorts its arm expressions by autoref specialization (`(&e).__waza_arm_kind()`,
//! see `select.rs`), in method-lookup order:
//!
//! 1. `&self` on `E`: channel operations ([`ChannelArmTag`](crate::select::ChannelArmTag)),
//!    and a channel's `Receiver` / `Sender` itself (the tags below);
//! 2. `&self` on `&E`: any `IntoFuture` ([`FutureArmTag`](crate::select::FutureArmTag));
//! 3. `&mut self` on `&E`: anything else ([`NotAFutureTag`]).
//!
//! Without level 3 a non-future failed method lookup and rustc's error named the macro's
//! internals. Levels 1 (channel ends) and 3 return markers whose `into_arm` has a bound
//! that nothing implements, carrying `#[diagnostic::on_unimplemented]`: the error says
//! "`{Self}` is not a future" at the user's expression, with a hint (`.recv()` /
//! `.send(v)` for channel ends). The would-be arm type is a projection of that
//! unimplemented trait, so rustc reports nothing further.

use crate::select::{FutureArm, FutureKind};
use crate::{Receiver, Sender};
use core::future::Pending;

/// Last-resort tag of `select!`: an arm expression that is neither a channel operation
/// nor a future. Its method takes `&mut self`, so autoref specialization reaches it only
/// after [`FutureArmTag`](crate::select::FutureArmTag) (which needs `IntoFuture`) failed.
pub trait NotAFutureTag {
    /// Classifies the arm expression as not a future.
    fn __waza_arm_kind(&mut self) -> NotAFutureKind {
        NotAFutureKind
    }
}

impl<E: ?Sized> NotAFutureTag for &E {}

/// Marker returned by [`NotAFutureTag::__waza_arm_kind`].
#[derive(Debug, Clone, Copy)]
pub struct NotAFutureKind;

impl NotAFutureKind {
    /// Always a compile error, at the arm: the bound is implemented by nothing.
    pub fn into_arm<E: SelectArmFuture>(self, _e: E) -> FutureArm<Pending<E::Output>> {
        FutureKind.into_arm(core::future::pending())
    }
}

/// Implemented by nothing: reached only for a `select!` arm expression that is not a
/// future.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a future",
    label = "`{Self}` is not a future",
    note = "a `select!` arm needs a future after `=`: a channel operation such as \
            `rx.recv()` or `tx.send(v)`, an `async` block, or any other future"
)]
pub trait SelectArmFuture {
    /// The arm's would-be output.
    type Output;
}

/// `select!` tag of a channel's [`Receiver`] itself (not an operation on it).
pub trait ReceiverArmTag {
    /// Classifies the arm expression as a receiver used where `recv()` was meant.
    fn __waza_arm_kind(&self) -> ReceiverKind {
        ReceiverKind
    }
}

impl<T> ReceiverArmTag for Receiver<T> {}

/// Marker returned by [`ReceiverArmTag::__waza_arm_kind`].
#[derive(Debug, Clone, Copy)]
pub struct ReceiverKind;

impl ReceiverKind {
    /// Always a compile error: the bound is implemented by nothing.
    pub fn into_arm<R: ReceiverIsNotAFuture>(self, _rx: R) -> FutureArm<Pending<R::Output>> {
        FutureKind.into_arm(core::future::pending())
    }
}

/// Implemented by nothing: a `Receiver` used as a `select!` arm.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a future",
    label = "a channel receiver is not a future",
    note = "to receive in a `select!` arm, call `.recv()`: `v = rx.recv() => …`"
)]
pub trait ReceiverIsNotAFuture {
    /// The arm's would-be output.
    type Output;
}

/// `select!` tag of a channel's [`Sender`] itself (not an operation on it).
pub trait SenderArmTag {
    /// Classifies the arm expression as a sender used where `send(v)` was meant.
    fn __waza_arm_kind(&self) -> SenderKind {
        SenderKind
    }
}

impl<T> SenderArmTag for Sender<T> {}

/// Marker returned by [`SenderArmTag::__waza_arm_kind`].
#[derive(Debug, Clone, Copy)]
pub struct SenderKind;

impl SenderKind {
    /// Always a compile error: the bound is implemented by nothing.
    pub fn into_arm<S: SenderIsNotAFuture>(self, _tx: S) -> FutureArm<Pending<S::Output>> {
        FutureKind.into_arm(core::future::pending())
    }
}

/// Implemented by nothing: a `Sender` used as a `select!` arm.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a future",
    label = "a channel sender is not a future",
    note = "to send in a `select!` arm, call `.send(v)`: `res = tx.send(v) => …`"
)]
pub trait SenderIsNotAFuture {
    /// The arm's would-be output.
    type Output;
}
