//! The channel core, Go's `hchan`: one lock guarding buffer, `closed` and the wait queues.
//!
//! # Flavours
//!
//! One core serves all three flavours; only the room check differs:
//!
//! | flavour | `cap` | buffer |
//! |---|---|---|
//! | `bounded(n)`, n > 0 | `Some(n)` | a ring ([`Ring`]) of at most `n` values; for n ≥ 64 room for up to 1024 is allocated up front, otherwise (and past 1024) the ring grows with use |
//! | `unbounded()` | `None` | a growable ring: no allocation per message once grown |
//! | `rendezvous()` | `Some(0)` | always empty |
//!
//! # Where a value can be
//!
//! A value that was sent and not yet received is in exactly one of these places, in this
//! order of delivery:
//!
//! 1. `buf` — at most `cap` values (bounded), so `len() <= capacity()` always;
//! 2. `parked` — values *given back* (a cancelled receive, a refuted `select!` pattern)
//!    that did not fit into the buffer. They come after the buffer and behave like
//!    waiting senders at the head of `sendq` (which is what a given-back value is on a
//!    rendezvous channel: `try_recv` may take it, `len()` stays 0). Invariant: `parked`
//!    is non-empty only while the buffer is full, so `try_send` never jumps ahead of it;
//! 3. a waiting sender's node in `sendq`;
//! 4. *in flight*: a receive node already filled (`Done`) whose operation has not taken
//!    the value yet. If that operation is cancelled, the value goes back to the front
//!    (give-back, below). On buffered channels these values are older than the buffer's
//!    and leave first, oldest first, whoever receives (`waiters.rs`, protocol 7).
//!
//! # Algorithm (all under the lock)
//!
//! * **send(v)**: closed → fail with `v`. Else claim the first claimable waiting receiver
//!   and hand `v` straight into its node (direct handoff). Else if the buffer has room,
//!   push `v`. Else wait in `sendq` holding `v`.
//! * **recv**: (buffered channels) take the oldest value in flight, else from `buf`
//!   (then move the next `parked` value or waiting sender into the room), else from
//!   `parked`, else from the first claimable waiting sender. Else if
//!   closed: `None` — but only once no value is in flight (`waiters.rs`, protocol 6), so
//!   that `None` is final; while one is, the receive waits like on an open channel.
//! * **close**: set `closed`; complete every claimable sender with its value given back;
//!   complete waiting receivers with "closed" if nothing is in flight.
//! * **give-back(v)**: hand `v` to the first claimable waiting receiver, else put it at
//!   the front (`buf`, spilling the buffer's last value to the front of `parked` when
//!   the buffer is full), with the values in flight that are newer than `v` pulled back
//!   behind it (buffered channels).
//! * **watchers** (`Stream` receivers, `Queue::Watch`): never filled. Every change that
//!   can make a receive succeed (a value buffered or parked, a sender waiting, close)
//!   wakes all of them; each then tries again. An abandoned `next()` so leaves no value
//!   behind, only a node that the next wake-up (or the `Receiver`'s next poll or drop)
//!   removes.
//!
//! Go's invariants hold for claimable nodes: a non-empty buffer has no claimable waiting
//! receiver, a buffer with room has no claimable waiting sender. Select nodes whose owner
//! is busy (`IDLE`) may be skipped; the select protocol makes that owner re-check.
//!
//! The one step outside the lock: an operation whose node was completed (read with
//! acquire) takes its result from the node and gives the node back without locking
//! (`waiters.rs`, protocols 2, 4 and 6). Everything that decides *what* happens stays
//! under the lock.
//!
//! # One operation, step by step
//!
//! [`SendOp`] (`send.rs`) and [`RecvOp`] (`recv.rs`) are one state machine each, with the
//! same rungs in the same order; a poll goes down only as far as it must.
//!
//! | rung | send | recv | what it does |
//! |---|---|---|---|
//! | `poll` | ✓ | ✓ | a plain future's or blocking call's poll; inlined fast path: push to / pop from the buffer, no wake-up |
//! | `poll_arm` | ✓ | ✓ | the same for a select arm (outside the locked pass), through the arm's pattern |
//! | `poll_fresh_*` | `_solo`, `_rendezvous` | `_rendezvous` | a plain first poll past the fast path: hand over to a waiting counterpart, else (rendezvous) wait with the waker cloned before locking. Recv has no `_solo`: its fast path is a buffered receive's common case |
//! | `poll_waiting` | ✓ | ✓ | holding a node: takes a completed node's result without the lock (recv: only without a pattern), else `poll_slow` |
//! | `poll_slow` | ✓ | ✓ | `step` under the lock, through `Chan::drive` (which clones the waker and runs `step` again on `Step::NeedWaker`) |
//! | `step` | ✓ | ✓ | one step under the lock (also the select's locked pass): `step_node` if holding a node, else one attempt and `settle` |
//! | `step_node` | ✓ | ✓ | holding a node: a result in the node goes to `finish`; a waiting node takes the current waker (plain future), or is adopted and tried again (select), staying linked while it may wait; otherwise the node is given up and the attempt settled (recv: a node completed without a value first tries again) |
//! | `settle` | ✓ | ✓ | the outcome of an attempt holding no node: `finish`, `Pending` if try-only, or wait with a fresh node (`Step::NeedWaker` first if a plain future's waker is not cloned yet) |
//! | `finish` | ✓ | ✓ | the outcome through the arm's pattern; a refuted value stays in the send, or goes back to the channel's front under the lock (recv) |
//! | `cancel` / `reset` | both | `cancel` | give up the node: a value not delivered comes back to the send (`reset`) or is dropped after unlocking (`cancel`); a value already handed to a receive goes back to the channel's front |
//!
//! # User code never runs under the lock
//!
//! Wakers are woken, and dropped, after unlocking ([`Wakes`]); every waker is woken even
//! if one panics (the first panic is resumed afterwards). Values the channel drops
//! (cancelled sends, the last receiver gone) are dropped after unlocking. A plain
//! future's waker is cloned before the lock is taken for the wait (`Step::NeedWaker`).
//! So a panicking waker or `T::drop` never poisons a channel, and a waker that uses the
//! same channel cannot deadlock.

