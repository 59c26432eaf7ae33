//! The channel core, Go's `hchan`: one mutex guarding buffer, `closed` and two wait queues.
//!
//! # Flavours
//!
//! One core serves all three flavours; only the room check differs:
//!
//! | flavour | `cap` | buffer |
//! |---|---|---|
//! | `bounded(n)`, n > 0 | `Some(n)` | a ring (`VecDeque`) of at most `n` values; room for up to 1024 is allocated up front, a larger ring grows with use |
//! | `unbounded()` | `None` | a growable ring: no allocation per message once grown |
//! | `rendezvous()` | `Some(0)` | empty, except values given back by cancelled receivers |
//!
//! # Algorithm (all under the lock)
//!
//! * **send(v)**: closed → fail with `v`. Else claim the first claimable waiting receiver
//!   and hand `v` straight into its node (direct handoff; the sender never suspends). Else
//!   if the buffer has room, push `v`. Else wait in `sendq` holding `v`.
//! * **recv**: buffer non-empty → pop the front; if that made room, move the first
//!   claimable waiting sender's value to the buffer tail and complete that sender. Buffer
//!   empty → take the value of the first claimable waiting sender. Else closed → `None`,
//!   else wait in `recvq`.
//! * **close**: set `closed`; complete every claimable receiver with "closed" and every
//!   claimable sender with its value given back. Buffered values stay for receivers.
//! * **give-back**: a cancelled receiver whose node already holds a value hands it to the
//!   first claimable waiting receiver, else pushes it to the buffer *front* (even past
//!   capacity), so ordering and conservation hold.
//!
//! Go's invariants hold for claimable nodes: a non-empty buffer has no claimable waiting
//! receiver, a buffer with room has no claimable waiting sender. Select nodes whose owner
//! is busy (`IDLE`) may be skipped; the select protocol makes that owner re-check.
//!
//! The one step outside the lock: an operation whose node was completed (status `Done`
//! or `Closed`, read with acquire) takes its result from the node and gives the node
//! back without locking (`waiters.rs`, protocols 2 and 4). Everything that decides
//! *what* happens stays under the lock.
//!
//! Wakers are collected under the lock and called after unlocking; values dropped by the
//! channel (cancelled sends, last receiver gone) are dropped after unlocking too, so a
//! panicking waker or `T::drop` never runs under the lock.

use std::collections::VecDeque;
use std::fmt;

use core::task::{Poll, Waker};

