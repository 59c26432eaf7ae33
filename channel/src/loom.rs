//! The one place where std, loom and shuttle synchronization types are chosen.
//!
//! Every atomic, mutex and cell the crate uses is imported from here, so a
//! `RUSTFLAGS="--cfg loom"` build swaps all of them for loom's model-checked
//! versions at once, and a `RUSTFLAGS="--cfg shuttle"` build for shuttle's (the
//! randomized checker in `tests/check.rs`: shuttle's scheduler may switch threads at
//! each of these operations, so it explores interleavings inside a channel operation,
//! not only between polls). The channel lock is the crate's own `ChanLock` (`lock.rs`, a
//! plain-store release) normally and `ModelLock` over the checker's mutex under loom or
//! shuttle (neither can see through `ChanLock`'s spinning and its std condvar): both
//! offer a guard and the raw lock/unlock a select needs to hold several channel locks at
//! once (a checker's mutex unlocks only through its guard, so `ModelLock` keeps that
//! guard inside). [`WakerSlot`] wraps the owner's waker inside a select cell and
//! [`TrackedCell`] holds the two payload cells of a waiter node (`waiters.rs`): the only
//! `UnsafeCell`s outside `lock.rs`, so every build shares one call shape and loom checks
//! every access to them for data races (shuttle has no checked cell: plain cells there).

#[cfg(all(loom, shuttle))]
compile_error!("`--cfg loom` and `--cfg shuttle` are separate checkers: use one at a time");

#[cfg(not(any(loom, shuttle)))]
pub(crate) use crate::lock::{ChanLock as Mutex, ChanLockGuard as MutexGuard};
#[cfg(not(any(loom, shuttle)))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

#[cfg(shuttle)]
pub(crate) use shuttle::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};
#[cfg(any(loom, shuttle))]
pub(crate) use model_lock::{ModelGuard as MutexGuard, ModelLock as Mutex};

/// The channel lock under a model checker: the checker's mutex, whose guard is kept inside the
/// lock between [`ModelLock::lock_raw`] and [`ModelLock::unlock_raw`], so a select can
/// hold several channel locks without guards. A thread waiting for it is blocked in the
/// checker's scheduler, not spinning: with a spin lock, two waiters yielding to each
/// other while the holder is preempted make an endless path that loom explores until it
/// exceeds its branch limit.
#[cfg(any(loom, shuttle))]
mod model_lock {
    use core::cell::UnsafeCell;
    use core::ops::{Deref, DerefMut};
    use std::sync::PoisonError;

    #[cfg(loom)]
    use loom::sync::{Mutex as CheckerMutex, MutexGuard as CheckerGuard};
    #[cfg(shuttle)]
    use shuttle::sync::{Mutex as CheckerMutex, MutexGuard as CheckerGuard};

    /// Invariants: `value` and `held` are accessed only by the thread holding `mutex`;
    /// `held` is `Some` exactly while the lock is held; the lock does not move while it
    /// is held (a channel's lock lives in the channel's `Arc`).
    pub(crate) struct ModelLock<T> {
        /// The guard of `mutex` while locked, its lifetime erased. Declared before `mutex`
        /// so that a guard still held is dropped first.
        held: UnsafeCell<Option<CheckerGuard<'static, ()>>>,
        mutex: CheckerMutex<()>,
        value: UnsafeCell<T>,
    }

    // SAFETY: access to `value` and `held` is exclusive to the lock holder (invariants).
    unsafe impl<T: Send> Sync for ModelLock<T> {}
    // SAFETY: moving the lock moves `T`; it is never moved while held (invariants).
    unsafe impl<T: Send> Send for ModelLock<T> {}

    /// Exclusive access to a [`ModelLock`]'s value.
    pub(crate) struct ModelGuard<'a, T>(&'a ModelLock<T>);

    impl<T> ModelLock<T> {
        pub(crate) fn new(value: T) -> Self {
            ModelLock {
                held: UnsafeCell::new(None),
                mutex: CheckerMutex::new(()),
                value: UnsafeCell::new(value),
            }
        }

        pub(crate) fn lock(&self) -> ModelGuard<'_, T> {
            self.lock_raw();
            ModelGuard(self)
        }

        pub(crate) fn lock_raw(&self) {
            let guard = self.mutex.lock().unwrap_or_else(PoisonError::into_inner);
            // SAFETY: only the lifetime changes. The guard is dropped by `unlock_raw` or,
            // at the latest, before `mutex` when the lock is dropped (field order), and
            // the lock does not move while held (invariants).
            let guard: CheckerGuard<'static, ()> = unsafe { core::mem::transmute(guard) };
            // SAFETY: this thread now holds `mutex` (invariant on `held`).
            unsafe { *self.held.get() = Some(guard) };
        }

        /// # Safety
        ///
        /// The caller took the lock with `lock_raw` and no guard exists.
        pub(crate) unsafe fn unlock_raw(&self) {
            // SAFETY: the caller holds `mutex` (contract above).
            let guard = unsafe { (*self.held.get()).take() };
            debug_assert!(guard.is_some(), "unlock_raw without lock_raw");
            drop(guard);
        }

        pub(crate) fn data_ptr(&self) -> *mut T {
            self.value.get()
        }
    }

    impl<T> Deref for ModelGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard's thread holds the lock (invariant on `value`).
            unsafe { &*self.0.value.get() }
        }
    }

    impl<T> DerefMut for ModelGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: as in `deref`; `&mut self` is the only borrow through the guard.
            unsafe { &mut *self.0.value.get() }
        }
    }

    impl<T> Drop for ModelGuard<'_, T> {
        fn drop(&mut self) {
            // SAFETY: the guard was created by `lock`, which took the lock.
            unsafe { self.0.unlock_raw() };
        }
    }
}

