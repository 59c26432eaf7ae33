//! [`task_local!`](crate::task_local): values that belong to a task, not a thread.
//!
//! A task-local key is a thread-local slot holding an `Option<T>`. `scope(value, fut)`
//! returns a [`TaskLocalFuture`] that owns the value; every poll of it swaps the value into
//! the slot, polls the inner future, and swaps it back out (also on unwind). So the value
//! is visible exactly while the inner future runs, on whatever worker polls it, and tasks
//! interleaved on the same thread never see each other's values.
//!
//! `TaskLocalFuture` pins its inner future structurally: the future is only ever polled
//! in place through the pinned outer future and dropped in place (by assigning `None`),
//! never moved out; the value and the key are plain fields, swapped freely.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys: `static NAME: Type;`, each a [`LocalKey`].
///
/// # Examples
///
/// ```
/// waza::task_local! {
///     static REQUEST_ID: u64;
///     pub static USER: String;
/// }
///
/// waza::block_on(async {
///     REQUEST_ID
///         .scope(42, async {
///             assert_eq!(REQUEST_ID.get(), 42);
///             waza::yield_now().await;
///             REQUEST_ID.with(|id| assert_eq!(*id, 42));
///         })
///         .await;
///     assert!(REQUEST_ID.try_with(|_| ()).is_err());
/// });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __WAZA_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey { inner: __WAZA_TASK_LOCAL }
        };
    };
}

/// A key for a task-local value, declared with [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    #[doc(hidden)]
    pub inner: std::thread::LocalKey<RefCell<Option<T>>>,
}

/// The value of a task-local key was read outside any `scope` of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set (outside a scope of its key)")
    }
}

impl std::error::Error for AccessError {}

impl<T: 'static> LocalKey<T> {
    /// Runs `future` with the key set to `value`, on every poll.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::task_local! { static DEPTH: u32; }
    ///
    /// waza::block_on(async {
    ///     let inner = DEPTH.scope(2, async { DEPTH.get() });
    ///     assert_eq!(DEPTH.scope(1, async { (DEPTH.get(), inner.await) }).await, (1, 2));
    /// });
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            slot: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with the key set to `value` (a synchronous scope).
    ///
    /// # Panics
    ///
    /// If the key is being read (inside its own `with`) on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::task_local! { static NAME: &'static str; }
    /// assert_eq!(NAME.sync_scope("a", || NAME.get()), "a");
    /// ```
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut slot = Some(value);
        let _guard = Swap::enter(self, &mut slot);
        f()
    }

    /// Runs `f` with a reference to the current value.
    ///
    /// # Panics
    ///
    /// Outside a scope of this key.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::task_local! { static N: Vec<u8>; }
    /// N.sync_scope(vec![1, 2], || assert_eq!(N.with(|v| v.len()), 2));
    /// ```
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// Runs `f` with a reference to the current value, or fails outside a scope.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::task_local! { static N: u8; }
    /// assert!(N.try_with(|n| *n).is_err());
    /// assert_eq!(N.sync_scope(3, || N.try_with(|n| *n)), Ok(3));
    /// ```
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        let mut f = Some(f);
        let res = self.inner.try_with(|cell| {
            let value = cell.try_borrow().ok()?;
            let value = value.as_ref()?;
            Some((f.take().unwrap())(value))
        });
        match res {
            Ok(Some(r)) => Ok(r),
            _ => Err(AccessError(())),
        }
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A clone of the current value.
    ///
    /// # Panics
    ///
    /// Outside a scope of this key.
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// Puts a value into a key's slot; puts the previous one back when dropped (also on
/// unwind), leaving the scope's value in the caller's `slot`.
struct Swap<'a, T: 'static> {
    key: &'static LocalKey<T>,
    slot: &'a mut Option<T>,
}

impl<'a, T: 'static> Swap<'a, T> {
    #[track_caller]
    fn enter(key: &'static LocalKey<T>, slot: &'a mut Option<T>) -> Swap<'a, T> {
        match Swap::try_enter(key, slot) {
            Some(swap) => swap,
            None => panic!("task-local scope entered while its value is borrowed"),
        }
    }

    /// `None` (nothing swapped) if the slot is borrowed or the thread is exiting.
    fn try_enter(key: &'static LocalKey<T>, slot: &'a mut Option<T>) -> Option<Swap<'a, T>> {
        let swapped = key.inner.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut current) => {
                std::mem::swap(&mut *current, slot);
                true
            }
            Err(_) => false,
        });
        // Built only on success: its drop swaps back.
        if swapped.unwrap_or(false) {
            Some(Swap { key, slot })
        } else {
            None
        }
    }
}

impl<T: 'static> Drop for Swap<'_, T> {
    fn drop(&mut self) {
        let _ = self.key.inner.try_with(|cell| {
            if let Ok(mut current) = cell.try_borrow_mut() {
                std::mem::swap(&mut *current, self.slot);
            }
        });
    }
}

/// A future run with a task-local value set: returned by [`LocalKey::scope`].
///
/// The inner future is also dropped inside the scope, so its destructors can read the
/// value.
///
/// # Cancel safety
///
/// As cancel safe as the inner future.
#[must_use = "futures do nothing unless awaited"]
pub struct TaskLocalFuture<T: 'static, F> {
    key: &'static LocalKey<T>,
    slot: Option<T>,
    future: Option<F>,
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (never moved out while `Some`: it is
        // only dropped in place, by `Drop` or by assigning `None` below); `slot` and `key`
        // are not pinned and are only swapped.
        let this = unsafe { self.get_unchecked_mut() };
        let _swap = Swap::enter(this.key, &mut this.slot);
        let Some(future) = this.future.as_mut() else {
            panic!("TaskLocalFuture polled after completion");
        };
        // SAFETY: see above: `future` stays where it is until dropped.
        let polled = unsafe { Pin::new_unchecked(future) }.poll(cx);
        if polled.is_ready() {
            this.future = None;
        }
        polled
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        if self.future.is_some() {
            // Inside the scope when possible (not while the slot is borrowed or the
            // thread is exiting); dropped in place either way (pinning guarantee).
            let _swap = Swap::try_enter(self.key, &mut self.slot);
            self.future = None;
        }
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("TaskLocalFuture { .. }")
    }
}
