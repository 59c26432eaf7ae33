//! Go's `context`: cancellation and deadlines that flow down a tree of contexts.
//!
//! ```
//! use std::time::Duration;
//! use waza::context::{Context, ContextError};
//!
//! let root = Context::background();
//! let (parent, cancel) = root.with_cancel();
//! let (child, _child_cancel) = parent.with_timeout(Duration::from_secs(60));
//! cancel.cancel();
//! // A context ended through an ancestor reports the ancestor's reason.
//! assert_eq!(child.err(), Some(ContextError::Cancelled));
//! # futures::executor::block_on(child.done());
//! ```
//!
//! | Go | waza |
//! |---|---|
//! | `context.Background()` | [`Context::background()`] |
//! | `ctx, cancel := context.WithCancel(parent)` | `let (ctx, cancel) = parent.with_cancel();` |
//! | `context.WithTimeout(parent, d)` / `WithDeadline` | [`with_timeout`](Context::with_timeout) / [`with_deadline`](Context::with_deadline) |
//! | `<-ctx.Done()` | `ctx.done().await` (also as a `select!` arm) |
//! | `ctx.Err()` | [`ctx.err()`](Context::err) → `Option<ContextError>` |
//! | `ctx.Deadline()` | [`ctx.deadline()`](Context::deadline) |
//! | `context.WithValue(ctx, key, v)` / `ctx.Value(key)` | [`ctx.with_value(v)`](Context::with_value) / [`ctx.value::<V>()`](Context::value) |
//!
//! # Deadlines and the runtime
//!
//! A deadline is observed in two ways. [`err`](Context::err) and
//! [`is_done`](Context::is_done) compare it with the clock on every call, so they report
//! [`ContextError::DeadlineExceeded`] once it has passed, under any executor or none.
//! [`done`](Context::done) must also *wake up* at the deadline; it does so with a waza
//! timer ([`crate::time::sleep_until`]), so awaiting `done()` on a context that has a
//! deadline still in the future requires a waza runtime (it panics elsewhere). Cancellation
//! through [`CancelHandle::cancel`] works under any executor.
//!
//! # Design
//!
//! Each `Context` is an `Arc` of a node; clones share it. A node holds its parent (only if
//! the parent can ever be cancelled: children of [`Context::background`] are roots), its
//! own and its effective deadline (the earlier of its own and its parent's), a `done` flag
//! readable without locking, and under a `std::sync::Mutex`: the error, its children as
//! `Weak` references in a slab, and a wait queue of [`Done`] futures.
//!
//! Protocols:
//!
//! 1. *Create a child*: under the parent's lock, if the parent has ended the child is born
//!    ended with the parent's error; otherwise the child's `Weak` is inserted into the
//!    parent's slab and its key remembered.
//! 2. *Cancel* (by a handle or an expired deadline): under the node's lock, if no error is
//!    set yet, set it and the `done` flag, take the children slab and the waiters; unlock;
//!    wake the waiters; then cancel each still-alive child with the same reason (an explicit
//!    stack, not recursion, so deep chains cannot overflow the thread's stack). The first
//!    reason wins; later cancels are no-ops.
//! 3. *Drop*: when the last `Context` clone and [`CancelHandle`] of a node are gone, the node
//!    removes its key from its parent's slab, unless the parent has ended (its slab was
//!    taken in step 2). So a long-lived parent does not accumulate dead children.
//! 4. *Expire*: a node whose effective deadline has passed walks up its ancestors and
//!    cancels, with `DeadlineExceeded`, each one whose own deadline has passed, so the
//!    reason lands on the context that owns the deadline and flows down from there.

use crate::sync::lock;
use crate::sync::wait_list::WaitList;
use slab::Slab;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex, OnceLock, Weak};
use std::task::{self, Poll};
use std::time::{Duration, Instant};

