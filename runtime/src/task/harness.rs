//! What happens to a task: run (poll or cancel), complete, join, shutdown.
//!
//! These functions follow the protocols numbered in [`super::state`]. Those that may
//! release the last reference never free the cell themselves: they return [`Dealloc`] and
//! the caller in `raw.rs` frees it after they returned. Those that release *a* reference
//! (run, complete, shutdown, dropping the join handle) take the cell as a raw pointer, not
//! a `&Cell` argument: once their reference is released another thread may free the cell
//! before they return, and a reference argument must stay valid for the whole call. They
//! use a local `&Cell`, whose last use comes before the release.
//!
//! Handing a `Notified` to the scheduler counts as releasing a reference: `run` reads the
//! scheduler out of the cell first (`Schedule::handoff`), then hands the task over with
//! no borrow of the cell left (see `raw.rs`, "Freeing").
//!
//! Every call into user code (poll, the future's and the output's `Drop`, the join waker)
//! is wrapped in `catch_unwind`, so a panic never unwinds into a worker loop: it becomes a
//! [`JoinError`] or is discarded.

use super::error::JoinError;
use super::raw::{Cell, RawTask, Stage};
use super::schedule::{Handoff, Notified, Result, Schedule};
use super::state::{TransitionToIdle, TransitionToRunning};
use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// True if the caller must free the cell (the last reference was released).
#[must_use]
pub(super) struct Dealloc(pub(super) bool);

/// Runs the task once (protocol 1), consuming the caller's `Notified` reference.
///
/// # Safety
///
/// `ptr` is the live task `task` and the caller holds one reference, which this consumes.
pub(super) unsafe fn run<T: Future, S: Schedule>(
    ptr: NonNull<Cell<T, S>>,
    task: RawTask,
) -> Dealloc {
    // SAFETY: the caller's reference keeps the cell alive until we release it (by a
    // transition, or by handing it to the scheduler as a new `Notified`); `cell` is not
    // used after either.
    let cell = unsafe { ptr.as_ref() };
    match cell.header.state.transition_to_running() {
        TransitionToRunning::Success => {}
        // SAFETY: we still hold the reference.
        TransitionToRunning::Cancelled => return unsafe { cancel_and_complete(ptr, task) },
        TransitionToRunning::Failed => return Dealloc(cell.header.state.ref_dec()),
    }
    let waker = task.waker_borrowed();
    let mut cx = Context::from_waker(&waker);
    if poll_future(cell, &mut cx).is_ready() {
        // SAFETY: we still hold the reference.
        return unsafe { complete(ptr, task) };
    }
    match cell.header.state.transition_to_idle() {
        TransitionToIdle::Ok => Dealloc(false),
        TransitionToIdle::OkNotified => {
            // `cell` is not used after this line: the handoff owns what it needs, and the
            // task may be run, completed and freed elsewhere before `yield_now` returns.
            let handoff = cell.scheduler.handoff();
            handoff.yield_now(Notified(task));
            Dealloc(false)
        }
        // SAFETY: a cancelled transition keeps our reference.
        TransitionToIdle::Cancelled => unsafe { cancel_and_complete(ptr, task) },
    }
}

/// Shutdown (protocol 4), consuming one reference.
///
/// # Safety
///
/// `ptr` is the live task `task` and the caller holds one reference, which this consumes.
pub(super) unsafe fn shutdown<T: Future, S: Schedule>(
    ptr: NonNull<Cell<T, S>>,
    task: RawTask,
) -> Dealloc {
    // SAFETY: the caller's reference keeps the cell alive until we release it.
    let cell = unsafe { ptr.as_ref() };
    if cell.header.state.transition_to_shutdown() {
        // SAFETY: we still hold the reference.
        unsafe { cancel_and_complete(ptr, task) }
    } else {
        Dealloc(cell.header.state.ref_dec())
    }
}

/// Polls the future once; on `Ready` (or a panic) the stage holds the result.
fn poll_future<T: Future, S>(cell: &Cell<T, S>, cx: &mut Context<'_>) -> Poll<()> {
    let recording = super::wait::record_into(&cell.header.wait);
    let polled = catch_unwind(AssertUnwindSafe(|| {
        cell.stage.with_mut(|stage| {
            // SAFETY: we own RUNNING, which grants exclusive access to the stage.
            let Stage::Running(future) = (unsafe { &mut *stage }) else {
                unreachable!("a running task holds its future");
            };
            // SAFETY: the future lives in the heap cell and is dropped in place, never moved.
            unsafe { Pin::new_unchecked(future) }.poll(cx)
        })
    }));
    drop(recording);
    let result = match polled {
        Ok(Poll::Pending) => return Poll::Pending,
        Ok(Poll::Ready(output)) => match drop_stage(cell) {
            Ok(()) => Ok(output),
            Err(panic) => {
                drop_caught(output);
                Err(JoinError::panic(cell.header.id, panic))
            }
        },
        Err(panic) => {
            // A future that panicked is dropped too; a second panic from its drop is lost.
            let _ = drop_stage(cell);
            Err(JoinError::panic(cell.header.id, panic))
        }
    };
    store_result(cell, result);
    Poll::Ready(())
}

/// Drops the stage (future or output) in place, catching a panic from its `Drop`.
/// The caller owns the stage: RUNNING, or COMPLETE with no other reader.
fn drop_stage<T: Future, S>(cell: &Cell<T, S>) -> std::result::Result<(), Box<dyn Any + Send>> {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: we own RUNNING (or are the sole reader after COMPLETE); assignment drops
        // the old stage in place.
        cell.stage
            .with_mut(|stage| unsafe { *stage = Stage::Consumed });
    }))
}

