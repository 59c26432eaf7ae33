//! Stand-ins for the crates the macros expand against, so the expansions can be compiled
//! and run here without the channel driver or the runtime.
//!
//! - `__private` mirrors `waza_channel::__private` (the select driver interface) with a
//!   simple driver: arms are polled in written order (`biased`) or from a rotating start.
//! - `MockChan` is a single-threaded queue whose `recv()` future is both a `Future` and a
//!   channel operation, to check that autoref specialization picks the channel arm.
//! - `rt` mirrors `waza::Runtime::builder()` and records the worker count it was given.
#![allow(dead_code, unused_imports)]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    /// Events in the order they happened ("drop arm", "drop select", ...).
    pub static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Appends an event to [`LOG`].
pub fn log(event: impl Into<String>) {
    LOG.with(|l| l.borrow_mut().push(event.into()));
}

/// Takes every event logged so far.
pub fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

pub mod __private {
    use super::*;
    pub use core::future::poll_fn;

    pub struct Select {
        n_arms: usize,
        biased: bool,
        has_default: bool,
        start: usize,
        /// Arms turned off (precondition false or pattern refuted), as the real driver
        /// keeps them.
        disabled: Vec<bool>,
    }

    thread_local! {
        static ROTATE: Cell<usize> = const { Cell::new(0) };
    }

    impl Select {
        pub fn new(n_arms: usize, biased: bool, has_default: bool) -> Select {
            let start = ROTATE.with(|r| {
                r.set(r.get() + 1);
                r.get()
            });
            Select {
                n_arms,
                biased,
                has_default,
                start,
                disabled: vec![false; n_arms],
            }
        }

        /// # Safety
        ///
        /// Mirrors the real driver's contract (only this select's arms are polled).
        pub unsafe fn poll_with<O>(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut poll_arm: impl FnMut(usize, &mut ArmTurn<'_, '_>) -> ArmPoll<O>,
        ) -> Poll<SelectOutcome<O>> {
            let this = self.get_mut();
            let mut any_enabled = false;
            for k in 0..this.n_arms {
                let i = if this.biased {
                    k
                } else {
                    (this.start + k) % this.n_arms
                };
                if this.disabled[i] {
                    continue;
                }
                let mut turn = ArmTurn { cx: &mut *cx };
                match poll_arm(i, &mut turn) {
                    ArmPoll::Ready(o) => return Poll::Ready(SelectOutcome::Arm(o)),
                    ArmPoll::Pending => any_enabled = true,
                    ArmPoll::Disabled => this.disabled[i] = true,
                }
            }
            if this.has_default {
                return Poll::Ready(SelectOutcome::Default);
            }
            assert!(
                any_enabled,
                "all select! arms are disabled and there is no `default` arm"
            );
            Poll::Pending
        }
    }

    impl Drop for Select {
        fn drop(&mut self) {
            log("drop select");
        }
    }

    pub struct ArmTurn<'a, 'b> {
        cx: &'a mut Context<'b>,
    }

