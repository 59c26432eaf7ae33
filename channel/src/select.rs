//! The select driver: Go's `selectgo` with a single-CAS owner cell.
//!
//! # Handles
//!
//! * [`Select`] — lives pinned inside the future that `select!` expands to and owns one
//!   [`SelectCell`], the arm-permutation RNG, the arm count and which arms are off.
//! * Arm futures — one per arm, declared *after* the `Select` so they are dropped first.
//!   A channel arm ([`ChannelArm`]) is a [`Send`](crate::Send) or [`Recv`](crate::Recv)
//!   future (owned, or through `&mut`/`Pin<&mut>`, possibly polled before the select)
//!   driven with the select's cell as owner; a future arm ([`FutureArm`]) is any other
//!   future, polled with the task's context.
//! * Waiter nodes — heap blocks owned by the channels (`waiters.rs`); a node of a select
//!   arm holds `Owner::Select { cell, arm }`.
//!
//! # Soundness: who may drive arms
//!
//! A node that points at a cell must be gone before the cell. The macro guarantees it by
//! construction (the `Select` is declared before the arms, so the arms drop first, and
//! only its own arms are polled with its [`ArmTurn`]); [`Select::poll_with`] is an `unsafe
//! fn` stating exactly that, and an [`ArmTurn`] exists only inside it. Nothing here is
//! reachable from safe code outside the macro's expansion (`__private` is hidden, the
//! module private). As a last line of defence, a cell dropped with live nodes aborts the
//! process rather than leave channels pointing at freed memory.
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
//! is `IDLE`; a counterparty takes it only after winning `WAITING -> SELECTED` and while it
//! still holds the channel lock of the node it claimed.
//!
//! # Protocol
//!
//! 1. **Counterparty** (holding one channel lock, walking a wait queue): skip nodes of its
//!    own cell; complete solo nodes; for a select node CAS `WAITING -> SELECTED(arm)`. On
//!    success complete the transfer into/out of the node, unlink it, take the waker and
//!    wake after unlocking. On `IDLE` set `RETRY` and skip the node. On `SELECTED`/`DONE`
//!    unlink the node (lazily; the arm frees it) and skip it.
//! 2. **Owner poll without `default`** ([`Select::poll_with`]): if `SELECTED(k)`, poll arm
//!    `k` only: it takes the result from its node (a refuted pattern puts a received
//!    value back and turns the arm off; the select goes on). If `WAITING`, CAS to `IDLE`
//!    (failure means a counterparty selected us: previous case). Clear `RETRY`, then poll
//!    every enabled arm in a random permutation (Fisher–Yates, written order if
//!    `biased`). A channel arm locks its channel, tries to complete at once (it may claim
//!    `WAITING` counterparties), else links its node. On the select's first poll (two or
//!    more arms) a *try round* comes first ([`Mode::Try`]): the same walk, but a channel
//!    arm without a node links none, so when another arm is ready no node is linked only
//!    to be unlinked again; a future arm found pending there keeps its registered waker
//!    and is not polled again in the round that follows. The first ready arm wins: state
//!    `DONE`, return. None ready: store the waker and CAS `IDLE -> WAITING`. If that
//!    fails, `RETRY` was set: run another round (at most [`MAX_ROUNDS`]), then wake
//!    ourselves and return `Pending` (the state stays `IDLE`, the next poll starts over).
//! 3. **Owner poll with `default`** (Go's rule: `default` only if nothing was ready at one
//!    instant): walk the permutation; future arms are polled with no lock held; at the
//!    first channel arm, lock *every* channel of the select's enabled channel arms in
//!    address order (each once), try the channel arms in permutation order under all the
//!    locks (nothing waits, nothing links), unlock, then wake whoever was completed. The
//!    first ready arm wins. Only if none is, `default` runs: at the instant all locks were
//!    held, no channel arm could proceed. Nodes of plain futures polled before the
//!    select (adopted, below) are given up in this pass.
//! 4. **Exactly one arm**: a remote completion needs the single CAS from `WAITING`, which
//!    can succeed once per sleep; the owner completes an arm only while the cell is `IDLE`,
//!    when no counterparty can claim. **No lost wake-up**: a counterparty that passed over
//!    an `IDLE` node either did so before the owner cleared `RETRY` — then it held the
//!    channel lock before the owner's arm poll takes it, and that arm poll sees its effect
//!    — or after, and then `RETRY` makes the owner's publish fail and re-check.
//! 5. **Adoption**: a `Send`/`Recv` future polled before it entered the select holds a
//!    solo node that any counterparty may complete without a CAS. The arm's first poll
//!    turns it into a node of this cell under the channel lock (a completion that came
//!    earlier is simply this arm's result, or, if another arm wins, given back). When
//!    the select ends, every channel arm gives up its node ([`ChannelArm`]'s `Drop`): a
//!    received value goes back to the channel front, an unsent value back into the send
//!    future, so a future used through `&mut` is left as if never polled.
//! 6. A select with a send and a recv arm on one rendezvous channel never pairs with
//!    itself (own-cell nodes are skipped). Two selects on opposite ends of a rendezvous
//!    channel always pair: the one that publishes `WAITING` last is claimed by the other's
//!    next round.
//! 7. **Patterns**: a channel arm applies its pattern to the outcome under the channel
//!    lock, before the outcome takes effect for anyone else: a refuted receive puts the
//!    value back at the front, a send arm whose pattern refuses `Ok(())` never sends. A
//!    refuted arm is off for the rest of the select.
//! 8. **Budget**: the select spends one unit of the task's cooperative budget per poll,
//!    before anything else. Channel arms spend none; future arms are polled with the
//!    runtime's budget suspended ([`crate::hooks`]), so no arm looks pending for lack of
//!    budget (which would make `default` run although an arm was ready).
//! 9. **Stream watchers** (`chan.rs`) are never handed values, so they are not claimed by
//!    a send arm's round; one that tried the channel while the select was busy skipped
//!    its send node (setting `RETRY`) and went back to sleep. So once the select sleeps,
//!    each waiting send arm wakes its channel's watchers, which then find the node
//!    claimable. Only then: waking them every round would let a watcher and a select
//!    keep waking each other while the select is never claimable (a livelock).

