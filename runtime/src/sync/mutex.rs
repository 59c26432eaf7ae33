//! An async mutual-exclusion lock, FIFO-fair (Go's `sync.Mutex`, for tasks).
//!
//! # Invariants
//!
//! A [`Mutex`] is a [`RawSemaphore`] with one permit plus an `UnsafeCell<T>`. Whoever holds
//! the permit is the only one allowed to touch the cell; the permit is owned by exactly one
//! guard ([`MutexGuard`] or [`OwnedMutexGuard`]) or by nobody, and every guard gives it back
//! in `Drop`. `&mut self` methods (`get_mut`, `into_inner`) bypass the permit because the
//! borrow checker already proves exclusivity.
//!
//! Fairness and cancel safety come from the semaphore: waiters are served in arrival order,
//! and a lock future dropped after being granted passes the lock to the next waiter.

use super::raw_semaphore::RawSemaphore;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// An async mutex: [`lock`](Self::lock) waits (without blocking the thread) until the value
/// is free. Waiters get the lock in the order they asked for it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use waza::sync::Mutex;
///
/// # futures::executor::block_on(async {
/// let counter = Arc::new(Mutex::new(0));
/// {
///     let mut n = counter.lock().await;
///     *n += 1;
/// } // unlocked here
/// assert_eq!(*counter.lock().await, 1);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    sem: RawSemaphore,
    /// Invariant: accessed only by the holder of `sem`'s single permit, or through `&mut`.
    data: UnsafeCell<T>,
}

// SAFETY: moving the mutex moves the `T` (so `T: Send` is required); nothing else is
// thread-bound.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: through `&Mutex<T>` other threads only reach `T` one at a time, via the single
// permit, so `T: Send` suffices (as for `std::sync::Mutex`).
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Access to the value of a locked [`Mutex`]; unlocks when dropped.
///
/// `Send` when `T: Send`, so it may be held across `.await` in a spawned task.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// Makes the guard `Send`/`Sync` exactly when `&mut T` is.
    _marker: PhantomData<&'a mut T>,
}

/// Like [`MutexGuard`], but owns an `Arc` of the mutex instead of borrowing it.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
    /// Makes the guard `Send`/`Sync` exactly when `T` allows it (`Arc<Mutex<T>>` alone
    /// would make the guard `Sync` for `T: Send` only).
    _marker: PhantomData<T>,
}

/// [`Mutex::try_lock`] failed because the mutex is locked (or others are queued for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TryLockError(());

impl<T> Mutex<T> {
    loom_const_fn! {
        /// A new unlocked mutex holding `value`.
        ///
        /// # Examples
        ///
        /// ```
        /// static NAMES: waza::sync::Mutex<Vec<String>> = waza::sync::Mutex::new(Vec::new());
        /// assert!(NAMES.try_lock().unwrap().is_empty());
        /// ```
        pub fn new(value: T) -> Self {
            Mutex {
                sem: RawSemaphore::new(1),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// Consumes the mutex and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = waza::sync::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits until the mutex is free and locks it.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future gives up its place in the queue; if the lock had
    /// already been handed to it, it goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let m = waza::sync::Mutex::new(String::from("a"));
    /// m.lock().await.push('b');
    /// assert_eq!(*m.lock().await, "ab");
    /// # });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        if self.sem.acquire(1).await.is_err() {
            unreachable!("a mutex's semaphore is never closed");
        }
        MutexGuard {
            mutex: self,
            _marker: PhantomData,
        }
    }

    /// Blocks the current OS thread until the lock is free, then locks it; for plain
    /// threads (not tasks: inside a task it would block a worker, use `lock().await`).
    ///
    /// # Panics
    ///
    /// On a waza worker thread (inside a task): use the async method there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(waza::sync::Mutex::new(0));
    /// let m2 = m.clone();
    /// std::thread::spawn(move || *m2.blocking_lock() += 1).join().unwrap();
    /// assert_eq!(*m.blocking_lock(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        super::block_on_thread(self.lock())
    }

    /// Locks the mutex if it is free and nobody is waiting for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the mutex is locked or other tasks are queued for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = waza::sync::Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire(1) {
            Ok(()) => Ok(MutexGuard {
                mutex: self,
                _marker: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Waits for the lock and returns a guard that owns an `Arc` of the mutex.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`lock`](Self::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::Arc;
    /// let m = Arc::new(waza::sync::Mutex::new(0));
    /// let mut g = m.clone().lock_owned().await;
    /// *g = 7;
    /// std::thread::spawn(move || drop(g)).join().unwrap();
    /// assert_eq!(*m.lock().await, 7);
    /// # });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        if self.sem.acquire(1).await.is_err() {
            unreachable!("a mutex's semaphore is never closed");
        }
        OwnedMutexGuard {
            mutex: self,
            _marker: PhantomData,
        }
    }

    /// Like [`try_lock`](Self::try_lock), returning an owned guard.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the mutex is locked or other tasks are queued for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(waza::sync::Mutex::new(0));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(m.clone().try_lock_owned().is_err());
    /// drop(g);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.sem.try_acquire(1) {
            Ok(()) => Ok(OwnedMutexGuard {
                mutex: self,
                _marker: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds the mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = waza::sync::Mutex::new(1);
    /// *m.get_mut() += 1;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard owns the mutex's only permit (module invariant), so no other
        // reference to the value exists while it lives.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only access through the guard.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard has locked.
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard owns the mutex's only permit (module invariant).
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard owns the mutex's only permit; `&mut self` is unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mutex is locked")
    }
}

impl std::error::Error for TryLockError {}
