//! The I/O and timer driver: one `mio::Poll` per runtime, and the timers' shards (one
//! wheel per worker, `time/driver.rs`).
//!
//! # Handles
//!
//! - [`Driver`] (owned, `Send`): the `mio::Poll` and its event buffer. Only the thread that
//!   holds it may call [`Driver::park`]; the runtime keeps it in a `Mutex` and the first
//!   worker to park takes it.
//! - [`DriverHandle`] (`Arc`, `Send + Sync`): everything other threads need: the mio
//!   `Registry` (to register sockets), the `mio::Waker` (token 0) that interrupts a park, the
//!   registration slab, and the timer state ([`crate::time::Timers`]), which the driver
//!   turns at each park and which pokes it back only through the `Waker` it was built
//!   with (`time/driver.rs`, "Where the timers meet the reactor").
//!
//! # Interface used by the scheduler
//!
//! - `Driver::new(timer_shards) -> io::Result<(Driver, Arc<DriverHandle>)>` (one timer
//!   shard per worker: see `time::driver`)
//! - `Driver::park(&mut self, timeout)`: block until an I/O event, the next timer deadline,
//!   the timeout, or `DriverHandle::unpark`; then wake the tasks that became ready. It may
//!   return earlier (spurious wake-ups are allowed).
//! - `Driver::shutdown(&mut self)`: wake every registered waiter; later sleeps complete at
//!   once and later I/O fails, so nothing hangs.
//! - `DriverHandle::unpark(&self)`: make a concurrent or the next `park` return promptly.
//!
//! # Registrations and tokens
//!
//! A socket's token is its slab key + 1 (token 0 is the waker). The slab holds an
//! `Arc<ScheduledIo>` for every registration. When a registration is dropped it deregisters
//! from mio and queues its key for release; the driver thread removes released keys only at
//! the start of the next `park`, before polling. So every event the driver reads was produced
//! by a poll that happened while its token still named the same registration: a token never
//! points at another socket's state, and no memory is ever freed under the driver.
//! Shutdown marks the slab shut (later registrations are refused) and completes the waits
//! of every registration in it, under the same lock, so a registration either sees the
//! refusal or is shut down with the rest. Every access to the slab is a method of
//! `Registrations` called under that lock; the loom model at the bottom of this file runs
//! them against each other.
//!
//! # Park, step by step
//!
//! 1. Release the keys queued by dropped registrations.
//! 2. Unless the caller's timeout is zero (a busy worker's turn, which never blocks): ask the
//!    timer shards for the next deadline and publish it as `parked_until` (timer protocol
//!    2), so a task that registers an earlier timer while we block pokes the waker.
//! 3. On Linux, arm the precise timer (`precise`) if that deadline is not a whole number of
//!    milliseconds away; then `mio::Poll::poll` with the smaller of the caller's timeout and
//!    the timer deadline.
//! 4. Under the registration lock, set each event's readiness bits with this park's tick and
//!    move the ready wakers out; unlock.
//! 5. Under each timer shard's lock in turn, fire every due timer and move its waker out.
//! 6. Call the collected wakers, with no driver lock held.

#[cfg(target_os = "linux")]
mod precise;
mod readiness;
mod registration;

pub(crate) use readiness::Direction;
#[cfg(test)]
use registration::shutdown_error;
pub(crate) use registration::PollIo;
#[cfg(all(test, not(loom)))]
use registration::Registration;

use crate::loom::{Mutex, MutexGuard};
use readiness::ScheduledIo;
use slab::Slab;
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::time::Timers;

/// Token of the mio waker.
const WAKER_TOKEN: mio::Token = mio::Token(0);
/// Token of the precise park timer (never a registration's: those are slab key + 1).
#[cfg(target_os = "linux")]
const TIMER_TOKEN: mio::Token = mio::Token(usize::MAX);
/// Capacity of the event buffer (events handled per poll).
const EVENTS_CAPACITY: usize = 1024;

/// The owned half of the driver: whoever holds it may block in [`Driver::park`].
pub(crate) struct Driver {
    poll: mio::Poll,
    events: mio::Events,
    handle: Arc<DriverHandle>,
    /// Bumped once per park; stamped on readiness (see `readiness`).
    tick: usize,
    /// Reused buffer of wakers to call after unlocking.
    wakers: Vec<Waker>,
    /// Wakes a park at a timer deadline finer than `epoll_wait`'s milliseconds; `None` if
    /// the OS refused one (parks then round up to the millisecond).
    #[cfg(target_os = "linux")]
    precise: Option<precise::PreciseTimer>,
}

