//! A worker's poll slot: how a worker shows the blocked-worker monitor which poll it is
//! in, and how the monitor takes the worker's core while that poll blocks, with no
//! read-modify-write and no clock read on the worker's side.
//!
//! # State
//!
//! `state`, written only by the owner (the worker thread), read by the monitor:
//! - `4n`: between polls, `n` polls done;
//! - `4n + 1`: inside poll `n + 1`;
//! - `4n + 3`: inside poll `n + 1`, and inside a *core section* (the poll's thread is
//!   touching the worker's core: a wake into the LIFO slot, a deferred waker);
//! - with [`RETIRED`] set: the owner handed its worker over itself (`block_in_place`);
//!   never claimable again.
//!
//! `state / 4` (rounded up, without the retired bit) counts the polls the owner started:
//! the runtime's poll-count metric, so a poll costs no separate counter.
//!
//! `task`: the id of the task of the current poll (written before `state` turns odd).
//! `claim`, written only by the monitor: `0`, or `s` (the monitor claims the core while
//! `state` is `s`), or `s | GRANTED` (it took the core).
//!
//! # Protocols
//!
//! 1. **Poll** (owner): store `task`, then `state = 4n + 1` (release: what the owner
//!    wrote to its core before the poll is visible to a monitor that reads this value).
//!    At the end: `state = 4n + 4`, a *light* barrier, read `claim`. `0`: go on. Else
//!    wait until the monitor decides: `0` (it backed off) or `s | GRANTED` (the core is
//!    gone: the owner stops being a worker).
//! 2. **Core section** (owner, inside a poll): `state |= 2`, light barrier, read `claim`;
//!    non-zero: restore `state` and do not touch the core (the caller takes another path,
//!    e.g. the inject queue). Else touch the core, then `state &= !2` (release).
//! 3. **Claim** (monitor, having seen the same odd `state = s` for longer than the
//!    threshold): `claim = s`, a *heavy* barrier, read `state`. Still `s` (not in a
//!    section, same poll): the core is the monitor's until it stores `s | GRANTED`;
//!    anything else: store `0` (back off).
//!
//! Steps 1–2 against 3 are store-buffering pairs (Dekker): each side writes its word,
//! then reads the other's. The heavy barrier makes them exclusive without a fence on the
//! owner: it is `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` on Linux, which runs a
//! full memory barrier on every running thread of the process, so either the owner's
//! write is visible to the monitor's read, or the owner's later read sees the monitor's
//! write. The owner's light barrier then only has to stop the compiler from reordering
//! (a `compiler_fence`). Where the heavy barrier is unavailable (other systems, an old or
//! sandboxed kernel) the monitor never claims: it only reports, and `claim` stays `0`.
//! Under loom and Miri both barriers are `SeqCst` fences (the symmetric form of the same
//! protocol), so the models check it.
//!
//! # Invariants
//!
//! - Only the owner writes `state` and `task`; only the monitor writes `claim`.
//! - While the monitor holds a claim that the owner's `state` confirmed, the owner does
//!   not touch its core: it is inside the poll and every core access of the poll goes
//!   through a section, which is refused.
//! - A slot whose claim was granted is dead: its owner stops being a worker, and the
//!   replacement gets a new slot.

use crate::loom::{AtomicU64, Ordering};

/// Set in `state` when the owner handed its worker over (never claimable again).
pub(crate) const RETIRED: u64 = 1 << 62;
/// Set in `claim` when the monitor took the core.
const GRANTED: u64 = 1 << 63;
const IN_POLL: u64 = 1;
const IN_SECTION: u64 = 2;
const STEP: u64 = 4;

/// One worker thread's poll slot (see the module docs).
///
/// Aligned to 128 bytes (two cache lines, against the adjacent-line prefetcher): the
/// owner writes `state` twice per poll, which must not invalidate another worker's slot
/// or anything else allocated next to it.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct PollSlot {
    state: AtomicU64,
    task: AtomicU64,
    claim: AtomicU64,
}