use crate::ring::{ColdRing, Ring};
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use core::task::{Poll, Waker};

use crate::hooks::WaitOp;
use crate::loom::{lock, AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::select::{arm_poll, ArmPoll, ArmTurn, LockEntry, LockTable, SelectCell};
use crate::waiters::{release_sent, take_filled, Key, Owner, Queue, Status, Waiters};
use crate::SendError;

mod recv;
mod send;

pub(crate) use recv::{RecvOp, WatchOp};
pub(crate) use send::SendOp;

/// The shared channel: one allocation per channel (inside the handles' `Arc`).
pub(crate) struct Chan<T> {
    pub(crate) state: Mutex<State<T>>,
    /// `None`: unbounded; `Some(0)`: rendezvous; `Some(n)`: bounded.
    cap: Option<usize>,
    /// Mirror of `State::closed` for lock-free `is_closed`.
    closed: AtomicBool,
    /// Set (under the lock) when a `Stream` watcher first registers; lets a sleeping
    /// select skip telling watchers about its send nodes on channels that never had one.
    watched: AtomicBool,
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
    /// Process-unique id, for wait reasons and `Debug`.
    id: u64,
}

/// Everything the lock guards.
pub(crate) struct State<T> {
    /// Invariant: `buf.len() <= cap` for bounded channels; empty for rendezvous.
    buf: Ring<T>,
    /// Given-back values that did not fit in `buf` (module docs). Invariant: non-empty
    /// only while `buf` is full.
    parked: ColdRing<T>,
    closed: bool,
    /// The delivery number of the next value handed to a receive (`waiters.rs`,
    /// protocol 7). Next to `closed`, where it costs no room.
    next_seq: u32,
    waiters: Waiters<T>,
    /// Tasks in `Sender::closed()` (`closed.rs`), woken by `close`.
    pub(crate) closed_waiters: crate::closed::ClosedWaiters,
}

/// Wakers to wake, and wakers to drop, once the lock is released.
///
/// Holds one of each inline, so the common operations do not allocate.
pub(crate) struct Wakes {
    wake: Pair,
    discard: Pair,
}

/// One inline waker and a list for the rest.
struct Pair {
    one: Option<Waker>,
    more: Vec<Waker>,
}

impl Pair {
    const fn new() -> Self {
        Pair {
            one: None,
            more: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, w: Waker) {
        if self.one.is_none() {
            self.one = Some(w);
        } else {
            self.more.push(w);
        }
    }
}

impl Wakes {
    pub(crate) const fn new() -> Self {
        Wakes {
            wake: Pair::new(),
            discard: Pair::new(),
        }
    }

    /// Wakes `w` after unlocking.
    #[inline]
    pub(crate) fn wake(&mut self, w: Option<Waker>) {
        if let Some(w) = w {
            self.wake.push(w);
        }
    }

    /// Drops `w` after unlocking.
    #[inline]
    pub(crate) fn discard(&mut self, w: Option<Waker>) {
        if let Some(w) = w {
            self.discard.push(w);
        }
    }

    /// Drops the discarded wakers and wakes the others, every one even if some panic;
    /// the first panic is resumed at the end. Call with no lock held.
    #[inline]
    pub(crate) fn run(self) {
        if self.discard.one.is_none() && self.wake.more.is_empty() {
            // The common case: at most one waker to wake and none to drop. A panic in it
            // leaves nothing else undone.
            if let Some(w) = self.wake.one {
                w.wake();
            }
            return;
        }
        self.run_all();
    }

    #[inline(never)]
    fn run_all(self) {
        let Wakes { wake, discard } = self;
        let mut first_panic = None;
        let mut guarded = |f: &mut dyn FnMut()| {
            if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
                first_panic.get_or_insert(p);
            }
        };
        for w in discard.one.into_iter().chain(discard.more) {
            let mut w = Some(w);
            guarded(&mut || drop(w.take()));
        }
        for w in wake.one.into_iter().chain(wake.more) {
            let mut w = Some(w);
            guarded(&mut || {
                if let Some(w) = w.take() {
                    w.wake();
                }
            });
        }
        if let Some(p) = first_panic {
            resume_unwind(p);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.wake.one.is_none() && self.discard.one.is_none()
    }
}

/// Outcome of a non-waiting send attempt.
pub(crate) enum TrySend<T> {
    Sent,
    Full(T),
    Closed(T),
}

/// Outcome of a non-waiting recv attempt.
pub(crate) enum TryRecv<T> {
    Got(T),
    /// Nothing to take now (on a closed channel: a value is still in flight).
    Empty,
    Closed,
}

/// The party running an operation: decides node ownership and self-pairing.
#[derive(Clone, Copy)]
pub(crate) enum Party<'a> {
    /// A plain future or blocking call, woken through this waker.
    Solo(&'a Waker),
    /// A select arm; `try_only` when the select has a `default` arm (never wait).
    Select {
        cell: &'a SelectCell,
        arm: usize,
        try_only: bool,
    },
}

impl Party<'_> {
    fn me(&self) -> *const SelectCell {
        match self {
            Party::Solo(_) => core::ptr::null(),
            Party::Select { cell, .. } => *cell,
        }
    }

    fn may_wait(&self) -> bool {
        !matches!(self, Party::Select { try_only: true, .. })
    }

    /// The owner of a new waiting node: the select's cell, or a plain future's waker
    /// cloned before the lock was taken; `None` if it was not cloned yet (the caller
    /// returns `Step::NeedWaker`).
    fn new_owner(&self, waker: &mut Option<Waker>) -> Option<Owner> {
        match *self {
            Party::Solo(_) => waker.take().map(|w| Owner::Solo(Some(w))),
            Party::Select { cell, arm, .. } => Some(Owner::Select { cell, arm }),
        }
    }
}

/// A select arm's pattern, applied to an operation's outcome before it takes effect.
pub(crate) type Check<'c, O> = Option<&'c dyn Fn(&O) -> bool>;

fn accepts<O>(check: Check<'_, O>, out: &O) -> bool {
    check.map_or(true, |c| c(out))
}

/// One step of an operation, run with the lock held.
pub(crate) enum Step<R> {
    Ready(R),
    Pending,
    /// A select arm's outcome did not match its pattern: nothing happened (a received
    /// value went back to the front); the arm is off for the rest of the select.
    Refuted,
    /// A plain future must wait and needs its waker cloned, which happens with the lock
    /// released; then the step runs again.
    NeedWaker,
}

impl<T> State<T> {
    /// Removes node `key` from the waiter queues (an operation giving its node up); the
    /// owner's waker is dropped after unlocking, with `wakes`.
    fn remove_node(&mut self, key: Key, wakes: &mut Wakes) -> crate::waiters::Removed<T> {
        let mut r = self.waiters.remove(key);
        wakes.discard(r.waker.take());
        r
    }

    /// A plain future re-polled while its node `key` waits: the node keeps the waker of
    /// the latest poll (`current`), swapped for the clone in `waker`, or `NeedWaker` if
    /// none was made yet.
    fn keep_waker<R>(
        &mut self,
        key: Key,
        current: &Waker,
        waker: &mut Option<Waker>,
        wakes: &mut Wakes,
    ) -> Step<R> {
        if !self.waiters.wakes_same(key, current) {
            match waker.take() {
                Some(new) => wakes.discard(self.waiters.set_waker(key, new)),
                None => return Step::NeedWaker,
            }
        }
        Step::Pending
    }

    /// A fresh delivery number, newer than every value in flight.
    fn next_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        seq
    }

    /// Completes a claimed receive node with a value sent now (direct handoff): the
    /// newest value in flight (`waiters.rs`, protocol 7).
    #[inline]
    pub(crate) fn fill(&mut self, key: Key, v: T, cap: Option<usize>) {
        let seq = self.next_seq();
        self.waiters.refill(key, v, self.closed, seq, ordered(cap));
    }

    fn has_room(&self, cap: Option<usize>) -> bool {
        cap.map_or(true, |c| self.buf.len() < c)
    }

    /// Wakes every `Stream` watcher: a receive may succeed now.
    #[inline]
    fn notify_watchers(&mut self, wakes: &mut Wakes) {
        if !self.waiters.is_empty(Queue::Watch) {
            self.notify_watchers_slow(wakes);
        }
    }

    #[inline(never)]
    fn notify_watchers_slow(&mut self, wakes: &mut Wakes) {
        while let Some(c) = self.waiters.claim_first(Queue::Watch, core::ptr::null()) {
            self.waiters.finish(c.key, Status::Taken);
            wakes.wake(c.waker);
        }
    }

    pub(crate) fn try_send(
        &mut self,
        v: T,
        cap: Option<usize>,
        me: *const SelectCell,
        wakes: &mut Wakes,
    ) -> TrySend<T> {
        if self.closed {
            return TrySend::Closed(v);
        }
        if let Some(c) = self.waiters.claim_first(Queue::Recv, me) {
            self.fill(c.key, v, cap);
            wakes.wake(c.waker);
            return TrySend::Sent;
        }
        if self.has_room(cap) {
            self.buf.push_back(v);
            self.notify_watchers(wakes);
            return TrySend::Sent;
        }
        TrySend::Full(v)
    }

    pub(crate) fn try_recv(
        &mut self,
        cap: Option<usize>,
        me: *const SelectCell,
        wakes: &mut Wakes,
    ) -> TryRecv<T> {
        self.try_recv_seq(cap, me, wakes).0
    }

    /// [`State::try_recv`], also returning the delivery order of a value taken from a
    /// node in flight (it goes back in that place if a pattern refutes it).
    #[inline]
    fn try_recv_seq(
        &mut self,
        cap: Option<usize>,
        me: *const SelectCell,
        wakes: &mut Wakes,
    ) -> (TryRecv<T>, Option<u32>) {
        if ordered(cap) && !self.waiters.flight_empty() {
            return self.take_in_flight(cap, me, wakes);
        }
        (self.try_recv_settled(cap, me, wakes), None)
    }

    /// A value in flight is older than everything in the buffer (module docs): the
    /// oldest goes first, taken from the receive it was handed to, which then receives
    /// again.
    #[inline(never)]
    fn take_in_flight(
        &mut self,
        cap: Option<usize>,
        me: *const SelectCell,
        wakes: &mut Wakes,
    ) -> (TryRecv<T>, Option<u32>) {
        match self.waiters.steal_oldest(None) {
            Some(s) => {
                if self.closed {
                    self.finish_if_drained(wakes);
                }
                (TryRecv::Got(s.value), Some(s.seq))
            }
            None => (self.try_recv_settled(cap, me, wakes), None),
        }
    }

    /// [`State::try_recv`] when no value is in flight.
    #[inline(always)]
    fn try_recv_settled(
        &mut self,
        cap: Option<usize>,
        me: *const SelectCell,
        wakes: &mut Wakes,
    ) -> TryRecv<T> {
        if let Some(v) = self.buf.pop_front() {
            self.refill(cap, me, wakes);
            return TryRecv::Got(v);
        }
        if let Some(v) = self.parked.pop_front() {
            return TryRecv::Got(v);
        }
        if let Some(c) = self.waiters.claim_first(Queue::Send, me) {
            let v = self.take_sent(c.key);
            wakes.wake(c.waker);
            return TryRecv::Got(v);
        }
        if self.closed && !self.waiters.any_in_flight() {
            TryRecv::Closed
        } else {
            TryRecv::Empty
        }
    }

    /// After a pop made room: move the next parked value, or the first claimable
    /// waiting sender's value, to the tail.
    fn refill(&mut self, cap: Option<usize>, me: *const SelectCell, wakes: &mut Wakes) {
        if !self.has_room(cap) {
            return;
        }
        if let Some(v) = self.parked.pop_front() {
            self.buf.push_back(v);
            return;
        }
        if self.waiters.is_empty(Queue::Send) {
            return;
        }
        if let Some(c) = self.waiters.claim_first(Queue::Send, me) {
            let v = self.take_sent(c.key);
            self.buf.push_back(v);
            wakes.wake(c.waker);
        }
    }

    /// Completes a claimed send node and returns its value.
    fn take_sent(&mut self, key: Key) -> T {
        let v = self
            .waiters
            .get_mut(key)
            .slot
            .take()
            .expect("waiting send node holds its value");
        self.waiters.finish(key, Status::Taken);
        v
    }

    /// Puts a value that a receive had taken back at the front of the channel: in its
    /// place `seq` among the values in flight if it had one, else ahead of the buffer.
    pub(crate) fn give_back(
        &mut self,
        v: T,
        seq: Option<u32>,
        cap: Option<usize>,
        wakes: &mut Wakes,
    ) {
        if let Some(c) = self.waiters.claim_first(Queue::Recv, core::ptr::null()) {
            // A waiting receiver means an empty buffer: `v` is the newest value unless it
            // has a place among the ones in flight.
            let seq = seq.unwrap_or_else(|| self.next_seq());
            self.waiters
                .refill(c.key, v, self.closed, seq, ordered(cap));
            wakes.wake(c.waker);
            return;
        }
        if let (Some(seq), true) = (seq, ordered(cap)) {
            // Values in flight that are newer than `v` come back behind it, so that no
            // receive takes one of them before `v` (protocol 7 in waiters.rs).
            while let Some(newer) = self.waiters.steal_newest(seq) {
                self.put_front(newer.value, cap);
            }
        }
        self.put_front(v, cap);
        self.notify_watchers(wakes);
    }

    /// Puts `v` at the very front of the buffered values (a full buffer's last value
    /// moves to `parked`; on a rendezvous channel `v` is parked).
    fn put_front(&mut self, v: T, cap: Option<usize>) {
        match cap {
            Some(0) => self.parked.push_front(v),
            Some(_) if !self.has_room(cap) => {
                self.buf.push_front(v);
                let last = self.buf.pop_back().expect("a full buffer has a last value");
                self.parked.push_front(last);
            }
            _ => self.buf.push_front(v),
        }
    }

    fn close(&mut self, wakes: &mut Wakes) -> bool {
        if self.closed {
            return false;
        }
        self.closed = true;
        self.waiters.mark_closed();
        while let Some(c) = self.waiters.claim_first(Queue::Send, core::ptr::null()) {
            self.waiters.finish(c.key, Status::Closed);
            wakes.wake(c.waker);
        }
        self.finish_if_drained(wakes);
        self.notify_watchers(wakes);
        self.closed_waiters.wake_all(wakes);
        true
    }

    /// On a closed channel with nothing left to receive (nothing buffered, parked or in
    /// flight): completes every waiting receiver with "closed".
    fn finish_if_drained(&mut self, wakes: &mut Wakes) {
        if !self.closed
            || !self.buf.is_empty()
            || !self.parked.is_empty()
            || self.waiters.any_in_flight()
        {
            return;
        }
        while let Some(c) = self.waiters.claim_first(Queue::Recv, core::ptr::null()) {
            self.waiters.finish(c.key, Status::Closed);
            wakes.wake(c.waker);
        }
        self.notify_watchers(wakes);
    }
}

