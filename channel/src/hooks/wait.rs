//! Wait reasons for Go-style task dumps ("recv on chan#3 (rendezvous)").
//!
//! A runtime installs a per-thread [`WaitHook`] on its worker threads. Whenever an async
//! channel operation or a select returns `Pending` because it now waits, it calls the
//! hook with a [`WaitReason`]; the runtime records it for the task being polled (and
//! forgets it when the task is polled again). Without a hook nothing happens. Every
//! channel gets a process-unique id at creation for these messages.

use core::cell::Cell;
use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a task waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitOp {
    /// A send on a channel.
    Send,
    /// A receive on a channel.
    Recv,
    /// A `select!` over several arms.
    Select,
}

/// A channel's flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// `bounded(n)` with `n > 0`.
    Bounded,
    /// `unbounded()`.
    Unbounded,
    /// `rendezvous()` (`bounded(0)`).
    Rendezvous,
}

impl Flavour {
    /// The flavour of a channel of capacity `cap` (`None`: unbounded).
    pub(crate) fn of(cap: Option<usize>) -> Flavour {
        match cap {
            None => Flavour::Unbounded,
            Some(0) => Flavour::Rendezvous,
            Some(_) => Flavour::Bounded,
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavour::Bounded => "bounded",
            Flavour::Unbounded => "unbounded",
            Flavour::Rendezvous => "rendezvous",
        })
    }
}

/// Why a task is parked in a channel operation.
///
/// # Examples
///
/// ```
/// use waza_channel::hooks::{Flavour, WaitOp, WaitReason};
/// let r = WaitReason { op: WaitOp::Recv, chan: Some((3, Flavour::Rendezvous)) };
/// assert_eq!(r.to_string(), "recv on chan#3 (rendezvous)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WaitReason {
    /// The operation.
    pub op: WaitOp,
    /// Channel id and flavour; `None` for a select.
    pub chan: Option<(u64, Flavour)>,
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            WaitOp::Send => "send",
            WaitOp::Recv => "recv",
            WaitOp::Select => "select",
        };
        match self.chan {
            Some((id, flavour)) => write!(f, "{op} on chan#{id} ({flavour})"),
            None => f.write_str(op),
        }
    }
}

/// Per-thread hook a runtime installs to learn why the task being polled waits.
pub type WaitHook = fn(&WaitReason);

std::thread_local! {
    static HOOK: Cell<Option<WaitHook>> = const { Cell::new(None) };
}

/// Installs (or with `None` removes) the wait hook for the current thread. Through
/// [`super::install`].
pub(super) fn set_wait_hook(hook: Option<WaitHook>) {
    HOOK.with(|h| h.set(hook));
}

/// Reports a wait to the hook, if one is installed.
#[inline]
pub(crate) fn report(op: WaitOp, chan: Option<(u64, Flavour)>) {
    // `try_with`: nothing to report once the thread-local is gone at thread exit.
    if let Some(hook) = HOOK.try_with(|h| h.get()).ok().flatten() {
        hook(&WaitReason { op, chan });
    }
}

/// A fresh, process-unique channel id (starting at 1).
pub(crate) fn next_chan_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