use crate::debug::WaitOp;
use crate::loom::{lock, AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::select::SelectCell;
use crate::waiters::{release, Claimed, Key, Owner, Queue, Status, Waiters};

/// The shared channel: one allocation per channel (inside the handles' `Arc`).
pub(crate) struct Chan<T> {
    state: Mutex<State<T>>,
    /// `None`: unbounded; `Some(0)`: rendezvous; `Some(n)`: bounded.
    cap: Option<usize>,
    /// Mirror of `State::closed` for lock-free `is_closed`.
    closed: AtomicBool,
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
    /// Process-unique id, for wait reasons and `Debug`.
    id: u64,
}

struct State<T> {
    buf: VecDeque<T>,
    closed: bool,
    waiters: Waiters<T>,
}

/// Outcome of a non-waiting send attempt.
pub(crate) enum TrySend<T> {
    Sent(Option<Waker>),
    Full(T),
    Closed(T),
}

/// Outcome of a non-waiting recv attempt.
pub(crate) enum TryRecv<T> {
    Got(T, Option<Waker>),
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

    #[inline]
    fn owner(&self) -> Owner {
        match *self {
            Party::Solo(w) => Owner::Solo(Some(w.clone())),
            Party::Select { cell, arm, .. } => Owner::Select { cell, arm },
        }
    }

    fn may_wait(&self) -> bool {
        !matches!(self, Party::Select { try_only: true, .. })
    }
}

#[inline]
fn wake(w: Option<Waker>) {
    if let Some(w) = w {
        w.wake();
    }
}

impl<T> State<T> {
    fn has_room(&self, cap: Option<usize>) -> bool {
        cap.map_or(true, |c| self.buf.len() < c)
    }

    fn try_send(&mut self, v: T, cap: Option<usize>, me: *const SelectCell) -> TrySend<T> {
        if self.closed {
            return TrySend::Closed(v);
        }
        if let Some(c) = self.waiters.claim_first(Queue::Recv, me) {
            self.waiters.fill(c.key, v);
            return TrySend::Sent(c.waker);
        }
        if self.has_room(cap) {
            self.buf.push_back(v);
            return TrySend::Sent(None);
        }
        TrySend::Full(v)
    }

    fn try_recv(&mut self, cap: Option<usize>, me: *const SelectCell) -> TryRecv<T> {
        if let Some(v) = self.buf.pop_front() {
            let waker = self.refill(cap, me);
            return TryRecv::Got(v, waker);
        }
        if let Some(c) = self.waiters.claim_first(Queue::Send, me) {
            let v = self.take_sent(c.key);
            return TryRecv::Got(v, c.waker);
        }
        if self.closed {
            TryRecv::Closed
        } else {
            TryRecv::Empty
        }
    }

    /// After a pop made room: move the first claimable sender's value to the tail.
    fn refill(&mut self, cap: Option<usize>, me: *const SelectCell) -> Option<Waker> {
        if !self.has_room(cap) || self.waiters.is_empty(Queue::Send) {
            return None;
        }
        let c = self.waiters.claim_first(Queue::Send, me)?;
        let v = self.take_sent(c.key);
        self.buf.push_back(v);
        c.waker
    }

    /// Completes a claimed send node and returns its value.
    fn take_sent(&mut self, key: Key) -> T {
        let v = self
            .waiters
            .get_mut(key)
            .slot
            .take()
            .expect("waiting send node holds its value");
        self.waiters.finish(key, Status::Done);
        v
    }

    /// Returns a value a cancelled receiver had been handed to the channel front.
    fn give_back(&mut self, v: T) -> Option<Waker> {
        if let Some(c) = self.waiters.claim_first(Queue::Recv, core::ptr::null()) {
            self.waiters.fill(c.key, v);
            return c.waker;
        }
        self.buf.push_front(v);
        None
    }

    fn close(&mut self) -> Option<Vec<Claimed>> {
        if self.closed {
            return None;
        }
        self.closed = true;
        let mut claimed = Vec::new();
        self.waiters.claim_all(Queue::Recv, &mut claimed);
        self.waiters.claim_all(Queue::Send, &mut claimed);
        for c in &claimed {
            self.waiters.finish(c.key, Status::Closed);
        }
        Some(claimed)
    }
}

/// Most values a bounded channel's ring preallocates room for; larger rings grow with use.
const MAX_PREALLOCATED: usize = 1024;

impl<T> Chan<T> {
    pub(crate) fn new(cap: Option<usize>) -> Self {
        let buf = match cap {
            // Preallocate only up to a cap: any capacity is valid (`bounded(usize::MAX)`
            // must not overflow or abort), and past the cap the ring grows as values
            // arrive (`VecDeque::push_back` checks for room anyway, so no extra branch).
            Some(n) => VecDeque::with_capacity(n.min(MAX_PREALLOCATED)),
            None => VecDeque::new(),
        };
        Chan {
            state: Mutex::new(State {
                buf,
                closed: false,
                waiters: Waiters::new(),
            }),
            cap,
            closed: AtomicBool::new(false),
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            id: crate::debug::next_chan_id(),
        }
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.cap
    }

    /// Reports that a task now waits to `op` on this channel (see [`crate::debug`]).
    pub(crate) fn report_wait(&self, op: WaitOp) {
        let flavour = match self.cap {
            None => "unbounded",
            Some(0) => "rendezvous",
            Some(_) => "bounded",
        };
        crate::debug::report(op, Some((self.id, flavour)));
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

    /// Closes the channel; `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut st = lock(&self.state);
        let Some(claimed) = st.close() else {
            return false;
        };
        self.closed.store(true, Ordering::Release);
        drop(st);
        for c in claimed {
            wake(c.waker);
        }
        true
    }

    /// Closes the channel and drops every buffered value (the last receiver is gone).
    pub(crate) fn close_and_drain(&self) {
        self.close();
        let drained = core::mem::take(&mut lock(&self.state).buf);
        drop(drained);
    }

    pub(crate) fn try_send(&self, v: T) -> TrySend<T> {
        let r = lock(&self.state).try_send(v, self.cap, core::ptr::null());
        if let TrySend::Sent(w) = r {
            wake(w);
            return TrySend::Sent(None);
        }
        r
    }

    pub(crate) fn try_recv(&self) -> TryRecv<T> {
        let r = lock(&self.state).try_recv(self.cap, core::ptr::null());
        match r {
            TryRecv::Got(v, w) => {
                wake(w);
                TryRecv::Got(v, None)
            }
            other => other,
        }
    }
}

/// The state of one send operation (future, sink, blocking call or select arm).
///
/// Invariant: `value.is_some()` until the first poll; after a poll that returned
/// `Pending` with a wait, the value sits in node `key`.
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

    /// Polls the send. `Pending` in try-only mode means "not ready" with no effect.
    #[inline]
    pub(crate) fn poll(
        &mut self,
        chan: &Chan<T>,
        party: Party<'_>,
    ) -> Poll<Result<(), crate::SendError<T>>> {
        if self.key.is_none() {
            let mut st = lock(&chan.state);
            if !st.closed && st.waiters.is_empty(Queue::Recv) && st.has_room(chan.cap) {
                // Fast path (a buffered channel with room and nobody waiting to receive):
                // the value goes to the buffer, no wake-up. The same steps as
                // `State::try_send`, kept small so that it inlines.
                let v = self.value.take().expect("send polled after completion");
                st.buf.push_back(v);
                return Poll::Ready(Ok(()));
            }
            return self.poll_fresh_slow(st, chan, party);
        }
        self.poll_waiting(chan, party)
    }

    /// A first poll that could not simply buffer its value.
    ///
    /// The handoff here repeats `State::try_send`'s second step on purpose: routing it
    /// through `poll_locked` instead cost 12% more instructions on ping-pong (callgrind,
    /// one worker, 35.4M vs 31.7M), the same for this file's receive side.
    #[inline(never)]
    fn poll_fresh_slow(
        &mut self,
        mut st: MutexGuard<'_, State<T>>,
        chan: &Chan<T>,
        party: Party<'_>,
    ) -> Poll<Result<(), crate::SendError<T>>> {
        if !st.closed {
            if let Some(c) = st.waiters.claim_first(Queue::Recv, party.me()) {
                // Direct handoff to the first claimable waiting receiver.
                let v = self.value.take().expect("send polled after completion");
                st.waiters.fill(c.key, v);
                drop(st);
                wake(c.waker);
                return Poll::Ready(Ok(()));
            }
        }
        self.poll_locked(st, chan, party)
    }

    /// A poll after this operation started waiting.
    #[inline(never)]
    fn poll_waiting(
        &mut self,
        chan: &Chan<T>,
        party: Party<'_>,
    ) -> Poll<Result<(), crate::SendError<T>>> {
        if let Some(key) = self.key {
            // SAFETY: `key` is our node on `chan` (waiters.rs protocol 1).
            let status = unsafe { key.status::<T>() };
            if status != Status::Waiting {
                self.key = None;
                // SAFETY: our node, completed (the status just read): ours alone.
                let slot = unsafe { release::<T>(key) };
                return Poll::Ready(match slot {
                    None => Ok(()),
                    Some(v) => Err(crate::SendError(v)),
                });
            }
        }
        let st = lock(&chan.state);
        self.poll_locked(st, chan, party)
    }

    /// The general path, with the lock held: a first poll, or a re-poll of a node.
    #[inline(never)]
    fn poll_locked(
        &mut self,
        mut st: MutexGuard<'_, State<T>>,
        chan: &Chan<T>,
        party: Party<'_>,
    ) -> Poll<Result<(), crate::SendError<T>>> {
        let (result, waker) = match self.key {
            Some(key) => self.poll_node(&mut st, chan.cap, key, party),
            None => self.poll_fresh(&mut st, chan.cap, party),
        };
        drop(st);
        wake(waker);
        result
    }

    fn poll_fresh(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        party: Party<'_>,
    ) -> (Poll<Result<(), crate::SendError<T>>>, Option<Waker>) {
        let v = self.value.take().expect("send polled after completion");
        match st.try_send(v, cap, party.me()) {
            TrySend::Sent(w) => (Poll::Ready(Ok(())), w),
            TrySend::Closed(v) => (Poll::Ready(Err(crate::SendError(v))), None),
            TrySend::Full(v) if !party.may_wait() => {
                self.value = Some(v);
                (Poll::Pending, None)
            }
            TrySend::Full(v) => {
                let key = st.waiters.insert(Some(v), party.owner());
                st.waiters.link(key, Queue::Send);
                self.key = Some(key);
                (Poll::Pending, None)
            }
        }
    }

    fn poll_node(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        key: Key,
        party: Party<'_>,
    ) -> (Poll<Result<(), crate::SendError<T>>>, Option<Waker>) {
        match (st.waiters.status(key), party) {
            (Status::Done, _) => {
                st.waiters.remove(key);
                self.key = None;
                (Poll::Ready(Ok(())), None)
            }
            (Status::Closed, _) => {
                let v = st
                    .waiters
                    .remove(key)
                    .slot
                    .expect("closed send keeps value");
                self.key = None;
                (Poll::Ready(Err(crate::SendError(v))), None)
            }
            (Status::Waiting, Party::Solo(w)) => {
                update_waker(&mut st.waiters.get_mut(key).owner, w);
                (Poll::Pending, None)
            }
            (Status::Waiting, Party::Select { .. }) => {
                st.waiters.adopt(key, party.owner());
                self.retry_node(st, cap, key, party)
            }
        }
    }

    /// A select re-polls a still-waiting node (its cell is IDLE: nobody can claim it).
    fn retry_node(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        key: Key,
        party: Party<'_>,
    ) -> (Poll<Result<(), crate::SendError<T>>>, Option<Waker>) {
        let v = st
            .waiters
            .get_mut(key)
            .slot
            .take()
            .expect("waiting send node holds value");
        match st.try_send(v, cap, party.me()) {
            TrySend::Sent(w) => {
                st.waiters.remove(key);
                self.key = None;
                (Poll::Ready(Ok(())), w)
            }
            TrySend::Closed(v) => {
                st.waiters.remove(key);
                self.key = None;
                (Poll::Ready(Err(crate::SendError(v))), None)
            }
            TrySend::Full(v) => {
                st.waiters.get_mut(key).slot = Some(v);
                if !st.waiters.is_linked(key) {
                    st.waiters.link(key, Queue::Send);
                }
                (Poll::Pending, None)
            }
        }
    }

    /// Cancels the operation: unlinks and frees the node. A value not delivered is
    /// dropped after the lock is released.
    #[inline]
    pub(crate) fn cancel(&mut self, chan: &Chan<T>) {
        if let Some(key) = self.key.take() {
            Self::cancel_node(chan, key);
        }
    }

    fn cancel_node(chan: &Chan<T>, key: Key) {
        let node = lock(&chan.state).waiters.remove(key);
        drop(node);
    }
}

