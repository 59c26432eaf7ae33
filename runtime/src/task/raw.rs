//! The task allocation, its type-erased vtable and the waker vtable: the only file in the
//! task core that casts pointers.
//!
//! # Layout
//!
//! A task is one heap allocation, a `#[repr(C)]` [`Cell<T, S>`]:
//!
//! ```text
//! +----------------------------+  <- NonNull<Header> points here (offset 0)
//! | Header   (hot, 56 bytes)   |  state word, registry links, vtable, id, spawn location
//! | S        (scheduler)       |  who to hand a `Notified` to (an `Arc`)
//! | Stage<T> (future | output)|  one enum: the future, then its result, then consumed
//! | Option<Waker> (cold)       |  the JoinHandle's waker
//! +----------------------------+
//! ```
//!
//! Because the header sits at offset 0 of a `repr(C)` struct, a pointer to the cell and a
//! pointer to its header are the same pointer; the vtable, chosen at spawn time, casts the
//! header pointer back to the concrete `Cell<T, S>`.
//!
//! # Who may touch what
//!
//! - `Header::state`: anyone holding a reference, through [`State`]'s transitions.
//! - `Header::{owned_prev, owned_next}`: only the registry, under its shard lock.
//! - `Header::{vtable, id, location}`: immutable after spawn.
//! - `Header::wait`: written by the poller (through the channel wait hook), read by dumps.
//! - `stage`: the owner of `RUNNING` while the task is not complete; after `COMPLETE`, only
//!   the `JoinHandle` (or the completing runner if nobody is joining).
//! - `join_waker`: whoever owns it per the `JOIN_WAKER` protocol in [`super::state`].
//!
//! # Wakers
//!
//! A waker's data pointer is the header pointer and it owns one reference: `clone` adds a
//! reference, `drop` removes one (freeing the task on the last), `wake` consumes its
//! reference (handing it to the new `Notified` when it schedules), `wake_by_ref` schedules
//! with a fresh reference. None of them allocates.
//!
//! # Freeing
//!
//! Harness functions report through `Dealloc` instead of freeing, so the cell is freed
//! here only after they returned; those that release a reference take the cell as a raw
//! pointer rather than a `&Cell` argument (an argument must stay valid for the whole call,
//! and another thread may free the cell once the reference is released).
//!
//! Handing a `Notified` to the scheduler (a wake, or the runner re-queueing a task woken
//! during its poll) releases a reference in the same sense: once it is in a queue another
//! thread may run the task to completion and free the cell before the hand-off returns.
//! No borrow of the cell may be alive then, and that includes the scheduler `S` stored in
//! it. So a hand-off is two calls (see [`Schedule`]): `S::handoff(&self)` reads the
//! scheduler and returns a `'static` [`Handoff`](super::schedule::Handoff), the borrow of
//! the cell ends, and only then does the handoff take the task. The runtime's handoff is either the
//! current worker (the task is woken on a worker of its own runtime: nothing is copied,
//! the worker owns its own `Arc<Shared>`) or, from any other thread, a clone of the
//! task's `Arc<Shared>`: the reference count is paid only off the worker.
//!
//! tokio keeps the waker's reference until `schedule` returned instead (a wake by value
//! takes an extra reference in its transition and drops it afterwards). That costs one
//! more atomic read-modify-write on every wake by value, including the hot one (a task
//! woken by another task on the same worker: channel ping-pong); the two-step hand-off
//! costs nothing there.

use super::harness;
use super::schedule::{Schedule, TaskId};
use super::state::State;
use crate::loom::{AtomicU64, UnsafeCell};
use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::task::{Poll, RawWaker, RawWakerVTable, Waker};

/// The hot, type-independent part of every task.
#[repr(C)]
pub(crate) struct Header {
    /// Lifecycle bits and reference count.
    pub(crate) state: State,
    /// Previous task in the registry shard. Invariant: touched only under the shard lock.
    pub(crate) owned_prev: UnsafeCell<Option<NonNull<Header>>>,
    /// Next task in the registry shard. Invariant: touched only under the shard lock.
    pub(crate) owned_next: UnsafeCell<Option<NonNull<Header>>>,
    /// Operations of the concrete `Cell<T, S>`.
    vtable: &'static Vtable,
    /// Unique id of the task.
    pub(crate) id: TaskId,
    /// Where the task was spawned.
    pub(crate) location: &'static Location<'static>,
    /// Why the last poll returned `Pending`, packed (see `wait.rs`); 0 if unknown.
    pub(crate) wait: AtomicU64,
}

// SAFETY: the header's cells are only accessed under the protocols documented above (the
// registry lock, the state word), which serialize every access across threads.
unsafe impl Send for Header {}
// SAFETY: see the `Send` impl.
unsafe impl Sync for Header {}

/// The future, then its result, then nothing.
pub(crate) enum Stage<T: Future> {
    Running(T),
    Finished(super::schedule::Result<T::Output>),
    Consumed,
}

