//! Cooperative budget hook: lets a runtime make busy channel loops yield.
//!
//! A runtime installs a per-thread [`BudgetHook`] on each worker thread. Every async
//! channel operation (send, recv, select, stream, sink) calls it once per poll, before it
//! touches the channel; when the current task's budget is spent the hook arranges a
//! wake-up and returns `Pending`, and the operation returns `Pending` without side
//! effects. Without a hook, operations always proceed. Blocking calls never consult it.

use core::cell::Cell;
use core::task::{Context, Poll};

/// Per-thread hook a runtime installs: spend one unit of the current task's budget;
/// `Pending` (after arranging a wake-up) when exhausted.
pub type BudgetHook = fn(&mut Context<'_>) -> Poll<()>;

/// Per-thread hook a runtime installs to suspend its budget while a `select!` polls its
/// arms: called with `true` on entry, it returns whether it suspended anything; called
/// with `false` only after an entry that returned `true`, it restores the budget.
pub type SuspendHook = fn(bool) -> bool;

std::thread_local! {
    static HOOK: Cell<Option<BudgetHook>> = const { Cell::new(None) };
    static SUSPEND: Cell<Option<SuspendHook>> = const { Cell::new(None) };
}

/// Installs (or with `None` removes) the budget-suspension hook for the current thread.
///
/// A `select!` spends one budget unit per poll and then polls its arms with the budget
/// suspended, so that no arm looks pending for lack of budget (which would make
/// `default` run although an arm was ready).
///
/// # Examples
///
/// ```
/// fn suspend(_enter: bool) -> bool {
///     false
/// }
/// waza_channel::coop::set_suspend_hook(Some(suspend));
/// waza_channel::coop::set_suspend_hook(None);
/// ```
pub fn set_suspend_hook(hook: Option<SuspendHook>) {
    SUSPEND.with(|h| h.set(hook));
}

/// Runs `f` with the runtime's budget suspended (restored afterwards, also on panic).
pub(crate) fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(SuspendHook);
    impl Drop for Restore {
        fn drop(&mut self) {
            (self.0)(false);
        }
    }
    let hook = SUSPEND.try_with(|h| h.get()).ok().flatten();
    let _restore = match hook {
        Some(h) if h(true) => Some(Restore(h)),
        _ => None,
    };
    f()
}

/// Installs (or with `None` removes) the budget hook for the current thread.
///
/// # Examples
///
/// ```
/// use core::task::{Context, Poll};
/// fn always_proceed(_cx: &mut Context<'_>) -> Poll<()> {
///     Poll::Ready(())
/// }
/// waza_channel::coop::set_budget_hook(Some(always_proceed));
/// waza_channel::coop::set_budget_hook(None);
/// ```
pub fn set_budget_hook(hook: Option<BudgetHook>) {
    HOOK.with(|h| h.set(hook));
}

/// Spends one budget unit; `Ready(())` when no hook is installed.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    // `try_with`: no budget (proceed) once the thread-local is gone at thread exit.
    match HOOK.try_with(|h| h.get()).ok().flatten() {
        Some(hook) => hook(cx),
        None => Poll::Ready(()),
    }
}