use core::future::{Future, IntoFuture};
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::chan::{Party, Step, Wakes};
use crate::loom::{AtomicUsize, Ordering, WakerSlot};

/// Rounds of "poll all arms, try to publish" before giving up and self-waking.
const MAX_ROUNDS: usize = 2;

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
    /// Invariant: written by the owner only while `IDLE`; taken by a counterparty only
    /// after it won `WAITING -> SELECTED`, under the lock of the claimed node's channel.
    waker: WakerSlot,
    /// Waiter nodes of channels that point at this cell. Invariant: zero when the cell
    /// is dropped (checked in `Drop`).
    live_nodes: AtomicUsize,
}

// SAFETY: `state` and `live_nodes` are atomics; `waker` is written only by the owner while
// IDLE and taken only by the counterparty that won WAITING -> SELECTED (module protocol),
// so the cell can be shared across threads.
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

    /// Takes the owner's waker (the owner stores it again before it next sleeps).
    ///
    /// # Safety
    ///
    /// The caller won [`SelectCell::try_claim`] and still holds the lock of the channel
    /// whose node it claimed (so the owner cannot be touching the waker).
    pub(crate) unsafe fn take_waker(&self) -> Option<Waker> {
        // SAFETY: forwarded from the caller's contract.
        unsafe { self.waker.take() }
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
        // counterparty takes it before winning WAITING -> SELECTED, which needs the CAS
        // below to succeed first (release orders the write before it).
        unsafe { self.waker.set(waker) };
        self.state
            .compare_exchange(IDLE, WAITING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl Drop for SelectCell {
    fn drop(&mut self) {
        if self.live_nodes.load(Ordering::Relaxed) != 0 {
            // A channel still points at this cell: continuing would let a later send or
            // receive write through a dangling pointer. Only a broken `poll_with` caller
            // can get here (the macro cannot), so stop the process instead.
            eprintln!("waza_channel: a select arm's waiter node outlived its select; aborting");
            std::process::abort();
        }
    }
}

/// What the driver asks of an arm in one call (see the module protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Poll the arm normally; `try_only` for a select with `default` (never wait).
    Poll { try_only: bool },
    /// The first round of a select's first poll (step 2): complete the arm if it can
    /// proceed now, but link no new node. A channel arm that already holds a node (a
    /// future polled before the select) polls it as in `Poll`, keeping its place.
    Try,
    /// Channel arms report their channel's address in `ArmTurn::addr`; nothing is polled.
    Probe,
    /// Channel arms lock their channel into `ArmTurn::locks` (step 3).
    Lock,
    /// Channel arms try their operation with every lock of the select held (step 3).
    TryLocked,
    /// The select just went to sleep: send arms tell their channel's `Stream` watchers,
    /// which may have skipped the arm's node while the select was busy (step 9).
    Published,
}

/// The result of a whole select.
#[derive(Debug)]
pub enum SelectOutcome<O> {
    /// An arm won with this output.
    Arm(O),
    /// No arm was ready and the select has a `default` arm.
    Default,
}

/// What polling one arm gave.
#[derive(Debug)]
pub enum ArmPoll<O> {
    /// The arm completed (and its pattern matched) with this output.
    Ready(O),
    /// The arm is waiting (or, in the driver's other modes, was not polled).
    Pending,
    /// The arm is off: its precondition was false or its pattern did not match.
    Disabled,
}

/// One arm's turn in a select pass: what the driver hands an arm when it visits it (its
/// cell and index, the task context, the mode, the locked pass's locks). Exists only
/// inside [`Select::poll_with`].
pub struct ArmTurn<'a, 'b> {
    cell: &'a SelectCell,
    arm: usize,
    cx: &'a mut Context<'b>,
    mode: Mode,
    /// The locked pass's lock table and wake list (only in its modes).
    locked: Option<(&'a mut LockTable, &'a mut Wakes)>,
    /// Out: a channel arm's channel address ([`Mode::Probe`]).
    addr: Option<usize>,
    /// Out: a future arm was polled and is pending: its waker is registered for this poll.
    registered: bool,
}

impl core::fmt::Debug for ArmTurn<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ArmTurn")
            .field("arm", &self.arm)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl<'a, 'b> ArmTurn<'a, 'b> {
    /// The task context (for future arms).
    pub fn context(&mut self) -> &mut Context<'b> {
        self.cx
    }

    /// Whether a channel arm in a polling mode must not wait; `holds_node`: the arm's
    /// operation already has a node on its channel.
    pub(crate) fn try_only(&self, holds_node: bool) -> bool {
        match self.mode {
            Mode::Poll { try_only } => try_only,
            Mode::Try => !holds_node,
            _ => true,
        }
    }

    /// Records that a future arm is pending with this poll's waker registered.
    fn set_registered(&mut self) {
        self.registered = true;
    }

    /// The party a channel arm runs as.
    pub(crate) fn party(&self, try_only: bool) -> Party<'_> {
        Party::Select {
            cell: self.cell,
            arm: self.arm,
            try_only,
        }
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn set_addr(&mut self, addr: usize) {
        self.addr = Some(addr);
    }

    pub(crate) fn locks(&mut self) -> &mut LockTable {
        &mut *self
            .locked
            .as_mut()
            .expect("only the locked pass takes locks")
            .0
    }

    /// The pieces of the locked pass: the held locks, the wake list and the party.
    pub(crate) fn locked_parts(&mut self) -> (&mut LockTable, &mut Wakes, Party<'_>) {
        let party = Party::Select {
            cell: self.cell,
            arm: self.arm,
            try_only: true,
        };
        let (locks, wakes) = self.locked.as_mut().expect("in the locked pass");
        (&mut **locks, &mut **wakes, party)
    }
}

