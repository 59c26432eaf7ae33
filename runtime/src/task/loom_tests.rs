//! Loom models of the task state machine racing against itself:
//! wake during poll, wake after completion, a cross-thread wake racing completion, abort
//! racing completion, shutdown racing a run, the `JoinHandle` replacing its waker or
//! dropped while the task completes. Each model checks that the future runs
//! to completion or is dropped exactly once, that the output reaches the handle (or is
//! dropped) exactly once, and that the cell is freed (the scheduler's `Arc` count returns
//! to one).

use super::raw::RawTask;
use super::schedule::*;
use super::*;
use crate::test_support::CountWaker;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::Waker;
use std::task::{Context, Poll};

struct Sched {
    queue: Mutex<VecDeque<Notified>>,
    /// The runtime's registry (two shards under loom).
    registry: registry::Registry,
    notified: AtomicUsize,
}

/// Loom's `Arc` is `Send + Sync` for `Sync` contents; `Schedule` wants a plain wrapper.
#[derive(Clone)]
struct S(Arc<Sched>);

impl Schedule for S {
    type Handoff = S;
    fn handoff(&self) -> S {
        self.clone()
    }
    fn release(&self, task: RawTask) -> bool {
        self.0.registry.remove(task)
    }
}

impl Handoff for S {
    /// Queues the task, then counts a notification: the shape of the runtime's inject
    /// path (push, then notify a parked worker), reading the handoff after the push.
    fn schedule(self, task: Notified) {
        self.0.queue.lock().unwrap().push_back(task);
        self.0.notified.fetch_add(1, SeqCst);
    }
    fn yield_now(self, task: Notified) {
        self.schedule(task);
    }
}

impl S {
    fn new() -> S {
        S(Arc::new(Sched {
            queue: Mutex::new(VecDeque::new()),
            registry: registry::Registry::new(),
            notified: AtomicUsize::new(0),
        }))
    }

    fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(f, self.clone(), Location::caller());
        assert!(self.0.registry.insert(task).is_ok(), "the registry is open");
        self.0.queue.lock().unwrap().push_back(notified);
        join
    }

    fn run_one(&self) -> bool {
        let next = self.0.queue.lock().unwrap().pop_front();
        match next {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }

    fn run_all(&self) {
        while self.run_one() {}
    }
}

/// Pending until `open`, storing its waker; counts its own drops.
struct Gate {
    open: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
    drops: Arc<AtomicUsize>,
}

