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

    /// Takes up to `max` of the oldest tasks under one lock.
    pub(crate) fn pop_n(&self, max: usize) -> Vec<T> {
        if self.is_empty() || max == 0 {
            return Vec::new();
        }
        let mut q = self.queue.lock().unwrap();
        let n = max.min(q.tasks.len());
        let out: Vec<T> = q.tasks.drain(..n).collect();
        self.len.store(q.tasks.len(), Ordering::SeqCst);
        out
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