/// The shared half: `Send + Sync`, reachable from every thread of the runtime.
pub(crate) struct DriverHandle {
    registry: mio::Registry,
    waker: Arc<Unpark>,
    regs: Mutex<Registrations>,
    timers: Arc<Timers>,
}

/// The mio waker that ends a park, as a [`Waker`]: how the timers poke the driver without
/// knowing it (the one thing `time` needs from the reactor).
struct Unpark(mio::Waker);

impl std::task::Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // A failing waker write means the poller is gone (shutdown): nothing to wake.
        let _ = self.0.wake();
    }
}

/// The registration slab (see the module docs).
struct Registrations {
    slab: Slab<Arc<ScheduledIo>>,
    /// Keys of dropped registrations, removed at the start of the next park.
    released: Vec<usize>,
    shutdown: bool,
}

/// How long a park with paused time and a blocking closure in flight waits (real time)
/// before the worker checks again whether every task is idle.
const RECHECK_PAUSED: Duration = Duration::from_millis(1);

impl Driver {
    /// Creates the driver and its shared handle, with `timer_shards` timer wheels (one per
    /// worker).
    ///
    /// # Errors
    ///
    /// If the OS refuses to create the poller or its waker (e.g. out of file descriptors).
    pub(crate) fn new(timer_shards: usize) -> io::Result<(Driver, Arc<DriverHandle>)> {
        let poll = mio::Poll::new()?;
        let waker = Arc::new(Unpark(mio::Waker::new(poll.registry(), WAKER_TOKEN)?));
        let timers = Timers::new(Instant::now(), timer_shards, Waker::from(waker.clone()));
        let handle = Arc::new(DriverHandle {
            registry: poll.registry().try_clone()?,
            waker,
            regs: Mutex::new(Registrations::new()),
            timers: Arc::new(timers),
        });
        let driver = Driver {
            poll,
            events: mio::Events::with_capacity(EVENTS_CAPACITY),
            handle: handle.clone(),
            tick: 0,
            wakers: Vec::new(),
            #[cfg(target_os = "linux")]
            precise: None,
        };
        #[cfg(target_os = "linux")]
        let driver = Driver {
            precise: precise::PreciseTimer::new(driver.poll.registry(), TIMER_TOKEN).ok(),
            ..driver
        };
        Ok((driver, handle))
    }

    /// Blocks until I/O, a timer, the timeout or an unpark; then wakes the ready tasks.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) {
        self.release_dropped();
        if self.handle.timers.clock().is_paused() {
            return self.park_paused(timeout);
        }
        // The clock's time: after a pause and resume it runs ahead of `Instant::now()`.
        let now = self.handle.timers.now();
        // A zero-timeout turn never blocks: no park deadline to publish to registrations.
        let timeout = match timeout {
            Some(Duration::ZERO) => timeout,
            _ => match (timeout, self.handle.timers.before_park(now)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        };
        #[cfg(target_os = "linux")]
        if let (Some(precise), Some(timeout)) = (&mut self.precise, timeout) {
            precise.arm(now + timeout, timeout);
        }
        // An error (EINTR, or transient OS trouble that the next park retries) leaves the
        // event buffer empty: the caller sees a spurious return, never a panic.
        let _ = self.poll.poll(&mut self.events, timeout);
        self.tick = self.tick.wrapping_add(1);
        self.dispatch_events();
        self.handle
            .timers
            .process(self.handle.timers.now(), &mut self.wakers);
        self.wake_all();
    }

    /// [`Driver::park`] while test time is paused: timers never fire by themselves, so no
    /// timer bounds the block. First a non-blocking turn for I/O and the timers already
    /// due; if that woke nobody and the worker said every task is idle
    /// (`Clock::allow_auto_advance`), the clock jumps to the next timer and it fires;
    /// only if still nobody woke does the park block (for I/O or an unpark).
    fn park_paused(&mut self, timeout: Option<Duration>) {
        let timers = &self.handle.timers;
        let auto_advance = timers.clock().take_auto_advance();
        let fired = self.turn(Some(Duration::ZERO));
        if fired == 0 && self.wakers.is_empty() && timeout != Some(Duration::ZERO) {
            let timers = &self.handle.timers;
            // The wheel's next expiration may be the start of a coarse slot that holds the
            // timer (a higher level); processing it cascades the slot down, and the next
            // expiration is then finer, so this ends within the wheel's level count.
            let mut fired = 0;
            while auto_advance && fired == 0 {
                let Some(next) = timers.next_expiration() else {
                    break;
                };
                timers.clock().advance_to(next);
                fired = timers.process(timers.now(), &mut self.wakers);
            }
            if fired == 0 {
                // Not allowed to jump (a blocking closure may still run, and its end wakes
                // nobody here): look again soon, in real time.
                let timeout = match (auto_advance, timeout) {
                    (true, t) => t,
                    (false, t) => Some(t.map_or(RECHECK_PAUSED, |t| t.min(RECHECK_PAUSED))),
                };
                self.turn(timeout);
            }
        }
        self.wake_all();
    }

