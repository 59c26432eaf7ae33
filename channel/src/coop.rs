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

std::thread_local! {
    static HOOK: Cell<Option<BudgetHook>> = const { Cell::new(None) };
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