/// A cancellation signal and optional deadline that flow from a parent to its children.
///
/// `Clone` is cheap (one `Arc`); clones are the same context. `Send + Sync`, so it can be
/// passed to spawned tasks and threads.
///
/// # Examples
///
/// ```
/// use waza::context::{Context, ContextError};
///
/// let (ctx, cancel) = Context::background().with_cancel();
/// let worker_ctx = ctx.clone();
/// assert!(!worker_ctx.is_done());
/// cancel.cancel();
/// assert!(worker_ctx.is_done());
/// assert_eq!(worker_ctx.err(), Some(ContextError::Cancelled));
/// ```
#[derive(Clone)]
pub struct Context {
    node: Arc<Node>,
    /// Values attached with [`Context::with_value`], newest first; shared with children.
    values: Option<Arc<Value>>,
}

/// One link of a context's value chain.
struct Value {
    value: Box<dyn Any + Send + Sync>,
    next: Option<Arc<Value>>,
}

/// Cancels the context it came with (and, through it, all its descendants).
///
/// Dropping it does **not** cancel (call [`cancel`](Self::cancel)); unlike Go, forgetting
/// to cancel leaks nothing, because children unregister when dropped.
#[derive(Clone)]
pub struct CancelHandle {
    node: Arc<Node>,
}

/// Why a context ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextError {
    /// [`CancelHandle::cancel`] was called on this context or an ancestor.
    Cancelled,
    /// The deadline of this context or an ancestor passed.
    DeadlineExceeded,
}

/// Future returned by [`Context::done`]; completes once the context has ended.
///
/// # Cancel safety
///
/// Cancel-safe: dropping it only unregisters the waiter.
#[must_use = "futures do nothing unless awaited"]
pub struct Done {
    node: Arc<Node>,
    /// Our waiter node in `node`'s queue, while registered.
    key: Option<usize>,
    /// Timer for the effective deadline, created on the first pending poll.
    timer: Option<crate::time::Sleep>,
}

struct Node {
    /// The parent, if it can ever end (otherwise this node is a root).
    parent: Option<Arc<Node>>,
    /// Our key in `parent`'s children slab (meaningless without a parent).
    key: usize,
    /// Whether this node can ever end (false only for background-like nodes).
    cancellable: bool,
    /// The deadline given to this node itself.
    own_deadline: Option<Instant>,
    /// The earlier of `own_deadline` and the parent's effective deadline.
    deadline: Option<Instant>,
    /// Set (with release ordering) right after `state.err` is set; never cleared.
    done: AtomicBool,
    state: StdMutex<NodeState>,
}

struct NodeState {
    err: Option<ContextError>,
    /// Live children, until this node ends (then taken, see protocol 2).
    children: Slab<Weak<Node>>,
    /// `Done` futures waiting for this node to end.
    waiters: WaitList<()>,
}

impl Context {
    /// The root context: never cancelled, no deadline (Go's `context.Background()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let bg = waza::context::Context::background();
    /// assert!(bg.err().is_none());
    /// assert!(bg.deadline().is_none());
    /// ```
    pub fn background() -> Context {
        static BACKGROUND: OnceLock<Arc<Node>> = OnceLock::new();
        let node = BACKGROUND.get_or_init(|| Arc::new(Node::root(false, None, None)));
        Context {
            node: node.clone(),
            values: None,
        }
    }

    /// A child context plus a handle that cancels it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (ctx, cancel) = waza::context::Context::background().with_cancel();
    /// cancel.cancel();
    /// assert!(ctx.is_done());
    /// ```
    pub fn with_cancel(&self) -> (Context, CancelHandle) {
        self.child(None)
    }

    /// A child context that ends with [`ContextError::DeadlineExceeded`] at `deadline` (or
    /// earlier, if an ancestor ends first). A deadline in the past ends it at once.
    ///
    /// See the [module docs](self) for what a deadline needs from the runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use waza::context::Context;
    ///
    /// let at = Instant::now() + Duration::from_secs(5);
    /// let (ctx, _cancel) = Context::background().with_deadline(at);
    /// assert_eq!(ctx.deadline(), Some(at));
    /// ```
    pub fn with_deadline(&self, deadline: Instant) -> (Context, CancelHandle) {
        self.child(Some(deadline))
    }