    /// One poll of the OS for I/O (up to `timeout`), then the due timers; returns how
    /// many timers fired.
    fn turn(&mut self, timeout: Option<Duration>) -> usize {
        let _ = self.poll.poll(&mut self.events, timeout);
        self.tick = self.tick.wrapping_add(1);
        self.dispatch_events();
        let timers = &self.handle.timers;
        timers.process(timers.now(), &mut self.wakers)
    }

    /// Wakes every waiter; afterwards sleeps complete at once and I/O fails.
    pub(crate) fn shutdown(&mut self) {
        self.handle.lock_regs().shutdown(&mut self.wakers);
        self.handle.timers.shutdown(&mut self.wakers);
        self.wake_all();
    }

    /// Park step 1.
    fn release_dropped(&mut self) {
        self.handle.lock_regs().release_dropped();
    }

    /// Park step 4.
    fn dispatch_events(&mut self) {
        let regs = self.handle.lock_regs();
        for event in self.events.iter() {
            if event.token() == WAKER_TOKEN {
                continue;
            }
            #[cfg(target_os = "linux")]
            if event.token() == TIMER_TOKEN {
                continue;
            }
            let Some(io) = regs.slab.get(event.token().0 - 1) else {
                continue;
            };
            io.set_readiness(readiness_of(event), self.tick);
            io.take_wakers(&mut self.wakers);
        }
    }

    /// Park step 6.
    fn wake_all(&mut self) {
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
    }
}

/// Every access to the slab, each under the `regs` lock (and modelled by loom below).
impl Registrations {
    fn new() -> Registrations {
        Registrations {
            slab: Slab::new(),
            released: Vec::new(),
            shutdown: false,
        }
    }

    /// A slot for a new registration: its key, or
    /// [`shutdown_error`](registration::shutdown_error) after shutdown (the shutdown that
    /// already ran would never complete its waits).
    fn insert(&mut self, io: Arc<ScheduledIo>) -> io::Result<usize> {
        if self.shutdown {
            return Err(registration::shutdown_error());
        }
        Ok(self.slab.insert(io))
    }

    /// The registration of `key` is gone: its slot is freed at the next park's step 1.
    fn release(&mut self, key: usize) {
        self.released.push(key);
    }

    /// Park step 1: frees the slots released since the last park (each exactly once: a
    /// key is queued once, by its registration's drop or failed registration).
    fn release_dropped(&mut self) {
        for key in self.released.drain(..) {
            self.slab.remove(key);
        }
    }

    /// Refuses later registrations and completes every wait on the registered ones
    /// (their wakers go to `wakers`, to be called after unlocking).
    fn shutdown(&mut self, wakers: &mut Vec<Waker>) {
        self.shutdown = true;
        for (_, io) in self.slab.iter() {
            io.shutdown(wakers);
        }
    }
}

/// Translates a mio event into readiness bits.
fn readiness_of(event: &mio::event::Event) -> usize {
    let mut ready = 0;
    if event.is_readable() {
        ready |= readiness::READABLE;
    }
    if event.is_writable() {
        ready |= readiness::WRITABLE;
    }
    if event.is_read_closed() {
        ready |= readiness::READ_CLOSED;
    }
    if event.is_write_closed() {
        ready |= readiness::WRITE_CLOSED;
    }
    if event.is_error() {
        ready |= readiness::ERROR;
    }
    ready
}

/// The driver of the runtime the caller runs in.
///
/// # Panics
///
/// Outside a waza runtime.
#[track_caller]
pub(crate) fn current() -> Arc<DriverHandle> {
    crate::scheduler::current::current_driver()
}

/// Spends one unit of the task's cooperative budget (Pending, after a wake, when exhausted).
pub(crate) fn poll_proceed(cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
    crate::scheduler::coop::poll_proceed(cx)
}