/// The outcome of [`PollSlot::enter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    /// Not in a poll (or already in a section): the core is the owner's, nothing to leave.
    Free,
    /// In a section of poll state `s`: touch the core, then leave.
    Entered(u64),
    /// The monitor claimed or took the core: do not touch it.
    Refused,
}

/// What a monitor's sample saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sample {
    /// The slot's state (odd: inside a poll).
    pub(crate) state: u64,
    /// The id of the task being polled.
    pub(crate) task: u64,
}

impl PollSlot {
    /// A slot whose owner has done no poll yet.
    pub(crate) fn new() -> PollSlot {
        PollSlot {
            state: AtomicU64::new(0),
            task: AtomicU64::new(0),
            claim: AtomicU64::new(0),
        }
    }

    /// Polls the owner started (see the module docs).
    pub(crate) fn polls(&self) -> u64 {
        let s = self.state.load(Ordering::Relaxed) & !(RETIRED | IN_SECTION);
        s.div_ceil(STEP)
    }

    // ----- the owner's side -----

    /// Protocol 1, start. Owner only.
    #[inline]
    pub(crate) fn begin_poll(&self, task: u64) {
        let s = self.state.load(Ordering::Relaxed);
        self.task.store(task, Ordering::Release);
        self.state.store(s | IN_POLL, Ordering::Release);
    }

    /// Protocol 1, end. Owner only. True if the monitor took the core during the poll
    /// (or the owner retired its slot): the caller is no longer a worker.
    #[inline]
    pub(crate) fn end_poll(&self) -> bool {
        let s = self.state.load(Ordering::Relaxed);
        if s & IN_POLL == 0 {
            // Not in a poll: the slot was retired inside it.
            return s & RETIRED != 0;
        }
        self.state.store((s & !3) + STEP, Ordering::Release);
        light_barrier();
        if self.claim.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.await_decision(s)
    }

    /// A claim was seen at the end of poll `s`: wait for the monitor to back off or
    /// grant it (it decides within a few instructions once it has read `state`).
    #[cold]
    fn await_decision(&self, s: u64) -> bool {
        let mut spins = 0u32;
        loop {
            let claim = self.claim.load(Ordering::Acquire);
            if claim == 0 {
                return false;
            }
            if claim == s | GRANTED {
                return true;
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                crate::loom::yield_now();
            }
        }
    }

