//! The blocking pool behind [`spawn_blocking`](crate::spawn_blocking).
//!
//! A closure becomes an ordinary task (one allocation, a `JoinHandle`) whose future calls
//! it once. Its scheduler is the pool: a mutex-protected FIFO served by threads started on
//! demand, up to `max_threads`. A thread with nothing to do waits `keep_alive` (10 s) for
//! work, then retires. Blocking tasks are not in the runtime's registry and are never
//! stolen by workers.
//!
//! # Protocol
//!
//! 1. **Push**: under the lock, refuse (shut the task down) if the pool is closed; else
//!    queue it, then wake an idle thread if one is not already being woken
//!    (`num_idle > num_notify`), else start a thread if below the limit.
//! 2. **Thread loop**: run queued tasks (outside the lock); when the queue is empty, wait
//!    on the condvar; a notified waiter consumes one `num_notify`; a waiter that timed out
//!    with nothing queued retires.
//! 3. **Shutdown**: close, take the queue, wake everyone; queued tasks are cancelled (their
//!    closures dropped unrun); running closures finish on their own (threads are not
//!    joined, as a blocking call cannot be interrupted). `shutdown(Some(d))` waits up to
//!    `d` for the threads to exit.

use crate::loom::std_sync::{Arc, Condvar, Mutex};
use crate::scheduler::coop;
use crate::scheduler::Shared;
use crate::task::join::JoinHandle;
use crate::task::raw::RawTask;
use crate::task::schedule::{self as task, Handoff, Notified, Schedule};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Default limit on blocking threads.
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;
/// How long an idle blocking thread waits for work before exiting.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The pool of one runtime.
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Signalled when work is queued (or at shutdown).
    work: Condvar,
    /// Signalled when the last thread exits.
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
}

struct State {
    queue: VecDeque<Notified>,
    num_threads: usize,
    num_idle: usize,
    num_notify: usize,
    next_thread_id: usize,
    closed: bool,
}

/// The scheduler of a blocking task: the pool's queue.
struct BlockingSchedule(Arc<Inner>);

/// The future of a blocking task: calls the closure once.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after completion");
        Poll::Ready(coop::with_budget(coop::Budget::unconstrained(), f))
    }
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration, thread_name: String) -> Self {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    num_threads: 0,
                    num_idle: 0,
                    num_notify: 0,
                    next_thread_id: 0,
                    closed: false,
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                max_threads: max_threads.max(1),
                keep_alive,
                thread_name,
            }),
        }
    }

    /// Spawns `f` on the pool; `handle` becomes the pool thread's current runtime.
    pub(crate) fn spawn<F, R>(
        &self,
        f: F,
        handle: &Arc<Shared>,
        location: &'static Location<'static>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let sched = BlockingSchedule(self.inner.clone());
        let (task, notified, join) = task::new_task(BlockingTask(Some(f)), sched, location);
        // Blocking tasks are not registered: release the registry's reference now.
        drop(task);
        self.inner.push(notified, Some(handle));
        join
    }

    /// Number of live pool threads.
    pub(crate) fn num_threads(&self) -> usize {
        self.inner.state.lock().unwrap().num_threads
    }

    /// True if no closure is queued or running.
    pub(crate) fn is_idle(&self) -> bool {
        let st = self.inner.state.lock().unwrap();
        st.queue.is_empty() && st.num_idle == st.num_threads
    }

    /// Protocol 3.
    pub(crate) fn shutdown(&self, wait: Option<Duration>) {
        let queued = {
            let mut st = self.inner.state.lock().unwrap();
            st.closed = true;
            std::mem::take(&mut st.queue)
        };
        self.inner.work.notify_all();
        for task in queued {
            task.shutdown();
        }
        if let Some(wait) = wait {
            self.inner.wait_exited(wait);
        }
    }
}

impl Inner {
    /// Protocol 1. `handle` is needed to start a thread; a re-schedule from inside the
    /// pool passes `None` and relies on the running threads.
    fn push(self: &Arc<Self>, task: Notified, handle: Option<&Arc<Shared>>) {
        let mut st = self.state.lock().unwrap();
        if st.closed {
            drop(st);
            return task.shutdown();
        }
        st.queue.push_back(task);
        if st.num_idle > st.num_notify {
            st.num_notify += 1;
            drop(st);
            self.work.notify_one();
            return;
        }
        let Some(handle) = handle.cloned().or_else(crate::scheduler::current::current) else {
            return;
        };
        if st.num_threads < self.max_threads {
            self.start_thread(&mut st, handle);
        }
    }

    fn start_thread(self: &Arc<Self>, st: &mut State, handle: Arc<Shared>) {
        let id = st.next_thread_id;
        let inner = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("{}-blocking-{id}", self.thread_name))
            .spawn(move || inner.thread_main(handle));
        if spawned.is_ok() {
            st.num_threads += 1;
            st.next_thread_id += 1;
        }
        // On failure the task stays queued for the threads that exist (or for shutdown).
    }

    /// Protocol 2.
    fn thread_main(self: Arc<Self>, handle: Arc<Shared>) {
        let _enter = crate::scheduler::current::enter(handle);
        let mut st = self.state.lock().unwrap();
        loop {
            while let Some(task) = st.queue.pop_front() {
                drop(st);
                task.run();
                st = self.state.lock().unwrap();
            }
            if st.closed {
                break;
            }
            st.num_idle += 1;
            let (guard, res) = self.work.wait_timeout(st, self.keep_alive).unwrap();
            st = guard;
            st.num_idle -= 1;
            if st.num_notify > 0 {
                st.num_notify -= 1;
                continue;
            }
            if res.timed_out() && st.queue.is_empty() {
                break;
            }
        }
        st.num_threads -= 1;
        if st.num_threads == 0 {
            self.exited.notify_all();
        }
    }

    fn wait_exited(&self, wait: Duration) {
        let deadline = Instant::now() + wait;
        let mut st = self.state.lock().unwrap();
        while st.num_threads > 0 {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            st = self.exited.wait_timeout(st, deadline - now).unwrap().0;
        }
    }
}

impl Schedule for BlockingSchedule {
    /// A clone of the pool: a blocking task is re-scheduled only by an abort, off the hot
    /// path, and the push reads the pool after queueing the task.
    type Handoff = BlockingSchedule;

    fn handoff(&self) -> BlockingSchedule {
        BlockingSchedule(self.0.clone())
    }

    fn release(&self, _task: RawTask) -> bool {
        false
    }
}

impl Handoff for BlockingSchedule {
    fn schedule(self, task: Notified) {
        self.0.push(task, None);
    }

    fn yield_now(self, task: Notified) {
        self.0.push(task, None);
    }
}
