//! The select driver: Go's `selectgo` with a single-CAS owner cell.
//!
//! # Handles
//!
//! * [`Select`] — lives pinned inside the future that `select!` expands to and owns one
//!   [`SelectCell`], the arm-permutation RNG and the arm count.
//! * Arm futures — one per arm, declared *after* the `Select` so they are dropped first.
//!   A channel arm ([`ChannelArm`]) is a [`Send`](crate::Send) or [`Recv`](crate::Recv)
//!   future driven with the select's cell as owner; a future arm ([`FutureArm`]) is any
//!   other future, polled with the task's context.
//! * Waiter nodes — heap blocks owned by the channels (`waiters.rs`); a node of a select
//!   arm holds `Owner::Select { cell, arm }`.
//!
//! # The cell's state word
//!
//! `state: AtomicUsize` = `arm << 3 | RETRY | tag`, where `tag` is
//!
//! * `IDLE` — the owner is polling; nodes of this cell are not claimable.
//! * `WAITING` — the owner sleeps; the first counterparty to CAS `WAITING -> SELECTED(arm)`
//!   wins the whole select.
//! * `SELECTED` — a counterparty completed arm `arm`; the node already holds the result.
//! * `DONE` — the owner finished by itself (an arm was ready, or `default` ran).
//!
//! and `RETRY` is set (only while `IDLE`) by a counterparty that skipped a node of this
//! cell because the owner was busy. `waker` is written by the owner only while the state
//! is `IDLE`; a counterparty clones it only after winning `WAITING -> SELECTED` and while it
//! still holds the channel lock of the node it claimed.
//!
//! # Protocol
//!
//! 1. **Counterparty** (holding one channel lock, walking a wait queue): skip nodes of its
//!    own cell; complete solo nodes; for a select node CAS `WAITING -> SELECTED(arm)`. On
//!    success complete the transfer into/out of the node, unlink it, clone the waker and
//!    wake after unlocking. On `IDLE` set `RETRY` and skip the node. On `SELECTED`/`DONE`
//!    unlink the node (lazily; the arm frees it) and skip it.
//! 2. **Owner poll** ([`Select::poll_with`]): if `SELECTED(k)`, poll arm `k` only: the arm
//!    takes its channel lock, which orders it after the counterparty's completion, and
//!    takes the result. If `WAITING`, CAS to `IDLE` (failure means a counterparty selected
//!    us: go to the previous case). Clear `RETRY`, then poll every enabled arm in a random
//!    permutation (Fisher–Yates, written order if `biased`). A channel arm locks its
//!    channel, tries to complete at once (it may claim `WAITING` counterparties), else
//!    links its node — or, in try-only mode (the select has a `default`), does not. The
//!    first ready arm wins: state `DONE`, return. None ready: `default` if present; else
//!    store the waker and CAS `IDLE -> WAITING`. If that fails, `RETRY` was set: run
//!    another round (at most [`MAX_ROUNDS`]), then wake ourselves and return `Pending`
//!    (the state stays `IDLE`, the next poll starts over).
//! 3. **Exactly one arm**: a remote completion needs the single CAS from `WAITING`, which
//!    can succeed once per sleep; the owner completes an arm only while the cell is `IDLE`,
//!    when no counterparty can claim. **No lost wake-up**: a counterparty that passed over
//!    an `IDLE` node either did so before the owner cleared `RETRY` — then it held the
//!    channel lock before the owner's arm poll takes it, and that arm poll sees its effect
//!    — or after, and then `RETRY` makes the owner's publish fail and re-check.
//! 4. A select with a send and a recv arm on one rendezvous channel never pairs with
//!    itself (own-cell nodes are skipped). Two selects on opposite ends of a rendezvous
//!    channel always pair: the one that publishes `WAITING` last is claimed by the other's
//!    next round.
//! 5. **Dropping**: each arm's `Drop` locks its channel and unlinks and frees its node; a
//!    recv node already holding a value gives it back to the channel front. Arms drop
//!    before the `Select`, so no node outlives the cell; `SelectCell` counts live nodes
//!    and debug-asserts zero when dropped.
//!
//! # Deviation from the brief's interface
//!
//! None: the names and signatures below are the ones the `select!` macro is written
//! against.

