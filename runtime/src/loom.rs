//! The one place where std and loom synchronization types are chosen.
//!
//! Every atomic, cell, mutex and condvar used by the task core and the scheduler is
//! imported from here. Under `--cfg loom` the same names resolve to loom's model-checked
//! versions, so the ring buffer and the task state machine can be explored exhaustively.
//! Capacities that loom must wrap around (the local ring) are shrunk with `cfg(loom)`
//! constants next to their definition.
//!
//! `StdAtomicU64` is always std's: it backs process-wide statics (task ids), which loom
//! cannot construct in a `static`.

#![allow(unused_imports)]

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

/// std's synchronization, for the parts that own OS threads or thread-locals and are
/// never run inside a loom model (parkers, the runtime handle, the blocking pool).
pub(crate) mod std_sync {
    pub(crate) use std::sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Condvar, Mutex, Weak,
    };
}

/// A process-wide atomic that may live in a `static` (never modelled by loom).
pub(crate) use std::sync::atomic::AtomicU64 as StdAtomicU64;

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` with loom's closure-based access API, so call sites are
/// identical under both configurations.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a shared raw pointer to the contents.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a mutable raw pointer to the contents.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Lets another thread run (a model's scheduling point under loom).
pub(crate) fn yield_now() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}
