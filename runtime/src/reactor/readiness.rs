//! Per-registration readiness: the edge-triggered state shared by the driver and the tasks.
//!
//! # Handles
//!
//! One [`ScheduledIo`] per registered socket, behind an `Arc` held by the socket's
//! `Registration` and by the driver's registration slab.
//!
//! # The state word
//!
//! `state: AtomicUsize` packs
//!
//! | bits | meaning |
//! |---|---|
//! | 0 `READABLE` | the socket reported readable since the bit was last cleared |
//! | 1 `WRITABLE` | the socket reported writable since the bit was last cleared |
//! | 2 `READ_CLOSED` | the peer closed its write side (sticky) |
//! | 3 `WRITE_CLOSED` | our write side is closed (sticky) |
//! | 4 `ERROR` | the socket reported an error (sticky until cleared by a failed op) |
//! | 5 `SHUTDOWN` | the driver shut down: every wait completes, I/O then fails |
//! | 16.. | the driver tick of the last event that set bits |
//!
//! Only the driver thread sets readiness bits (and bumps the tick); tasks only clear them.
//!
//! # Waiters
//!
//! `waiters: Mutex<Waiters>` keeps the wakers of tasks waiting for read and for write
//! readiness (several tasks may wait on one `&TcpStream` or `UdpSocket`; a task that polls
//! again replaces its own entry instead of adding one).
//!
//! # Protocols
//!
//! 1. **Event (driver).** (a) `fetch_update` ORs the new bits into `state` and stores the
//!    current tick; (b) locks `waiters` and moves out the wakers whose interest is now ready;
//!    (c) unlocks, and the wakers are called later, after every driver lock is released.
//! 2. **Wait (task).** (a) Load `state`; if the wanted bits are set, return them with the
//!    tick (a `ReadyEvent`). (b) Otherwise lock `waiters`, store the waker, load `state`
//!    again, unlock; set bits now mean Ready, else Pending. No lost wake-up: if the driver's
//!    step 1a came after our second load, its step 1b takes the lock after we released it
//!    and finds our waker.
//! 3. **Clear after `WouldBlock` (task).** The task clears the bits of its `ReadyEvent` with
//!    a CAS that succeeds only if the tick is still the event's tick. If the driver delivered
//!    a new event in between (tick changed), the bits stay set, so that new edge is not lost
//!    (edge-triggered ABA). The tick has 16+ bits; a task would have to sleep through 2^16
//!    driver turns between its load and its CAS for a false match, and even then the only
//!    effect is one more readiness check by the next poll cycle of the same socket after its
//!    next edge.

use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Mutex, MutexGuard, Ordering::AcqRel, Ordering::Acquire};

/// Readiness bit: readable.
pub(crate) const READABLE: usize = 1 << 0;
/// Readiness bit: writable.
pub(crate) const WRITABLE: usize = 1 << 1;
/// Readiness bit: the read side is closed.
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// Readiness bit: the write side is closed.
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// Readiness bit: an error is pending on the socket.
pub(crate) const ERROR: usize = 1 << 4;
/// The driver shut down.
pub(crate) const SHUTDOWN: usize = 1 << 5;
/// All readiness bits (everything below the tick).
const READY_MASK: usize = (1 << TICK_SHIFT) - 1;
/// Where the tick starts.
const TICK_SHIFT: u32 = 16;

/// The direction a task waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading (or accepting, or receiving).
    Read,
    /// Writing (or connecting, or sending).
    Write,
}

impl Direction {
    /// The bits that end a wait in this direction.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }
}

/// Readiness observed by a task, with the tick needed to clear it safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    /// The readiness bits (masked to the direction waited for).
    pub(crate) ready: usize,
    /// The driver tick at which they were observed.
    pub(crate) tick: usize,
}

impl ReadyEvent {
    /// Whether the driver has shut down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.ready & SHUTDOWN != 0
    }
}

/// Wakers waiting for each direction.
#[derive(Default)]
struct Waiters {
    reader: Vec<Waker>,
    writer: Vec<Waker>,
}