/// The state of one recv operation (future, stream, blocking call or select arm).
#[derive(Debug, Default)]
pub(crate) struct RecvOp {
    key: Option<Key>,
}

impl RecvOp {
    pub(crate) const fn new() -> Self {
        RecvOp { key: None }
    }

    /// Polls the recv. `Pending` in try-only mode means "not ready" with no effect.
    #[inline]
    pub(crate) fn poll<T>(&mut self, chan: &Chan<T>, party: Party<'_>) -> Poll<Option<T>> {
        if self.key.is_none() {
            let mut st = lock(&chan.state);
            if st.waiters.is_empty(Queue::Send) {
                // Fast path: a buffered value and no waiting sender to move into the room
                // it leaves; no wake-up. (`State::try_recv`'s first step, kept small so
                // that it inlines.)
                if let Some(v) = st.buf.pop_front() {
                    return Poll::Ready(Some(v));
                }
            }
            return self.poll_fresh_slow(st, chan, party);
        }
        self.poll_waiting(chan, party)
    }

    /// A first poll that found no buffered value it could simply take.
    #[inline(never)]
    fn poll_fresh_slow<T>(
        &mut self,
        mut st: MutexGuard<'_, State<T>>,
        chan: &Chan<T>,
        party: Party<'_>,
    ) -> Poll<Option<T>> {
        if let (Party::Solo(w), true, true, false) = (
            party,
            st.buf.is_empty(),
            st.waiters.is_empty(Queue::Send),
            st.closed,
        ) {
            // Nothing to take and nobody to take it from: wait (the tail of
            // `State::try_recv` plus the wait, without the detours).
            let key = st.waiters.insert(None, Owner::Solo(Some(w.clone())));
            st.waiters.link(key, Queue::Recv);
            self.key = Some(key);
            return Poll::Pending;
        }
        self.poll_locked(st, chan, party)
    }