use core::future::{Future, IntoFuture};
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Ordering, WakerSlot};

/// Rounds of "poll all arms, try to publish" before giving up and self-waking.
pub const MAX_ROUNDS: usize = 2;

/// Bits of the state word holding the tag.
const TAG_MASK: usize = 0b011;
/// Tag: the owner is polling; its nodes are not claimable.
const IDLE: usize = 0b000;
/// Tag: the owner sleeps; the first `WAITING -> SELECTED` CAS wins the select.
const WAITING: usize = 0b001;
/// Tag: a counterparty completed arm `state >> ARM_SHIFT`.
const SELECTED: usize = 0b010;
/// Tag: the owner finished the select itself; terminal.
const DONE: usize = 0b011;
/// Flag (only with `IDLE`): a counterparty skipped one of our nodes; re-check.
const RETRY: usize = 0b100;
/// Position of the selected arm's index in the state word.
const ARM_SHIFT: usize = 3;

/// What a counterparty's claim attempt on a select node found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// `WAITING -> SELECTED(arm)` succeeded: complete the node.
    Won,
    /// The owner is polling (`IDLE`); `RETRY` is now set. Skip the node.
    Busy,
    /// The select already finished (`SELECTED`/`DONE`). Unlink the node.
    Finished,
}

/// The owner cell of one select: the state word and the owner's waker.
///
/// Lives pinned inside [`Select`]; waiter nodes point at it.
#[derive(Debug)]
pub struct SelectCell {
    /// `arm << ARM_SHIFT | RETRY | tag`. Invariant: only the owner leaves `IDLE` or
    /// `SELECTED`, only a counterparty leaves `WAITING` towards `SELECTED`, and nobody
    /// leaves `DONE`.
    state: AtomicUsize,
    /// Invariant: written by the owner only while `IDLE`; read by a counterparty only
    /// after it won `WAITING -> SELECTED`, under the lock of the claimed node's channel.
    waker: WakerSlot,
    /// Waiter nodes of channels that point at this cell (checked in `Drop`).
    live_nodes: AtomicUsize,
}

// SAFETY: `state` and `live_nodes` are atomics; `waker` is written only by the owner while
// IDLE and read only by the counterparty that won WAITING -> SELECTED (module protocol), so
// the cell can be shared across threads.
unsafe impl Sync for SelectCell {}
// SAFETY: all fields are `Send` (`Waker` is `Send`).
unsafe impl Send for SelectCell {}

impl SelectCell {
    fn new() -> Self {
        SelectCell {
            state: AtomicUsize::new(IDLE),
            waker: WakerSlot::new(),
            live_nodes: AtomicUsize::new(0),
        }
    }