impl Future for Gate {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        if self.open.load(SeqCst) {
            Poll::Ready(42)
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

struct Ctl {
    open: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
    drops: Arc<AtomicUsize>,
}

fn gate() -> (Gate, Ctl) {
    let ctl = Ctl {
        open: Arc::new(AtomicBool::new(false)),
        slot: Arc::new(Mutex::new(None)),
        drops: Arc::new(AtomicUsize::new(0)),
    };
    let g = Gate {
        open: ctl.open.clone(),
        slot: ctl.slot.clone(),
        drops: ctl.drops.clone(),
    };
    (g, ctl)
}

fn noop_waker() -> Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    Waker::from(std::sync::Arc::new(Noop))
}

fn join_now<T>(h: &mut JoinHandle<T>) -> Poll<Result<T>> {
    let w = noop_waker();
    Pin::new(h).poll(&mut Context::from_waker(&w))
}

#[test]
fn loom_wake_during_poll() {
    loom::model(|| {
        let s = S::new();
        let (g, ctl) = gate();
        let mut h = s.spawn(g);
        // the first poll runs on another thread while we open the gate and wake
        let s2 = s.clone();
        let runner = thread::spawn(move || s2.run_all());
        ctl.open.store(true, SeqCst);
        let w = ctl.slot.lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
        runner.join().unwrap();
        s.run_all();
        assert!(matches!(join_now(&mut h), Poll::Ready(Ok(42))));
        assert_eq!(ctl.drops.load(SeqCst), 1);
        drop(h);
        drop(ctl.slot.lock().unwrap().take());
        assert_eq!(Arc::strong_count(&s.0), 1, "task freed");
    });
}

#[test]
fn loom_wake_after_completion() {
    loom::model(|| {
        let s = S::new();
        let (g, ctl) = gate();
        ctl.open.store(true, SeqCst);
        let h = s.spawn(g);
        // give the other thread a waker by running the first poll here
        let s2 = s.clone();
        let runner = thread::spawn(move || s2.run_all());
        let w = ctl.slot.lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
        runner.join().unwrap();
        s.run_all();
        assert!(h.is_finished());
        drop(h);
        drop(ctl.slot.lock().unwrap().take());
        assert_eq!(ctl.drops.load(SeqCst), 1);
        assert_eq!(Arc::strong_count(&s.0), 1);
    });
}

#[test]
fn loom_abort_racing_completion() {
    loom::model(|| {
        let s = S::new();
        let (g, ctl) = gate();
        ctl.open.store(true, SeqCst);
        let mut h = s.spawn(g);
        let s2 = s.clone();
        let runner = thread::spawn(move || s2.run_all());
        h.abort();
        runner.join().unwrap();
        s.run_all();
        match join_now(&mut h) {
            Poll::Ready(Ok(42)) => {}
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            _ => panic!("task must be finished"),
        }
        assert_eq!(ctl.drops.load(SeqCst), 1);
        drop(h);
        drop(ctl.slot.lock().unwrap().take());
        assert_eq!(Arc::strong_count(&s.0), 1);
    });
}

#[test]
fn loom_join_handle_drop_racing_completion() {
    struct Out(Arc<AtomicUsize>);
    impl Drop for Out {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    loom::model(|| {
        let s = S::new();
        let out_drops = Arc::new(AtomicUsize::new(0));
        let out = Out(out_drops.clone());
        let mut h = s.spawn(async move { out });
        // register a join waker first, so completion has one to wake
        assert!(join_now(&mut h).is_pending());
        let s2 = s.clone();
        let runner = thread::spawn(move || s2.run_all());
        drop(h);
        runner.join().unwrap();
        assert_eq!(out_drops.load(SeqCst), 1, "output dropped exactly once");
        assert_eq!(Arc::strong_count(&s.0), 1);
    });
}

#[test]
fn loom_detached_handle_drop_racing_completion() {
    // The handle never registers a waker, so its drop releases its reference in the same
    // read-modify-write that clears JOIN_INTEREST (state.rs protocol 6).
    struct Out(Arc<AtomicUsize>);
    impl Drop for Out {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    loom::model(|| {
        let s = S::new();
        let out_drops = Arc::new(AtomicUsize::new(0));
        let out = Out(out_drops.clone());
        let h = s.spawn(async move { out });
        let s2 = s.clone();
        let runner = thread::spawn(move || s2.run_all());
        drop(h);
        runner.join().unwrap();
        assert_eq!(out_drops.load(SeqCst), 1, "output dropped exactly once");
        assert_eq!(Arc::strong_count(&s.0), 1, "the task was freed");
    });
}

/// Ready once `open`; stores its waker only while it waits (so that completing frees the
/// task as soon as the runner lets go).
struct Latch {
    open: Arc<AtomicBool>,
    slot: Arc<Mutex<Option<Waker>>>,
    drops: Arc<AtomicUsize>,
}

impl Future for Latch {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.open.load(SeqCst) {
            return Poll::Ready(());
        }
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Latch {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

fn latch() -> (Latch, Ctl) {
    let ctl = Ctl {
        open: Arc::new(AtomicBool::new(false)),
        slot: Arc::new(Mutex::new(None)),
        drops: Arc::new(AtomicUsize::new(0)),
    };
    let l = Latch {
        open: ctl.open.clone(),
        slot: ctl.slot.clone(),
        drops: ctl.drops.clone(),
    };
    (l, ctl)
}

/// A detached task woken by value from a thread that is not its runner (the `inject`
/// path: hand the task over, then notify) while the runner completes it. The runner may
/// free the cell, and the scheduler stored in it, before the hand-off returns: whatever
/// the scheduler does after the hand-off must not need the cell.
#[test]
fn loom_cross_thread_wake_racing_completion() {
    loom::model(|| {
        let s = S::new();
        let (l, ctl) = latch();
        drop(s.spawn(l)); // detached
        s.run_all(); // the first poll: pending, its waker stored
        ctl.open.store(true, SeqCst);
        let w = ctl.slot.lock().unwrap().take().expect("the latch waits");
        let waker = thread::spawn(move || w.wake());
        s.run_all(); // may run the task before the wake's hand-off returned
        waker.join().unwrap();
        s.run_all();
        assert_eq!(ctl.drops.load(SeqCst), 1, "the future dropped once");
        assert_eq!(s.0.notified.load(SeqCst), 1, "one hand-off, notified once");
        assert_eq!(Arc::strong_count(&s.0), 1, "the task was freed");
    });
}

/// Runtime shutdown (the registry's close, which cancels every task it unlinks) while a
/// worker runs the task (protocol 4 racing protocol 1). With the latch open the run may
/// complete first, and its `release` then races the registry being emptied. Either way the future (or
/// output) is dropped once, the handle sees the result or a cancellation, and the cell
/// is freed.
#[test]
fn loom_shutdown_racing_a_run() {
    for open in [false, true] {
        loom::model(move || {
            let s = S::new();
            let (l, ctl) = latch();
            ctl.open.store(open, SeqCst);
            let mut h = s.spawn(l);
            let s2 = s.clone();
            let runner = thread::spawn(move || s2.run_all());
            s.0.registry.close_and_shutdown_all();
            runner.join().unwrap();
            s.run_all();
            match join_now(&mut h) {
                Poll::Ready(Ok(())) => assert!(open, "a shut latch never completes"),
                Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
                Poll::Pending => panic!("shutdown leaves no task unfinished"),
            }
            assert_eq!(ctl.drops.load(SeqCst), 1, "the future dropped once");
            drop(h);
            drop(ctl.slot.lock().unwrap().take());
            assert_eq!(s.0.registry.alive(), 0);
            assert_eq!(Arc::strong_count(&s.0), 1, "the task was freed");
        });
    }
}

/// The `JoinHandle` is polled again with a different waker (protocol 5: take the slot
/// back, store the new waker, publish it) while the task completes on another thread:
/// either the poll sees the output, or completion wakes the new waker. The old waker is
/// woken only if completion came first (then the poll sees the output), and neither
/// waker is leaked.
#[test]
fn loom_join_waker_replaced_racing_completion() {
    loom::model(|| {
        let s = S::new();
        let (l, ctl) = latch();
        let mut h = s.spawn(l);
        let (a, wa) = CountWaker::new();
        let (b, wb) = CountWaker::new();
        assert!(Pin::new(&mut h)
            .poll(&mut Context::from_waker(&wa))
            .is_pending());
        s.run_all(); // the first poll: pending
        ctl.open.store(true, SeqCst);
        ctl.slot.lock().unwrap().take().expect("waits").wake();
        let s2 = s.clone();
        let runner = thread::spawn(move || s2.run_all());
        let ready = Pin::new(&mut h)
            .poll(&mut Context::from_waker(&wb))
            .is_ready();
        runner.join().unwrap();
        let (woke_a, woke_b) = (a.wakes(), b.wakes());
        assert!(woke_a + woke_b <= 1, "one completion, one wake");
        if !ready {
            assert_eq!((woke_a, woke_b), (0, 1), "the new waker is woken");
            assert!(join_now(&mut h).is_ready());
        }
        drop(h);
        drop((wa, wb));
        assert_eq!(std::sync::Arc::strong_count(&a), 1, "old waker released");
        assert_eq!(std::sync::Arc::strong_count(&b), 1, "new waker released");
        assert_eq!(ctl.drops.load(SeqCst), 1);
        assert_eq!(Arc::strong_count(&s.0), 1, "the task was freed");
    });
}