    /// A poll after this operation started waiting.
    #[inline(never)]
    fn poll_waiting<T>(&mut self, chan: &Chan<T>, party: Party<'_>) -> Poll<Option<T>> {
        if let Some(key) = self.key {
            // SAFETY: `key` is our node on `chan` (waiters.rs protocol 1).
            if unsafe { key.status::<T>() } == Status::Done {
                self.key = None;
                // SAFETY: our node, completed (the status just read): ours alone.
                let v = unsafe { release::<T>(key) };
                debug_assert!(v.is_some(), "completed recv node holds a value");
                return Poll::Ready(v);
            }
        }
        let st = lock(&chan.state);
        self.poll_locked(st, chan, party)
    }

    /// The general path, with the lock held: a first poll, or a re-poll of a node.
    #[inline(never)]
    fn poll_locked<T>(
        &mut self,
        mut st: MutexGuard<'_, State<T>>,
        chan: &Chan<T>,
        party: Party<'_>,
    ) -> Poll<Option<T>> {
        let (result, waker) = match self.key {
            Some(key) => self.poll_node(&mut st, chan.cap, key, party),
            None => self.poll_fresh(&mut st, chan.cap, party),
        };
        drop(st);
        wake(waker);
        result
    }

    fn poll_fresh<T>(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        party: Party<'_>,
    ) -> (Poll<Option<T>>, Option<Waker>) {
        match st.try_recv(cap, party.me()) {
            TryRecv::Got(v, w) => (Poll::Ready(Some(v)), w),
            TryRecv::Closed => (Poll::Ready(None), None),
            TryRecv::Empty if !party.may_wait() => (Poll::Pending, None),
            TryRecv::Empty => {
                let key = st.waiters.insert(None, party.owner());
                st.waiters.link(key, Queue::Recv);
                self.key = Some(key);
                (Poll::Pending, None)
            }
        }
    }