    /// Protocol step 1: a counterparty tries to select arm `arm`.
    pub(crate) fn try_claim(&self, arm: usize) -> Claim {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let (next, claim) = match s & TAG_MASK {
                WAITING => (SELECTED | arm << ARM_SHIFT, Claim::Won),
                IDLE if s & RETRY != 0 => return Claim::Busy,
                IDLE => (s | RETRY, Claim::Busy),
                _ => return Claim::Finished,
            };
            match self
                .state
                .compare_exchange(s, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return claim,
                Err(actual) => s = actual,
            }
        }
    }

    /// The owner's waker.
    ///
    /// # Safety
    ///
    /// The caller won [`SelectCell::try_claim`] and still holds the lock of the channel
    /// whose node it claimed (so the owner cannot be writing the waker).
    pub(crate) unsafe fn waker(&self) -> Option<Waker> {
        // SAFETY: forwarded from the caller's contract.
        unsafe { self.waker.get() }
    }

    pub(crate) fn node_added(&self) {
        self.live_nodes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn node_removed(&self) {
        self.live_nodes.fetch_sub(1, Ordering::Relaxed);
    }

    /// Protocol step 2, entry: leave `WAITING` (or find out that an arm was selected).
    fn begin_poll(&self) -> Option<usize> {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            match s & TAG_MASK {
                SELECTED => return Some(s >> ARM_SHIFT),
                DONE => panic!("select polled after it completed"),
                WAITING => {
                    match self
                        .state
                        .compare_exchange(s, IDLE, Ordering::AcqRel, Ordering::Acquire)
                    {
                        Ok(_) => return None,
                        Err(actual) => s = actual,
                    }
                }
                _ => return None,
            }
        }
    }

    /// Owner: start a round (clears `RETRY`; only the owner leaves `IDLE`).
    fn clear_retry(&self) {
        self.state.store(IDLE, Ordering::Release);
    }

    /// Owner: the select finished.
    fn finish(&self) {
        self.state.store(DONE, Ordering::Release);
    }

    /// Owner: store the waker and become claimable; `false` if `RETRY` was set.
    fn publish(&self, waker: &Waker) -> bool {
        // SAFETY: the owner writes the waker only here, while the state is IDLE; no
        // counterparty reads it before winning WAITING -> SELECTED, which needs the CAS
        // below to succeed first (release orders the write before it).
        unsafe { self.waker.set(waker) };
        self.state
            .compare_exchange(IDLE, WAITING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl Drop for SelectCell {
    fn drop(&mut self) {
        debug_assert_eq!(
            self.live_nodes.load(Ordering::Relaxed),
            0,
            "a select arm's waiter node outlived its select"
        );
    }
}

/// The state of one `select!` invocation: owner cell, RNG and arm layout.
///
/// Used by the code `select!` expands to; not meant to be used directly.
#[derive(Debug)]
pub struct Select {
    cell: SelectCell,
    rng: u64,
    n_arms: usize,
    biased: bool,
    has_default: bool,
    _pinned: PhantomPinned,
}

/// What polling one arm gave.
#[derive(Debug)]
pub enum ArmPoll<O> {
    /// The arm completed (and its pattern matched) with this output.
    Ready(O),
    /// The arm is waiting.
    Pending,
    /// The arm is off: its precondition was false or its pattern did not match.
    Disabled,
}

/// The result of a whole select.
#[derive(Debug)]
pub enum SelectOutcome<O> {
    /// An arm won with this output.
    Arm(O),
    /// No arm was ready and the select has a `default` arm.
    Default,
}

/// What an arm needs while being polled: the task context and, for channel arms, the
/// select's cell and the arm's index.
#[derive(Debug)]
pub struct ArmCx<'a, 'b> {
    cell: &'a SelectCell,
    arm: usize,
    cx: &'a mut Context<'b>,
    try_only: bool,
}

impl<'a, 'b> ArmCx<'a, 'b> {
    /// The task context (for future arms).
    pub fn context(&mut self) -> &mut Context<'b> {
        self.cx
    }

    pub(crate) fn cell(&self) -> &SelectCell {
        self.cell
    }

    pub(crate) fn arm(&self) -> usize {
        self.arm
    }

    pub(crate) fn try_only(&self) -> bool {
        self.try_only
    }
}

impl Select {
    /// A select over `n_arms` arms (`default` not counted).
    pub fn new(n_arms: usize, biased: bool, has_default: bool) -> Select {
        Select {
            cell: SelectCell::new(),
            rng: if biased { 0 } else { seed() },
            n_arms,
            biased,
            has_default,
            _pinned: PhantomPinned,
        }
    }

    /// One poll of the whole select; `poll_arm(i, acx)` polls arm `i`.
    ///
    /// # Panics
    ///
    /// If every arm is disabled and there is no `default` arm, or if polled again after
    /// it returned `Ready`.
    pub fn poll_with<O>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut poll_arm: impl FnMut(usize, &mut ArmCx<'_, '_>) -> ArmPoll<O>,
    ) -> Poll<SelectOutcome<O>> {
        if crate::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        // SAFETY: nothing below moves out of `*self`; `cell` stays where it is pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if let Some(k) = this.cell.begin_poll() {
            if let ArmPoll::Ready(o) = this.poll_one(k, cx, false, &mut poll_arm) {
                this.cell.finish();
                return Poll::Ready(SelectOutcome::Arm(o));
            }
            // Pattern did not match: the arm disabled itself; keep selecting.
        }
        for _ in 0..MAX_ROUNDS {
            this.cell.clear_retry();
            match this.round(cx, &mut poll_arm) {
                Some(outcome) => {
                    this.cell.finish();
                    return Poll::Ready(outcome);
                }
                None if this.cell.publish(cx.waker()) => {
                    crate::debug::report(crate::debug::WaitOp::Select, None);
                    return Poll::Pending;
                }
                None => {}
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Polls every arm once in (random) order; `Some` if the select is finished.
    fn round<O>(
        &mut self,
        cx: &mut Context<'_>,
        poll_arm: &mut impl FnMut(usize, &mut ArmCx<'_, '_>) -> ArmPoll<O>,
    ) -> Option<SelectOutcome<O>> {
        let mut order = Order::new(self.n_arms);
        if !self.biased {
            order.shuffle(&mut self.rng);
        }
        let mut any_enabled = false;
        for pos in 0..order.len() {
            match self.poll_one(order.get(pos), cx, self.has_default, poll_arm) {
                ArmPoll::Ready(o) => return Some(SelectOutcome::Arm(o)),
                ArmPoll::Pending => any_enabled = true,
                ArmPoll::Disabled => {}
            }
        }
        if self.has_default {
            return Some(SelectOutcome::Default);
        }
        assert!(
            any_enabled,
            "all select! arms are disabled and there is no `default` arm"
        );
        None
    }

    fn poll_one<O>(
        &self,
        arm: usize,
        cx: &mut Context<'_>,
        try_only: bool,
        poll_arm: &mut impl FnMut(usize, &mut ArmCx<'_, '_>) -> ArmPoll<O>,
    ) -> ArmPoll<O> {
        let mut acx = ArmCx {
            cell: &self.cell,
            arm,
            cx,
            try_only,
        };
        poll_arm(arm, &mut acx)
    }
}

/// An arm order; no heap allocation for up to 64 arms.
enum Order {
    Inline([u8; 64], usize),
    Heap(Vec<usize>),
}

/// `0, 1, …, 63`: copied whole (wide moves) rather than written byte by byte, which
/// would stall the wide reads that move the `Order` (store forwarding fails).
const IDENTITY: [u8; 64] = {
    let mut a = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        a[i] = i as u8;
        i += 1;
    }
    a
};

impl Order {
    #[inline]
    fn new(n: usize) -> Self {
        if n <= 64 {
            Order::Inline(IDENTITY, n)
        } else {
            Order::Heap((0..n).collect())
        }
    }

    fn shuffle(&mut self, rng: &mut u64) {
        match self {
            Order::Inline(a, n) => fisher_yates(&mut a[..*n], rng),
            Order::Heap(v) => fisher_yates(v, rng),
        }
    }

    fn len(&self) -> usize {
        match self {
            Order::Inline(_, n) => *n,
            Order::Heap(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> usize {
        match self {
            Order::Inline(a, _) => a[i] as usize,
            Order::Heap(v) => v[i],
        }
    }
}

fn fisher_yates<I: Copy>(a: &mut [I], rng: &mut u64) {
    for i in (1..a.len()).rev() {
        a.swap(i, below(next_random(rng), i + 1));
    }
}

/// Maps a random `r` to `0..n` by a widening multiply (Lemire's method, no division).
fn below(r: u64, n: usize) -> usize {
    ((u128::from(r) * n as u128) >> 64) as usize
}

/// xorshift64*; `state` must be non-zero.
fn next_random(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Under loom every execution must be deterministic (replayed paths must make the same
/// choices), so the arm order comes from a fixed seed.
#[cfg(loom)]
fn seed() -> u64 {
    0x9E37_79B9_7F4A_7C15
}

/// A per-select seed: a thread-local counter mixed with the thread's own state.
#[cfg(not(loom))]
fn seed() -> u64 {
    std::thread_local! {
        static NEXT: core::cell::Cell<u64> = core::cell::Cell::new({
            let local = 0u8;
            (&local as *const u8 as u64) ^ 0x9E37_79B9_7F4A_7C15
        });
    }
    NEXT.with(|n| {
        let mut s = n.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        n.set(s);
        // splitmix64 finalizer: decorrelates consecutive seeds.
        s = (s ^ (s >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        s = (s ^ (s >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (s ^ (s >> 31)) | 1
    })
}

/// One arm of a select, polled by the select driver.
pub trait SelectArm {
    /// What the arm yields when it wins.
    type Output;
    /// Polls the arm; channel arms use `acx`'s cell as their owner.
    fn poll_arm(self: Pin<&mut Self>, acx: &mut ArmCx<'_, '_>) -> Poll<Self::Output>;
}

/// Marker returned by [`ChannelArmTag::__waza_arm_kind`]: the arm is a channel operation.
#[derive(Debug, Clone, Copy)]
pub struct ChannelKind;

/// Marker returned by [`FutureArmTag::__waza_arm_kind`]: the arm is any other future.
#[derive(Debug, Clone, Copy)]
pub struct FutureKind;

/// Autoref-specialization tag implemented by the channel's send and recv futures.
pub trait ChannelArmTag {
    /// Classifies the arm expression as a channel operation.
    fn __waza_arm_kind(&self) -> ChannelKind {
        ChannelKind
    }
}

/// Autoref-specialization tag implemented for references to any `IntoFuture`.
pub trait FutureArmTag {
    /// Classifies the arm expression as a plain future.
    fn __waza_arm_kind(&self) -> FutureKind {
        FutureKind
    }
}

impl<F: IntoFuture> FutureArmTag for &F {}

pub(crate) mod sealed {
    use super::ArmCx;
    use core::task::Poll;

    /// A channel operation that can run as a select arm (sealed: the crate's futures only).
    pub trait ChannelOp: Unpin {
        /// The operation's output.
        type Output;
        /// Polls the operation with the select's cell as owner.
        fn poll_select(&mut self, acx: &mut ArmCx<'_, '_>) -> Poll<Self::Output>;
    }
}

impl ChannelKind {
    /// Wraps a channel operation as a select arm.
    pub fn into_arm<Op: sealed::ChannelOp>(self, op: Op) -> ChannelArm<Op> {
        ChannelArm { op }
    }
}

impl FutureKind {
    /// Wraps any future as a select arm.
    pub fn into_arm<F: IntoFuture>(self, f: F) -> FutureArm<F::IntoFuture> {
        FutureArm {
            fut: f.into_future(),
        }
    }
}

/// A channel send or recv running as a select arm.
#[derive(Debug)]
pub struct ChannelArm<Op> {
    op: Op,
}

impl<Op: sealed::ChannelOp> SelectArm for ChannelArm<Op> {
    type Output = Op::Output;
    fn poll_arm(self: Pin<&mut Self>, acx: &mut ArmCx<'_, '_>) -> Poll<Op::Output> {
        self.get_mut().op.poll_select(acx)
    }
}

/// Any future running as a select arm.
#[derive(Debug)]
pub struct FutureArm<F> {
    fut: F,
}

impl<F: Future> SelectArm for FutureArm<F> {
    type Output = F::Output;
    fn poll_arm(self: Pin<&mut Self>, acx: &mut ArmCx<'_, '_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `fut`: `FutureArm` never moves it and has no
        // `Drop` impl or `Unpin` impl that could break the pin guarantee.
        let fut = unsafe { self.map_unchecked_mut(|a| &mut a.fut) };
        fut.poll(acx.context())
    }
}

#[cfg(test)]
mod tests {
    use super::{below, fisher_yates, next_random, Order};

    /// `below` stays in range and reaches every value (deterministic RNG stream).
    #[test]
    fn below_covers_the_range() {
        let mut rng = 0x9E37_79B9_7F4A_7C15;
        for n in 1..=64usize {
            let mut seen = vec![0u32; n];
            for _ in 0..64 * n {
                let k = below(next_random(&mut rng), n);
                assert!(k < n, "below({n}) gave {k}");
                seen[k] += 1;
            }
            assert!(seen.iter().all(|&c| c > 0), "n = {n}: {seen:?}");
        }
    }

    /// A shuffled order is a permutation of `0..n`, for inline and heap orders.
    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = 12345;
        for n in [1, 2, 4, 63, 64, 65, 100] {
            let mut order = Order::new(n);
            order.shuffle(&mut rng);
            let mut got: Vec<usize> = (0..order.len()).map(|i| order.get(i)).collect();
            got.sort_unstable();
            assert_eq!(got, (0..n).collect::<Vec<_>>());
        }
        let mut a = [0u8; 0];
        fisher_yates(&mut a, &mut rng);
    }
}