use core::task::Waker;

#[cfg(not(loom))]
type Cell<T> = core::cell::UnsafeCell<T>;
#[cfg(loom)]
type Cell<T> = loom::cell::UnsafeCell<T>;

/// An `Option<Waker>` whose accesses are synchronized by an outside protocol.
///
/// Invariant: callers never run [`WakerSlot::set`] concurrently with any other
/// access (the select protocol in `select.rs` guarantees it).
#[derive(Debug)]
pub(crate) struct WakerSlot(Cell<Option<Waker>>);

impl WakerSlot {
    /// An empty slot.
    pub(crate) fn new() -> Self {
        WakerSlot(Cell::new(None))
    }

    /// Stores `waker` unless the stored one already wakes the same task.
    ///
    /// # Safety
    ///
    /// No other thread may access the slot during this call.
    pub(crate) unsafe fn set(&self, waker: &Waker) {
        #[cfg(not(loom))]
        {
            // SAFETY: the caller guarantees exclusive access for this call.
            let slot = unsafe { &mut *self.0.get() };
            store(slot, waker);
        }
        #[cfg(loom)]
        // SAFETY: the caller guarantees exclusive access for this call.
        self.0.with_mut(|p| store(unsafe { &mut *p }, waker));
    }

    /// Takes the stored waker out.
    ///
    /// # Safety
    ///
    /// No [`WakerSlot::set`] may run concurrently with this call.
    pub(crate) unsafe fn take(&self) -> Option<Waker> {
        #[cfg(not(loom))]
        {
            // SAFETY: the caller guarantees no concurrent writer.
            unsafe { (*self.0.get()).take() }
        }
        #[cfg(loom)]
        // SAFETY: the caller guarantees no concurrent writer.
        self.0.with_mut(|p| unsafe { (*p).take() })
    }
}

fn store(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// An `UnsafeCell` whose accesses loom checks: under `--cfg loom` every access is
/// reported to the model checker, which fails the model if it is not ordered
/// (happens-before) after the previous conflicting access from another thread. Otherwise
/// a plain `core::cell::UnsafeCell` behind accessors that inline to the same code.
///
/// Invariant: callers uphold an outside protocol that makes each access exclusive (the
/// channel lock, or the completion handshake of `waiters.rs`).
pub(crate) struct TrackedCell<T>(Cell<T>);

impl<T> TrackedCell<T> {
    /// A cell holding `value`.
    pub(crate) fn new(value: T) -> Self {
        TrackedCell(Cell::new(value))
    }

    /// A mutable borrow of the value.
    ///
    /// Under loom this reports one write access at the call; later uses of the returned
    /// borrow are not reported (loom's accesses are scoped to a closure), so callers take
    /// a fresh borrow for each step rather than keep one across steps. [`Self::with_mut`]
    /// is the precisely tracked form.
    ///
    /// # Safety
    ///
    /// No other access to the value may happen while the returned borrow is in use.
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    pub(crate) unsafe fn get_mut(&self) -> &mut T {
        #[cfg(not(loom))]
        {
            // SAFETY: the caller guarantees exclusive access while the borrow is used.
            unsafe { &mut *self.0.get() }
        }
        #[cfg(loom)]
        // SAFETY: as above.
        self.0.with_mut(|p| unsafe { &mut *p })
    }

    /// Runs `f` with exclusive access to the value; under loom the access is reported for
    /// the whole call.
    ///
    /// # Safety
    ///
    /// No other access to the value may happen during the call.
    #[inline(always)]
    pub(crate) unsafe fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(not(loom))]
        {
            // SAFETY: the caller guarantees exclusive access for this call.
            f(unsafe { &mut *self.0.get() })
        }
        #[cfg(loom)]
        // SAFETY: as above.
        self.0.with_mut(|p| f(unsafe { &mut *p }))
    }
}

/// Locks `m`.
#[inline]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}