fn store_result<T: Future, S>(cell: &Cell<T, S>, result: Result<T::Output>) {
    // SAFETY: we own RUNNING and the stage is `Consumed` (nothing to drop).
    cell.stage
        .with_mut(|stage| unsafe { stage.write(Stage::Finished(result)) });
}

fn drop_caught<V>(value: V) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(value)));
}

/// Drops the future for an abort or shutdown, then completes.
///
/// # Safety
///
/// As for [`complete`].
unsafe fn cancel_and_complete<T: Future, S: Schedule>(
    ptr: NonNull<Cell<T, S>>,
    task: RawTask,
) -> Dealloc {
    // SAFETY: the caller holds a reference; `cell` is not used after `complete`.
    let cell = unsafe { ptr.as_ref() };
    let id = cell.header.id;
    let err = match drop_stage(cell) {
        Ok(()) => JoinError::cancelled(id),
        Err(panic) => JoinError::panic(id, panic),
    };
    store_result(cell, Err(err));
    // SAFETY: we still hold the caller's reference.
    unsafe { complete(ptr, task) }
}

/// Leaves the registry, publishes the result, notifies the joiner, drops references.
///
/// # Safety
///
/// `ptr` is the live task `task`, RUNNING with its result stored, and the caller holds
/// one reference, which this consumes.
unsafe fn complete<T: Future, S: Schedule>(ptr: NonNull<Cell<T, S>>, task: RawTask) -> Dealloc {
    // SAFETY: the caller's reference keeps the cell alive; the last use of `cell` is the
    // final transition, which releases it.
    let cell = unsafe { ptr.as_ref() };
    let state = &cell.header.state;
    // Leave the registry first, so whoever sees the output also sees the task gone from
    // metrics and dumps.
    let released = cell.scheduler.release(task);
    let snapshot = state.transition_to_complete();
    if !snapshot.is_join_interested() {
        // Nobody will read the output: drop it now (protocol 6 already ran).
        let _ = drop_stage(cell);
    } else if snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER is set, so the slot holds a waker the task side may read.
        let waker = cell.join_waker.with(|w| unsafe { (*w).as_ref() });
        if let Some(waker) = waker {
            let _ = catch_unwind(AssertUnwindSafe(|| waker.wake_by_ref()));
        }
        let prev = state.unset_waker_after_complete();
        if !prev.is_join_interested() {
            // SAFETY: the handle is gone and we just cleared JOIN_WAKER: we own the slot.
            let old = cell.join_waker.with_mut(|w| unsafe { (*w).take() });
            drop_caught(old);
        }
    }
    let count = if released { 2 } else { 1 };
    Dealloc(state.transition_to_terminal(count))
}

/// `JoinHandle::poll`: the output if complete, else registers `waker` (protocol 5).
pub(super) fn try_read_output<T: Future, S>(
    cell: &Cell<T, S>,
    waker: &Waker,
) -> Option<Result<T::Output>> {
    if !can_read_output(cell, waker) {
        return None;
    }
    // SAFETY: COMPLETE is set and only the JoinHandle (our caller) reads the stage now.
    let stage = cell
        .stage
        .with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
    match stage {
        Stage::Finished(result) => Some(result),
        _ => panic!("JoinHandle polled after it returned the output"),
    }
}

fn can_read_output<T: Future, S>(cell: &Cell<T, S>, waker: &Waker) -> bool {
    let state = &cell.header.state;
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    let res = if !snapshot.is_join_waker_set() {
        set_join_waker(cell, waker.clone())
    } else {
        // SAFETY: JOIN_WAKER is set: the slot holds a waker and nobody writes it.
        let same = cell
            .join_waker
            .with(|w| unsafe { (*w).as_ref().is_some_and(|w| w.will_wake(waker)) });
        if same {
            return false;
        }
        state
            .unset_join_waker()
            .and_then(|_| set_join_waker(cell, waker.clone()))
    };
    match res {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            true
        }
    }
}

fn set_join_waker<T: Future, S>(
    cell: &Cell<T, S>,
    waker: Waker,
) -> std::result::Result<super::state::Snapshot, super::state::Snapshot> {
    // SAFETY: JOIN_WAKER is clear and we are the JoinHandle: we own the slot.
    cell.join_waker.with_mut(|w| unsafe { *w = Some(waker) });
    let res = cell.header.state.set_join_waker();
    if res.is_err() {
        // SAFETY: the task completed with JOIN_WAKER clear, so it never reads the slot.
        let old = cell.join_waker.with_mut(|w| unsafe { (*w).take() });
        drop_caught(old);
    }
    res
}

/// `JoinHandle::drop` (protocol 6), consuming the handle's reference.
///
/// # Safety
///
/// `ptr` is a live task and the caller is its join handle, holding one reference.
pub(super) unsafe fn drop_join_handle<T: Future, S>(ptr: NonNull<Cell<T, S>>) -> Dealloc {
    // SAFETY: the handle's reference keeps the cell alive until a transition releases it;
    // `cell` is not used after that.
    let cell = unsafe { ptr.as_ref() };
    let dropped = cell.header.state.transition_to_join_handle_dropped();
    if let Some(last) = dropped.released {
        // Detached before completion: the transition released our reference, and the
        // cell may be gone unless it was the last (then we free it).
        return Dealloc(last);
    }
    if dropped.drop_output {
        // The task is complete and nobody else reads the stage any more.
        let _ = drop_stage(cell);
    }
    if dropped.drop_waker {
        // SAFETY: JOIN_WAKER is clear after our transition: the slot is ours.
        let old = cell.join_waker.with_mut(|w| unsafe { (*w).take() });
        drop_caught(old);
    }
    Dealloc(cell.header.state.ref_dec())
}