    impl<'b> ArmTurn<'_, 'b> {
        pub fn context(&mut self) -> &mut Context<'b> {
            self.cx
        }
    }

    pub enum ArmPoll<O> {
        Ready(O),
        Pending,
        Disabled,
    }

    pub enum SelectOutcome<O> {
        Arm(O),
        Default,
    }

    pub type Matches<'a, O> = Option<&'a dyn Fn(&O) -> bool>;

    pub trait SelectArm {
        type Output;
        fn poll_arm(
            self: Pin<&mut Self>,
            turn: &mut ArmTurn<'_, '_>,
            matches: Matches<'_, Self::Output>,
        ) -> ArmPoll<Self::Output>;
    }

    /// A ready output through the arm's pattern, as the real arms apply it.
    fn checked<O>(p: Poll<O>, matches: Matches<'_, O>) -> ArmPoll<O> {
        match p {
            Poll::Pending => ArmPoll::Pending,
            Poll::Ready(v) if matches.map_or(true, |m| m(&v)) => ArmPoll::Ready(v),
            Poll::Ready(_) => ArmPoll::Disabled,
        }
    }

    pub struct ChannelKind;
    pub struct FutureKind;

    pub trait ChannelArmTag {
        fn __waza_arm_kind(&self) -> ChannelKind {
            ChannelKind
        }
    }

    pub trait FutureArmTag {
        fn __waza_arm_kind(&self) -> FutureKind {
            FutureKind
        }
    }

    impl<F: IntoFuture> FutureArmTag for &F {}
    // Imported by the expansion for its "not a future" errors; no mock arm needs them.
    pub trait NotAFutureTag {}
    pub trait ReceiverArmTag {}
    pub trait SenderArmTag {}
    impl ChannelArmTag for MockRecv<'_> {}

    impl ChannelKind {
        pub fn into_arm(self, op: MockRecv<'_>) -> ChannelArm<'_> {
            ChannelArm { op }
        }
    }

    impl FutureKind {
        pub fn into_arm<F: IntoFuture>(self, f: F) -> FutureArm<F::IntoFuture> {
            FutureArm {
                fut: Box::pin(f.into_future()),
            }
        }
    }

    pub struct ChannelArm<'a> {
        op: MockRecv<'a>,
    }

    impl SelectArm for ChannelArm<'_> {
        type Output = Option<i32>;
        fn poll_arm(
            self: Pin<&mut Self>,
            turn: &mut ArmTurn<'_, '_>,
            matches: Matches<'_, Option<i32>>,
        ) -> ArmPoll<Option<i32>> {
            let chan = self.get_mut().op.chan;
            chan.channel_polls.set(chan.channel_polls.get() + 1);
            checked(chan.poll_recv(turn.context()), matches)
        }
    }

    pub struct FutureArm<F> {
        fut: Pin<Box<F>>,
    }

    impl<F: Future> SelectArm for FutureArm<F> {
        type Output = F::Output;
        fn poll_arm(
            mut self: Pin<&mut Self>,
            turn: &mut ArmTurn<'_, '_>,
            matches: Matches<'_, F::Output>,
        ) -> ArmPoll<F::Output> {
            checked(self.fut.as_mut().poll(turn.context()), matches)
        }
    }
}

/// A single-threaded queue; `None` from `recv` once closed and empty.
#[derive(Default)]
pub struct MockChan {
    pub items: RefCell<VecDeque<i32>>,
    pub closed: Cell<bool>,
    /// Polls made through the select driver's channel arm.
    pub channel_polls: Cell<usize>,
    /// Polls made through `Future::poll`.
    pub future_polls: Cell<usize>,
}

impl MockChan {
    pub fn with(items: &[i32]) -> Self {
        let c = MockChan::default();
        c.items.borrow_mut().extend(items);
        c
    }

    pub fn recv(&self) -> MockRecv<'_> {
        MockRecv { chan: self }
    }

    fn poll_recv(&self, _cx: &mut Context<'_>) -> Poll<Option<i32>> {
        match self.items.borrow_mut().pop_front() {
            Some(v) => Poll::Ready(Some(v)),
            None if self.closed.get() => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

pub struct MockRecv<'a> {
    chan: &'a MockChan,
}

impl Future for MockRecv<'_> {
    type Output = Option<i32>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        self.chan.future_polls.set(self.chan.future_polls.get() + 1);
        self.chan.poll_recv(cx)
    }
}

/// A future that is pending `n` times (waking itself), then ready with `value`; logs its drop.
pub struct Delayed<T> {
    pub pending_left: usize,
    pub value: Option<T>,
    pub name: &'static str,
}

pub fn delayed<T: Unpin>(name: &'static str, pending: usize, value: T) -> Delayed<T> {
    Delayed {
        pending_left: pending,
        value: Some(value),
        name,
    }
}

impl<T: Unpin> Future for Delayed<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if self.pending_left > 0 {
            self.pending_left -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.value.take().expect("polled after completion"))
    }
}

impl<T> Drop for Delayed<T> {
    fn drop(&mut self) {
        log(format!("drop {}", self.name));
    }
}

/// Mirrors `waza::Runtime` for `#[main]` / `#[test]`.
pub mod rt {
    use std::cell::Cell;
    use std::future::Future;

    thread_local! {
        /// `(workers given to the builder, runtimes built)`.
        pub static BUILT: Cell<(Option<usize>, usize)> = const { Cell::new((None, 0)) };
    }

    pub struct Runtime;

    #[derive(Default)]
    pub struct Builder {
        workers: Option<usize>,
    }

    impl Runtime {
        pub fn builder() -> Builder {
            Builder::default()
        }

        pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
            futures::executor::block_on(fut)
        }
    }

    impl Builder {
        pub fn workers(&mut self, n: usize) -> &mut Self {
            self.workers = Some(n);
            self
        }

        pub fn build(&mut self) -> std::io::Result<Runtime> {
            BUILT.with(|b| b.set((self.workers, b.get().1 + 1)));
            Ok(Runtime)
        }
    }
}
