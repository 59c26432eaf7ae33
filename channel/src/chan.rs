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
use crate::select::{arm_poll, ArmCx, ArmPoll, LockEntry, LockTable, SelectCell};
use crate::waiters::{release_sent, take_filled, Key, Owner, Queue, Status, Waiters};
use crate::SendError;

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
    /// channel's state, which the driver locked into `acx`'s lock table. Out of line: the
    /// common select polls never get here.
    #[inline(never)]
    pub(crate) fn step_locked<R>(
        &self,
        acx: &mut ArmCx<'_, '_>,
        step: impl FnOnce(&mut State<T>, Option<usize>, Party<'_>, &mut Wakes) -> Step<R>,
    ) -> ArmPoll<R> {
        let (locks, wakes, party) = acx.locked_parts();
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

/// The state of one send operation (future, sink, blocking call or select arm).
///
/// Invariant: the value is in `value` while no node is held (`key` is `None`) and the
/// operation has not completed; while a node is held, the value is in the node.
pub(crate) struct SendOp<T> {
    value: Option<T>,
    key: Option<Key>,
}

impl<T> SendOp<T> {
    pub(crate) fn new(v: T) -> Self {
        SendOp {
            value: Some(v),
            key: None,
        }
    }

    /// Polls the send as a plain future or blocking call.
    #[inline]
    pub(crate) fn poll(&mut self, chan: &Chan<T>, waker: &Waker) -> Poll<Result<(), SendError<T>>> {
        if self.key.is_none() {
            if chan.cap == Some(0) {
                return self.poll_fresh_rendezvous(chan, waker).into_poll();
            }
            let mut st = lock(&chan.state);
            if !st.closed
                && st.waiters.is_empty(Queue::Recv)
                && st.waiters.is_empty(Queue::Watch)
                && st.has_room(chan.cap)
            {
                // Fast path (a buffered channel with room and nobody waiting to
                // receive): the value goes to the buffer, no wake-up. `State::try_send`'s
                // steps, kept small so that they inline.
                let v = self.value.take().expect("send polled after completion");
                st.buf.push_back(v);
                return Poll::Ready(Ok(()));
            }
            return self.poll_fresh_solo(st, chan, waker).into_poll();
        }
        self.poll_waiting(chan, Party::Solo(waker), None)
            .into_poll()
    }

    /// Polls the send as a select arm (not in the locked pass).
    #[inline]
    pub(crate) fn poll_arm(
        &mut self,
        chan: &Chan<T>,
        party: Party<'_>,
        check: Check<'_, Result<(), SendError<T>>>,
    ) -> Step<Result<(), SendError<T>>> {
        if self.key.is_none() {
            let mut st = lock(&chan.state);
            if !st.closed
                && st.waiters.is_empty(Queue::Recv)
                && st.waiters.is_empty(Queue::Watch)
                && st.has_room(chan.cap)
                && accepts(check, &Ok(()))
            {
                // The fast path of `poll`, for a select arm whose pattern accepts success.
                let v = self.value.take().expect("send polled after completion");
                st.buf.push_back(v);
                return Step::Ready(Ok(()));
            }
            return self.poll_slow(st, chan, party, check);
        }
        self.poll_waiting(chan, party, check)
    }

    /// A first poll that could not simply buffer its value.
    #[inline(never)]
    fn poll_slow(
        &mut self,
        st: MutexGuard<'_, State<T>>,
        chan: &Chan<T>,
        party: Party<'_>,
        check: Check<'_, Result<(), SendError<T>>>,
    ) -> Step<Result<(), SendError<T>>> {
        chan.drive(st, party, None, |st, waker, wakes| {
            self.step(st, chan.cap, party, waker, wakes, check)
        })
    }

    /// A plain future's or blocking call's first poll that could not buffer its value.
    /// A waiting receiver is the common case (ping-pong): hand the value over here,
    /// without the general path's detours.
    #[inline(never)]
    fn poll_fresh_solo(
        &mut self,
        mut st: MutexGuard<'_, State<T>>,
        chan: &Chan<T>,
        waker: &Waker,
    ) -> Step<Result<(), SendError<T>>> {
        if !st.closed {
            if let Some(c) = st.waiters.claim_first(Queue::Recv, core::ptr::null()) {
                let v = self.value.take().expect("send polled after completion");
                st.fill(c.key, v, chan.cap);
                drop(st);
                if let Some(w) = c.waker {
                    w.wake();
                }
                return Step::Ready(Ok(()));
            }
        }
        self.poll_slow(st, chan, Party::Solo(waker), None)
    }

    /// A plain future's or blocking call's first poll on a rendezvous channel: hand the
    /// value to a waiting receiver, else wait. The waker is cloned before the lock is
    /// taken (never under it): a rendezvous send waits often, and cloning after a first
    /// locked attempt would cost a second lock round.
    #[inline(never)]
    fn poll_fresh_rendezvous(
        &mut self,
        chan: &Chan<T>,
        waker: &Waker,
    ) -> Step<Result<(), SendError<T>>> {
        let w = waker.clone();
        let mut st = lock(&chan.state);
        if !st.closed {
            let v = self.value.take().expect("send polled after completion");
            if let Some(c) = st.waiters.claim_first(Queue::Recv, core::ptr::null()) {
                st.fill(c.key, v, chan.cap);
                drop(st);
                drop(w);
                if let Some(r) = c.waker {
                    r.wake();
                }
                return Step::Ready(Ok(()));
            }
            let key = st.waiters.insert(Some(v), Owner::Solo(Some(w)));
            st.waiters.link(key, Queue::Send);
            self.key = Some(key);
            if !st.waiters.is_empty(Queue::Watch) {
                let mut wakes = Wakes::new();
                st.notify_watchers(&mut wakes);
                drop(st);
                wakes.run();
            }
            return Step::Pending;
        }
        let party = Party::Solo(waker);
        chan.drive(st, party, Some(w), |st, waker, wakes| {
            self.step(st, chan.cap, party, waker, wakes, None)
        })
    }

    /// A poll while holding a node: lock-free if the node completed.
    #[inline(never)]
    fn poll_waiting(
        &mut self,
        chan: &Chan<T>,
        party: Party<'_>,
        check: Check<'_, Result<(), SendError<T>>>,
    ) -> Step<Result<(), SendError<T>>> {
        if let Some(key) = self.key {
            // SAFETY: `key` is our node on `chan` (waiters.rs protocol 1).
            if unsafe { key.status::<T>() } != Status::Waiting {
                self.key = None;
                // SAFETY: our node, completed (the status just read): ours alone.
                let slot = unsafe { release_sent::<T>(key) };
                return self.finish(slot, check);
            }
        }
        let st = lock(&chan.state);
        self.poll_slow(st, chan, party, check)
    }

    /// One step with the lock held (also the select's locked pass).
    pub(crate) fn step(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        party: Party<'_>,
        waker: &mut Option<Waker>,
        wakes: &mut Wakes,
        check: Check<'_, Result<(), SendError<T>>>,
    ) -> Step<Result<(), SendError<T>>> {
        if self.key.is_some() {
            return self.step_node(st, cap, party, waker, wakes, check);
        }
        let v = self.value.take().expect("send polled after completion");
        if !st.closed && !accepts(check, &Ok(())) {
            // A pattern that refuses success: this arm must not send.
            self.value = Some(v);
            return Step::Refuted;
        }
        match st.try_send(v, cap, party.me(), wakes) {
            TrySend::Sent => Step::Ready(Ok(())),
            TrySend::Closed(v) => self.finish(Some(v), check),
            TrySend::Full(v) if !party.may_wait() => {
                self.value = Some(v);
                Step::Pending
            }
            TrySend::Full(v) => {
                let owner = match party {
                    Party::Solo(_) => match waker.take() {
                        Some(w) => Owner::Solo(Some(w)),
                        None => {
                            self.value = Some(v);
                            return Step::NeedWaker;
                        }
                    },
                    Party::Select { cell, arm, .. } => Owner::Select { cell, arm },
                };
                let key = st.waiters.insert(Some(v), owner);
                st.waiters.link(key, Queue::Send);
                if let Party::Solo(_) = party {
                    // A select's node is not claimable yet (its cell is busy): the select
                    // tells the watchers once it sleeps (`after_publish`).
                    st.notify_watchers(wakes);
                }
                self.key = Some(key);
                Step::Pending
            }
        }
    }

    /// [`SendOp::step`] for an operation holding a node.
    fn step_node(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        party: Party<'_>,
        waker: &mut Option<Waker>,
        wakes: &mut Wakes,
        check: Check<'_, Result<(), SendError<T>>>,
    ) -> Step<Result<(), SendError<T>>> {
        let key = self.key.expect("step_node runs with a node");
        match (st.waiters.status(key), party) {
            (Status::Waiting, Party::Solo(w)) => {
                if !st.waiters.wakes_same(key, w) {
                    match waker.take() {
                        Some(new) => wakes.discard(st.waiters.set_waker(key, new)),
                        None => return Step::NeedWaker,
                    }
                }
                Step::Pending
            }
            (Status::Waiting, Party::Select { cell, arm, .. }) => {
                if !st.closed && !accepts(check, &Ok(())) {
                    // A plain future polled before the select, whose arm's pattern
                    // refuses success: give the node up, keep the value.
                    let r = st.waiters.remove(key);
                    self.key = None;
                    self.value = r.slot;
                    wakes.discard(r.waker);
                    return Step::Refuted;
                }
                // A select re-polls (or adopts) a waiting node; its cell is IDLE, so
                // nobody can claim the node meanwhile: take the value out and retry.
                let old = st.waiters.adopt(key, Owner::Select { cell, arm });
                wakes.discard(old);
                let v = st
                    .waiters
                    .get_mut(key)
                    .slot
                    .take()
                    .expect("waiting send node");
                match st.try_send(v, cap, party.me(), wakes) {
                    TrySend::Full(v) => {
                        st.waiters.get_mut(key).slot = Some(v);
                        if !party.may_wait() {
                            // Try-only: give the node up, keep the value.
                            let r = st.waiters.remove(key);
                            self.key = None;
                            self.value = r.slot;
                            wakes.discard(r.waker);
                        } else if !st.waiters.is_linked(key) {
                            st.waiters.link(key, Queue::Send);
                        }
                        Step::Pending
                    }
                    done => {
                        let r = st.waiters.remove(key);
                        self.key = None;
                        wakes.discard(r.waker);
                        match done {
                            TrySend::Closed(v) => self.finish(Some(v), check),
                            _ => Step::Ready(Ok(())),
                        }
                    }
                }
            }
            (_, _) => {
                let r = st.waiters.remove(key);
                self.key = None;
                wakes.discard(r.waker);
                self.finish(r.slot, check)
            }
        }
    }

    /// The outcome of a completed send (`Some(v)`: not delivered, closed), through the
    /// arm's pattern. A refuted failure keeps its value in the operation (dropped with
    /// it, never under the lock); a refuted success can only come from a plain future
    /// that completed before its select began.
    fn finish(
        &mut self,
        slot: Option<T>,
        check: Check<'_, Result<(), SendError<T>>>,
    ) -> Step<Result<(), SendError<T>>> {
        let out = match slot {
            None => Ok(()),
            Some(v) => Err(SendError(v)),
        };
        if accepts(check, &out) {
            return Step::Ready(out);
        }
        if let Err(SendError(v)) = out {
            self.value = Some(v);
        }
        Step::Refuted
    }

    /// Gives up the node, if any: a value not delivered comes back into the operation
    /// (so a future used through `&mut` in a losing select arm can still be polled).
    pub(crate) fn reset(&mut self, chan: &Chan<T>) {
        if let Some(key) = self.key.take() {
            let removed = chan.with_state(|st, _| st.waiters.remove(key));
            match removed.status {
                Status::Waiting | Status::Closed => self.value = removed.slot,
                _ => {}
            }
            drop(removed.waker);
        }
    }

    /// True while the operation holds a node (its value waits in a channel's queue).
    pub(crate) fn is_waiting(&self) -> bool {
        self.key.is_some()
    }

    /// Cancels the operation: gives up the node; a value not delivered is dropped after
    /// the lock is released.
    #[inline]
    pub(crate) fn cancel(&mut self, chan: &Chan<T>) {
        if self.key.is_some() {
            self.reset(chan);
        }
        self.value = None;
    }
}

/// The state of one recv operation (future, blocking call or select arm).
#[derive(Debug, Default)]
pub(crate) struct RecvOp {
    key: Option<Key>,
}

impl RecvOp {
    pub(crate) const fn new() -> Self {
        RecvOp { key: None }
    }

    /// True while the operation holds a node on its channel.
    pub(crate) fn holds_node(&self) -> bool {
        self.key.is_some()
    }

    /// Polls the recv as a plain future or blocking call.
    #[inline]
    pub(crate) fn poll<T>(&mut self, chan: &Chan<T>, waker: &Waker) -> Poll<Option<T>> {
        if self.key.is_none() {
            if chan.cap == Some(0) {
                return self.poll_fresh_rendezvous(chan, waker).into_poll();
            }
            let mut st = lock(&chan.state);
            if st.waiters.is_empty(Queue::Send) && st.parked.is_empty() && st.waiters.flight_empty()
            {
                // Fast path: a buffered value, none in flight ahead of it, and nothing to
                // move into the room it leaves; no wake-up. (`State::try_recv`'s first step, kept small so that
                // it inlines.)
                if let Some(v) = st.buf.pop_front() {
                    return Poll::Ready(Some(v));
                }
            }
            return self
                .poll_slow(st, chan, Party::Solo(waker), None)
                .into_poll();
        }
        self.poll_waiting(chan, Party::Solo(waker), None)
            .into_poll()
    }

    /// Polls the recv as a select arm (not in the locked pass).
    #[inline]
    pub(crate) fn poll_arm<T>(
        &mut self,
        chan: &Chan<T>,
        party: Party<'_>,
        check: Check<'_, Option<T>>,
    ) -> Step<Option<T>> {
        if self.key.is_none() {
            let mut st = lock(&chan.state);
            if st.waiters.is_empty(Queue::Send) && st.parked.is_empty() && st.waiters.flight_empty()
            {
                // The fast path of `poll`, through the arm's pattern.
                if let Some(v) = st.buf.pop_front() {
                    let out = Some(v);
                    if accepts(check, &out) {
                        return Step::Ready(out);
                    }
                    let mut wakes = Wakes::new();
                    let r = Self::checked(&mut st, chan.cap, out, None, &mut wakes, check);
                    drop(st);
                    wakes.run();
                    return r;
                }
            }
            return self.poll_slow(st, chan, party, check);
        }
        self.poll_waiting(chan, party, check)
    }

    #[inline(never)]
    fn poll_slow<T>(
        &mut self,
        st: MutexGuard<'_, State<T>>,
        chan: &Chan<T>,
        party: Party<'_>,
        check: Check<'_, Option<T>>,
    ) -> Step<Option<T>> {
        chan.drive(st, party, None, |st, waker, wakes| {
            self.step(st, chan.cap, party, waker, wakes, check)
        })
    }

    /// A plain future's or blocking call's first poll on a rendezvous channel, where a
    /// receive mostly has to wait: the waker is cloned before the lock is taken (never
    /// under it), so the wait costs one lock round, not two.
    #[inline(never)]
    fn poll_fresh_rendezvous<T>(&mut self, chan: &Chan<T>, waker: &Waker) -> Step<Option<T>> {
        let w = waker.clone();
        let mut st = lock(&chan.state);
        if st.parked.is_empty() {
            if let Some(c) = st.waiters.claim_first(Queue::Send, core::ptr::null()) {
                // A sender is waiting (the other half of ping-pong): take its value here,
                // without the general path's detours.
                let v = st.take_sent(c.key);
                drop(st);
                drop(w);
                if let Some(s) = c.waker {
                    s.wake();
                }
                return Step::Ready(Some(v));
            }
            if !st.closed {
                let key = st.waiters.insert(None, Owner::Solo(Some(w)));
                st.waiters.link(key, Queue::Recv);
                self.key = Some(key);
                return Step::Pending;
            }
        }
        let party = Party::Solo(waker);
        chan.drive(st, party, Some(w), |st, waker, wakes| {
            self.step(st, chan.cap, party, waker, wakes, None)
        })
    }

    /// A poll while holding a node: lock-free if the node was filled.
    #[inline(never)]
    fn poll_waiting<T>(
        &mut self,
        chan: &Chan<T>,
        party: Party<'_>,
        check: Check<'_, Option<T>>,
    ) -> Step<Option<T>> {
        if let (Some(key), None) = (self.key, check) {
            // SAFETY: `key` is our recv node on `chan` (waiters.rs protocol 1).
            if let Some((v, closed)) = unsafe { take_filled::<T>(key) } {
                self.key = None;
                if closed {
                    chan.in_flight_taken();
                }
                return Step::Ready(Some(v));
            }
        }
        // Not filled, filled behind an older value in flight, taken by another receive,
        // or a select arm with a pattern (taking the value and giving it back if the
        // pattern refutes it happen under the lock, in one step, so nobody sees the
        // channel without it): under the lock.
        let st = lock(&chan.state);
        self.poll_slow(st, chan, party, check)
    }

    /// One step with the lock held (also the select's locked pass).
    pub(crate) fn step<T>(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        party: Party<'_>,
        waker: &mut Option<Waker>,
        wakes: &mut Wakes,
        check: Check<'_, Option<T>>,
    ) -> Step<Option<T>> {
        let status = match self.key {
            None => None,
            Some(key) => {
                let status = st.waiters.status(key);
                if status.holds_value() {
                    // The oldest value in flight goes first: if another receive holds an
                    // older one, take that and give ours back in its place.
                    let older = if ordered(cap) {
                        st.waiters.steal_oldest(Some(st.waiters.flight_seq(key)))
                    } else {
                        None
                    };
                    let r = st.waiters.remove(key);
                    self.key = None;
                    wakes.discard(r.waker);
                    let (out, seq) = match older {
                        Some(o) => {
                            if let Some(v) = r.slot {
                                st.give_back(v, r.seq, cap, wakes);
                            }
                            (Some(o.value), Some(o.seq))
                        }
                        None => (r.slot, r.seq),
                    };
                    // A refuted value goes back first: only then may the channel look
                    // drained (`None` is final).
                    let step = Self::checked(st, cap, out, seq, wakes, check);
                    if st.closed {
                        st.finish_if_drained(wakes);
                    }
                    return step;
                }
                if let (Status::Waiting, Party::Solo(w)) = (status, party) {
                    if !st.waiters.wakes_same(key, w) {
                        match waker.take() {
                            Some(new) => wakes.discard(st.waiters.set_waker(key, new)),
                            None => return Step::NeedWaker,
                        }
                    }
                    return Step::Pending;
                }
                if let (Status::Waiting, Party::Select { cell, arm, .. }) = (status, party) {
                    // A select re-polls (or adopts) its waiting node: it is not claimable
                    // while the cell is IDLE, so try again now.
                    wakes.discard(st.waiters.adopt(key, Owner::Select { cell, arm }));
                }
                Some((key, status))
            }
        };
        let (got, seq) = st.try_recv_seq(cap, party.me(), wakes);
        match got {
            TryRecv::Empty if party.may_wait() => match status {
                Some((key, Status::Waiting)) => {
                    if !st.waiters.is_linked(key) {
                        st.waiters.link(key, Queue::Recv);
                    }
                    Step::Pending
                }
                _ => {
                    // No node yet, or one completed with "closed" while a value was
                    // still in flight: wait with a fresh node.
                    if let Some((key, _)) = status {
                        wakes.discard(st.waiters.remove(key).waker);
                        self.key = None;
                    }
                    let owner = match party {
                        Party::Solo(_) => match waker.take() {
                            Some(w) => Owner::Solo(Some(w)),
                            None => return Step::NeedWaker,
                        },
                        Party::Select { cell, arm, .. } => Owner::Select { cell, arm },
                    };
                    let key = st.waiters.insert(None, owner);
                    st.waiters.link(key, Queue::Recv);
                    self.key = Some(key);
                    Step::Pending
                }
            },
            TryRecv::Empty => {
                // Try-only: give up any node.
                if let Some((key, _)) = status {
                    wakes.discard(st.waiters.remove(key).waker);
                    self.key = None;
                }
                Step::Pending
            }
            done => {
                if let Some((key, _)) = status {
                    wakes.discard(st.waiters.remove(key).waker);
                    self.key = None;
                }
                let out = match done {
                    TryRecv::Got(v) => Some(v),
                    _ => None,
                };
                Self::checked(st, cap, out, seq, wakes, check)
            }
        }
    }

    /// Applies a select arm's pattern to a receive's outcome, under the lock: a refuted
    /// value goes back to the front before anyone else can receive.
    fn checked<T>(
        st: &mut State<T>,
        cap: Option<usize>,
        out: Option<T>,
        seq: Option<u32>,
        wakes: &mut Wakes,
        check: Check<'_, Option<T>>,
    ) -> Step<Option<T>> {
        if accepts(check, &out) {
            return Step::Ready(out);
        }
        if let Some(v) = out {
            st.give_back(v, seq, cap, wakes);
        }
        Step::Refuted
    }

    /// Cancels the operation: gives up the node; a value already handed to it goes back
    /// to the channel front.
    #[inline]
    pub(crate) fn cancel<T>(&mut self, chan: &Chan<T>) {
        if let Some(key) = self.key.take() {
            Self::cancel_node(chan, key);
        }
    }

    fn cancel_node<T>(chan: &Chan<T>, key: Key) {
        chan.with_state(|st, wakes| {
            let r = st.waiters.remove(key);
            wakes.discard(r.waker);
            if let (true, Some(v)) = (r.status.holds_value(), r.slot) {
                st.give_back(v, r.seq, chan.cap, wakes);
            }
        });
    }
}

/// The pending receive of a `Receiver` used as a `Stream`: a watch node, never filled.
#[derive(Debug, Default)]
pub(crate) struct WatchOp {
    key: Option<Key>,
}

impl WatchOp {
    pub(crate) const fn new() -> Self {
        WatchOp { key: None }
    }

    /// Tries to receive; else (re)registers as a watcher woken by the next change.
    pub(crate) fn poll<T>(&mut self, chan: &Chan<T>, waker: &Waker) -> Poll<Option<T>> {
        let mut pre_cloned: Option<Waker> = None;
        loop {
            let mut wakes = Wakes::new();
            let mut st = lock(&chan.state);
            if let Some(key) = self.key {
                if st.waiters.status(key) == Status::Waiting && st.waiters.wakes_same(key, waker) {
                    // Still registered with the same waker and nothing changed since
                    // (no wake-up came): keep waiting.
                    drop(st);
                    return Poll::Pending;
                }
                wakes.discard(st.waiters.remove(key).waker);
                self.key = None;
            }
            let r = match st.try_recv(chan.cap, core::ptr::null(), &mut wakes) {
                TryRecv::Got(v) => Poll::Ready(Some(v)),
                TryRecv::Closed => Poll::Ready(None),
                TryRecv::Empty => match pre_cloned.take() {
                    Some(w) => {
                        let key = st.waiters.insert(None, Owner::Solo(Some(w)));
                        st.waiters.link(key, Queue::Watch);
                        chan.watched.store(true, Ordering::Relaxed);
                        self.key = Some(key);
                        Poll::Pending
                    }
                    None => {
                        drop(st);
                        wakes.run();
                        pre_cloned = Some(waker.clone());
                        continue;
                    }
                },
            };
            drop(st);
            drop(pre_cloned);
            wakes.run();
            return r;
        }
    }

    /// Removes the watch node, if any.
    pub(crate) fn cancel<T>(&mut self, chan: &Chan<T>) {
        if let Some(key) = self.key.take() {
            let r = chan.with_state(|st, _| st.waiters.remove(key));
            drop(r);
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