    /// A child context that ends after `timeout` (Go's `context.WithTimeout`).
    ///
    /// See the [module docs](self) for what a deadline needs from the runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use waza::context::{Context, ContextError};
    ///
    /// let (ctx, _cancel) = Context::background().with_timeout(Duration::ZERO);
    /// assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> (Context, CancelHandle) {
        match crate::time::now().checked_add(timeout) {
            Some(deadline) => self.with_deadline(deadline),
            // Too far to represent: effectively no deadline of its own.
            None => self.with_cancel(),
        }
    }

    /// Completes once this context (or an ancestor) has ended; never for
    /// [`background`](Self::background). Go's `<-ctx.Done()`.
    ///
    /// The future owns a reference to the context, so it can outlive this borrow.
    ///
    /// # Panics
    ///
    /// When polled outside a waza runtime while the context has a deadline that has not
    /// passed yet (the deadline needs a runtime timer).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// let (ctx, cancel) = waza::context::Context::background().with_cancel();
    /// std::thread::spawn(move || cancel.cancel());
    /// futures::executor::block_on(ctx.done());
    /// assert!(ctx.err().is_some());
    /// ```
    pub fn done(&self) -> Done {
        Done {
            node: self.node.clone(),
            key: None,
            timer: None,
        }
    }

    /// Why the context ended, or `None` while it is still live. Go's `ctx.Err()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::context::{Context, ContextError};
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// assert_eq!(ctx.err(), None);
    /// cancel.cancel();
    /// assert_eq!(ctx.err(), Some(ContextError::Cancelled));
    /// ```
    pub fn err(&self) -> Option<ContextError> {
        self.node.expire();
        if !self.node.done.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.node.state).err
    }

    /// Whether the context has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let (ctx, cancel) = waza::context::Context::background().with_cancel();
    /// assert!(!ctx.is_done());
    /// cancel.cancel();
    /// assert!(ctx.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.node.expire();
        self.node.done.load(Ordering::Acquire)
    }

    /// When the context ends by itself: the earliest deadline of it and its ancestors.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use waza::context::Context;
    ///
    /// let soon = Instant::now() + Duration::from_secs(1);
    /// let (parent, _c1) = Context::background().with_deadline(soon);
    /// let (child, _c2) = parent.with_timeout(Duration::from_secs(3600));
    /// assert_eq!(child.deadline(), Some(soon)); // the parent's is earlier
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.node.deadline
    }

    /// A context that carries `value` (Go's `context.WithValue`, keyed by type): it and its
    /// descendants return it from [`value::<V>()`](Self::value) unless a later
    /// `with_value` of the same type shadows it. Cancellation and deadline are shared with
    /// `self`.
    ///
    /// Use a dedicated type per key (a newtype), as Go code uses an unexported key type.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::context::Context;
    ///
    /// #[derive(Debug, PartialEq)]
    /// struct RequestId(u64);
    ///
    /// let ctx = Context::background().with_value(RequestId(7));
    /// let (child, _cancel) = ctx.with_cancel();
    /// assert_eq!(child.value::<RequestId>(), Some(&RequestId(7)));
    /// assert_eq!(Context::background().value::<RequestId>(), None);
    /// ```
    pub fn with_value<V: Any + Send + Sync>(&self, value: V) -> Context {
        Context {
            node: self.node.clone(),
            values: Some(Arc::new(Value {
                value: Box::new(value),
                next: self.values.clone(),
            })),
        }
    }

    /// The newest value of type `V` attached to this context or an ancestor.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = waza::context::Context::background()
    ///     .with_value(1u32)
    ///     .with_value(2u32);
    /// assert_eq!(ctx.value::<u32>(), Some(&2));
    /// assert_eq!(ctx.value::<u64>(), None);
    /// ```
    pub fn value<V: Any + Send + Sync>(&self) -> Option<&V> {
        let mut cur = self.values.as_deref();
        while let Some(link) = cur {
            if let Some(v) = link.value.downcast_ref::<V>() {
                return Some(v);
            }
            cur = link.next.as_deref();
        }
        None
    }

    fn child(&self, own_deadline: Option<Instant>) -> (Context, CancelHandle) {
        let node = Node::child_of(&self.node, own_deadline);
        if own_deadline.is_some_and(|d| d <= crate::time::now()) {
            node.cancel(ContextError::DeadlineExceeded);
        }
        let ctx = Context {
            node: node.clone(),
            values: self.values.clone(),
        };
        (ctx, CancelHandle { node })
    }
}

