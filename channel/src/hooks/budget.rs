//! The cooperative budget: lets a runtime make busy channel loops yield.
//!
//! The budget is a per-thread counter kept here, in the channel crate, so that a channel
//! operation spends it with one thread-local access and no call into the runtime. A
//! runtime grants a budget when it polls a task ([`set_budget`]) and takes it back
//! afterwards; every async channel operation (send, recv, select, stream, sink) spends
//! one unit per poll ([`poll_proceed`]) before it touches the channel. With the budget
//! spent, the operation arranges a wake-up (the thread's exhausted hook, by default
//! `wake_by_ref`) and returns `Pending` without side effects. Threads that never set a
//! budget (plain threads, other executors) are unconstrained. Blocking calls never spend
//! it.
//!
//! `waza`'s runtime keeps its own budget (timers, I/O, `JoinHandle`) in the same counter,
//! so a task has one budget whatever it polls.

use core::cell::Cell;
use core::task::{Context, Poll, Waker};

/// What a runtime's exhausted hook does with the waker of an operation that found the
/// budget spent: arrange for the task to be polled again (for example after the I/O
/// driver's next turn).
pub type ExhaustedHook = fn(&Waker);

std::thread_local! {
    /// Units left in the current task poll; `None`: unconstrained. Const-initialized and
    /// without a destructor, so every access is a plain thread-local load or store.
    static BUDGET: Cell<Option<u8>> = const { Cell::new(None) };
    static EXHAUSTED: Cell<Option<ExhaustedHook>> = const { Cell::new(None) };
}

/// Installs `budget` for the current thread (`None`: unconstrained) and returns the
/// previous one. A runtime calls this around each task poll.
///
/// # Examples
///
/// ```
/// use waza_channel::hooks;
/// let prev = hooks::set_budget(Some(2));
/// assert_eq!(hooks::budget(), Some(2));
/// hooks::set_budget(prev);
/// ```
#[inline]
pub fn set_budget(budget: Option<u8>) -> Option<u8> {
    BUDGET.with(|b| b.replace(budget))
}

/// The current thread's remaining budget (`None`: unconstrained).
///
/// # Examples
///
/// ```
/// assert_eq!(waza_channel::hooks::budget(), None);
/// ```
#[inline]
pub fn budget() -> Option<u8> {
    BUDGET.with(Cell::get)
}

/// Installs (or with `None` removes) the current thread's exhausted hook: what an
/// operation does with its waker when it finds the budget spent. Without a hook the
/// waker is woken at once. Through [`super::install`].
pub(super) fn set_exhausted_hook(hook: Option<ExhaustedHook>) {
    EXHAUSTED.with(|h| h.set(hook));
}

/// Spends one unit of the current thread's budget: `Ready(())` if there was one (or no
/// budget is set); otherwise arranges a wake-up and returns `Pending`.
///
/// # Examples
///
/// ```
/// use core::task::{Context, Poll};
/// use waza_channel::hooks;
/// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
/// let prev = hooks::set_budget(Some(1));
/// assert_eq!(hooks::poll_proceed(&mut cx), Poll::Ready(()));
/// assert_eq!(hooks::poll_proceed(&mut cx), Poll::Pending);
/// hooks::set_budget(prev);
/// ```
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let spent = BUDGET.with(|b| match b.get() {
        None => true,
        Some(0) => false,
        Some(n) => {
            b.set(Some(n - 1));
            true
        }
    });
    if spent {
        Poll::Ready(())
    } else {
        exhausted(cx.waker());
        Poll::Pending
    }
}

#[cold]
fn exhausted(waker: &Waker) {
    match EXHAUSTED.with(Cell::get) {
        Some(hook) => hook(waker),
        None => waker.wake_by_ref(),
    }
}

/// Runs `f` with the budget suspended (restored afterwards, also on panic).
///
/// A `select!` spends one unit per poll and then polls its arms unconstrained, so that no
/// arm looks pending for lack of budget (which would make `default` run although an arm
/// was ready).
pub(crate) fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_budget(self.0);
        }
    }
    let _restore = Restore(set_budget(None));
    f()
}