/// One channel lock held by the locked pass.
#[derive(Clone, Copy)]
pub(crate) struct LockEntry {
    /// The channel's address ([`crate::chan::Chan::addr`]).
    pub(crate) addr: usize,
    /// The channel (`*const Chan<T>` for that channel's `T`).
    pub(crate) chan: *const (),
    /// Its locked state (`*mut State<T>` for that channel's `T`).
    pub(crate) state: *mut (),
    /// Releases the lock of the channel `chan`.
    pub(crate) unlock: unsafe fn(*const ()),
}

/// Channel locks held at once by a select's locked pass; released when dropped (also
/// on unwinding). No allocation up to [`INLINE_LOCKS`] channels.
pub(crate) struct LockTable {
    inline: [Option<LockEntry>; INLINE_LOCKS],
    len: usize,
    more: Vec<LockEntry>,
}

/// Channels a locked pass holds without allocating.
const INLINE_LOCKS: usize = 8;

impl LockTable {
    const fn new() -> Self {
        LockTable {
            inline: [None; INLINE_LOCKS],
            len: 0,
            more: Vec::new(),
        }
    }

    /// The locked state of the channel at `addr`, if this table holds its lock.
    pub(crate) fn state_of(&self, addr: usize) -> Option<*mut ()> {
        self.entries().find(|e| e.addr == addr).map(|e| e.state)
    }

    /// Records a lock the caller has just taken.
    pub(crate) fn push(&mut self, e: LockEntry) {
        if self.len < INLINE_LOCKS {
            self.inline[self.len] = Some(e);
            self.len += 1;
        } else {
            self.more.push(e);
        }
    }

    fn entries(&self) -> impl Iterator<Item = &LockEntry> {
        self.inline[..self.len].iter().flatten().chain(&self.more)
    }

    /// Releases every lock, last taken first.
    fn release(&mut self) {
        while let Some(e) = self.more.pop() {
            // SAFETY: `push` recorded a lock taken by its caller and not released since.
            unsafe { (e.unlock)(e.chan) };
        }
        while self.len > 0 {
            self.len -= 1;
            if let Some(e) = self.inline[self.len].take() {
                // SAFETY: as above.
                unsafe { (e.unlock)(e.chan) };
            }
        }
    }
}

impl Drop for LockTable {
    fn drop(&mut self) {
        self.release();
    }
}

/// Arms that are off (precondition false, pattern refuted) for the rest of a select.
#[derive(Debug)]
struct ArmSet {
    low: u64,
    high: Vec<bool>,
}

