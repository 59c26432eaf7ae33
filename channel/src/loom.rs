//! The one place where std, loom and shuttle synchronization types are chosen.
//!
//! Every atomic, mutex and cell the crate uses is imported from here, so a
//! `RUSTFLAGS="--cfg loom"` build swaps all of them for loom's model-checked
//! versions at once, and a `RUSTFLAGS="--cfg shuttle"` build for shuttle's (the
//! randomized checker in `tests/check.rs`: shuttle's scheduler may switch threads at
//! each of these operations, so it explores interleavings inside a channel operation,
//! not only between polls). The channel lock is the crate's own `ChanLock` (`lock.rs`,
//! a plain-store release) normally and the checker's mutex under loom or shuttle, since
//! neither can see through `ChanLock`'s spinning and its std condvar. Shuttle has no
//! checked cell, so [`WakerSlot`] keeps the std `UnsafeCell` there. [`WakerSlot`] wraps the
//! owner's waker inside a select cell, the only `UnsafeCell` outside `lock.rs`, so every
//! build shares one call shape.

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
    Arc, Mutex, MutexGuard,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

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

    /// Returns a clone of the stored waker.
    ///
    /// # Safety
    ///
    /// No [`WakerSlot::set`] may run concurrently with this call.
    pub(crate) unsafe fn get(&self) -> Option<Waker> {
        #[cfg(not(loom))]
        {
            // SAFETY: the caller guarantees no concurrent writer.
            unsafe { (*self.0.get()).clone() }
        }
        #[cfg(loom)]
        // SAFETY: the caller guarantees no concurrent writer.
        self.0.with(|p| unsafe { (*p).clone() })
    }
}

fn store(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Locks `m`.
#[cfg(not(any(loom, shuttle)))]
#[inline]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}

/// Locks `m`, ignoring poisoning: a panic in user code (a waker, `T::drop`) never
/// runs while a channel lock is held, so a poisoned lock still guards valid state.
#[cfg(any(loom, shuttle))]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