/// The whole task allocation.
#[repr(C)]
pub(crate) struct Cell<T: Future, S> {
    pub(crate) header: Header,
    pub(crate) scheduler: S,
    pub(crate) stage: UnsafeCell<Stage<T>>,
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

/// Type-erased operations on a task.
struct Vtable {
    /// Runs the task once; consumes a `Notified` reference.
    run: unsafe fn(NonNull<Header>),
    /// Hands a `Notified` reference to the task's scheduler.
    schedule: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    dealloc: unsafe fn(NonNull<Header>),
    /// JoinHandle poll: writes `Poll<super::schedule::Result<T::Output>>` to the pointer if
    /// complete.
    try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// JoinHandle drop.
    drop_join_handle: unsafe fn(NonNull<Header>),
    /// Cancels the task for runtime shutdown; consumes one reference.
    shutdown: unsafe fn(NonNull<Header>),
}

/// A counted-or-borrowed pointer to a task; the owner of the value decides which.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: a task is `Send` because spawn requires `T: Send` and `S: Send + Sync`, and every
// shared field is synchronized by the state word or the registry lock. A local task
// (`task::local`) may hold a `!Send` future: there, the set's rules keep every poll and the
// drop of the future on the set's owner thread; other threads only move references.
unsafe impl Send for RawTask {}
// SAFETY: see the `Send` impl.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a new task with the initial state (three references).
    pub(crate) fn new<T, S>(
        future: T,
        scheduler: S,
        id: TaskId,
        location: &'static Location<'static>,
    ) -> RawTask
    where
        T: Future,
        S: Schedule,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                owned_prev: UnsafeCell::new(None),
                owned_next: UnsafeCell::new(None),
                vtable: vtable::<T, S>(),
                id,
                location,
                wait: AtomicU64::new(0),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
            join_waker: UnsafeCell::new(None),
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// Wraps a header pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point at the header of a live task allocation.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    /// The header pointer.
    pub(crate) fn header_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    /// The header.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: whoever holds a `RawTask` holds (or borrows from a holder of) a
        // reference, so the allocation is alive for the duration of the borrow.
        unsafe { self.ptr.as_ref() }
    }

    /// The state word.
    pub(crate) fn state(&self) -> &State {
        &self.header().state
    }

    fn vtable(&self) -> &'static Vtable {
        self.header().vtable
    }

    /// Runs the task once, consuming one `Notified` reference.
    pub(crate) fn run(self) {
        // SAFETY: the vtable matches the allocation; the caller hands over its reference.
        unsafe { (self.vtable().run)(self.ptr) }
    }

    /// Hands one reference, as a `Notified`, to the task's scheduler.
    pub(crate) fn schedule(self) {
        // SAFETY: the vtable matches the allocation; the caller hands over its reference.
        unsafe { (self.vtable().schedule)(self.ptr) }
    }

    /// Frees the task.
    ///
    /// # Safety
    ///
    /// The reference count must have reached zero.
    pub(crate) unsafe fn dealloc(self) {
        // SAFETY: the vtable matches the allocation; the caller guarantees no references.
        unsafe { (self.vtable().dealloc)(self.ptr) }
    }

    /// Polls for the output on behalf of the `JoinHandle`.
    ///
    /// # Safety
    ///
    /// `dst` must point at a `Poll<super::schedule::Result<T::Output>>` of this task's future type
    /// and the caller must be the task's `JoinHandle`.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded to the caller.
        unsafe { (self.vtable().try_read_output)(self.ptr, dst, waker) }
    }

    /// Releases the `JoinHandle`'s interest and reference.
    ///
    /// # Safety
    ///
    /// The caller must be the task's `JoinHandle`, calling this once.
    pub(crate) unsafe fn drop_join_handle(self) {
        // SAFETY: forwarded to the caller.
        unsafe { (self.vtable().drop_join_handle)(self.ptr) }
    }

    /// Cancels the task for runtime shutdown, consuming one reference.
    pub(crate) fn shutdown(self) {
        // SAFETY: the vtable matches the allocation; the caller hands over its reference.
        unsafe { (self.vtable().shutdown)(self.ptr) }
    }

    /// Drops one reference, freeing the task if it was the last.
    pub(crate) fn drop_reference(self) {
        if self.state().ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { self.dealloc() }
        }
    }

    /// A waker that borrows the caller's reference (for polling the task itself).
    pub(crate) fn waker_borrowed(self) -> std::mem::ManuallyDrop<Waker> {
        // SAFETY: the vtable's contract holds while the caller keeps its reference alive,
        // and `ManuallyDrop` stops this copy from releasing a reference it does not own;
        // clones made from it take their own references.
        let waker = unsafe {
            Waker::from_raw(RawWaker::new(self.ptr.as_ptr() as *const (), &WAKER_VTABLE))
        };
        std::mem::ManuallyDrop::new(waker)
    }
}

