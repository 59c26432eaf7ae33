//! Synchronization primitives for tasks: Go's `sync` package, plus tokio's favourites.
//!
//! | Go | waza |
//! |---|---|
//! | `sync.WaitGroup` | [`WaitGroup`] (`add`, `done`, `wait().await`, `go(fut)`) |
//! | `sync.Mutex` | [`Mutex`] (`lock().await` returns a guard; unlocks on drop) |
//! | `sync.RWMutex` | [`RwLock`] (`read().await`, `write().await`) |
//! | `sync.Once` | [`OnceCell`] (`get_or_init(async { … }).await`) |
//! | `sync.Cond` | [`Notify`] (`notify_one`, `notify_waiters`, `notified().await`) |
//! | `make(chan struct{}, n)` as a semaphore | [`Semaphore`] |
//! | `make(chan T, 1)` used once | [`oneshot`] |
//! | a `chan T` per listener, fed in a loop | [`broadcast`] (every receiver gets every value) |
//! | a mutex-guarded config plus a `chan struct{}` closed on change | [`watch`] (latest value, `changed().await`) |
//! | `sync.WaitGroup` used as a rendezvous point | [`Barrier`] (reusable; one leader per round) |
//! | a `chan T` (tokio's names) | [`mpsc`] (`channel(n)`, `unbounded_channel()` over [`crate::chan`]) |
//!
//! Waiting never blocks a thread: every wait is a future that a waker resumes. These
//! types do not depend on the waza runtime and work under any executor (only
//! [`WaitGroup::go`], which spawns a task, needs one). Plain OS threads can use the
//! `blocking_*` / `wait_blocking` variants (they panic on a waza worker thread, where
//! parking would stall every task of that worker).
//!
//! # Design
//!
//! Every primitive is a `std::sync::Mutex` around its state plus a FIFO wait queue of
//! nodes stored in a slab (`wait_list`); a waiting future owns one node, found by key.
//! Locks are held only for a few field updates, never across user code or an `.await`, and
//! wakers are called after the lock is released. A poisoned internal lock is recovered,
//! since no user code runs under it. The counting primitives ([`Semaphore`], [`Mutex`],
//! [`RwLock`], and the initialization lock of [`OnceCell`]) share one fair semaphore
//! (`raw_semaphore`): requests are served strictly in arrival order, which makes the
//! mutex FIFO-fair and the read-write lock writer-preferring without starvation. Its
//! permits live in one atomic word next to a "someone is queued" bit, so an uncontended
//! lock/unlock is one CAS each and never touches the queue's mutex (modelled under loom).
//!
//! [`broadcast`] keeps one lock per ring slot next to the queue's lock, so receivers
//! reading different values do not contend; [`watch`] publishes its version in an atomic
//! word, so `changed()` sees a new value without taking a lock (modelled under loom).
//! They are the two places where user code runs under a lock, as in tokio: a broadcast
//! receiver clones its value under that one slot's lock, and watch runs `send_modify`
//! closures and `wait_for` predicates under the value's lock. A panic there leaves the
//! channel's bookkeeping consistent: counts and versions change only after it returns.
//!
//! Cancel safety is uniform: dropping a pending future removes its node; if the future had
//! already been granted something (a lock, permits, a `notify_one`) it passes that on to the
//! next waiter, so nothing is ever lost.

/// Declares a constructor that is `const` normally and a plain `fn` under `cfg(loom)`
/// (loom's atomics and mutexes cannot be created in a const context).
macro_rules! loom_const_fn {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty $body:block) => {
        $(#[$m])*
        #[cfg(not(loom))]
        $vis const fn $name($($arg: $ty),*) -> $ret $body

        $(#[$m])*
        #[cfg(loom)]
        $vis fn $name($($arg: $ty),*) -> $ret $body
    };
}

mod barrier;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod raw_semaphore;
mod rwlock;
mod semaphore;
mod wait_group;
pub(crate) mod wait_list;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use once_cell::OnceCell;
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Permit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use wait_group::{Delta, Wait, WaitGroup};

use std::future::Future;
use std::sync::{MutexGuard as StdGuard, PoisonError};
use std::task::Waker;

/// Locks an internal mutex, recovering from poisoning (no user code ever runs under these
/// locks, so a panic elsewhere cannot leave their state half-updated).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> StdGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Calls every waker, after the caller has released its lock.
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        w.wake();
    }
}

/// The panic message of a `blocking_*` call made on a worker thread.
pub(crate) const ON_WORKER: &str = "a blocking waza::sync call (blocking_lock, blocking_read, \
    blocking_write, blocking_recv, wait_blocking) was made on a waza worker thread, where it \
    would stall every task of that worker; use the async method with `.await`, or call it \
    from `waza::spawn_blocking` or a plain thread";

/// Runs `fut` to completion on the current thread, parking it between polls. Used by the
/// `*_blocking` methods, which are for plain threads outside any executor.
///
/// # Panics
///
/// On a waza worker thread: parking it would stall every task queued on that worker,
/// possibly the one that would end the wait (a deadlock with one worker).
#[track_caller]
pub(crate) fn block_on_thread<F: Future>(fut: F) -> F::Output {
    if crate::scheduler::current::with_worker(|w| w.is_some()) {
        panic!("{ON_WORKER}");
    }
    waza_channel::hooks::block_on_thread(fut)
}