    fn poll_node<T>(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        key: Key,
        party: Party<'_>,
    ) -> (Poll<Option<T>>, Option<Waker>) {
        match (st.waiters.status(key), party) {
            (Status::Done, _) => {
                let v = st.waiters.remove(key).slot;
                self.key = None;
                debug_assert!(v.is_some(), "completed recv node holds a value");
                (Poll::Ready(v), None)
            }
            (Status::Waiting, Party::Solo(w)) => {
                update_waker(&mut st.waiters.get_mut(key).owner, w);
                (Poll::Pending, None)
            }
            // Closed, or a select re-polling its idle node: try again now.
            (status, _) => {
                if status == Status::Waiting {
                    st.waiters.adopt(key, party.owner());
                }
                match st.try_recv(cap, party.me()) {
                    TryRecv::Got(v, w) => {
                        st.waiters.remove(key);
                        self.key = None;
                        (Poll::Ready(Some(v)), w)
                    }
                    TryRecv::Closed => {
                        st.waiters.remove(key);
                        self.key = None;
                        (Poll::Ready(None), None)
                    }
                    TryRecv::Empty => {
                        if status == Status::Closed {
                            // Not expected (a closed channel does not report `Empty`),
                            // but a completed node must never be linked again: wait
                            // with a fresh one.
                            st.waiters.remove(key);
                            let fresh = st.waiters.insert(None, party.owner());
                            st.waiters.link(fresh, Queue::Recv);
                            self.key = Some(fresh);
                        } else if !st.waiters.is_linked(key) {
                            st.waiters.link(key, Queue::Recv);
                        }
                        (Poll::Pending, None)
                    }
                }
            }
        }
    }

    /// Cancels the operation: unlinks and frees the node; a value already handed to it
    /// goes back to the channel front.
    #[inline]
    pub(crate) fn cancel<T>(&mut self, chan: &Chan<T>) {
        if let Some(key) = self.key.take() {
            Self::cancel_node(chan, key);
        }
    }

    fn cancel_node<T>(chan: &Chan<T>, key: Key) {
        let mut st = lock(&chan.state);
        let node = st.waiters.remove(key);
        let waker = match (node.status, node.slot) {
            (Status::Done, Some(v)) => st.give_back(v),
            _ => None,
        };
        drop(st);
        wake(waker);
    }
}

fn update_waker(owner: &mut Owner, w: &Waker) {
    if let Owner::Solo(slot) = owner {
        match slot {
            Some(old) if old.will_wake(w) => {}
            _ => *slot = Some(w.clone()),
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