impl ArmSet {
    #[inline]
    fn new(n: usize) -> Self {
        ArmSet {
            low: 0,
            high: if n > 64 { Self::high(n) } else { Vec::new() },
        }
    }

    /// The flags of arms 64 and up (selects that large are rare: kept out of line).
    #[cold]
    #[inline(never)]
    fn high(n: usize) -> Vec<bool> {
        vec![false; n - 64]
    }

    fn insert(&mut self, i: usize) {
        if i < 64 {
            self.low |= 1 << i;
        } else {
            self.high[i - 64] = true;
        }
    }

    fn contains(&self, i: usize) -> bool {
        if i < 64 {
            self.low & (1 << i) != 0
        } else {
            self.high[i - 64]
        }
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
    /// False until the first poll ran its try round (protocol step 2).
    tried: bool,
    disabled: ArmSet,
    _pinned: PhantomPinned,
}

/// The per-poll pieces the driver hands to arms.
struct Driver<'s, 'c, 'w, P> {
    select: &'s mut Select,
    cx: &'c mut Context<'w>,
    poll_arm: P,
}

impl Select {
    /// A select over `n_arms` arms (`default` not counted).
    #[inline]
    pub fn new(n_arms: usize, biased: bool, has_default: bool) -> Select {
        Select {
            cell: SelectCell::new(),
            // Seeded at the first shuffle (`Nibbles::for_select`, `Wide::for_select`).
            rng: 0,
            n_arms,
            biased,
            has_default,
            tried: false,
            disabled: ArmSet::new(n_arms),
            _pinned: PhantomPinned,
        }
    }

    /// One poll of the whole select; `poll_arm(i, turn)` polls arm `i`.
    ///
    /// # Safety
    ///
    /// `poll_arm` polls, with the given [`ArmTurn`], only arms that belong to this select
    /// (never an arm that another select also polls), and every channel arm it ever
    /// polled is dropped before this `Select` is. (`select!`'s expansion declares the
    /// `Select` before its arms, so they drop first.)
    ///
    /// # Panics
    ///
    /// If every arm is disabled and there is no `default` arm, or if polled again after
    /// it returned `Ready`.
    pub unsafe fn poll_with<O>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        poll_arm: impl FnMut(usize, &mut ArmTurn<'_, '_>) -> ArmPoll<O>,
    ) -> Poll<SelectOutcome<O>> {
        if crate::hooks::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        // SAFETY: nothing below moves out of `*self`; `cell` stays where it is pinned.
        let select = unsafe { self.get_unchecked_mut() };
        let mut driver = Driver {
            select,
            cx,
            poll_arm,
        };
        driver.poll()
    }
}