    /// Protocol 2: runs `f` in a core section. `None` without running it if the monitor
    /// claimed (or took) the core. Outside a poll (and inside a section already) `f`
    /// just runs: the monitor claims only inside a poll. Owner only.
    ///
    /// If `f` unwinds, the section stays marked until the poll ends, so the monitor
    /// cannot claim that poll: the safe side, and no guard on the hot path.
    #[inline]
    pub(crate) fn with_core<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let section = self.enter();
        if section == Section::Refused {
            return None;
        }
        let r = f();
        self.leave(section);
        Some(r)
    }

    /// Protocol 2, split for hot paths that must not be a closure: enter a core section.
    /// Owner only; pair with [`PollSlot::leave`].
    #[inline]
    pub(crate) fn enter(&self) -> Section {
        let s = self.state.load(Ordering::Relaxed);
        if s & (IN_POLL | IN_SECTION) != IN_POLL {
            return if s & RETIRED != 0 {
                Section::Refused
            } else {
                Section::Free
            };
        }
        if self.enter_section(s) {
            Section::Entered(s)
        } else {
            Section::Refused
        }
    }

    /// Leaves a section entered by [`PollSlot::enter`].
    #[inline]
    pub(crate) fn leave(&self, section: Section) {
        if let Section::Entered(s) = section {
            self.state.store(s, Ordering::Release);
        }
    }

    /// Protocol 2 for `block_in_place`: in a core section, `f` moves the core out and the
    /// slot is retired (never claimable again) if `f` returns `Some`. Owner only.
    pub(crate) fn retire_with<R>(&self, f: impl FnOnce() -> Option<R>) -> Option<R> {
        let s = self.state.load(Ordering::Relaxed);
        let in_poll = s & (IN_POLL | IN_SECTION) == IN_POLL;
        if s & RETIRED != 0 || (in_poll && !self.enter_section(s)) {
            return None;
        }
        let r = f();
        let after = if r.is_some() {
            ((s + 3) & !3) | RETIRED
        } else {
            s
        };
        self.state.store(after, Ordering::Release);
        r
    }

    /// Marks a section in poll state `s`; false (section not entered) if a claim is seen.
    #[inline]
    fn enter_section(&self, s: u64) -> bool {
        self.state.store(s | IN_SECTION, Ordering::Relaxed);
        light_barrier();
        if self.claim.load(Ordering::Relaxed) != 0 {
            self.state.store(s, Ordering::Relaxed);
            return false;
        }
        true
    }

    // ----- the monitor's side -----

    /// The owner's state, and the task of its poll if it is inside one.
    pub(crate) fn sample(&self) -> Sample {
        loop {
            let state = self.state.load(Ordering::Acquire);
            if state & IN_POLL == 0 {
                return Sample { state, task: 0 };
            }
            // A `task` of a later poll (stored with release after this poll's end) makes
            // the re-read below see that end: then sample again.
            let task = self.task.load(Ordering::Acquire);
            if self.state.load(Ordering::Relaxed) | IN_SECTION == state | IN_SECTION {
                return Sample {
                    state: state & !IN_SECTION,
                    task,
                };
            }
        }
    }

    /// Protocol 3: claims the core while the owner is in poll `s` and outside sections.
    /// On `true` the caller must finish with [`PollSlot::grant`] or [`PollSlot::release`].
    /// Call only where [`heavy_barrier_available`] (a single monitor per slot).
    pub(crate) fn claim(&self, s: u64) -> bool {
        debug_assert!(s & (IN_POLL | IN_SECTION | RETIRED) == IN_POLL);
        self.claim.store(s, Ordering::Relaxed);
        if heavy_barrier() && self.state.load(Ordering::Acquire) == s {
            return true;
        }
        self.release();
        false
    }

    /// The monitor took the core claimed for poll `s` (the slot is dead from now on).
    pub(crate) fn grant(&self, s: u64) {
        self.claim.store(s | GRANTED, Ordering::Release);
    }

    /// The monitor backs off its claim.
    pub(crate) fn release(&self) {
        self.claim.store(0, Ordering::Release);
    }
}

/// True if the monitor may claim cores on this system (see the module docs).
pub(crate) fn heavy_barrier_available() -> bool {
    barrier::available()
}

/// The owner's barrier: a compiler fence where the heavy barrier is `membarrier`.
#[inline(always)]
fn light_barrier() {
    barrier::light();
}

/// The monitor's barrier; false if it failed (the claim backs off).
fn heavy_barrier() -> bool {
    barrier::heavy()
}

#[cfg(all(target_os = "linux", not(any(loom, miri))))]
mod barrier {
    use std::sync::atomic::{compiler_fence, Ordering};
    use std::sync::OnceLock;

    // From linux/membarrier.h.
    const CMD_QUERY: libc::c_long = 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    static REGISTERED: OnceLock<bool> = OnceLock::new();

    fn membarrier(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integer arguments and touches no memory of ours.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    /// The kernel offers the private expedited barrier (a query: registers nothing).
    pub(super) fn available() -> bool {
        *SUPPORTED.get_or_init(|| {
            let cmds = membarrier(CMD_QUERY);
            let needed = CMD_PRIVATE_EXPEDITED | CMD_REGISTER_PRIVATE_EXPEDITED;
            cmds >= 0 && cmds & needed == needed
        })
    }

    #[inline(always)]
    pub(super) fn light() {
        compiler_fence(Ordering::SeqCst);
    }

    /// Registers the process on first use, i.e. when the monitor first claims a core:
    /// a registered process ran measurably slower on our test machine
    /// (benches/RESULTS.md), so a program that never blocks a worker never registers. A
    /// barrier issued after registration is a full one whatever the worker did before, so
    /// registering late is sound.
    pub(super) fn heavy() -> bool {
        let registered = *REGISTERED
            .get_or_init(|| available() && membarrier(CMD_REGISTER_PRIVATE_EXPEDITED) == 0);
        registered && membarrier(CMD_PRIVATE_EXPEDITED) == 0
    }
}

/// Loom and Miri: the symmetric form, a `SeqCst` fence on both sides.
#[cfg(any(loom, miri))]
mod barrier {
    use crate::loom::{fence, Ordering};

