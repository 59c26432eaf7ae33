//! `!Send` tasks: [`LocalSet`] and [`spawn_local`].
//!
//! # Where a local task may be touched
//!
//! A local task is an ordinary task allocation whose scheduler is its set's
//! [`LocalShared`] (`Arc`), so wakers, `JoinHandle`s and `AbortHandle`s work from any
//! thread as for any task. Its future, though, may be `!Send`; the rule that keeps that
//! sound is that the future is polled and dropped only on the set's owner thread:
//!
//! - A wake (from any thread) only pushes the `Notified` onto the set's queue and wakes
//!   the future that drives the set. The queue is drained, and the tasks run, only by
//!   `LocalShared::run_ready`, called from [`RunUntil`] and `LocalSet`'s own poll, which
//!   borrow the `LocalSet`: it is `!Send`, so that is its owner thread.
//! - Every task is in the set's registry until it completes; dropping the `LocalSet` (on
//!   the owner thread) closes the queue and the registry and shuts every task down, which
//!   drops the futures there. A `Notified` dropped later elsewhere (a closed queue, a
//!   late wake) only releases a reference: the future is gone by then.
//! - A spawn into a closed set is cancelled at once, on the spawning thread, which is the
//!   owner: `spawn_local` reaches a set only through this thread's current-set
//!   thread-local, and `LocalSet::spawn_local` borrows the `!Send` set.
//! - The output is dropped by the `JoinHandle` (which is `Send` only for `T: Send`) or,
//!   with no handle, by the completing run on the owner thread.

use super::join::JoinHandle;
use super::raw::RawTask;
use super::registry::Registry;
use super::schedule::{spawn_boxing_big, Handoff, Notified, Schedule, Task, TaskId};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Local tasks run per poll of the set before it yields (so its driver gets a turn).
const MAX_TASKS_PER_POLL: usize = 61;

thread_local! {
    /// The set that `spawn_local` on this thread spawns into.
    static CURRENT: RefCell<Option<Arc<LocalShared>>> = const { RefCell::new(None) };
}

/// A set of `!Send` tasks that all run on the thread that drives it (tokio's `LocalSet`).
///
/// Drive it with [`LocalSet::run_until`] (or [`LocalSet::block_on`], or by awaiting the
/// set itself, which completes when every task did). While it is driven,
/// [`spawn_local`] spawns into it. Dropping the set cancels the tasks still in it.
/// A current-thread runtime's `block_on` drives a set of its own.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// let rt = waza::Runtime::new().unwrap();
/// let local = waza::task::LocalSet::new();
/// let v = local.block_on(&rt, async {
///     let shared = Rc::new(5); // !Send
///     let s = shared.clone();
///     let h = waza::task::spawn_local(async move { *s + 1 });
///     h.await.unwrap() + *shared
/// });
/// assert_eq!(v, 11);
/// ```
pub struct LocalSet {
    shared: Arc<LocalShared>,
    _not_send: PhantomData<*const ()>,
}

/// The part of a set that its tasks and wakers hold (see the module docs).
pub(crate) struct LocalShared {
    queue: Mutex<Queue>,
    registry: Registry,
}

struct Queue {
    tasks: VecDeque<Notified>,
    closed: bool,
    /// The future driving the set, woken when a task is queued.
    waker: Option<Waker>,
}

/// The handoff of a local task's wake: the set, owned (see `task::Schedule`).
pub(crate) struct LocalHandoff(Arc<LocalShared>);

impl Schedule for Arc<LocalShared> {
    type Handoff = LocalHandoff;

    fn handoff(&self) -> LocalHandoff {
        LocalHandoff(self.clone())
    }

    fn release(&self, task: RawTask) -> bool {
        self.registry.remove(task)
    }
}

impl Handoff for LocalHandoff {
    fn schedule(self, task: Notified) {
        self.0.push(task);
    }

    fn yield_now(self, task: Notified) {
        self.0.push(task);
    }
}

impl LocalShared {
    fn push(&self, task: Notified) {
        let mut queue = lock(&self.queue);
        if queue.closed {
            // Only a reference goes: the set shut the task down already.
            drop(queue);
            drop(task);
            return;
        }
        queue.tasks.push_back(task);
        let waker = queue.waker.take();
        drop(queue);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    #[track_caller]
    fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_boxing_big!(self.spawn_inner(future, Location::caller()))
    }

    fn spawn_inner<F>(
        self: &Arc<Self>,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let raw = RawTask::new(future, self.clone(), TaskId::next(), location);
        let (task, notified, join) = (Task::from_raw(raw), Notified(raw), JoinHandle::new(raw));
        match self.registry.insert(task) {
            Ok(()) => self.push(notified),
            Err(task) => {
                // The set is closed: cancel at once (we are on its owner thread).
                drop(notified);
                task.shutdown();
            }
        }
        join
    }

    /// Runs up to `max` queued tasks; true if more are queued. Owner thread only (module
    /// docs): the callers borrow the `!Send` `LocalSet`.
    fn run_ready(&self, max: usize) -> bool {
        for _ in 0..max {
            let Some(task) = lock(&self.queue).tasks.pop_front() else {
                return false;
            };
            crate::scheduler::coop::with_budget(crate::scheduler::coop::Budget::initial(), || {
                task.run()
            });
        }
        !lock(&self.queue).tasks.is_empty()
    }

