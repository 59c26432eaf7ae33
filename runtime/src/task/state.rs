//! The task state word: lifecycle bits and the reference count in one `AtomicUsize`.
//!
//! # Bits
//!
//! | bit | name            | meaning |
//! |-----|-----------------|---------|
//! | 0   | `RUNNING`       | someone owns the future: a worker polling it, or shutdown dropping it |
//! | 1   | `COMPLETE`      | the stage holds the output (or an error); the future is gone |
//! | 2   | `NOTIFIED`      | a `Notified` handle exists (or is being created) for this task |
//! | 3   | `JOIN_INTEREST` | the `JoinHandle` is alive and wants the output |
//! | 4   | `JOIN_WAKER`    | the join waker slot holds a waker that the task side may read |
//! | 5   | `CANCELLED`     | abort or shutdown asked the next run to drop the future |
//! | 6.. | refcount        | number of live references, in units of [`REF_ONE`] |
//!
//! # References
//!
//! Each of these holds one reference: the registry entry (until completion), each
//! `Notified` (a scheduled run), the `JoinHandle`, and each `Waker`. A freshly spawned
//! task starts with three (registry, first `Notified`, `JoinHandle`), `NOTIFIED` and
//! `JOIN_INTEREST`. The last reference to go frees the cell.
//!
//! # Protocols (every step is a single read-modify-write)
//!
//! 1. **Run.** `transition_to_running` needs `NOTIFIED` and neither `RUNNING` nor
//!    `COMPLETE`; it sets `RUNNING`, clears `NOTIFIED`, and the runner inherits the
//!    `Notified` reference. After a `Pending` poll, `transition_to_idle` clears `RUNNING`;
//!    if a wake arrived meanwhile (`NOTIFIED` set) the reference passes to a new `Notified`
//!    that the runner re-queues as a yield, otherwise it is dropped.
//! 2. **Wake.** A wake on an idle task sets `NOTIFIED` and hands a reference to a new
//!    `Notified` (by value: the waker's own; by ref: a fresh increment). On a running task
//!    it only sets `NOTIFIED` (the runner re-queues, protocol 1). On a notified or complete
//!    task it does nothing.
//! 3. **Abort.** Sets `CANCELLED`; like a wake it also schedules an idle task so that the
//!    next run drops the future. A complete task is left alone, so its output survives.
//! 4. **Shutdown.** Sets `CANCELLED` and, if the task is idle or merely notified, also
//!    `RUNNING`: the caller now owns the future and drops it. A running task is cancelled by
//!    its runner when the poll returns.
//! 5. **Join waker.** The `JoinHandle` writes the waker slot only while `JOIN_WAKER` is
//!    clear, then sets it with a CAS that fails if `COMPLETE` appeared. On completion the
//!    task wakes the stored waker, then clears `JOIN_WAKER`; if the handle was dropped in
//!    between (`JOIN_INTEREST` clear) the task drops the waker.
//! 6. **Join handle drop.** Clears `JOIN_INTEREST` (and `JOIN_WAKER` unless complete). If
//!    the task was complete the handle drops the output; whoever ends up owning the waker
//!    slot (the bit clear afterwards) drops the waker. If the task was not complete and
//!    no join waker was stored (a detached spawn), the handle has nothing left to touch:
//!    the same read-modify-write also releases its reference (the slot is empty then,
//!    and freeing the cell drops whatever it holds).

use crate::loom::{AtomicUsize, Ordering};
use std::fmt;

/// Someone owns the future (polling or dropping it).
pub(crate) const RUNNING: usize = 1 << 0;
/// The output (or error) is stored; the future has been dropped.
pub(crate) const COMPLETE: usize = 1 << 1;
/// A `Notified` exists for this task.
pub(crate) const NOTIFIED: usize = 1 << 2;
/// The `JoinHandle` is alive.
pub(crate) const JOIN_INTEREST: usize = 1 << 3;
/// The join waker slot is readable by the task side.
pub(crate) const JOIN_WAKER: usize = 1 << 4;
/// The next run drops the future instead of polling it.
pub(crate) const CANCELLED: usize = 1 << 5;
/// Mask of the lifecycle bits.
const LIFECYCLE: usize = RUNNING | COMPLETE;
/// Number of flag bits below the reference count.
const REF_SHIFT: usize = 6;
/// One reference.
pub(crate) const REF_ONE: usize = 1 << REF_SHIFT;
/// Mask of the reference count.
const REF_MASK: usize = !(REF_ONE - 1);

/// Registry + first `Notified` + `JoinHandle`.
const INITIAL: usize = (3 * REF_ONE) | NOTIFIED | JOIN_INTEREST;

/// The atomic state word of one task.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word, with named accessors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

/// Result of [`State::transition_to_running`].
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// The caller owns the future and should poll it.
    Success,
    /// The caller owns the future and should drop it (the task was aborted).
    Cancelled,
    /// The task is running elsewhere or complete; drop the caller's reference.
    Failed,
}

