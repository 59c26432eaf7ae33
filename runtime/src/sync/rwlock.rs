//! An async read-write lock, writer-preferring and starvation-free (Go's `sync.RWMutex`).
//!
//! # Invariants
//!
//! An [`RwLock`] is a [`RawSemaphore`] with `MAX_READERS` permits plus an `UnsafeCell<T>`.
//! A reader holds one permit, a writer holds all `MAX_READERS`. So while a write guard
//! lives no other guard exists (exclusive `&mut T`), and while read guards live no writer
//! exists (shared `&T`). Each guard returns exactly the permits it holds in `Drop`.
//!
//! Because the semaphore is strictly FIFO, a writer that is waiting blocks every reader
//! that arrives after it (writer preference, as in Go), and readers queued before a writer
//! are served before it (no writer starvation of earlier readers either).

use super::raw_semaphore::RawSemaphore;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// The most readers at once; a writer takes all of them.
const MAX_READERS: usize = (u32::MAX >> 3) as usize;

/// An async read-write lock: many readers or one writer at a time.
///
/// Writer-preferring: once a writer waits, new readers queue behind it; waiters are served
/// in arrival order, so neither readers nor writers starve.
///
/// # Examples
///
/// ```
/// use waza::sync::RwLock;
///
/// # futures::executor::block_on(async {
/// let lock = RwLock::new(vec![1, 2]);
/// {
///     let a = lock.read().await;
///     let b = lock.read().await; // many readers at once
///     assert_eq!(a.len() + b.len(), 4);
/// }
/// lock.write().await.push(3);
/// assert_eq!(*lock.read().await, [1, 2, 3]);
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    sem: RawSemaphore,
    /// Invariant: shared access needs one permit, exclusive access all `MAX_READERS`.
    data: UnsafeCell<T>,
}

// SAFETY: moving the lock moves the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: `&RwLock<T>` hands out `&T` to several threads at once (needs `T: Sync`) and
// `&mut T` to one at a time (needs `T: Send`), as `std::sync::RwLock` does.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared access to an [`RwLock`]'s value; releases its read permit when dropped.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    /// The guard acts like `&T` for `Send`/`Sync`.
    _marker: PhantomData<&'a T>,
}

/// Exclusive access to an [`RwLock`]'s value; releases the write lock when dropped.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    /// The guard acts like `&mut T` for `Send`/`Sync`.
    _marker: PhantomData<&'a mut T>,
}

impl<T> RwLock<T> {
    loom_const_fn! {
        /// A new unlocked `RwLock` holding `value`.
        ///
        /// # Examples
        ///
        /// ```
        /// static CONFIG: waza::sync::RwLock<u32> = waza::sync::RwLock::new(7);
        /// assert_eq!(*CONFIG.try_read().unwrap(), 7);
        /// ```
        pub fn new(value: T) -> Self {
            RwLock {
                sem: RawSemaphore::new(MAX_READERS),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(waza::sync::RwLock::new(1).into_inner(), 1);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared (read) access.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future gives up its place; a grant it had not yet
    /// observed is passed on.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let lock = waza::sync::RwLock::new(5);
    /// assert_eq!(*lock.read().await, 5);
    /// # });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        if self.sem.acquire(1).await.is_err() {
            unreachable!("an RwLock's semaphore is never closed");
        }
        RwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Waits for exclusive (write) access.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let lock = waza::sync::RwLock::new(5);
    /// *lock.write().await += 1;
    /// assert_eq!(*lock.read().await, 6);
    /// # });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        if self.sem.acquire(MAX_READERS).await.is_err() {
            unreachable!("an RwLock's semaphore is never closed");
        }
        RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Blocks the current OS thread until shared access is granted; for plain threads
    /// (not tasks: inside a task it would block a worker, use `read().await`).
    ///
    /// # Panics
    ///
    /// On a waza worker thread (inside a task): use the async method there.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = waza::sync::RwLock::new(3);
    /// assert_eq!(*lock.blocking_read(), 3);
    /// ```
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        super::block_on_thread(self.read())
    }

    /// Blocks the current OS thread until exclusive access is granted; for plain threads
    /// (not tasks: inside a task it would block a worker, use `write().await`).
    ///
    /// # Panics
    ///
    /// On a waza worker thread (inside a task): use the async method there.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = waza::sync::RwLock::new(3);
    /// *lock.blocking_write() += 1;
    /// assert_eq!(*lock.blocking_read(), 4);
    /// ```
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        super::block_on_thread(self.write())
    }

    /// Takes shared access if no writer holds or awaits the lock.
    ///
    /// Returns `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = waza::sync::RwLock::new(0);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_none());
    /// drop(w);
    /// assert!(lock.try_read().is_some());
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.sem.try_acquire(1).ok()?;
        Some(RwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// Takes exclusive access if nobody holds or awaits the lock.
    ///
    /// Returns `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = waza::sync::RwLock::new(0);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_none());
    /// drop(r);
    /// assert!(lock.try_write().is_some());
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.sem.try_acquire(MAX_READERS).ok()?;
        Some(RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = waza::sync::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds a read permit, so no write guard exists (module
        // invariant); shared access is allowed.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting another writer in between.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let lock = waza::sync::RwLock::new(1);
    /// let mut w = lock.write().await;
    /// *w = 2;
    /// let r = w.downgrade();
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_some());
    /// # });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        // Keep one permit as the reader's; queued readers may now proceed.
        lock.sem.release(MAX_READERS - 1);
        RwLockReadGuard {
            lock,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit, so it is the only guard (module invariant).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds every permit; `&mut self` is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(MAX_READERS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
