//! A cell written once, with async initialization (Go's `sync.Once` plus its value).
//!
//! The value lives in a `std::sync::OnceLock`, so reads after initialization are one atomic
//! load. Initializers are serialized by a one-permit [`RawSemaphore`]: the first caller of
//! `get_or_init` runs its future while holding the permit; later callers queue for the
//! permit, then find the value set and return it without running theirs. If the running
//! initializer is cancelled (its future dropped) or panics, the permit passes to the next
//! queued caller, which runs its own initializer: the cell is never left stuck.

use super::raw_semaphore::RawSemaphore;
use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

/// A thread-safe cell that is written at most once; the writer may be an async function.
///
/// # Examples
///
/// ```
/// use waza::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::new();
///
/// # futures::executor::block_on(async {
/// let v = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
/// assert_eq!(v, "loaded");
/// // Later initializers do not run.
/// let v = CONFIG.get_or_init(|| async { unreachable!() }).await;
/// assert_eq!(v, "loaded");
/// # });
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    /// One permit: held by the caller currently running an initializer.
    init: RawSemaphore,
}

impl<T> OnceCell<T> {
    loom_const_fn! {
        /// An empty cell.
        ///
        /// # Examples
        ///
        /// ```
        /// let cell = waza::sync::OnceCell::<u8>::new();
        /// assert!(cell.get().is_none());
        /// ```
        pub fn new() -> Self {
            OnceCell {
                value: OnceLock::new(),
                init: RawSemaphore::new(1),
            }
        }
    }

    /// A cell that already holds `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = waza::sync::OnceCell::new_with(Some(3));
    /// assert_eq!(cell.get(), Some(&3));
    /// ```
    pub fn new_with(value: Option<T>) -> Self {
        let cell = OnceCell::new();
        if let Some(v) = value {
            let _ = cell.value.set(v);
        }
        cell
    }

    /// The value, if the cell has been initialized.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = waza::sync::OnceCell::new();
    /// cell.set(1).unwrap();
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Stores `value` if the cell is empty.
    ///
    /// # Errors
    ///
    /// `Err(value)` if the cell already holds a value. If an initializer is running
    /// concurrently, `set` wins when it gets there first, and the initializer's result is
    /// then dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = waza::sync::OnceCell::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(2));
    /// ```
    pub fn set(&self, value: T) -> Result<(), T> {
        self.value.set(value)
    }

    /// Returns the value, initializing it with `init().await` if the cell is empty.
    ///
    /// Only one initializer runs at a time; callers arriving meanwhile wait for it and then
    /// return its value.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if this future is dropped while its initializer runs, the next waiting
    /// caller runs its own initializer.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cell = waza::sync::OnceCell::new();
    /// assert_eq!(*cell.get_or_init(|| async { 10 }).await, 10);
    /// # });
    /// ```
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(init().await) })
            .await
        {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_init`](Self::get_or_init), with a fallible initializer; on `Err` the
    /// cell stays empty and the next caller tries again.
    ///
    /// # Errors
    ///
    /// The initializer's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`get_or_init`](Self::get_or_init).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cell = waza::sync::OnceCell::new();
    /// let r = cell.get_or_try_init(|| async { Err::<u8, _>("nope") }).await;
    /// assert_eq!(r, Err("nope"));
    /// let r = cell.get_or_try_init(|| async { Ok::<u8, &str>(1) }).await;
    /// assert_eq!(r, Ok(&1));
    /// # });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let _permit = InitPermit::acquire(&self.init).await;
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let value = init().await?;
        // `set` may have won meanwhile; then our value is dropped and theirs returned.
        Ok(self.value.get_or_init(|| value))
    }

    /// The value, mutably (`&mut self` proves nobody else is using the cell).
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Takes the value out, leaving the cell empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = waza::sync::OnceCell::new_with(Some(1));
    /// assert_eq!(cell.take(), Some(1));
    /// assert!(cell.get().is_none());
    /// ```
    pub fn take(&mut self) -> Option<T> {
        self.value.take()
    }

    /// Consumes the cell, returning its value.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }
}

/// The initialization permit, returned on drop (also when the initializer panics).
struct InitPermit<'a>(&'a RawSemaphore);

impl<'a> InitPermit<'a> {
    async fn acquire(sem: &'a RawSemaphore) -> InitPermit<'a> {
        if sem.acquire(1).await.is_err() {
            unreachable!("a OnceCell's semaphore is never closed");
        }
        InitPermit(sem)
    }
}

impl Drop for InitPermit<'_> {
    fn drop(&mut self) {
        self.0.release(1);
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}