/// Typed access to the cell behind a header pointer.
///
/// # Safety
///
/// `ptr` must point at the header of a live `Cell<T, S>` (the vtable guarantees the types).
unsafe fn cell<'a, T: Future, S>(ptr: NonNull<Header>) -> &'a Cell<T, S> {
    // SAFETY: the header is the first field of the `repr(C)` cell, so the pointers coincide;
    // the caller guarantees the concrete types and liveness.
    unsafe { ptr.cast::<Cell<T, S>>().as_ref() }
}

fn vtable<T: Future, S: Schedule>() -> &'static Vtable {
    &Vtable {
        run: run::<T, S>,
        schedule: schedule::<T, S>,
        dealloc: dealloc::<T, S>,
        try_read_output: try_read_output::<T, S>,
        drop_join_handle: drop_join_handle::<T, S>,
        shutdown: shutdown::<T, S>,
    }
}

unsafe fn run<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for `Cell<T, S>`; `ptr` is this live task.
    let dealloc = unsafe { harness::run(ptr.cast::<Cell<T, S>>(), RawTask::from_raw(ptr)) };
    // SAFETY: the harness reports that the last reference is gone.
    unsafe { dealloc_if::<T, S>(ptr, dealloc) };
}

/// Frees the cell if the harness released the last reference.
///
/// # Safety
///
/// `ptr` is a `Cell<T, S>` and `dealloc` came from a harness call on it that has returned.
unsafe fn dealloc_if<T: Future, S>(ptr: NonNull<Header>, dealloc: harness::Dealloc) {
    if dealloc.0 {
        // SAFETY: no reference remains and no borrow of the cell is live.
        unsafe { self::dealloc::<T, S>(ptr) };
    }
}

unsafe fn schedule<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    use super::schedule::Handoff;
    // SAFETY: the vtable was built for `Cell<T, S>`; the caller's reference keeps the cell
    // alive until it is handed over below, and this borrow ends before that.
    let handoff = unsafe { cell::<T, S>(ptr) }.scheduler.handoff();
    // SAFETY: `ptr` is a live task and the caller hands over one reference.
    let task = unsafe { RawTask::from_raw(ptr) };
    handoff.schedule(super::schedule::Notified(task));
}

unsafe fn dealloc<T: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: the allocation was made by `Box::new(Cell<T, S>)` in `RawTask::new` and the
    // caller guarantees that no reference remains.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<T, S>>().as_ptr()) });
}

unsafe fn try_read_output<T: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: the vtable was built for `Cell<T, S>`.
    let cell = unsafe { cell::<T, S>(ptr) };
    if let Some(out) = harness::try_read_output(cell, waker) {
        // SAFETY: the caller guarantees `dst` has this task's output type.
        unsafe { *(dst as *mut Poll<super::schedule::Result<T::Output>>) = Poll::Ready(out) };
    }
}

unsafe fn drop_join_handle<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for `Cell<T, S>`.
    let dealloc = unsafe { harness::drop_join_handle(ptr.cast::<Cell<T, S>>()) };
    // SAFETY: the harness call has returned.
    unsafe { dealloc_if::<T, S>(ptr, dealloc) };
}

unsafe fn shutdown<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for `Cell<T, S>`; `ptr` is this live task.
    let dealloc = unsafe { harness::shutdown(ptr.cast::<Cell<T, S>>(), RawTask::from_raw(ptr)) };
    // SAFETY: the harness call has returned.
    unsafe { dealloc_if::<T, S>(ptr, dealloc) };
}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// # Safety
///
/// `data` is a task header pointer owned by a waker (one reference).
unsafe fn task_of(data: *const ()) -> RawTask {
    // SAFETY: wakers are only built from a non-null header pointer.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    RawTask { ptr }
}

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned owns a reference, so the task is alive.
    let task = unsafe { task_of(data) };
    task.state().ref_inc();
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn waker_wake(data: *const ()) {
    use super::state::TransitionToNotified::*;
    // SAFETY: the waker owns a reference, which this call consumes.
    let task = unsafe { task_of(data) };
    match task.state().transition_to_notified_by_val() {
        Submit => task.schedule(),
        DoNothing => {}
        // SAFETY: the state word says that was the last reference.
        Dealloc => unsafe { task.dealloc() },
    }
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    use super::state::TransitionToNotified::*;
    // SAFETY: the waker owns a reference, so the task is alive.
    let task = unsafe { task_of(data) };
    match task.state().transition_to_notified_by_ref() {
        Submit => task.schedule(),
        DoNothing => {}
        Dealloc => unreachable!("wake_by_ref keeps the waker's reference"),
    }
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: the waker owns a reference, which this call releases.
    let task = unsafe { task_of(data) };
    task.drop_reference();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn header_fits_a_cache_line() {
        assert!(std::mem::size_of::<Header>() <= 64);
    }
}