/// Whether values in flight keep their place among the buffered ones (protocol 7 in
/// waiters.rs): on buffered channels. A rendezvous hands a value only to a receive that
/// was waiting when the send completed, so there a value in flight stays with its
/// receive (and a cancelled one gives it back as a waiting sender).
#[inline]
fn ordered(cap: Option<usize>) -> bool {
    cap != Some(0)
}

/// Most values a bounded channel's ring preallocates room for; larger rings grow with use.
const MAX_PREALLOCATED: usize = 1024;
/// Bounded channels with a smaller capacity allocate their ring on first use: an idle
/// channel (a task parked on its receive) then holds no buffer at all, and a small ring
/// grows to its size in a step or two.
const MIN_PREALLOCATED: usize = 64;

impl<T> Chan<T> {
    pub(crate) fn new(cap: Option<usize>) -> Self {
        let buf = match cap {
            // Preallocate only up to a cap: any capacity is valid (`bounded(usize::MAX)`
            // must not overflow or abort), and past the cap the ring grows as values
            // arrive.
            Some(n) if n >= MIN_PREALLOCATED => Ring::with_capacity(n.min(MAX_PREALLOCATED)),
            _ => Ring::new(),
        };
        Chan {
            state: Mutex::new(State {
                buf,
                parked: ColdRing::new(),
                closed: false,
                next_seq: 0,
                waiters: Waiters::new(),
                closed_waiters: Default::default(),
            }),
            cap,
            closed: AtomicBool::new(false),
            watched: AtomicBool::new(false),
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            id: crate::hooks::next_chan_id(),
        }
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.cap
    }