    pub(super) fn available() -> bool {
        true
    }

    #[inline(always)]
    pub(super) fn light() {
        fence(Ordering::SeqCst);
    }

    pub(super) fn heavy() -> bool {
        fence(Ordering::SeqCst);
        true
    }
}

/// No asymmetric barrier: the monitor only reports.
#[cfg(not(any(target_os = "linux", loom, miri)))]
mod barrier {
    pub(super) fn available() -> bool {
        false
    }

    #[inline(always)]
    pub(super) fn light() {
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }

    pub(super) fn heavy() -> bool {
        false
    }
}

/// The hand-off under test: a "core" (a queue of values) that the owner pushes to from
/// inside a poll and drains after it, and that the monitor moves out while the poll
/// runs. Every value pushed must end up exactly once in the owner's drain, the monitor's
/// take, or the fallback queue (the inject queue's stand-in), and the owner must learn
/// whether it lost its core.
#[cfg(test)]
mod model {
    use super::PollSlot;
    use crate::loom::{Arc, Mutex, UnsafeCell};

    pub(super) struct Worker {
        pub(super) slot: PollSlot,
        pub(super) core: UnsafeCell<Vec<u32>>,
        pub(super) fallback: Mutex<Vec<u32>>,
    }

    // SAFETY: `core` is touched by the owner only inside sections or between polls, and by
    // the monitor only under a confirmed claim: the protocol under test makes those
    // exclusive, and the models check exactly that (loom flags overlapping accesses).
    unsafe impl Sync for Worker {}

    impl Worker {
        pub(super) fn new() -> Arc<Worker> {
            Arc::new(Worker {
                slot: PollSlot::new(),
                core: UnsafeCell::new(Vec::new()),
                fallback: Mutex::new(Vec::new()),
            })
        }

        /// A wake from inside the poll: into the core, or the fallback queue.
        pub(super) fn wake(&self, v: u32) {
            // SAFETY: inside a section (see the `Sync` impl).
            let pushed = self
                .slot
                .with_core(|| self.core.with_mut(|c| unsafe { (*c).push(v) }));
            if pushed.is_none() {
                self.fallback.lock().unwrap().push(v);
            }
        }

        /// The owner after its poll: its core's values, or `None` if it was taken.
        pub(super) fn finish(&self) -> Option<Vec<u32>> {
            if self.slot.end_poll() {
                return None;
            }
            // SAFETY: between polls, with no claim granted (see the `Sync` impl).
            Some(self.core.with_mut(|c| unsafe { std::mem::take(&mut *c) }))
        }

        /// Starts a poll; returns the state a monitor would sample for it.
        pub(super) fn begin(&self, task: u64) -> u64 {
            self.slot.begin_poll(task);
            self.slot.sample().state
        }

        /// Every value, wherever it ended up (sorted): kept by the owner, taken by the
        /// monitor, or in the fallback queue.
        pub(super) fn all(&self, kept: Option<Vec<u32>>, taken: Option<Vec<u32>>) -> Vec<u32> {
            let mut all: Vec<u32> = kept.into_iter().chain(taken).flatten().collect();
            all.extend(self.fallback.lock().unwrap().iter().copied());
            all.sort_unstable();
            all
        }

