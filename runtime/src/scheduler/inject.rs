//! The inject queue: tasks scheduled from outside the workers and overflow batches from
//! full local queues.
//!
//! A mutex-protected FIFO with an atomic length for lock-free emptiness checks. Closing it
//! (runtime shutdown) happens under the same lock as every push, so a push racing the
//! close either lands before the final drain or is refused and dropped by the pusher:
//! nothing is stranded in a closed queue.

use super::queue::Overflow;
use crate::loom::{AtomicUsize, Mutex, Ordering};
use std::collections::VecDeque;

/// Aligned to 128 bytes: pushes and pops write `len` and the lock, which must not
/// invalidate the read-mostly fields next to it in `Shared`.
#[repr(align(128))]
pub(crate) struct Inject<T> {
    queue: Mutex<Queue<T>>,
    /// Mirrors `queue.tasks.len()`; updated under the lock, read without it.
    len: AtomicUsize,
}

struct Queue<T> {
    tasks: VecDeque<T>,
    closed: bool,
}

impl<T> Inject<T> {
    pub(crate) fn new() -> Inject<T> {
        Inject {
            queue: Mutex::new(Queue {
                tasks: VecDeque::new(),
                closed: false,
            }),
            len: AtomicUsize::new(0),
        }
    }

    /// Number of queued tasks.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    /// True if no task is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues one task; if the queue is closed the task is dropped and `false` returned.
    pub(crate) fn push(&self, task: T) -> bool {
        let mut q = self.queue.lock().unwrap();
        if q.closed {
            drop(q);
            drop(task);
            return false;
        }
        q.tasks.push_back(task);
        self.len.store(q.tasks.len(), Ordering::SeqCst);
        true
    }

    /// Takes the oldest task.
    pub(crate) fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut q = self.queue.lock().unwrap();
        let task = q.tasks.pop_front();
        self.len.store(q.tasks.len(), Ordering::SeqCst);
        task
    }

    /// Takes up to `max` of the oldest tasks under one lock, handing each to `sink` in
    /// queue order; returns how many. `sink` runs under the queue lock, so it must not
    /// touch this queue (nor allocate per task: that is what this method avoids).
    pub(crate) fn pop_n_with(&self, max: usize, mut sink: impl FnMut(T)) -> usize {
        if self.is_empty() || max == 0 {
            return 0;
        }
        let mut q = self.queue.lock().unwrap();
        let n = max.min(q.tasks.len());
        q.tasks.drain(..n).for_each(&mut sink);
        self.len.store(q.tasks.len(), Ordering::SeqCst);
        n
    }

    /// Closes the queue and returns what was in it (to be dropped by the caller).
    pub(crate) fn close(&self) -> VecDeque<T> {
        let mut q = self.queue.lock().unwrap();
        q.closed = true;
        self.len.store(0, Ordering::SeqCst);
        std::mem::take(&mut q.tasks)
    }
}

impl<T> Overflow<T> for Inject<T> {
    fn push_batch(&self, tasks: impl Iterator<Item = T>) {
        let mut q = self.queue.lock().unwrap();
        if q.closed {
            drop(q);
            tasks.for_each(drop);
            return;
        }
        q.tasks.extend(tasks);
        self.len.store(q.tasks.len(), Ordering::SeqCst);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn pop_n_with_hands_out_the_oldest_in_order() {
        let inject = Inject::new();
        for i in 0..10u32 {
            assert!(inject.push(i));
        }
        let mut got = Vec::new();
        assert_eq!(inject.pop_n_with(4, |t| got.push(t)), 4);
        assert_eq!(got, [0, 1, 2, 3]);
        assert_eq!(inject.len(), 6);
        assert_eq!(inject.pop_n_with(100, |t| got.push(t)), 6);
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert!(inject.is_empty());
        assert_eq!(inject.pop_n_with(3, |_| unreachable!()), 0);
    }
}
