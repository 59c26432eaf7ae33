//! [`RuntimeMetrics`]: counters of a running runtime.

use super::Handle;
use crate::loom::std_sync::Ordering;

/// A live view of a runtime's counters; each call reads the current value.
///
/// # Examples
///
/// ```
/// let rt = waza::Runtime::builder().workers(2).build().unwrap();
/// rt.block_on(async { waza::spawn(async {}).await.unwrap() });
/// let m = rt.handle().metrics();
/// assert_eq!(m.num_workers(), 2);
/// assert_eq!(m.spawned_tasks_count(), 1);
/// assert_eq!(m.num_alive_tasks(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: Handle) -> RuntimeMetrics {
        RuntimeMetrics { handle }
    }

    /// Number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.handle.shared.num_workers()
    }

    /// Tasks spawned and not yet completed (blocking-pool tasks excluded).
    pub fn num_alive_tasks(&self) -> usize {
        self.handle.shared.registry.alive()
    }

    /// Tasks ever spawned on the workers (blocking-pool tasks excluded).
    pub fn spawned_tasks_count(&self) -> u64 {
        self.handle.shared.registry.spawned()
    }

    /// Task polls run by all workers (a task's run that only drops its future counts too).
    pub fn total_polls_count(&self) -> u64 {
        let remotes = self.handle.shared.remotes.iter();
        remotes.map(|r| r.polls()).sum()
    }

    /// Tasks moved between workers by stealing.
    pub fn total_steal_count(&self) -> u64 {
        let remotes = self.handle.shared.remotes.iter();
        remotes.map(|r| r.steals.load(Ordering::Relaxed)).sum()
    }

    /// Tasks waiting in the global (inject) queue.
    pub fn global_queue_depth(&self) -> usize {
        self.handle.shared.inject.len()
    }

    /// Task polls the blocked-worker monitor reported: each ran longer than
    /// [`Builder::blocked_poll_threshold`](crate::Builder::blocked_poll_threshold).
    pub fn blocked_polls_count(&self) -> u64 {
        self.handle.shared.monitor.blocked_polls()
    }

    /// The longest of those polls (one still running counts with its time so far);
    /// zero if none was reported.
    pub fn longest_blocked_poll(&self) -> std::time::Duration {
        self.handle.shared.monitor.longest()
    }

    /// Live threads of the blocking pool.
    pub fn blocking_threads_count(&self) -> usize {
        self.handle.shared.blocking.num_threads()
    }
}
