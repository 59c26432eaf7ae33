//! The channel lock: a mutex whose release is one plain store.
//!
//! # Why not `std::sync::Mutex`
//!
//! Every channel operation takes the channel lock once, and under contention its cache
//! line moves between cores on every operation. `std`'s mutex releases with an atomic
//! swap (it must learn whether a thread sleeps on the futex), and that read-modify-write
//! stalls the releasing core until it owns the line again (a store followed by a `SeqCst`
//! fence costs as much; measurements in `benches/RESULTS.md`, "Numbers that left the
//! code comments"). So the release here is a plain store, and the one check for sleepers
//! after it is a relaxed load.
//!
//! # Fields and who touches them
//!
//! * `locked` — `true` while a [`ChanLockGuard`] exists. Set by a successful CAS in
//!   [`ChanLock::lock`], cleared by the guard's `Drop` (release store).
//! * `value` — the protected state; accessed only through a guard (so only by the thread
//!   that set `locked`).
//! * `sleepers` — how many threads are in the sleeping phase of `lock` (step 3 below).
//! * `park`, `unparked` — a std mutex and condvar that sleepers wait on.
//!
//! # Protocol
//!
//! 1. **Fast path**: one CAS `false -> true`.
//! 2. **Bounded try**: a few immediate CAS retries, then [`BACKOFF_ROUNDS`] rounds of a
//!    *randomized* pause (64 to 191 `spin_loop` hints, from a per-thread xorshift) followed
//!    by a burst of up to 8 attempts that read `locked` first and CAS only when it reads
//!    `false`. The random spread keeps contenders from retrying in lockstep and leaves the
//!    holder a window to run several short critical sections back to back while the line
//!    stays in its cache; reading before the CAS keeps waiting contenders from stealing
//!    the line from the holder on every attempt (it roughly halved the contended medians
//!    on a loaded machine: `benches/RESULTS.md`). Critical sections are a handful of list and ring
//!    operations, never user code that blocks, so the whole step stays within some tens
//!    of microseconds; it waits on nothing but the lock itself.
//! 3. **Sleep**: increment `sleepers`, then loop: try the CAS; else take `park`, check
//!    `locked` again and wait on `unparked` with a short timeout ([`PARK_TIMEOUT`]).
//!    Decrement `sleepers` once the CAS succeeds.
//! 4. **Release**: store `locked = false` (release), then if `sleepers` reads non-zero,
//!    take `park` and notify one sleeper.
//!
//! Step 4 reads `sleepers` without a fence between its store and its load, so a releaser
//! can miss a thread that entered step 3 at the same instant (store-load reordering).
//! That sleeper then wakes by its timeout and retries: a missed notification costs at
//! most [`PARK_TIMEOUT`] of latency, never a hang. Whenever the releaser does see the
//! sleeper, there is no loss: the sleeper checks `locked` while holding `park`, and the
//! releaser notifies while holding `park` after its store, so the sleeper either sees
//! the lock free or is already waiting when notified.
//!
//! Under `cfg(loom)` the crate uses a test-and-set lock over loom's atomics instead
//! (see `loom.rs`): loom's `Condvar::wait_timeout` never times out, so it would report the
//! bounded, by-design missed notification above as a deadlock. Both locks also offer
//! `lock_raw`/`unlock_raw`, for a select that holds several channel locks at once. This lock's exclusion, its sleep/wake path
//! and release on panic are covered by the unit tests below (also run under Miri).

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Immediate CAS retries at the start of step 2.
const QUICK_TRIES: u32 = 4;
/// Rounds of "randomized pause, then a burst of attempts" in step 2.
const BACKOFF_ROUNDS: u32 = 4;
/// Attempts per burst in step 2.
const BURST: u32 = 8;

std::thread_local! {
    /// xorshift32 state for step 2's pauses (any non-zero start works).
    static BACKOFF_SEED: core::cell::Cell<u32> = const { core::cell::Cell::new(0x9E37_79B9) };
}

/// A pseudo-random pause length in `64..192` spin hints (step 2).
///
/// Works during thread-local destruction too (a channel dropped by another thread-local's
/// destructor may still meet a contended lock): then the pause is the midpoint.
fn backoff_pause() -> u32 {
    BACKOFF_SEED
        .try_with(|c| {
            let mut x = c.get();
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            c.set(x);
            64 + (x & 127)
        })
        .unwrap_or(128)
}

/// Longest sleep in step 3 before re-checking the lock (bounds a missed notification).
pub(crate) const PARK_TIMEOUT: Duration = Duration::from_micros(200);

/// A mutual-exclusion lock with a plain-store release (module docs).
pub(crate) struct ChanLock<T> {
    /// Invariant: `true` exactly while a [`ChanLockGuard`] for this lock exists.
    locked: AtomicBool,
    /// Threads in the sleeping phase of [`ChanLock::lock`].
    sleepers: AtomicUsize,
    park: Mutex<()>,
    unparked: Condvar,
    /// Invariant: accessed only through the one live guard.
    value: UnsafeCell<T>,
}

// (`Send` needs no impl: every field is `Send` when `T: Send`, `UnsafeCell<T>` included.
// A guard shared between threads would give out `&T` to several of them at once, so
// `ChanLockGuard` is `Sync` only when `T: Sync`, through its `PhantomData`.)
// SAFETY: the lock hands out access to `T` through one guard at a time (invariant on
// `value`), so sharing the lock only moves `T` between threads: `T: Send` suffices.
unsafe impl<T: Send> Sync for ChanLock<T> {}