/// Readiness state of one registered socket (see the module docs).
pub(crate) struct ScheduledIo {
    state: AtomicUsize,
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    /// A registration with no readiness yet.
    pub(crate) fn new() -> Self {
        ScheduledIo {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Protocol 1a: records `ready` bits observed at driver `tick`.
    pub(crate) fn set_readiness(&self, ready: usize, tick: usize) {
        let tick_bits = (tick << TICK_SHIFT) & !READY_MASK;
        let _ = self.state.fetch_update(AcqRel, Acquire, |s| {
            Some(tick_bits | (s & READY_MASK) | (ready & READY_MASK))
        });
    }

    /// Protocol 1b: moves out the wakers whose direction is ready into `out`.
    pub(crate) fn take_wakers(&self, out: &mut Vec<Waker>) {
        let ready = self.state.load(Acquire);
        let mut waiters = lock(&self.waiters);
        if ready & Direction::Read.mask() != 0 {
            out.append(&mut waiters.reader);
        }
        if ready & Direction::Write.mask() != 0 {
            out.append(&mut waiters.writer);
        }
    }

    /// Protocol 2: waits for readiness in `dir`.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        if let Some(ev) = self.ready_now(dir) {
            return Poll::Ready(ev);
        }
        let mut waiters = lock(&self.waiters);
        let list = match dir {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        match list.iter_mut().find(|w| w.will_wake(cx.waker())) {
            Some(_) => {}
            None => list.push(cx.waker().clone()),
        }
        match self.ready_now(dir) {
            Some(ev) => Poll::Ready(ev),
            None => Poll::Pending,
        }
    }

    /// The readiness in `dir` right now, if any.
    pub(crate) fn ready_now(&self, dir: Direction) -> Option<ReadyEvent> {
        let s = self.state.load(Acquire);
        let ready = s & dir.mask();
        (ready != 0).then_some(ReadyEvent {
            ready,
            tick: s >> TICK_SHIFT,
        })
    }

    /// Protocol 3: clears the bits of `ev` unless a newer event arrived.
    ///
    /// Sticky bits (closed, shutdown) are never cleared.
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        let clear = ev.ready & (READABLE | WRITABLE | ERROR);
        let _ = self.state.fetch_update(AcqRel, Acquire, |s| {
            ((s >> TICK_SHIFT) == ev.tick).then_some(s & !clear)
        });
    }

    /// Marks the registration shut down and moves out all its wakers.
    pub(crate) fn shutdown(&self, out: &mut Vec<Waker>) {
        self.state.fetch_or(SHUTDOWN, AcqRel);
        let mut waiters = lock(&self.waiters);
        out.append(&mut waiters.reader);
        out.append(&mut waiters.writer);
    }

    /// True if a task's waker is stored for either direction (it waits for this socket).
    pub(crate) fn has_waiters(&self) -> bool {
        let w = lock(&self.waiters);
        !w.reader.is_empty() || !w.writer.is_empty()
    }

    /// Number of stored wakers (tests only).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn waiter_count(&self) -> usize {
        let w = lock(&self.waiters);
        w.reader.len() + w.writer.len()
    }
}