    /// The channel's address: its identity, and the order in which a select locks
    /// several channels.
    pub(crate) fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// Reports that a task now waits to `op` on this channel (see [`crate::hooks`]).
    pub(crate) fn report_wait(&self, op: WaitOp) {
        crate::hooks::report(op, Some((self.id, crate::hooks::Flavour::of(self.cap))));
    }

    pub(crate) fn len(&self) -> usize {
        match self.cap {
            Some(0) => 0,
            _ => lock(&self.state).buf.len(),
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        match self.cap {
            None => false,
            Some(0) => true,
            Some(c) => lock(&self.state).buf.len() >= c,
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Runs `f` under the lock, then runs the wakes it collected.
    #[inline]
    fn with_state<R>(&self, f: impl FnOnce(&mut State<T>, &mut Wakes) -> R) -> R {
        let mut wakes = Wakes::new();
        let r = f(&mut lock(&self.state), &mut wakes);
        if !wakes.is_empty() {
            wakes.run();
        }
        r
    }

    /// Closes the channel; `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        self.with_state(|st, wakes| {
            let closed = st.close(wakes);
            if closed {
                self.closed.store(true, Ordering::Release);
            }
            closed
        })
    }

    /// Closes the channel and drops every buffered value (the last receiver is gone).
    pub(crate) fn close_and_drain(&self) {
        self.close();
        let drained = {
            let mut st = lock(&self.state);
            (
                core::mem::take(&mut st.buf),
                core::mem::take(&mut st.parked),
            )
        };
        drop(drained);
    }