/// Result of [`State::transition_to_idle`].
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Idle; the runner's reference was released (and it was not the last).
    Ok,
    /// Woken during the poll: the runner's reference becomes a new `Notified`.
    OkNotified,
    /// Aborted during the poll: the runner still owns the future and must drop it.
    Cancelled,
}

/// Result of the wake transitions.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// Submit a new `Notified` (which carries one reference) to the scheduler.
    Submit,
    /// Nothing to do.
    DoNothing,
    /// The last reference was released: free the task.
    Dealloc,
}

/// Result of [`State::transition_to_join_handle_dropped`].
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JoinHandleDropped {
    /// The task had completed: the handle must drop the output.
    pub(crate) drop_output: bool,
    /// The handle owns the waker slot and must drop its waker.
    pub(crate) drop_waker: bool,
    /// `Some(last)` if the transition also released the handle's reference (`last`: it
    /// was the last one, free the task); `None` if the handle still holds it.
    pub(crate) released: Option<bool>,
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_idle(self) -> bool {
        self.0 & LIFECYCLE == 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> REF_SHIFT
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("cancelled", &self.is_cancelled())
            .field("refs", &self.ref_count())
            .finish()
    }
}

impl State {
    /// The state of a freshly spawned task (see the module docs).
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    /// Reads the state word.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Ordering::Acquire))
    }

    /// Applies `f` in a CAS loop; `f` returns the new word (or `None` to stop) and a result.
    fn fetch_update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<Snapshot>, R)) -> R {
        let mut curr = self.load();
        loop {
            let (next, res) = f(curr);
            let Some(next) = next else { return res };
            match self
                .val
                .compare_exchange(curr.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return res,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Protocol 1: takes ownership of the future for a run (consumes `NOTIFIED`).
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_notified() || !curr.is_idle(), "{curr:?}");
            if !curr.is_idle() {
                return (None, TransitionToRunning::Failed);
            }
            let next = Snapshot((curr.0 | RUNNING) & !NOTIFIED);
            let res = if curr.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (Some(next), res)
        })
    }

    /// Protocol 1: releases the future after a `Pending` poll.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_running(), "{curr:?}");
            if curr.is_cancelled() {
                return (None, TransitionToIdle::Cancelled);
            }
            let mut next = curr.0 & !RUNNING;
            let res = if curr.is_notified() {
                TransitionToIdle::OkNotified
            } else {
                debug_assert!(curr.ref_count() >= 2, "the registry holds a reference");
                next -= REF_ONE;
                TransitionToIdle::Ok
            };
            (Some(Snapshot(next)), res)
        })
    }

    /// Marks the task complete; returns the state just after.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete(), "{prev:?}");
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// Releases `count` references after completion; true if the task must be freed.
    #[must_use]
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= count, "{prev:?} - {count}");
        prev.ref_count() == count
    }

    /// Protocol 2: a wake that consumes the caller's reference (`Waker::wake`).
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update(|curr| {
            if curr.is_running() {
                let next = (curr.0 | NOTIFIED) - REF_ONE;
                debug_assert!(Snapshot(next).ref_count() > 0);
                (Some(Snapshot(next)), TransitionToNotified::DoNothing)
            } else if curr.is_complete() || curr.is_notified() {
                let next = Snapshot(curr.0 - REF_ONE);
                let res = if next.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                };
                (Some(next), res)
            } else {
                let next = Snapshot(curr.0 | NOTIFIED);
                (Some(next), TransitionToNotified::Submit)
            }
        })
    }

    /// Protocol 2: a wake that keeps the caller's reference (`Waker::wake_by_ref`).
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update(|curr| {
            if curr.is_complete() || curr.is_notified() {
                (None, TransitionToNotified::DoNothing)
            } else if curr.is_running() {
                let next = Snapshot(curr.0 | NOTIFIED);
                (Some(next), TransitionToNotified::DoNothing)
            } else {
                let next = Snapshot((curr.0 | NOTIFIED) + REF_ONE);
                (Some(next), TransitionToNotified::Submit)
            }
        })
    }

    /// Protocol 3: abort. `Submit` means the caller must schedule a new `Notified`.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> TransitionToNotified {
        self.fetch_update(|curr| {
            if curr.is_complete() || curr.is_cancelled() {
                (None, TransitionToNotified::DoNothing)
            } else if curr.is_running() || curr.is_notified() {
                let next = Snapshot(curr.0 | NOTIFIED | CANCELLED);
                (Some(next), TransitionToNotified::DoNothing)
            } else {
                let next = Snapshot((curr.0 | NOTIFIED | CANCELLED) + REF_ONE);
                (Some(next), TransitionToNotified::Submit)
            }
        })
    }

    /// Protocol 4: true if the caller now owns the future and must cancel it.
    #[must_use]
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update(|curr| {
            let owns = curr.is_idle();
            let mut next = curr.0 | CANCELLED;
            if owns {
                next |= RUNNING;
            }
            (Some(Snapshot(next)), owns)
        })
    }

    /// Protocol 5: publishes the waker the handle just wrote. `Err` if the task completed.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested() && !curr.is_join_waker_set());
            if curr.is_complete() {
                return (None, Err(curr));
            }
            let next = Snapshot(curr.0 | JOIN_WAKER);
            (Some(next), Ok(next))
        })
    }

    /// Protocol 5: takes the waker slot back to replace it. `Err` if the task completed.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested() && curr.is_join_waker_set());
            if curr.is_complete() {
                return (None, Err(curr));
            }
            let next = Snapshot(curr.0 & !JOIN_WAKER);
            (Some(next), Ok(next))
        })
    }

    /// Protocol 5: the task is done with the waker; returns the state just before.
    pub(crate) fn unset_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, Ordering::AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set(), "{prev:?}");
        prev
    }

    /// Protocol 6: the `JoinHandle` goes away.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> JoinHandleDropped {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested(), "{curr:?}");
            let mut next = curr.0 & !JOIN_INTEREST;
            if !curr.is_complete() {
                next &= !JOIN_WAKER;
            }
            let release = !curr.is_complete() && !curr.is_join_waker_set();
            if release {
                debug_assert!(curr.ref_count() >= 1, "{curr:?}");
                next -= REF_ONE;
            }
            let res = JoinHandleDropped {
                drop_output: curr.is_complete(),
                drop_waker: !release && next & JOIN_WAKER == 0,
                released: release.then_some(Snapshot(next).ref_count() == 0),
            };
            (Some(Snapshot(next)), res)
        })
    }

    /// Adds one reference (a cloned waker or a new handle).
    pub(crate) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; true if it was the last and the task must be freed.
    #[must_use]
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 1, "{prev:?}");
        prev.ref_count() == 1
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn spawn_poll_pending_then_complete() {
        let s = State::new();
        assert_eq!(s.load().ref_count(), 3);
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert!(s.load().is_running() && !s.load().is_notified());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(s.load().ref_count(), 2);
        // wake by ref: a new Notified takes a reference
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::Submit
        );
        assert_eq!(s.load().ref_count(), 3);
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        let after = s.transition_to_complete();
        assert!(after.is_complete() && !after.is_running());
        // runner's ref + registry ref
        assert!(!s.transition_to_terminal(2));
        assert_eq!(s.load().ref_count(), 1);
        let d = s.transition_to_join_handle_dropped();
        assert!(d.drop_output && d.drop_waker);
        assert!(s.ref_dec());
    }

    #[test]
    fn wake_during_poll_requeues() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        s.ref_inc(); // a waker
        assert_eq!(
            s.transition_to_notified_by_val(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(s.load().ref_count(), 3);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::OkNotified);
        assert_eq!(s.load().ref_count(), 3);
        assert!(s.load().is_notified());
    }

    #[test]
    fn abort_idle_running_complete() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(
            s.transition_to_notified_and_cancel(),
            TransitionToNotified::Submit
        );
        assert_eq!(
            s.transition_to_notified_and_cancel(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(s.transition_to_running(), TransitionToRunning::Cancelled);
        let _ = s.transition_to_complete();
        // abort after completion keeps the output
        assert_eq!(
            s.transition_to_notified_and_cancel(),
            TransitionToNotified::DoNothing
        );
        assert!(s.load().is_complete());
    }

    #[test]
    fn shutdown_takes_idle_task_only() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert!(!s.transition_to_shutdown());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Cancelled);
        let s = State::new();
        assert!(s.transition_to_shutdown());
        // the queued Notified now fails to run
        assert_eq!(s.transition_to_running(), TransitionToRunning::Failed);
    }

    #[test]
    fn dropping_a_handle_before_completion_releases_its_reference_at_once() {
        let s = State::new();
        let d = s.transition_to_join_handle_dropped();
        assert_eq!(
            d,
            JoinHandleDropped {
                drop_output: false,
                drop_waker: false,
                released: Some(false),
            }
        );
        assert_eq!(s.load().ref_count(), 2, "registry + notified remain");
        // with a stored waker the handle keeps its reference to drop the waker
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        let d = s.transition_to_join_handle_dropped();
        assert!(d.drop_waker && !d.drop_output && d.released.is_none());
        assert_eq!(s.load().ref_count(), 3);
    }

    #[test]
    fn join_waker_protocol() {
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        assert!(s.unset_join_waker().is_ok());
        assert!(s.set_join_waker().is_ok());
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        let after = s.transition_to_complete();
        assert!(after.is_join_waker_set());
        assert!(s.unset_join_waker().is_err());
        let d = s.transition_to_join_handle_dropped();
        // the task still owns the waker slot
        assert!(d.drop_output && !d.drop_waker);
        let prev = s.unset_waker_after_complete();
        assert!(!prev.is_join_interested());
    }

    #[test]
    fn wake_by_val_after_complete_deallocs_last() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        s.ref_inc(); // waker
        let _ = s.transition_to_complete();
        assert!(!s.transition_to_terminal(2));
        let d = s.transition_to_join_handle_dropped();
        assert!(d.drop_output);
        assert!(!s.ref_dec());
        assert_eq!(
            s.transition_to_notified_by_val(),
            TransitionToNotified::Dealloc
        );
    }
}