impl DriverHandle {
    /// Makes a concurrent or the next [`Driver::park`] return promptly.
    pub(crate) fn unpark(&self) {
        std::task::Wake::wake_by_ref(&self.waker);
    }

    /// The timer state shared with `Sleep` and friends.
    pub(crate) fn timers(&self) -> &Arc<Timers> {
        &self.timers
    }

    /// True if a live registration holds a waiting task's waker: a socket event could still
    /// wake a task, so the deadlock detector must not call the runtime dead.
    ///
    /// Takes the registration lock, then each registration's waiter lock in turn (the
    /// driver's order in park step 4); meant for the rare deadlock check, not hot paths. A
    /// waker left behind by a dropped I/O future counts until the next event on its socket
    /// removes it: the detector may then stay silent, but never reports a live wait.
    pub(crate) fn has_io_waiters(&self) -> bool {
        let regs = self.lock_regs();
        regs.slab
            .iter()
            .any(|(key, io)| !regs.released.contains(&key) && io.has_waiters())
    }

    /// Locks the registration slab (never poisoned in practice: no user code runs under it).
    fn lock_regs(&self) -> MutexGuard<'_, Registrations> {
        self.regs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for DriverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverHandle").finish_non_exhaustive()
    }
}

#[cfg(all(test, unix, not(loom)))]
mod tests;

/// The registration slab's protocol under loom: a registration released and a new one
/// made while the driver runs a park's release step and then shuts down.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::readiness::ScheduledIo;
    use super::*;
    use crate::reactor::Direction;
    use crate::test_support::CountWaker;
    use std::task::{Context, Poll};

    /// Every wait on a live registration completes across shutdown (woken, or it sees
    /// `SHUTDOWN` itself); a registration racing shutdown is refused or shut down; every
    /// released key is freed exactly once (`Slab::remove` panics on a vacant key) and
    /// never while its registration lives.
    #[test]
    fn loom_slot_release_racing_shutdown() {
        loom::model(|| {
            let regs = loom::sync::Arc::new(Mutex::new(Registrations::new()));
            let kept_io = Arc::new(ScheduledIo::new());
            let kept = regs.lock().unwrap().insert(kept_io.clone()).unwrap();
            let gone = regs
                .lock()
                .unwrap()
                .insert(Arc::new(ScheduledIo::new()))
                .unwrap();
            let (count, waker) = CountWaker::new();
            let mut cx = Context::from_waker(&waker);
            assert!(kept_io.poll_ready(&mut cx, Direction::Read).is_pending());
            let r2 = regs.clone();
            let sockets = loom::thread::spawn(move || {
                r2.lock().unwrap().release(gone); // a socket dropped
                let io = Arc::new(ScheduledIo::new());
                let key = r2.lock().unwrap().insert(io.clone()); // a socket opened
                (io, key)
            });
            // The driver: a park's release step, then shutdown (wakers called unlocked).
            regs.lock().unwrap().release_dropped();
            let mut wakers = Vec::new();
            regs.lock().unwrap().shutdown(&mut wakers);
            wakers.into_iter().for_each(Waker::wake);
            let (fresh_io, fresh) = sockets.join().unwrap();
            // Shutdown completed the live wait: woken once, and the re-poll is ready.
            assert_eq!(count.wakes(), 1);
            match kept_io.poll_ready(&mut cx, Direction::Read) {
                Poll::Ready(ev) => assert!(ev.is_shutdown()),
                Poll::Pending => panic!("a wait survived shutdown"),
            }
            match &fresh {
                Ok(_) => {
                    let ev = fresh_io.ready_now(Direction::Write).expect("shut down");
                    assert!(
                        ev.is_shutdown(),
                        "registered before shutdown: shut down with it"
                    );
                }
                Err(e) => assert_eq!(e.to_string(), shutdown_error().to_string()),
            }
            // A last release step frees `gone` if the first ran before its release.
            let mut regs = regs.lock().unwrap();
            regs.release_dropped();
            assert!(regs.released.is_empty());
            assert!(
                Arc::ptr_eq(&regs.slab[kept], &kept_io),
                "a live slot is kept"
            );
            if let Ok(key) = fresh {
                assert!(Arc::ptr_eq(&regs.slab[key], &fresh_io));
            }
            assert_eq!(regs.slab.len(), 1 + usize::from(fresh.is_ok()));
        });
    }
}