    /// Locks this channel into a select's lock table (once per channel).
    pub(crate) fn lock_into(&self, locks: &mut LockTable) {
        let addr = self.addr();
        if locks.state_of(addr).is_some() {
            return;
        }
        self.state.lock_raw();
        locks.push(LockEntry {
            addr,
            chan: (self as *const Self).cast(),
            state: self.state.data_ptr().cast(),
            unlock: unlock_chan::<T>,
        });
    }

    /// Runs a select arm's `step` in the locked pass (select.rs protocol 3), on this
    /// channel's state, which the driver locked into `turn`'s lock table. Out of line: the
    /// common select polls never get here.
    #[inline(never)]
    pub(crate) fn step_locked<R>(
        &self,
        turn: &mut ArmTurn<'_, '_>,
        step: impl FnOnce(&mut State<T>, Option<usize>, Party<'_>, &mut Wakes) -> Step<R>,
    ) -> ArmPoll<R> {
        let (locks, wakes, party) = turn.locked_parts();
        let st = locks
            .state_of(self.addr())
            .expect("the locked pass holds every channel arm's lock");
        // SAFETY: the entry for this address was pushed by `lock_into` on this very
        // channel (an address identifies one live channel, so `T` matches) and its lock
        // is held until the table is dropped, after this call; nothing else borrows the
        // state meanwhile (the driver runs one arm at a time).
        let st = unsafe { &mut *st.cast::<State<T>>() };
        arm_poll(step(st, self.cap, party, wakes))
    }

    /// A select that has a send node linked here went to sleep (its node is claimable
    /// now): `Stream` watchers that skipped the node while the select was busy look again.
    /// The select took this lock while linking or re-checking the node, after any such
    /// watcher registered, so the relaxed load sees every registration that matters.
    pub(crate) fn after_publish(&self) {
        if self.watched.load(Ordering::Relaxed) {
            self.with_state(|st, wakes| st.notify_watchers(wakes));
        }
    }

    /// An operation took a value from a `DoneClosed` node (`waiters.rs`, protocol 6).
    fn in_flight_taken(&self) {
        self.with_state(|st, wakes| st.finish_if_drained(wakes));
    }

    pub(crate) fn try_send(&self, v: T) -> TrySend<T> {
        self.with_state(|st, wakes| st.try_send(v, self.cap, core::ptr::null(), wakes))
    }

    pub(crate) fn try_recv(&self) -> TryRecv<T> {
        self.with_state(|st, wakes| st.try_recv(self.cap, core::ptr::null(), wakes))
    }

    /// Moves up to `n` values that are there right now into `out`, under one lock (each
    /// one exactly as [`State::try_recv`] would take it); returns how many.
    pub(crate) fn try_recv_many(&self, out: &mut Vec<T>, n: usize) -> usize {
        self.with_state(|st, wakes| {
            let mut taken = 0;
            while taken < n {
                match st.try_recv(self.cap, core::ptr::null(), wakes) {
                    TryRecv::Got(v) => out.push(v),
                    TryRecv::Empty | TryRecv::Closed => break,
                }
                taken += 1;
            }
            taken
        })
    }

    /// Runs `step` under the lock until it no longer needs a waker clone (cloned with the
    /// lock released), then runs the wakes.
    fn drive<'s, R>(
        &'s self,
        mut st: MutexGuard<'s, State<T>>,
        party: Party<'_>,
        mut waker: Option<Waker>,
        mut step: impl FnMut(&mut State<T>, &mut Option<Waker>, &mut Wakes) -> Step<R>,
    ) -> Step<R> {
        let mut wakes = Wakes::new();
        loop {
            match step(&mut st, &mut waker, &mut wakes) {
                Step::NeedWaker => {
                    drop(st);
                    if let Party::Solo(w) = party {
                        waker = Some(w.clone());
                    }
                    st = lock(&self.state);
                }
                other => {
                    drop(st);
                    drop(waker);
                    if !wakes.is_empty() {
                        wakes.run();
                    }
                    return other;
                }
            }
        }
    }
}

/// Releases the lock of the channel `chan` (a select's lock table entry).
///
/// # Safety
///
/// `chan` points to a live `Chan<T>` whose lock the caller holds through
/// [`Chan::lock_into`].
unsafe fn unlock_chan<T>(chan: *const ()) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { (*chan.cast::<Chan<T>>()).state.unlock_raw() }
}

impl<R> Step<R> {
    fn into_poll(self) -> Poll<R> {
        match self {
            Step::Ready(r) => Poll::Ready(r),
            Step::Pending => Poll::Pending,
            Step::Refuted | Step::NeedWaker => {
                unreachable!("plain operations have no pattern and clone their waker")
            }
        }
    }
}

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        // Waiter nodes are plain heap blocks, freed only here.
        lock(&self.state).waiters.free_all();
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chan")
            .field("id", &self.id)
            .field("capacity", &self.cap)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
