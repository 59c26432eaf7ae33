//! The receive operations: one state machine behind `recv().await`, the blocking call
//! and a select's receive arm (the mirror of `send.rs`), and the watch node of a
//! `Receiver` used as a `Stream`.

use super::*;

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
            // No `poll_fresh_solo` rung, unlike send: the fast path is a buffered receive's
            // common case, and an empty buffer has no waiting sender to take a value from.
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
                    let r = Self::finish(&mut st, chan.cap, out, None, &mut wakes, check);
                    drop(st);
                    wakes.run();
                    return r;
                }
            }
            return self.poll_slow(st, chan, party, check);
        }
        self.poll_waiting(chan, party, check)
    }

    /// A first poll that could not simply take a buffered value.
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
        if self.key.is_some() {
            return self.step_node(st, cap, party, waker, wakes, check);
        }
        let attempt = st.try_recv_seq(cap, party.me(), wakes);
        self.settle(st, cap, party, waker, wakes, check, attempt)
    }

    /// [`RecvOp::step`] for an operation holding a node.
    fn step_node<T>(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        party: Party<'_>,
        waker: &mut Option<Waker>,
        wakes: &mut Wakes,
        check: Check<'_, Option<T>>,
    ) -> Step<Option<T>> {
        let key = self.key.expect("step_node runs with a node");
        let status = st.waiters.status(key);
        match (status, party) {
            _ if status.holds_value() => {
                // The oldest value in flight goes first: if another receive holds an
                // older one, take that and give ours back in its place.
                let older = if ordered(cap) {
                    st.waiters.steal_oldest(Some(st.waiters.flight_seq(key)))
                } else {
                    None
                };
                let r = st.remove_node(key, wakes);
                self.key = None;
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
                let step = Self::finish(st, cap, out, seq, wakes, check);
                if st.closed {
                    st.finish_if_drained(wakes);
                }
                step
            }
            (Status::Waiting, Party::Solo(w)) => st.keep_waker(key, w, waker, wakes),
            (Status::Waiting, Party::Select { cell, arm, .. }) => {
                // A select re-polls (or adopts) its waiting node: it is not claimable
                // while the cell is IDLE, so try again now.
                wakes.discard(st.waiters.adopt(key, Owner::Select { cell, arm }));
                let attempt = st.try_recv_seq(cap, party.me(), wakes);
                if party.may_wait() && matches!(attempt.0, TryRecv::Empty) {
                    if !st.waiters.is_linked(key) {
                        st.waiters.link(key, Queue::Recv);
                    }
                    return Step::Pending;
                }
                st.remove_node(key, wakes);
                self.key = None;
                self.settle(st, cap, party, waker, wakes, check, attempt)
            }
            (_, _) => {
                // Completed without a value for us (with "closed" while a value was still
                // in flight, or ours taken by another receive): receive again, in place
                // of this node.
                let attempt = st.try_recv_seq(cap, party.me(), wakes);
                st.remove_node(key, wakes);
                self.key = None;
                self.settle(st, cap, party, waker, wakes, check, attempt)
            }
        }
    }

    /// The outcome of an attempt made holding no node (none yet, or given up): finish,
    /// or wait with a fresh node.
    #[allow(clippy::too_many_arguments)] // `step`'s own, and the attempt's outcome
    fn settle<T>(
        &mut self,
        st: &mut State<T>,
        cap: Option<usize>,
        party: Party<'_>,
        waker: &mut Option<Waker>,
        wakes: &mut Wakes,
        check: Check<'_, Option<T>>,
        (got, seq): (TryRecv<T>, Option<u32>),
    ) -> Step<Option<T>> {
        match got {
            TryRecv::Got(v) => Self::finish(st, cap, Some(v), seq, wakes, check),
            TryRecv::Closed => Self::finish(st, cap, None, seq, wakes, check),
            // Try-only: nothing to wait with (any node was given up).
            TryRecv::Empty if !party.may_wait() => Step::Pending,
            TryRecv::Empty => {
                // No node yet, or one completed with "closed" while a value was still in
                // flight: wait with a fresh node.
                let Some(owner) = party.new_owner(waker) else {
                    return Step::NeedWaker;
                };
                let key = st.waiters.insert(None, owner);
                st.waiters.link(key, Queue::Recv);
                self.key = Some(key);
                Step::Pending
            }
        }
    }

    /// The outcome of a receive (`None`: closed), through the arm's pattern, under the
    /// lock: a refuted value goes back to the front before anyone else can receive (so
    /// this takes the locked state, not the operation).
    fn finish<T>(
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
            let r = st.remove_node(key, wakes);
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
                st.remove_node(key, &mut wakes);
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