impl Default for Context {
    /// [`Context::background`].
    fn default() -> Self {
        Context::background()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("err", &self.err())
            .field("deadline", &self.deadline())
            .finish()
    }
}

impl CancelHandle {
    /// Cancels the context and its descendants with [`ContextError::Cancelled`]; a no-op
    /// if it has already ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let (ctx, cancel) = waza::context::Context::background().with_cancel();
    /// cancel.cancel();
    /// cancel.cancel(); // harmless
    /// assert!(ctx.is_done());
    /// ```
    pub fn cancel(&self) {
        self.node.cancel(ContextError::Cancelled);
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("done", &self.node.done.load(Ordering::Acquire))
            .finish()
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go's wording.
        f.write_str(match self {
            ContextError::Cancelled => "context canceled",
            ContextError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for ContextError {}

impl Node {
    fn root(cancellable: bool, parent: Option<Arc<Node>>, deadline: Option<Instant>) -> Node {
        Node {
            parent,
            key: usize::MAX,
            cancellable,
            own_deadline: deadline,
            deadline,
            done: AtomicBool::new(false),
            state: StdMutex::new(NodeState {
                err: None,
                children: Slab::new(),
                waiters: WaitList::new(),
            }),
        }
    }

    /// Protocol 1.
    fn child_of(parent: &Arc<Node>, own_deadline: Option<Instant>) -> Arc<Node> {
        let deadline = match (own_deadline, parent.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if !parent.cancellable {
            let mut node = Node::root(true, None, deadline);
            node.own_deadline = own_deadline;
            return Arc::new(node);
        }
        Arc::new_cyclic(|weak| {
            let mut node = Node::root(true, None, deadline);
            node.own_deadline = own_deadline;
            let mut st = lock(&parent.state);
            match st.err {
                Some(err) => {
                    // Born ended; no need to stay linked to the parent.
                    let child = node.state.get_mut().unwrap_or_else(|e| e.into_inner());
                    child.err = Some(err);
                    *node.done.get_mut() = true;
                }
                None => {
                    node.key = st.children.insert(weak.clone());
                    node.parent = Some(parent.clone());
                }
            }
            node
        })
    }

    /// Protocol 2.
    fn cancel(self: &Arc<Self>, reason: ContextError) {
        let mut stack = vec![self.clone()];
        while let Some(node) = stack.pop() {
            let mut wakers = Vec::new();
            let children = {
                let mut st = lock(&node.state);
                if st.err.is_some() {
                    continue;
                }
                st.err = Some(reason);
                node.done.store(true, Ordering::Release);
                st.waiters.drain(&mut wakers, |_| {});
                std::mem::take(&mut st.children)
            };
            crate::sync::wake_all(wakers);
            stack.extend(children.into_iter().filter_map(|(_, w)| w.upgrade()));
        }
    }

    /// Protocol 4: ends this node and its ancestors whose own deadlines have passed.
    fn expire(self: &Arc<Self>) {
        let Some(deadline) = self.deadline else {
            return;
        };
        if self.done.load(Ordering::Acquire) {
            return;
        }
        let now = crate::time::now();
        if now < deadline {
            return;
        }
        let mut expired = Vec::new();
        let mut cur = Some(self);
        while let Some(node) = cur {
            if node.own_deadline.is_some_and(|d| d <= now) {
                expired.push(node.clone());
            }
            cur = node.parent.as_ref();
        }
        // Outermost first, so descendants inherit the reason rather than re-deriving it.
        for node in expired.iter().rev() {
            node.cancel(ContextError::DeadlineExceeded);
        }
    }
}

impl Node {
    /// Protocol 3: removes this node from its parent's children (unless the parent ended)
    /// and hands back the parent link.
    fn unregister(&mut self) -> Option<Arc<Node>> {
        let parent = self.parent.take()?;
        {
            let mut st = lock(&parent.state);
            if st.err.is_none() {
                st.children.remove(self.key);
            }
        }
        Some(parent)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Release ancestors that this node kept alive one by one, in a loop: dropping the
        // last handle of a long chain must not recurse once per level.
        let mut next = self.unregister();
        while let Some(parent) = next {
            match Arc::try_unwrap(parent) {
                Ok(mut node) => next = node.unregister(),
                Err(_) => break,
            }
        }
    }
}

impl Future for Done {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if !this.node.cancellable {
            return Poll::Pending; // background: never ends
        }
        this.node.expire();
        if this.register(cx) {
            return Poll::Ready(());
        }
        let Some(deadline) = this.node.deadline else {
            return Poll::Pending;
        };
        if this.timer.is_none() && crate::Handle::try_current().is_none() {
            panic!(
                "Context::done() on a context with a deadline must be awaited within a waza \
                 runtime (the deadline uses the runtime's timers); err() and is_done() work anywhere"
            );
        }
        let timer = this
            .timer
            .get_or_insert_with(|| crate::time::sleep_until(deadline));
        if Pin::new(timer).poll(cx).is_ready() {
            // A timer never fires early, so the deadline has passed now.
            this.node.expire();
            if this.node.done.load(Ordering::Acquire) {
                this.unregister();
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

impl Done {
    /// Returns true if the node has ended; otherwise makes sure our waker is queued.
    fn register(&mut self, cx: &mut task::Context<'_>) -> bool {
        let mut st = lock(&self.node.state);
        if st.err.is_some() {
            if let Some(key) = self.key.take() {
                st.waiters.remove(key);
            }
            return true;
        }
        match self.key {
            Some(key) => st.waiters.set_waker(key, cx.waker()),
            None => self.key = Some(st.waiters.push_back((), cx.waker())),
        }
        false
    }

    fn unregister(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.node.state).waiters.remove(key);
        }
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        self.unregister();
    }
}

impl fmt::Debug for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done")
            .field("done", &self.node.done.load(Ordering::Acquire))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child_count(ctx: &Context) -> usize {
        lock(&ctx.node.state).children.len()
    }

    #[test]
    fn dropped_children_unregister_from_a_long_lived_parent() {
        let (parent, _cancel) = Context::background().with_cancel();
        for _ in 0..1000 {
            let (child, handle) = parent.with_cancel();
            let (grandchild, _h) = child.with_timeout(Duration::from_secs(60));
            assert_eq!(child_count(&parent), 1);
            assert_eq!(child_count(&child), 1);
            drop((child, handle, grandchild));
        }
        assert_eq!(child_count(&parent), 0);
    }

    #[test]
    fn children_of_background_are_roots() {
        let (ctx, _c) = Context::background().with_cancel();
        assert!(ctx.node.parent.is_none());
        assert_eq!(child_count(&Context::background()), 0);
    }

    #[test]
    fn child_born_after_cancel_is_ended_and_unlinked() {
        let (parent, cancel) = Context::background().with_cancel();
        cancel.cancel();
        let (child, _h) = parent.with_cancel();
        assert_eq!(child.err(), Some(ContextError::Cancelled));
        assert!(child.node.parent.is_none());
    }

    #[test]
    fn deep_chain_cancels_without_recursion() {
        let (root, cancel) = Context::background().with_cancel();
        let mut chain = vec![root.clone()];
        for _ in 0..50_000 {
            let (c, _h) = chain.last().unwrap().with_cancel();
            chain.push(c);
        }
        cancel.cancel();
        assert_eq!(chain.last().unwrap().err(), Some(ContextError::Cancelled));
        while chain.pop().is_some() {}
    }

    #[test]
    fn dropping_the_leaf_of_a_long_chain_does_not_recurse() {
        let (mut ctx, _cancel) = Context::background().with_cancel();
        let root = ctx.clone();
        for _ in 0..200_000 {
            ctx = ctx.with_cancel().0;
        }
        assert_eq!(child_count(&root), 1);
        drop(ctx); // frees 200,000 nodes, each unregistering from its parent
        assert_eq!(child_count(&root), 0);
    }
}