    /// Stores the waker of the future driving the set.
    fn register(&self, waker: &Waker) {
        let mut queue = lock(&self.queue);
        match &queue.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => queue.waker = Some(waker.clone()),
        }
    }
}

fn lock<V>(m: &Mutex<V>) -> std::sync::MutexGuard<'_, V> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes `shared` this thread's current set until dropped.
struct Enter(Option<Arc<LocalShared>>);

impl Enter {
    fn new(shared: &Arc<LocalShared>) -> Enter {
        Enter(CURRENT.with(|c| c.replace(Some(shared.clone()))))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let prev = self.0.take();
        let _ = CURRENT.try_with(|c| c.replace(prev));
    }
}

impl Default for LocalSet {
    fn default() -> Self {
        LocalSet::new()
    }
}

impl LocalSet {
    /// An empty set, owned by this thread.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Arc::new(LocalShared {
                queue: Mutex::new(Queue {
                    tasks: VecDeque::new(),
                    closed: false,
                    waker: None,
                }),
                registry: Registry::new(),
            }),
            _not_send: PhantomData,
        }
    }

    /// Spawns a `!Send` future into this set; it runs while the set is driven.
    ///
    /// # Examples
    ///
    /// ```
    /// let local = waza::task::LocalSet::new();
    /// let h = local.spawn_local(async { std::rc::Rc::new(3) });
    /// let rt = waza::Runtime::new().unwrap();
    /// assert_eq!(*local.block_on(&rt, h).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.shared.spawn(future)
    }

    /// Runs `future` to completion, running this set's tasks meanwhile.
    ///
    /// # Cancel safety
    ///
    /// Dropping it stops driving the set; its tasks stay in it.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let local = waza::task::LocalSet::new();
    ///     let v = local
    ///         .run_until(async { waza::task::spawn_local(async { 4 }).await.unwrap() })
    ///         .await;
    ///     assert_eq!(v, 4);
    /// });
    /// ```
    pub fn run_until<F: Future>(&self, future: F) -> RunUntil<'_, F> {
        RunUntil { set: self, future }
    }

    /// Makes this the set that [`spawn_local`] spawns into on this thread, until the
    /// guard drops (the tasks run only while the set is driven).
    pub fn enter(&self) -> LocalEnterGuard<'_> {
        LocalEnterGuard {
            _enter: Enter::new(&self.shared),
            _set: PhantomData,
        }
    }
}

impl Future for LocalSet {
    type Output = ();

    /// Completes once every task of the set has completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let shared = &self.shared;
        let _enter = Enter::new(shared);
        shared.register(cx.waker());
        if shared.run_ready(MAX_TASKS_PER_POLL) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if shared.registry.alive() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // On the owner thread (the set is `!Send`): the futures are dropped here.
        let _enter = Enter::new(&self.shared);
        let queued = {
            let mut queue = lock(&self.shared.queue);
            queue.closed = true;
            queue.waker = None;
            std::mem::take(&mut queue.tasks)
        };
        self.shared.registry.close_and_shutdown_all();
        drop(queued);
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.shared.registry.alive())
            .finish()
    }
}

/// Returned by [`LocalSet::enter`].
#[derive(Debug)]
pub struct LocalEnterGuard<'a> {
    _enter: Enter,
    _set: PhantomData<&'a LocalSet>,
}

impl fmt::Debug for Enter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Enter")
    }
}

/// The future of [`LocalSet::run_until`].
#[must_use = "futures do nothing unless awaited"]
#[pin_project::pin_project]
pub struct RunUntil<'a, F> {
    set: &'a LocalSet,
    #[pin]
    future: F,
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let shared = &this.set.shared;
        let _enter = Enter::new(shared);
        shared.register(cx.waker());
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(out);
        }
        if shared.run_ready(MAX_TASKS_PER_POLL) {
            // More to run: come back after the rest of the runtime had a turn.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for RunUntil<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("RunUntil { .. }")
    }
}

/// Spawns a `!Send` future on this thread's current [`LocalSet`]: inside
/// [`LocalSet::run_until`] (or `block_on`, or `enter`), and inside a current-thread
/// runtime's `block_on`, which drives a set of its own (its local tasks still pending
/// when that `block_on` returns are cancelled).
///
/// # Panics
///
/// Anywhere else, with a message that says so.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let rt = waza::Runtime::builder().current_thread().build().unwrap();
/// let n = rt.block_on(async {
///     let counter = Rc::new(Cell::new(0)); // !Send
///     let c = counter.clone();
///     waza::task::spawn_local(async move { c.set(c.get() + 1) }).await.unwrap();
///     counter.get()
/// });
/// assert_eq!(n, 1);
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let current = CURRENT.try_with(|c| c.borrow().clone()).ok().flatten();
    match current {
        Some(shared) => shared.spawn(future),
        None => panic!(
            "spawn_local must be called inside a LocalSet (run_until, block_on or enter) or a \
             current-thread runtime's block_on (called at {})",
            Location::caller()
        ),
    }
}
