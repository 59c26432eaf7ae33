//! [`Group`]: Go's `errgroup` — run tasks together, stop at the first error.

use crate::context::{CancelHandle, Context};
use crate::sync::Semaphore;
use crate::task::join::JoinHandle;
use futures_util::future::{select, Either};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::sync::{Arc, Mutex};

/// A group of tasks that fail together (Go's `errgroup.Group`).
///
/// [`Group::spawn`] starts a task returning `Result<(), E>`; [`Group::wait`] waits for all
/// of them and returns the first error produced. When a task fails, the group's
/// [`Context`] is cancelled and every other task of the group stops at once: its future is
/// dropped at its next scheduling point.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let mut g = waza::task::Group::new();
///     for i in 0..4 {
///         g.spawn(async move { if i == 2 { Err(format!("task {i} failed")) } else { Ok(()) } });
///     }
///     assert_eq!(g.wait().await, Err("task 2 failed".to_string()));
/// });
/// ```
pub struct Group<E> {
    shared: Arc<Shared<E>>,
    ctx: Context,
    limit: Option<Arc<Semaphore>>,
    handles: Vec<JoinHandle<()>>,
}

struct Shared<E> {
    first_error: Mutex<Option<E>>,
    cancel: CancelHandle,
}

impl<E: Send + 'static> Default for Group<E> {
    fn default() -> Self {
        Group::new()
    }
}

impl<E: Send + 'static> Group<E> {
    /// An empty group with no limit on concurrently running tasks.
    pub fn new() -> Group<E> {
        Group::with_context(&Context::background())
    }

    /// An empty group whose context is a child of `parent` (Go's `errgroup.WithContext`):
    /// when `parent` ends, the group's tasks stop as if one had failed, but [`Group::wait`]
    /// reports an error only if a task returned one. A failing task cancels the group's
    /// context, never `parent`.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::context::Context;
    ///
    /// waza::block_on(async {
    ///     let (parent, cancel) = Context::background().with_cancel();
    ///     let mut g = waza::task::Group::<()>::with_context(&parent);
    ///     let ctx = g.context();
    ///     g.spawn(async move {
    ///         ctx.done().await; // runs until the parent is cancelled
    ///         Ok(())
    ///     });
    ///     cancel.cancel();
    ///     assert_eq!(g.wait().await, Ok(()));
    /// });
    /// ```
    pub fn with_context(parent: &Context) -> Group<E> {
        let (ctx, cancel) = parent.with_cancel();
        Group {
            shared: Arc::new(Shared {
                first_error: Mutex::new(None),
                cancel,
            }),
            ctx,
            limit: None,
            handles: Vec::new(),
        }
    }

    /// An empty group that runs at most `n` of its tasks at a time (Go's `SetLimit`); the
    /// others wait for a slot before starting.
    ///
    /// # Panics
    ///
    /// Panics if `n` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut g = waza::task::Group::<()>::with_limit(2);
    ///     for _ in 0..10 {
    ///         g.spawn(async { Ok(()) });
    ///     }
    ///     g.wait().await.unwrap();
    /// });
    /// ```
    pub fn with_limit(n: usize) -> Group<E> {
        assert!(n > 0, "Group::with_limit: the limit must be at least 1");
        let mut g = Group::new();
        g.limit = Some(Arc::new(Semaphore::new(n)));
        g
    }

    /// The group's context: cancelled when a task fails or panics, when the parent given
    /// to [`Group::with_context`] ends, or when [`Group::wait`] returns.
    pub fn context(&self) -> Context {
        self.ctx.clone()
    }

    /// Starts `future` as a task of the group.
    ///
    /// # Panics
    ///
    /// Panics outside a waza runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let location = Location::caller();
        let task = member(
            future,
            self.ctx.clone(),
            self.shared.clone(),
            self.limit.clone(),
        );
        let handle = crate::scheduler::current::with_current(|h| match h {
            Some(h) => h.spawn_at(task, location),
            None => crate::scheduler::current::panic_outside_runtime(location),
        });
        self.handles.push(handle);
    }

    /// Waits for every task, then returns the first error produced (if any).
    ///
    /// A task that panics cancels the group like a failing one; `wait` then cancels the
    /// group's context and re-raises that panic.
    ///
    /// # Errors
    ///
    /// Returns the first error a task returned; the group's context was cancelled at that
    /// moment and the other tasks stopped. Tasks stopped by the cancellation report
    /// nothing. Once `wait` returns, the group's context is cancelled either way.
    ///
    /// # Panics
    ///
    /// Re-raises the panic of a task that panicked (the first one in spawn order).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe in the sense that dropping the future forgets which tasks were
    /// awaited; the tasks themselves keep running (or stop, if the group failed).
    pub async fn wait(mut self) -> Result<(), E> {
        for handle in std::mem::take(&mut self.handles) {
            if let Err(e) = handle.await {
                if e.is_panic() {
                    // The other members stop too (the panicking one already cancelled the
                    // context on its way out; this also covers a panic that escaped it).
                    self.shared.cancel.cancel();
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        self.shared.cancel.cancel();
        let first = self.shared.first_error.lock().unwrap().take();
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The task body of one group member: wait for a slot, run until done or the group is
/// cancelled, record a first error.
async fn member<F, E>(
    future: F,
    ctx: Context,
    shared: Arc<Shared<E>>,
    limit: Option<Arc<Semaphore>>,
) where
    F: Future<Output = Result<(), E>>,
{
    // A member that panics fails the group like an error does: the others stop, so
    // `wait` (which awaits members in spawn order) reaches the panic and re-raises it.
    let _cancel_on_panic = CancelOnPanic(&shared.cancel);
    let permit = match &limit {
        Some(sem) => match select(pin!(sem.acquire()), pin!(ctx.done())).await {
            Either::Left((permit, _)) => Some(permit),
            Either::Right(_) => return,
        },
        None => None,
    };
    if ctx.is_done() {
        return;
    }
    let future = pin!(future);
    let done = pin!(ctx.done());
    let failed = match select(future, done).await {
        Either::Left((Err(e), _)) => Some(e),
        _ => None,
    };
    drop(permit);
    if let Some(e) = failed {
        let mut first = shared.first_error.lock().unwrap();
        if first.is_none() {
            *first = Some(e);
            drop(first);
            shared.cancel.cancel();
        }
    }
}

/// Cancels the group's context when dropped during a panic (of the member's future).
struct CancelOnPanic<'a>(&'a CancelHandle);

impl Drop for CancelOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.cancel();
        }
    }
}

impl<E> fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("tasks", &self.handles.len())
            .finish()
    }
}
