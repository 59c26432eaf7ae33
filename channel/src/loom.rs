//! The one place where std and loom synchronization types are chosen.
//!
//! Every atomic, mutex and cell the crate uses is imported from here, so a
//! `RUSTFLAGS="--cfg loom"` build swaps all of them for loom's model-checked
//! versions at once. The channel lock is the crate's own `ChanLock` (`lock.rs`, a
//! plain-store release) normally and [`SpinLock`] under loom: both offer a guard and the
//! raw lock/unlock a select needs to hold several channel locks at once, which a model
//! checker's mutex cannot (its guard is the only way to unlock). [`WakerSlot`] wraps the
//! owner's waker inside a select cell, the only `UnsafeCell` outside `lock.rs`, so both
//! builds share one call shape.

#[cfg(not(loom))]
pub(crate) use crate::lock::{ChanLock as Mutex, ChanLockGuard as MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};
#[cfg(loom)]
pub(crate) use spin::{SpinGuard as MutexGuard, SpinLock as Mutex};

/// The channel lock under a model checker: a test-and-set lock whose waiters yield to the
/// checker's scheduler, so every interleaving of lock holders is explored.
#[cfg(loom)]
mod spin {
    use super::{AtomicBool, Ordering};
    use core::cell::UnsafeCell;
    use core::ops::{Deref, DerefMut};

    /// Invariant: `value` is accessed only by the thread that set `locked`.
    pub(crate) struct SpinLock<T> {
        locked: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: access to `value` is exclusive to the lock holder (invariant above).
    unsafe impl<T: Send> Sync for SpinLock<T> {}
    // SAFETY: moving the lock moves `T`.
    unsafe impl<T: Send> Send for SpinLock<T> {}

    /// Exclusive access to a [`SpinLock`]'s value.
    pub(crate) struct SpinGuard<'a, T>(&'a SpinLock<T>);

    impl<T> SpinLock<T> {
        pub(crate) fn new(value: T) -> Self {
            SpinLock {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
            self.lock_raw();
            SpinGuard(self)
        }

        pub(crate) fn lock_raw(&self) {
            while self
                .locked
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                loom::thread::yield_now();
            }
        }

        /// # Safety
        ///
        /// The caller took the lock with `lock_raw` and no guard exists.
        pub(crate) unsafe fn unlock_raw(&self) {
            self.locked.store(false, Ordering::Release);
        }

        pub(crate) fn data_ptr(&self) -> *mut T {
            self.value.get()
        }
    }

    impl<T> Deref for SpinGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard's thread holds the lock (invariant on `value`).
            unsafe { &*self.0.value.get() }
        }
    }

    impl<T> DerefMut for SpinGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: as in `deref`; `&mut self` is the only borrow through the guard.
            unsafe { &mut *self.0.value.get() }
        }
    }

    impl<T> Drop for SpinGuard<'_, T> {
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

/// Locks `m`.
#[inline]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}
