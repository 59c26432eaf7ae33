//! Where a task's wait reason goes while it is polled (for task dumps).
//!
//! While the harness polls a task, a thread-local points at that task's `Header::wait`
//! word; whoever observes the poll (the runtime's channel hook, `runtime/wait.rs`) stores
//! a packed reason there with [`store_current`], so a concurrent dump can read it without
//! locks. The word is cleared at the start of every poll, so a reason describes the last
//! poll. The task core knows the word, not what it means.

use crate::loom::{AtomicU64, Ordering};
use std::cell::Cell;
use std::ptr;

thread_local! {
    static CURRENT: Cell<*const AtomicU64> = const { Cell::new(ptr::null()) };
}

/// Clears the previous reason and routes reports to `word` until dropped.
pub(crate) struct Recording {
    prev: *const AtomicU64,
}

/// Starts recording the wait reason of the task owning `word` (for one poll).
pub(crate) fn record_into(word: &AtomicU64) -> Recording {
    word.store(0, Ordering::Relaxed);
    let prev = CURRENT
        .try_with(|c| c.replace(word as *const AtomicU64))
        .unwrap_or(ptr::null());
    Recording { prev }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.prev));
    }
}

/// Stores `reason` for the task being polled on this thread (nothing outside a poll).
pub(crate) fn store_current(reason: u64) {
    let word = CURRENT.try_with(|c| c.get()).unwrap_or(ptr::null());
    // SAFETY: a non-null pointer was set by `record_into` for the task being polled on
    // this thread, which stays alive until the poll returns and the guard resets it.
    if let Some(word) = unsafe { word.as_ref() } {
        word.store(reason, Ordering::Relaxed);
    }
}