        /// The monitor: claim poll `s` and move the core out.
        pub(super) fn take(&self, s: u64) -> Option<Vec<u32>> {
            if !self.slot.claim(s) {
                return None;
            }
            // SAFETY: under a confirmed claim (see the `Sync` impl).
            let core = self.core.with_mut(|c| unsafe { std::mem::take(&mut *c) });
            self.slot.grant(s);
            Some(core)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::model::Worker;
    use super::*;

    #[test]
    fn states_count_polls_and_sections() {
        let slot = PollSlot::new();
        assert_eq!(slot.sample().state, 0);
        slot.begin_poll(7);
        assert_eq!(slot.sample(), Sample { state: 1, task: 7 });
        // Inside a section the raw state has the section bit; samples do not show it.
        assert_eq!(
            slot.with_core(|| slot.state.load(Ordering::Relaxed)),
            Some(3)
        );
        assert_eq!(slot.with_core(|| slot.sample().state), Some(1));
        assert!(!slot.end_poll());
        assert_eq!(
            slot.sample(),
            Sample {
                state: STEP,
                task: 0
            }
        );
        // Outside a poll a section is free.
        assert_eq!(slot.with_core(|| 1), Some(1));
    }

    #[test]
    fn a_claim_needs_the_same_poll_outside_sections() {
        if !heavy_barrier_available() {
            return; // this system cannot claim (see the module docs)
        }
        let slot = PollSlot::new();
        slot.begin_poll(1);
        let s = slot.sample().state;
        // Inside a section: the claim backs off, and the section still completes.
        let inner = slot.with_core(|| slot.claim(s));
        assert_eq!(inner, Some(false));
        // A later poll: the claim of the old one backs off.
        assert!(!slot.end_poll());
        slot.begin_poll(2);
        assert!(!slot.claim(s));
        // The same poll, outside sections: granted; sections are refused from then on.
        let s = slot.sample().state;
        assert!(slot.claim(s));
        assert_eq!(slot.with_core(|| ()), None);
        slot.grant(s);
        assert!(slot.end_poll());
    }

    #[test]
    fn retired_slots_are_never_claimed() {
        let slot = PollSlot::new();
        slot.begin_poll(1);
        let s = slot.sample().state;
        assert_eq!(slot.retire_with(|| Some(())), Some(()));
        assert_eq!(slot.sample().state, STEP | RETIRED);
        assert_eq!(slot.polls(), 1);
        assert!(!slot.claim(s));
        assert!(slot.end_poll());
        assert_eq!(slot.with_core(|| ()), None);
    }

    /// The hand-off with real threads (and under Miri, its checked memory model).
    #[test]
    fn handoff_threads_conserve_values() {
        let rounds = if cfg!(miri) { 20 } else { 2_000 };
        for _ in 0..rounds {
            let w = Worker::new();
            let s = w.begin(1);
            let monitor = {
                let w = w.clone();
                std::thread::spawn(move || w.take(s))
            };
            for v in 0..4 {
                w.wake(v);
            }
            let kept = w.finish();
            let taken = monitor.join().unwrap();
            let lost_core = kept.is_none();
            assert_eq!(
                lost_core,
                taken.is_some(),
                "the owner knows it lost its core"
            );
            assert_eq!(w.all(kept, taken), vec![0, 1, 2, 3]);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::model::Worker;
    use loom::thread;

    /// The monitor claims while the owner wakes a task and then returns from its poll.
    #[test]
    fn loom_poll_slot_handoff() {
        loom::model(|| {
            let w = Worker::new();
            let s = w.begin(1);
            let monitor = {
                let w = w.clone();
                thread::spawn(move || w.take(s))
            };
            w.wake(1);
            let kept = w.finish();
            let taken = monitor.join().unwrap();
            assert_eq!(kept.is_none(), taken.is_some());
            assert_eq!(w.all(kept, taken), vec![1]);
        });
    }

    /// The claim races the next poll: it may only win for the poll it saw.
    #[test]
    fn loom_poll_slot_claim_races_next_poll() {
        loom::model(|| {
            let w = Worker::new();
            let s = w.begin(1);
            let monitor = {
                let w = w.clone();
                thread::spawn(move || w.take(s))
            };
            let first = w.finish();
            let mut second = None;
            if first.is_some() {
                w.slot.begin_poll(2);
                w.wake(2);
                second = w.finish();
                // The first poll ended untaken: a claim of it never succeeds later.
                assert!(second.is_some());
            }
            let taken = monitor.join().unwrap();
            assert_eq!(first.is_none(), taken.is_some());
            let expected = if first.is_some() { vec![2] } else { vec![] };
            assert_eq!(w.all(second, taken), expected);
        });
    }
}
