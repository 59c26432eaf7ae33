//! The contract between these channels and a runtime that runs them.
//!
//! The channels work under any executor and on plain threads; a runtime that wants more
//! installs three per-thread hooks on the threads that run its tasks, with one call,
//! [`install`]:
//!
//! - **Budget** ([`set_budget`], [`poll_proceed`]): a cooperative budget, a counter kept
//!   here so a channel operation spends it with one thread-local access. With it spent an
//!   operation returns `Pending` and hands its waker to the runtime's
//!   [`Hooks::exhausted`] hook (re-queue the task after other work).
//! - **Wait reasons** ([`WaitReason`]): an operation that starts waiting tells the
//!   runtime's [`Hooks::wait`] hook on what (`recv on chan#3 (rendezvous)`), for task
//!   dumps.
//! - **Blocking policy** ([`Hooks::forbid_blocking`]): `send_blocking`/`recv_blocking`
//!   ask it first and panic where it says blocking would stall the runtime (a worker
//!   thread), with a message that points to `spawn_blocking`.
//!
//! A thread without hooks is unconstrained: no budget, no reports, blocking allowed.
//! [`block_on_thread`] is the one helper that blocks a thread on a future (the blocking
//! calls use it; so can a runtime's own blocking APIs).

mod budget;
mod wait;

pub(crate) use budget::unconstrained;
pub use budget::{budget, poll_proceed, set_budget, ExhaustedHook};
pub(crate) use wait::{next_chan_id, report};
pub use wait::{Flavour, WaitHook, WaitOp, WaitReason};

use core::cell::Cell;
use core::future::Future;
use core::pin::pin;

/// Whether blocking the current thread is refused (a runtime's worker thread).
pub type BlockingCheck = fn() -> bool;

/// The hooks a runtime installs on a thread (see the module docs). `None` leaves that
/// behaviour at its default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hooks {
    /// What an operation does with its waker when it finds the budget spent (default:
    /// wake it at once).
    pub exhausted: Option<ExhaustedHook>,
    /// Told why the operation being polled now waits (default: nothing).
    pub wait: Option<WaitHook>,
    /// Asked before a `*_blocking` call blocks; `true` makes the call panic (default:
    /// blocking allowed).
    pub forbid_blocking: Option<BlockingCheck>,
}

std::thread_local! {
    static FORBID_BLOCKING: Cell<Option<BlockingCheck>> = const { Cell::new(None) };
}

/// Installs `hooks` for the current thread, replacing any installed before.
///
/// # Examples
///
/// ```
/// use waza_channel::hooks::{self, Hooks, WaitReason};
/// fn record(reason: &WaitReason) {
///     println!("task waits: {reason}");
/// }
/// hooks::install(Hooks { wait: Some(record), ..Hooks::default() });
/// hooks::install(Hooks::default());
/// ```
pub fn install(hooks: Hooks) {
    budget::set_exhausted_hook(hooks.exhausted);
    wait::set_wait_hook(hooks.wait);
    FORBID_BLOCKING.with(|f| f.set(hooks.forbid_blocking));
}

/// Panics if this thread's [`Hooks::forbid_blocking`] refuses blocking.
#[track_caller]
pub(crate) fn check_blocking(call: &str) {
    let check = FORBID_BLOCKING.try_with(Cell::get).ok().flatten();
    if check.is_some_and(|forbidden| forbidden()) {
        panic!(
            "{call} was called on a runtime worker thread, where blocking would stall \
             every task of that worker (possibly the one it waits for); use the async \
             method with `.await`, or call it from `spawn_blocking` or a plain thread"
        );
    }
}

/// Runs `fut` to completion on the current thread, blocking it between polls (a short
/// spin and a few yields before it parks; see `blocking.rs`). Does not consult
/// [`Hooks::forbid_blocking`]: a caller that must not block checks first.
///
/// # Examples
///
/// ```
/// let (tx, rx) = waza_channel::bounded(1);
/// std::thread::spawn(move || tx.send_blocking(7).unwrap());
/// assert_eq!(waza_channel::hooks::block_on_thread(rx.recv()), Some(7));
/// ```
pub fn block_on_thread<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    crate::blocking::block_on(|cx| fut.as_mut().poll(cx))
}