/// Locks a waiter list; a panic elsewhere never poisons readiness (the data stays valid).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_support::CountWaker;
    use std::sync::Arc;

    fn waker() -> (Arc<CountWaker>, Waker) {
        CountWaker::new()
    }

    #[test]
    fn wait_then_event_wakes_once() {
        let io = ScheduledIo::new();
        let (count, w) = waker();
        let mut cx = Context::from_waker(&w);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        assert_eq!(io.waiter_count(), 1, "a re-poll replaces, never duplicates");
        io.set_readiness(WRITABLE, 1);
        let mut out = Vec::new();
        io.take_wakers(&mut out);
        assert!(out.is_empty(), "write readiness does not wake readers");
        io.set_readiness(READABLE, 2);
        io.take_wakers(&mut out);
        assert_eq!(out.len(), 1);
        out.drain(..).for_each(Waker::wake);
        assert_eq!(count.wakes(), 1);
        let ev = match io.poll_ready(&mut cx, Direction::Read) {
            Poll::Ready(ev) => ev,
            Poll::Pending => panic!("readable"),
        };
        assert_eq!(
            ev,
            ReadyEvent {
                ready: READABLE,
                tick: 2
            }
        );
    }

    #[test]
    fn clear_keeps_bits_when_a_newer_tick_arrived() {
        let io = ScheduledIo::new();
        io.set_readiness(READABLE | WRITABLE, 7);
        let ev = io.ready_now(Direction::Read).unwrap();
        io.set_readiness(READABLE, 8);
        io.clear_readiness(ev);
        assert!(io.ready_now(Direction::Read).is_some(), "new edge kept");
        let ev = io.ready_now(Direction::Read).unwrap();
        io.clear_readiness(ev);
        assert!(io.ready_now(Direction::Read).is_none());
        assert!(
            io.ready_now(Direction::Write).is_some(),
            "other direction kept"
        );
    }

    #[test]
    fn closed_and_shutdown_bits_are_sticky() {
        let io = ScheduledIo::new();
        io.set_readiness(READ_CLOSED, 1);
        let ev = io.ready_now(Direction::Read).unwrap();
        io.clear_readiness(ev);
        assert!(io.ready_now(Direction::Read).is_some());
        let (count, w) = waker();
        let mut cx = Context::from_waker(&w);
        assert!(io.poll_ready(&mut cx, Direction::Write).is_pending());
        let mut out = Vec::new();
        io.shutdown(&mut out);
        out.drain(..).for_each(Waker::wake);
        assert_eq!(count.wakes(), 1);
        match io.poll_ready(&mut cx, Direction::Write) {
            Poll::Ready(ev) => assert!(ev.is_shutdown()),
            Poll::Pending => panic!("shutdown completes waits"),
        }
    }

    #[test]
    fn tick_wraps_without_touching_ready_bits() {
        let io = ScheduledIo::new();
        io.set_readiness(READABLE, usize::MAX);
        let ev = io.ready_now(Direction::Read).unwrap();
        assert_eq!(ev.ready, READABLE);
        io.clear_readiness(ev);
        assert!(io.ready_now(Direction::Read).is_none());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::test_support::CountWaker;
    use loom::sync::Arc;

    /// A task that got WouldBlock races a new event: either the task's clear loses (bits stay
    /// set) or the event comes after and its waker call wakes the task. Never both missing.
    #[test]
    fn edge_during_clear_is_never_lost() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            io.set_readiness(READABLE, 1);
            let (flag, waker) = CountWaker::new();
            let driver = {
                let io = io.clone();
                loom::thread::spawn(move || {
                    io.set_readiness(READABLE, 2);
                    let mut out = Vec::new();
                    io.take_wakers(&mut out);
                    out.into_iter().for_each(Waker::wake);
                })
            };
            // The task: observed readiness at tick 1, the read said WouldBlock, clear, wait.
            let ev = io.ready_now(Direction::Read).unwrap();
            io.clear_readiness(ev);
            let mut cx = Context::from_waker(&waker);
            let ready = io.poll_ready(&mut cx, Direction::Read).is_ready();
            driver.join().unwrap();
            let woken = flag.wakes() == 1;
            assert!(ready || woken, "the second edge was lost");
        });
    }

    /// A task registering its waker races an event: the task either sees the readiness on
    /// its re-check or its waker is taken and called by the driver (protocol 2).
    #[test]
    fn wait_racing_an_event_is_never_lost() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let (flag, waker) = CountWaker::new();
            let driver = {
                let io = io.clone();
                loom::thread::spawn(move || {
                    io.set_readiness(WRITABLE, 1);
                    let mut out = Vec::new();
                    io.take_wakers(&mut out);
                    out.into_iter().for_each(Waker::wake);
                })
            };
            let mut cx = Context::from_waker(&waker);
            let ready = io.poll_ready(&mut cx, Direction::Write).is_ready();
            driver.join().unwrap();
            let woken = flag.wakes();
            assert!(ready || woken == 1, "lost wake-up");
            assert!(woken <= 1);
        });
    }
}