/// Exclusive access to the value of a [`ChanLock`]; releases the lock when dropped.
///
/// `Send` when `T: Send` (the release is a plain store, valid from any thread) and `Sync`
/// only when `T: Sync` too, like `&mut T`: a shared guard gives out `&T`.
pub(crate) struct ChanLockGuard<'a, T> {
    lock: &'a ChanLock<T>,
    /// Makes the guard's auto traits those of `&mut T` (`&ChanLock<T>` alone would make
    /// the guard `Sync` for any `T: Send`).
    _value: PhantomData<&'a mut T>,
}

impl<T> ChanLock<T> {
    /// An unlocked lock holding `value`.
    pub(crate) fn new(value: T) -> Self {
        ChanLock {
            locked: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            park: Mutex::new(()),
            unparked: Condvar::new(),
            value: UnsafeCell::new(value),
        }
    }

    /// Acquires the lock (protocol steps 1–3).
    #[inline]
    pub(crate) fn lock(&self) -> ChanLockGuard<'_, T> {
        if !self.try_acquire() {
            self.lock_contended();
        }
        ChanLockGuard {
            lock: self,
            _value: PhantomData,
        }
    }

    /// Acquires the lock without a guard, for a select that holds several channel locks
    /// at once (released with [`ChanLock::unlock_raw`]).
    pub(crate) fn lock_raw(&self) {
        if !self.try_acquire() {
            self.lock_contended();
        }
    }

    /// Releases a lock taken with [`ChanLock::lock_raw`] (protocol step 4).
    ///
    /// # Safety
    ///
    /// The caller took the lock with `lock_raw` and no guard exists.
    pub(crate) unsafe fn unlock_raw(&self) {
        self.release();
    }

    /// The protected value; dereferenced only while the caller holds the lock.
    pub(crate) fn data_ptr(&self) -> *mut T {
        self.value.get()
    }

    #[inline]
    fn release(&self) {
        self.locked.store(false, Ordering::Release);
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            self.notify_sleeper();
        }
    }

    fn try_acquire(&self) -> bool {
        self.locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cold]
    fn lock_contended(&self) {
        // Step 2: a bounded try.
        for _ in 0..QUICK_TRIES {
            core::hint::spin_loop();
            if self.try_acquire() {
                return;
            }
        }
        for _ in 0..BACKOFF_ROUNDS {
            for _ in 0..backoff_pause() {
                core::hint::spin_loop();
            }
            for _ in 0..BURST {
                if !self.locked.load(Ordering::Relaxed) && self.try_acquire() {
                    return;
                }
            }
        }
        // Step 3: sleep until the lock is released (or the timeout re-checks).
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        while !self.try_acquire() {
            let park = self.park.lock().unwrap_or_else(|e| e.into_inner());
            if self.locked.load(Ordering::SeqCst) {
                drop(
                    self.unparked
                        .wait_timeout(park, PARK_TIMEOUT)
                        .unwrap_or_else(|e| e.into_inner()),
                );
            }
        }
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
    }

    /// Step 4, after the release store: wake one sleeper if any is known.
    #[cold]
    fn notify_sleeper(&self) {
        let _park = self.park.lock().unwrap_or_else(|e| e.into_inner());
        self.unparked.notify_one();
    }
}

impl<T> Deref for ChanLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (invariant on `locked`), so nobody else
        // accesses `value` while it lives.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for ChanLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow through the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for ChanLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.release();
    }
}

#[cfg(test)]
mod tests {
    use super::ChanLock;
    use std::sync::Arc;

    /// Four threads increment a non-atomic counter under the lock: no update is lost.
    #[test]
    fn excludes_under_contention() {
        let per = if cfg!(miri) {
            300
        } else if cfg!(debug_assertions) {
            20_000
        } else {
            200_000
        };
        let lock = Arc::new(ChanLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..per {
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 4 * per);
    }

    /// A holder that sleeps forces waiters into the sleeping phase; all still get in.
    #[test]
    fn sleepers_are_woken() {
        let lock = Arc::new(ChanLock::new(Vec::new()));
        let guard = lock.lock();
        let threads: Vec<_> = (0..3)
            .map(|i| {
                let lock = lock.clone();
                std::thread::spawn(move || lock.lock().push(i))
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(guard);
        for t in threads {
            t.join().unwrap();
        }
        let mut got = lock.lock().clone();
        got.sort();
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(lock.sleepers.load(core::sync::atomic::Ordering::Relaxed), 0);
    }

    /// The guard is `Sync` only when the value is: a shared guard hands out `&T`.
    #[test]
    fn guard_is_sync_only_for_sync_values() {
        use super::ChanLockGuard;
        use core::cell::Cell;

        fn send_and_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_and_sync::<ChanLockGuard<'static, u64>>();
        send::<ChanLockGuard<'static, Cell<u64>>>();

        // Compile-time "not Sync": if the guard of a `Cell` were `Sync`, both impls would
        // apply and `_` could not be inferred (error E0283).
        trait AmbiguousIfSync<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfSync<()> for T {}
        impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}
        <ChanLockGuard<'static, Cell<u64>> as AmbiguousIfSync<_>>::check();
    }

    /// A panic while holding the guard releases the lock.
    #[test]
    fn panic_releases() {
        let lock = Arc::new(ChanLock::new(1));
        let l2 = lock.clone();
        let r = std::thread::spawn(move || {
            let _g = l2.lock();
            panic!("boom");
        })
        .join();
        assert!(r.is_err());
        assert_eq!(*lock.lock(), 1);
    }
}
