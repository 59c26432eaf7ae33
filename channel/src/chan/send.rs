//! The send operation: one state machine behind `send().await`, the `Sink`, the blocking
//! call and a select's send arm (the mirror of `recv.rs`).

use super::*;

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
        let attempt = st.try_send(v, cap, party.me(), wakes);
        self.settle(st, party, waker, wakes, check, attempt)
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
            (Status::Waiting, Party::Solo(w)) => st.keep_waker(key, w, waker, wakes),
            (Status::Waiting, Party::Select { cell, arm, .. }) => {
                if !st.closed && !accepts(check, &Ok(())) {
                    // A plain future polled before the select, whose arm's pattern
                    // refuses success: give the node up, keep the value.
                    self.value = st.remove_node(key, wakes).slot;
                    self.key = None;
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
                    TrySend::Full(v) if party.may_wait() => {
                        st.waiters.get_mut(key).slot = Some(v);
                        if !st.waiters.is_linked(key) {
                            st.waiters.link(key, Queue::Send);
                        }
                        Step::Pending
                    }
                    attempt => {
                        st.remove_node(key, wakes);
                        self.key = None;
                        self.settle(st, party, waker, wakes, check, attempt)
                    }
                }
            }
            (_, _) => {
                let slot = st.remove_node(key, wakes).slot;
                self.key = None;
                self.finish(slot, check)
            }
        }
    }

    /// The outcome of an attempt made holding no node (none yet, or given up): finish,
    /// or wait with a fresh node.
    fn settle(
        &mut self,
        st: &mut State<T>,
        party: Party<'_>,
        waker: &mut Option<Waker>,
        wakes: &mut Wakes,
        check: Check<'_, Result<(), SendError<T>>>,
        attempt: TrySend<T>,
    ) -> Step<Result<(), SendError<T>>> {
        match attempt {
            TrySend::Sent => Step::Ready(Ok(())),
            TrySend::Closed(v) => self.finish(Some(v), check),
            TrySend::Full(v) if !party.may_wait() => {
                // Try-only: keep the value (any node was given up).
                self.value = Some(v);
                Step::Pending
            }
            TrySend::Full(v) => {
                let Some(owner) = party.new_owner(waker) else {
                    self.value = Some(v);
                    return Step::NeedWaker;
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
    pub(crate) fn holds_node(&self) -> bool {
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