impl<O, P> Driver<'_, '_, '_, P>
where
    P: FnMut(usize, &mut ArmTurn<'_, '_>) -> ArmPoll<O>,
{
    fn poll(&mut self) -> Poll<SelectOutcome<O>> {
        if let Some(k) = self.select.cell.begin_poll() {
            match self.call(k, Mode::Poll { try_only: false }, None) {
                ArmPoll::Ready(o) => return self.done(SelectOutcome::Arm(o)),
                // Pattern refuted: the value went back and `call` turned the arm off; or
                // the arm was completed with "closed" while a value was still in flight
                // and waits again. Either way, keep selecting.
                ArmPoll::Disabled | ArmPoll::Pending => {}
            }
        }
        if self.select.has_default {
            self.select.cell.clear_retry();
            let outcome = self.poll_once();
            return self.done(outcome);
        }
        let mut registered = 0;
        if !self.select.tried && self.select.n_arms > 1 {
            self.select.tried = true;
            self.select.cell.clear_retry();
            match self.round(Mode::Try, 0) {
                Ok(outcome) => return self.done(outcome),
                Err(pending) => registered = pending,
            }
        }
        for _ in 0..MAX_ROUNDS {
            self.select.cell.clear_retry();
            if let Ok(outcome) = self.round(Mode::Poll { try_only: false }, registered) {
                return self.done(outcome);
            }
            registered = 0;
            if self.select.cell.publish(self.cx.waker()) {
                crate::hooks::report(crate::hooks::WaitOp::Select, None);
                for arm in 0..self.select.n_arms {
                    if !self.select.disabled.contains(arm) {
                        self.call(arm, Mode::Published, None);
                    }
                }
                return Poll::Pending;
            }
        }
        self.cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn done(&mut self, outcome: SelectOutcome<O>) -> Poll<SelectOutcome<O>> {
        self.select.cell.finish();
        Poll::Ready(outcome)
    }

    /// Calls the macro's callback for arm `arm` in `mode`; records an arm turning off.
    #[inline]
    fn call(
        &mut self,
        arm: usize,
        mode: Mode,
        locked: Option<(&mut LockTable, &mut Wakes)>,
    ) -> ArmPoll<O> {
        self.call_probe(arm, mode, locked).0
    }

    #[inline]
    fn call_probe(
        &mut self,
        arm: usize,
        mode: Mode,
        locked: Option<(&mut LockTable, &mut Wakes)>,
    ) -> (ArmPoll<O>, Option<usize>) {
        let (r, addr, _) = self.call_full(arm, mode, locked);
        (r, addr)
    }

    /// [`Driver::call_probe`], also telling whether a future arm registered its waker.
    #[inline]
    fn call_full(
        &mut self,
        arm: usize,
        mode: Mode,
        locked: Option<(&mut LockTable, &mut Wakes)>,
    ) -> (ArmPoll<O>, Option<usize>, bool) {
        let mut turn = ArmTurn {
            cell: &self.select.cell,
            arm,
            cx: self.cx,
            mode,
            locked,
            addr: None,
            registered: false,
        };
        let r = (self.poll_arm)(arm, &mut turn);
        let (addr, registered) = (turn.addr, turn.registered);
        if let ArmPoll::Disabled = r {
            self.select.disabled.insert(arm);
        }
        (r, addr, registered)
    }

    /// Protocol step 2: polls every enabled arm once in (random) order, except the
    /// future arms in `skip` (a bit per arm below 64), which are pending with this poll's
    /// waker already registered. `Err` holds the future arms that registered now.
    fn round(&mut self, mode: Mode, skip: u64) -> Result<SelectOutcome<O>, u64> {
        let (n, biased) = (self.select.n_arms, self.select.biased);
        if n <= NIBBLE_ARMS {
            let order = Nibbles::for_select(n, biased, &mut self.select.rng);
            self.round_in(&order, mode, skip)
        } else {
            let order = Wide::for_select(n, biased, &mut self.select.rng);
            self.round_in(&order, mode, skip)
        }
    }

    #[inline]
    fn round_in(
        &mut self,
        order: &impl ArmOrder,
        mode: Mode,
        skip: u64,
    ) -> Result<SelectOutcome<O>, u64> {
        let mut any_enabled = false;
        let mut registered = 0;
        for pos in 0..order.len() {
            let arm = order.get(pos);
            if self.select.disabled.contains(arm) {
                continue;
            }
            if arm < 64 && skip & (1 << arm) != 0 {
                any_enabled = true;
                continue;
            }
            match self.call_full(arm, mode, None) {
                (ArmPoll::Ready(o), ..) => return Ok(SelectOutcome::Arm(o)),
                (ArmPoll::Pending, _, r) => {
                    any_enabled = true;
                    if r && arm < 64 {
                        registered |= 1 << arm;
                    }
                }
                (ArmPoll::Disabled, ..) => {}
            }
        }
        assert!(
            any_enabled,
            "all select! arms are disabled and there is no `default` arm"
        );
        Err(registered)
    }

    /// Protocol step 3: one pass for a select with `default`.
    #[inline(never)]
    fn poll_once(&mut self) -> SelectOutcome<O> {
        let (n, biased) = (self.select.n_arms, self.select.biased);
        if n <= NIBBLE_ARMS {
            let order = Nibbles::for_select(n, biased, &mut self.select.rng);
            self.poll_once_in(&order)
        } else {
            let order = Wide::for_select(n, biased, &mut self.select.rng);
            self.poll_once_in(&order)
        }
    }

    fn poll_once_in(&mut self, order: &impl ArmOrder) -> SelectOutcome<O> {
        let mut channels_tried = false;
        for pos in 0..order.len() {
            let arm = order.get(pos);
            if self.select.disabled.contains(arm) {
                continue;
            }
            let (r, addr) = self.call_probe(arm, Mode::Probe, None);
            match (r, addr) {
                (ArmPoll::Disabled, _) => {}
                (_, Some(_)) if channels_tried => {}
                (_, Some(_)) => {
                    channels_tried = true;
                    if let Some(o) = self.locked_pass(order, pos) {
                        return SelectOutcome::Arm(o);
                    }
                }
                (_, None) => {
                    let mode = Mode::Poll { try_only: true };
                    if let ArmPoll::Ready(o) = self.call(arm, mode, None) {
                        return SelectOutcome::Arm(o);
                    }
                }
            }
        }
        SelectOutcome::Default
    }

    /// Locks every channel of the enabled channel arms in address order, tries those
    /// arms from position `from` of `order` on (then the earlier ones), unlocks, wakes.
    #[inline(never)]
    fn locked_pass(&mut self, order: &impl ArmOrder, from: usize) -> Option<O> {
        // Channel arms and their channel addresses, sorted by address.
        let mut chans = InlineVec::<(usize, usize)>::new();
        for pos in 0..order.len() {
            let arm = order.get(pos);
            if self.select.disabled.contains(arm) {
                continue;
            }
            if let (_, Some(addr)) = self.call_probe(arm, Mode::Probe, None) {
                chans.push((addr, pos));
            }
        }
        chans.sort_by_addr();
        let mut locks = LockTable::new();
        let mut wakes = Wakes::new();
        let mut last = None;
        for &(addr, pos) in chans.iter() {
            if last != Some(addr) {
                self.call(order.get(pos), Mode::Lock, Some((&mut locks, &mut wakes)));
                last = Some(addr);
            }
        }
        let mut winner = None;
        let n = order.len();
        for i in 0..n {
            let pos = (from + i) % n;
            let arm = order.get(pos);
            if self.select.disabled.contains(arm) || !chans.iter().any(|&(_, p)| p == pos) {
                continue;
            }
            let locked = Some((&mut locks, &mut wakes));
            if let ArmPoll::Ready(o) = self.call(arm, Mode::TryLocked, locked) {
                winner = Some(o);
                break;
            }
        }
        drop(locks);
        wakes.run();
        winner
    }
}

/// A short list kept inline (no allocation) up to 16 entries.
struct InlineVec<T: Copy> {
    inline: [Option<T>; 16],
    len: usize,
    more: Vec<T>,
}

impl InlineVec<(usize, usize)> {
    fn new() -> Self {
        InlineVec {
            inline: [None; 16],
            len: 0,
            more: Vec::new(),
        }
    }

    fn push(&mut self, v: (usize, usize)) {
        if self.len < 16 && self.more.is_empty() {
            self.inline[self.len] = Some(v);
            self.len += 1;
        } else {
            if self.more.is_empty() {
                self.more.extend(self.inline.iter().flatten());
                self.len = 0;
            }
            self.more.push(v);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(usize, usize)> {
        self.inline[..self.len].iter().flatten().chain(&self.more)
    }

    fn sort_by_addr(&mut self) {
        if self.more.is_empty() {
            self.inline[..self.len].sort_unstable_by_key(|e| e.map(|(a, _)| a));
        } else {
            self.more.sort_unstable_by_key(|&(a, _)| a);
        }
    }
}

/// An order in which a round visits the arms.
trait ArmOrder {
    /// Number of arms.
    fn len(&self) -> usize;
    /// The arm visited at position `i`.
    fn get(&self, i: usize) -> usize;
}

/// The order of up to [`NIBBLE_ARMS`] arms (nearly every select) as one word of 4-bit arm
/// indices, lowest first: built, shuffled and read in registers, touching no memory.
#[derive(Clone, Copy)]
struct Nibbles {
    word: u64,
    n: usize,
}

/// Arms whose order fits in one [`Nibbles`] word.
const NIBBLE_ARMS: usize = 16;

impl Nibbles {
    /// `0..n` in a random order (Fisher–Yates), or in written order if `biased`.
    #[inline]
    fn for_select(n: usize, biased: bool, rng: &mut u64) -> Self {
        debug_assert!(n <= NIBBLE_ARMS);
        let mut word = 0xFEDC_BA98_7654_3210;
        if !biased && n > 1 {
            if *rng == 0 {
                *rng = seed();
            }
            for i in (1..n).rev() {
                let j = below(next_random(rng), i + 1);
                word = swap_nibbles(word, i, j);
            }
        }
        Nibbles { word, n }
    }
}

impl ArmOrder for Nibbles {
    #[inline]
    fn len(&self) -> usize {
        self.n
    }

    #[inline]
    fn get(&self, i: usize) -> usize {
        ((self.word >> (4 * i)) & 0xF) as usize
    }
}

/// `w` with its 4-bit fields `i` and `j` exchanged.
#[inline]
fn swap_nibbles(w: u64, i: usize, j: usize) -> u64 {
    let diff = ((w >> (4 * i)) ^ (w >> (4 * j))) & 0xF;
    w ^ (diff << (4 * i)) ^ (diff << (4 * j))
}

/// The order of a select with more arms: inline up to 64, on the heap beyond.
enum Wide {
    Inline([u8; 64], usize),
    Heap(Vec<usize>),
}

/// `0, 1, …, 63`: copied whole (wide moves) rather than written byte by byte.
const IDENTITY: [u8; 64] = {
    let mut a = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        a[i] = i as u8;
        i += 1;
    }
    a
};

impl Wide {
    /// `0..n` in a random order (Fisher–Yates), or in written order if `biased`.
    fn for_select(n: usize, biased: bool, rng: &mut u64) -> Self {
        let mut order = if n <= 64 {
            Wide::Inline(IDENTITY, n)
        } else {
            Wide::Heap((0..n).collect())
        };
        if !biased {
            if *rng == 0 {
                *rng = seed();
            }
            match &mut order {
                Wide::Inline(a, n) => fisher_yates(&mut a[..*n], rng),
                Wide::Heap(v) => fisher_yates(v, rng),
            }
        }
        order
    }
}

impl ArmOrder for Wide {
    fn len(&self) -> usize {
        match self {
            Wide::Inline(_, n) => *n,
            Wide::Heap(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> usize {
        match self {
            Wide::Inline(a, _) => a[i] as usize,
            Wide::Heap(v) => v[i],
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

/// Under shuttle the arm order comes from shuttle's own random source, so a failing
/// schedule replays from its seed.
#[cfg(shuttle)]
fn seed() -> u64 {
    use shuttle::rand::RngCore;
    shuttle::rand::thread_rng().next_u64() | 1
}

/// A per-select seed: the next state of a per-thread xorshift generator (seeded from the
/// thread's stack address), so consecutive selects on a thread get unrelated orders.
#[cfg(not(any(loom, shuttle)))]
fn seed() -> u64 {
    std::thread_local! {
        static STATE: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
    }
    STATE.with(|st| {
        let mut s = st.get();
        if s == 0 {
            let local = 0u8;
            s = ((&local as *const u8 as u64) ^ 0x9E37_79B9_7F4A_7C15) | 1;
        }
        let r = next_random(&mut s);
        st.set(s);
        r | 1
    })
}

/// An arm's pattern as a predicate on its outcome; `None` if the pattern is irrefutable.
pub type Matches<'a, O> = Option<&'a dyn Fn(&O) -> bool>;

/// One arm of a select, polled by the select driver.
pub trait SelectArm {
    /// What the arm yields when it wins.
    type Output;
    /// Polls the arm in the driver's current mode; `matches` is the arm's pattern
    /// (applied before a channel operation takes effect), `None` if it is irrefutable.
    fn poll_arm(
        self: Pin<&mut Self>,
        turn: &mut ArmTurn<'_, '_>,
        matches: Matches<'_, Self::Output>,
    ) -> ArmPoll<Self::Output>;
}

/// Marker returned by [`ChannelArmTag::__waza_arm_kind`]: the arm is a channel operation.
#[derive(Debug, Clone, Copy)]
pub struct ChannelKind;

/// Marker returned by [`FutureArmTag::__waza_arm_kind`]: the arm is any other future.
#[derive(Debug, Clone, Copy)]
pub struct FutureKind;

/// Autoref-specialization tag implemented by the channel's send and recv futures (owned,
/// `&mut` and `Pin<&mut>`).
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
    use super::{ArmPoll, ArmTurn, Matches};

    /// A channel operation that can run as a select arm (sealed: the crate's futures,
    /// and `&mut`/`Pin<&mut>` of them).
    pub trait ChannelOp {
        /// The operation's output.
        type Output;
        /// The channel's address.
        fn chan_addr(&self) -> usize;
        /// Locks the channel into the select's lock table (locked pass).
        fn lock_into(&self, turn: &mut ArmTurn<'_, '_>);
        /// Polls the operation in the driver's mode.
        fn poll_select(
            &mut self,
            turn: &mut ArmTurn<'_, '_>,
            matches: Matches<'_, Self::Output>,
        ) -> ArmPoll<Self::Output>;
        /// The select is over: give up any node (protocol step 5).
        fn abandon(&mut self);
        /// The select went to sleep (protocol step 9).
        fn after_publish(&self);
    }

    impl<O: ChannelOp + ?Sized> ChannelOp for &mut O {
        type Output = O::Output;
        fn chan_addr(&self) -> usize {
            (**self).chan_addr()
        }
        fn lock_into(&self, turn: &mut ArmTurn<'_, '_>) {
            (**self).lock_into(turn)
        }
        fn poll_select(
            &mut self,
            turn: &mut ArmTurn<'_, '_>,
            matches: Matches<'_, O::Output>,
        ) -> ArmPoll<O::Output> {
            (**self).poll_select(turn, matches)
        }
        fn abandon(&mut self) {
            (**self).abandon()
        }
        fn after_publish(&self) {
            (**self).after_publish()
        }
    }

    impl<O: ChannelOp + Unpin + ?Sized> ChannelOp for core::pin::Pin<&mut O> {
        type Output = O::Output;
        fn chan_addr(&self) -> usize {
            (**self).chan_addr()
        }
        fn lock_into(&self, turn: &mut ArmTurn<'_, '_>) {
            (**self).lock_into(turn)
        }
        fn poll_select(
            &mut self,
            turn: &mut ArmTurn<'_, '_>,
            matches: Matches<'_, O::Output>,
        ) -> ArmPoll<O::Output> {
            self.as_mut().get_mut().poll_select(turn, matches)
        }
        fn abandon(&mut self) {
            self.as_mut().get_mut().abandon()
        }
        fn after_publish(&self) {
            (**self).after_publish()
        }
    }
}

impl<T: ?Sized + sealed::ChannelOp> ChannelArmTag for &mut T {}
impl<T: ?Sized + sealed::ChannelOp + Unpin> ChannelArmTag for Pin<&mut T> {}

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

/// A channel send or recv running as a select arm. Gives up its node when dropped.
#[derive(Debug)]
pub struct ChannelArm<Op: sealed::ChannelOp> {
    op: Op,
}

impl<Op: sealed::ChannelOp> SelectArm for ChannelArm<Op> {
    type Output = Op::Output;
    #[inline]
    fn poll_arm(
        self: Pin<&mut Self>,
        turn: &mut ArmTurn<'_, '_>,
        matches: Matches<'_, Op::Output>,
    ) -> ArmPoll<Op::Output> {
        // SAFETY: `op` is never moved out of the pinned arm (not structurally pinned:
        // every channel operation is used through `&mut` only, and none relies on
        // pinning).
        let op = unsafe { &mut self.get_unchecked_mut().op };
        match turn.mode() {
            Mode::Probe => {
                turn.set_addr(op.chan_addr());
                ArmPoll::Pending
            }
            Mode::Lock => {
                op.lock_into(turn);
                ArmPoll::Pending
            }
            Mode::Published => {
                op.after_publish();
                ArmPoll::Pending
            }
            Mode::Poll { .. } | Mode::Try | Mode::TryLocked => op.poll_select(turn, matches),
        }
    }
}

impl<Op: sealed::ChannelOp> Drop for ChannelArm<Op> {
    fn drop(&mut self) {
        self.op.abandon();
    }
}

/// Any future running as a select arm.
#[derive(Debug)]
pub struct FutureArm<F> {
    fut: F,
}

impl<F: Future> SelectArm for FutureArm<F> {
    type Output = F::Output;
    fn poll_arm(
        self: Pin<&mut Self>,
        turn: &mut ArmTurn<'_, '_>,
        matches: Matches<'_, F::Output>,
    ) -> ArmPoll<F::Output> {
        if !matches!(turn.mode(), Mode::Poll { .. } | Mode::Try) {
            return ArmPoll::Pending;
        }
        // SAFETY: structural pinning of `fut`: `FutureArm` never moves it and has no
        // `Drop` impl or `Unpin` impl that could break the pin guarantee.
        let fut = unsafe { self.map_unchecked_mut(|a| &mut a.fut) };
        // Protocol step 8: the select already spent its unit of budget.
        match crate::hooks::unconstrained(|| fut.poll(turn.context())) {
            Poll::Pending => {
                turn.set_registered();
                ArmPoll::Pending
            }
            Poll::Ready(v) if matches.map_or(true, |m| m(&v)) => ArmPoll::Ready(v),
            Poll::Ready(_) => ArmPoll::Disabled,
        }
    }
}

/// Maps a channel operation's step to an arm result.
pub(crate) fn arm_poll<R>(step: Step<R>) -> ArmPoll<R> {
    match step {
        Step::Ready(r) => ArmPoll::Ready(r),
        Step::Pending => ArmPoll::Pending,
        Step::Refuted => ArmPoll::Disabled,
        Step::NeedWaker => unreachable!("select arms never need a waker clone"),
    }
}

#[cfg(test)]
mod tests {
    use super::{below, fisher_yates, next_random, ArmOrder, Nibbles, Wide, NIBBLE_ARMS};

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

    /// Every permutation of three arms comes up about equally often.
    #[test]
    fn nibble_shuffle_is_uniform() {
        let mut rng = 0x1234_5678_9ABC_DEF1;
        let mut seen = std::collections::HashMap::new();
        for _ in 0..6000 {
            let o = Nibbles::for_select(3, false, &mut rng);
            *seen.entry([o.get(0), o.get(1), o.get(2)]).or_insert(0) += 1;
        }
        assert_eq!(seen.len(), 6, "{seen:?}");
        assert!(seen.values().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }

    /// A shuffled order is a permutation of `0..n`, for inline and heap orders.
    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = 12345;
        fn sorted(order: &impl ArmOrder) -> Vec<usize> {
            let mut got: Vec<usize> = (0..order.len()).map(|i| order.get(i)).collect();
            got.sort_unstable();
            got
        }
        for n in 1..=NIBBLE_ARMS {
            let order = Nibbles::for_select(n, false, &mut rng);
            assert_eq!(sorted(&order), (0..n).collect::<Vec<_>>());
        }
        for n in [1, 2, 17, 63, 64, 65, 100] {
            let order = Wide::for_select(n, false, &mut rng);
            assert_eq!(sorted(&order), (0..n).collect::<Vec<_>>());
        }
        let mut a = [0u8; 0];
        fisher_yates(&mut a, &mut rng);
    }
}
