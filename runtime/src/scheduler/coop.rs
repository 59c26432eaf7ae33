//! Cooperative scheduling: a per-poll budget so a busy task yields to its neighbours.
//!
//! A worker grants a task [`INITIAL`] units when it polls it (tasks run from the LIFO slot
//! right after share what is left). Every channel operation, timer or I/O poll and
//! `JoinHandle` poll spends one unit through [`poll_proceed`]. With the budget spent, the
//! operation returns `Pending` and the task is re-queued behind other work: on a worker its
//! waker goes to the worker's defer list, which runs again once the worker has nothing
//! else to do or at its next maintenance, with a driver turn at least every few ticks, so
//! a task that is always ready cannot starve I/O; elsewhere it is woken at once.
//! Threads that never set a budget (plain threads, blocking pool) are unconstrained.

use std::future::Future;
use std::task::{Context, Poll};

/// Units granted per task poll.
pub(crate) const INITIAL: u8 = 128;

/// The remaining budget of the current poll; `None` means unconstrained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget(Option<u8>);

impl Budget {
    /// A fresh task-poll budget.
    pub(crate) const fn initial() -> Budget {
        Budget(Some(INITIAL))
    }

    /// No limit.
    pub(crate) const fn unconstrained() -> Budget {
        Budget(None)
    }

    /// True if at least one unit is left (or there is no limit).
    pub(crate) fn has_remaining(self) -> bool {
        self.0 != Some(0)
    }
}

/// Runs `f` with `budget` installed, restoring the previous one afterwards (even on panic).
///
/// The counter itself lives in the channel crate (`waza_channel::hooks`), so that channel
/// operations and the runtime's own resources spend one budget per task poll.
pub(crate) fn with_budget<R>(budget: Budget, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            waza_channel::hooks::set_budget(self.0);
        }
    }
    let _restore = Restore(waza_channel::hooks::set_budget(budget.0));
    f()
}

/// The budget left in the current poll.
pub(crate) fn current() -> Budget {
    Budget(waza_channel::hooks::budget())
}

/// What a spent budget does on a runtime thread: the waker goes to the worker's defer
/// list (see the module docs), or is woken at once off the workers.
pub(crate) fn exhausted_hook(waker: &std::task::Waker) {
    super::defer(waker);
}

/// Spends one unit; `Pending` (with the task re-queued) if the budget is exhausted.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    waza_channel::hooks::poll_proceed(cx)
}

/// Spends one unit of the task's cooperative budget, yielding if it is exhausted.
///
/// Call this in a loop that may never otherwise reach an await point that yields (for
/// example one that only polls always-ready futures), so other tasks and I/O get a turn.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let mut sum = 0u64;
///     for i in 0..1000 {
///         sum += i;
///         waza::task::consume_budget().await;
///     }
///     assert_eq!(sum, 499_500);
/// });
/// ```
///
/// # Cancel safety
///
/// Cancel safe: it holds no state.
pub fn consume_budget() -> impl Future<Output = ()> + Send + Sync + 'static {
    std::future::poll_fn(poll_proceed)
}
