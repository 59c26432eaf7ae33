//! Harness unit tests on a hand-driven scheduler: exact counts of polls, schedules,
//! drops and frees after each step. Single-threaded, so they also run under Miri.

use super::raw::RawTask;
use super::schedule::*;
use super::*;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::task::{Context, Poll};

#[derive(Default)]
struct TestSched {
    queue: Mutex<VecDeque<Notified>>,
    registry: Mutex<Vec<Task>>,
    scheduled: AtomicUsize,
    yielded: AtomicUsize,
}

impl Schedule for Arc<TestSched> {
    type Handoff = Self;
    fn handoff(&self) -> Self {
        self.clone()
    }
    fn release(&self, task: RawTask) -> bool {
        let mut reg = self.registry.lock().unwrap();
        let Some(i) = reg.iter().position(|t| t.raw() == task) else {
            return false;
        };
        std::mem::forget(reg.swap_remove(i));
        true
    }
}

impl Handoff for Arc<TestSched> {
    fn schedule(self, task: Notified) {
        self.scheduled.fetch_add(1, SeqCst);
        self.queue.lock().unwrap().push_back(task);
    }
    fn yield_now(self, task: Notified) {
        self.yielded.fetch_add(1, SeqCst);
        self.queue.lock().unwrap().push_back(task);
    }
}

impl TestSched {
    fn spawn<F>(self: &Arc<Self>, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(f, self.clone(), Location::caller());
        self.registry.lock().unwrap().push(task);
        self.queue.lock().unwrap().push_back(notified);
        join
    }

    fn run_all(&self) -> usize {
        let mut n = 0;
        loop {
            let next = self.queue.lock().unwrap().pop_front();
            let Some(task) = next else { return n };
            task.run();
            n += 1;
        }
    }
}

/// Counts drops.
struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

use crate::test_support::CountWaker;

fn poll_join<T>(h: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T>> {
    let mut cx = Context::from_waker(waker);
    Pin::new(h).poll(&mut cx)
}

/// A future that stores its waker and completes once `flag` is set.
struct Gate {
    open: Arc<std::sync::atomic::AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
    _drop: DropCount,
}

impl Future for Gate {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        self.polls.fetch_add(1, SeqCst);
        if self.open.load(SeqCst) {
            return Poll::Ready(7);
        }
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

struct GateCtl {
    open: Arc<std::sync::atomic::AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

fn gate() -> (Gate, GateCtl) {
    let ctl = GateCtl {
        open: Default::default(),
        waker: Default::default(),
        polls: Default::default(),
        drops: Default::default(),
    };
    let g = Gate {
        open: ctl.open.clone(),
        waker: ctl.waker.clone(),
        polls: ctl.polls.clone(),
        _drop: DropCount(ctl.drops.clone()),
    };
    (g, ctl)
}

impl GateCtl {
    fn open_and_wake(&self) {
        self.open.store(true, SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

#[test]
fn poll_pending_wake_complete_join() {
    let sched = Arc::new(TestSched::default());
    let (g, ctl) = gate();
    let mut h = sched.spawn(g);
    let jw = Arc::new(CountWaker::default());
    let join_waker = Waker::from(jw.clone());
    assert!(poll_join(&mut h, &join_waker).is_pending());
    assert_eq!(sched.run_all(), 1);
    assert_eq!(ctl.polls.load(SeqCst), 1);
    assert_eq!(sched.scheduled.load(SeqCst), 0);
    ctl.open_and_wake();
    assert_eq!(sched.scheduled.load(SeqCst), 1);
    assert_eq!(sched.run_all(), 1);
    assert_eq!(ctl.polls.load(SeqCst), 2);
    assert_eq!(ctl.drops.load(SeqCst), 1, "future dropped at completion");
    assert_eq!(jw.wakes(), 1, "join waker woken once");
    assert!(h.is_finished());
    assert!(matches!(poll_join(&mut h, &join_waker), Poll::Ready(Ok(7))));
    drop(h);
    assert_eq!(Arc::strong_count(&sched), 1, "task freed");
}

#[test]
fn wake_during_poll_is_a_yield() {
    struct SelfWake(u32);
    impl Future for SelfWake {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 == 0 {
                return Poll::Ready(());
            }
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    let sched = Arc::new(TestSched::default());
    let h = sched.spawn(SelfWake(3));
    assert_eq!(sched.run_all(), 4);
    assert_eq!(sched.yielded.load(SeqCst), 3);
    assert_eq!(sched.scheduled.load(SeqCst), 0);
    assert!(h.is_finished());
    drop(h);
    assert_eq!(Arc::strong_count(&sched), 1);
}

#[test]
fn abort_idle_task_drops_future_once() {
    let sched = Arc::new(TestSched::default());
    let (g, ctl) = gate();
    let mut h = sched.spawn(g);
    sched.run_all();
    h.abort();
    assert_eq!(sched.scheduled.load(SeqCst), 1);
    h.abort();
    assert_eq!(sched.scheduled.load(SeqCst), 1, "second abort is a no-op");
    assert_eq!(sched.run_all(), 1);
    assert_eq!(ctl.polls.load(SeqCst), 1, "aborted run does not poll");
    assert_eq!(ctl.drops.load(SeqCst), 1);
    let w = Waker::from(Arc::new(CountWaker::default()));
    match poll_join(&mut h, &w) {
        Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
        other => panic!("{:?}", other.map(|r| r.map(|_| ()))),
    }
    // the stale waker held by the gate still works and frees nothing twice
    ctl.open_and_wake();
    assert_eq!(sched.scheduled.load(SeqCst), 1);
    drop(h);
    drop(ctl);
    assert_eq!(Arc::strong_count(&sched), 1);
}

#[test]
fn abort_after_completion_keeps_output() {
    let sched = Arc::new(TestSched::default());
    let mut h = sched.spawn(async { 5u8 });
    sched.run_all();
    h.abort();
    assert_eq!(sched.scheduled.load(SeqCst), 0);
    let w = Waker::from(Arc::new(CountWaker::default()));
    assert!(matches!(poll_join(&mut h, &w), Poll::Ready(Ok(5))));
}

#[test]
fn panic_in_poll_becomes_join_error() {
    let sched = Arc::new(TestSched::default());
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(drops.clone());
    let mut h = sched.spawn(async move {
        let _g = guard;
        panic!("boom");
    });
    assert_eq!(sched.run_all(), 1);
    assert_eq!(drops.load(SeqCst), 1);
    let w = Waker::from(Arc::new(CountWaker::default()));
    let Poll::Ready(Err(e)) = poll_join(&mut h, &w) else {
        panic!("expected a panic error")
    };
    assert!(e.is_panic());
    assert!(e.to_string().contains("boom"), "{e}");
    assert_eq!(*e.into_panic().downcast::<&str>().unwrap(), "boom");
}

#[test]
fn panic_in_future_drop_during_abort_is_caught() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop boom");
        }
    }
    let sched = Arc::new(TestSched::default());
    let mut h = sched.spawn(async move {
        let _p = PanicOnDrop;
        std::future::pending::<()>().await;
    });
    sched.run_all();
    h.abort();
    sched.run_all();
    let w = Waker::from(Arc::new(CountWaker::default()));
    let Poll::Ready(Err(e)) = poll_join(&mut h, &w) else {
        panic!("expected an error")
    };
    assert!(e.is_panic());
}

#[test]
fn detached_task_drops_output_at_completion() {
    let sched = Arc::new(TestSched::default());
    let drops = Arc::new(AtomicUsize::new(0));
    let out = DropCount(drops.clone());
    let h = sched.spawn(async move { out });
    drop(h);
    assert_eq!(drops.load(SeqCst), 0);
    sched.run_all();
    assert_eq!(drops.load(SeqCst), 1);
    assert_eq!(Arc::strong_count(&sched), 1);
}

#[test]
fn join_handle_dropped_after_completion_drops_output() {
    let sched = Arc::new(TestSched::default());
    let drops = Arc::new(AtomicUsize::new(0));
    let out = DropCount(drops.clone());
    let h = sched.spawn(async move { out });
    sched.run_all();
    assert_eq!(drops.load(SeqCst), 0);
    drop(h);
    assert_eq!(drops.load(SeqCst), 1);
    assert_eq!(Arc::strong_count(&sched), 1);
}

#[test]
fn join_waker_replaced_when_different() {
    let sched = Arc::new(TestSched::default());
    let (g, ctl) = gate();
    let mut h = sched.spawn(g);
    let a = Arc::new(CountWaker::default());
    let b = Arc::new(CountWaker::default());
    let wa = Waker::from(a.clone());
    let wb = Waker::from(b.clone());
    assert!(poll_join(&mut h, &wa).is_pending());
    assert!(poll_join(&mut h, &wa).is_pending());
    assert!(poll_join(&mut h, &wb).is_pending());
    assert_eq!(Arc::strong_count(&a), 2, "old waker released");
    sched.run_all();
    ctl.open_and_wake();
    sched.run_all();
    assert_eq!((a.wakes(), b.wakes()), (0, 1));
    assert!(matches!(poll_join(&mut h, &wb), Poll::Ready(Ok(7))));
}

#[test]
fn shutdown_cancels_idle_and_queued_tasks() {
    let sched = Arc::new(TestSched::default());
    let (g1, c1) = gate();
    let (g2, c2) = gate();
    let mut h1 = sched.spawn(g1);
    sched.run_all();
    let mut h2 = sched.spawn(g2); // still queued
    let tasks: Vec<Task> = std::mem::take(&mut *sched.registry.lock().unwrap());
    for t in tasks {
        t.shutdown();
    }
    assert_eq!((c1.drops.load(SeqCst), c2.drops.load(SeqCst)), (1, 1));
    assert_eq!(sched.run_all(), 1, "the stale queued run is discarded");
    assert_eq!(c2.polls.load(SeqCst), 0);
    let w = Waker::from(Arc::new(CountWaker::default()));
    assert!(matches!(poll_join(&mut h1, &w), Poll::Ready(Err(ref e)) if e.is_cancelled()));
    assert!(matches!(poll_join(&mut h2, &w), Poll::Ready(Err(ref e)) if e.is_cancelled()));
    drop((h1, h2, c1, c2));
    assert_eq!(Arc::strong_count(&sched), 1);
}

#[test]
fn waker_clone_and_drop_keep_task_alive() {
    let sched = Arc::new(TestSched::default());
    let (g, ctl) = gate();
    let h = sched.spawn(g);
    sched.run_all();
    let w = ctl.waker.lock().unwrap().clone().unwrap();
    let w2 = w.clone();
    drop(h);
    drop(w);
    ctl.open_and_wake();
    sched.run_all();
    assert_eq!(Arc::strong_count(&sched), 2, "w2 keeps the cell");
    w2.wake_by_ref(); // complete: no schedule
    assert_eq!(sched.scheduled.load(SeqCst), 1);
    drop(w2);
    assert_eq!(Arc::strong_count(&sched), 1);
}

mod registry_tests {
    use super::*;
    use crate::task::registry::Registry;

    /// A scheduler whose registry is the real sharded one.
    struct RegSched {
        registry: Registry,
        queue: Mutex<VecDeque<Notified>>,
    }

    impl Schedule for Arc<RegSched> {
        type Handoff = Self;
        fn handoff(&self) -> Self {
            self.clone()
        }
        fn release(&self, task: RawTask) -> bool {
            self.registry.remove(task)
        }
    }

    impl Handoff for Arc<RegSched> {
        fn schedule(self, task: Notified) {
            self.queue.lock().unwrap().push_back(task);
        }
        fn yield_now(self, task: Notified) {
            self.schedule(task);
        }
    }

    fn sched() -> Arc<RegSched> {
        Arc::new(RegSched {
            registry: Registry::new(),
            queue: Mutex::new(VecDeque::new()),
        })
    }

    fn spawn_pending(s: &Arc<RegSched>, drops: &Arc<AtomicUsize>) -> JoinHandle<()> {
        let guard = DropCount(drops.clone());
        let fut = async move {
            let _g = guard;
            std::future::pending::<()>().await
        };
        let (task, notified, join) = new_task(fut, s.clone(), Location::caller());
        assert!(s.registry.insert(task).is_ok());
        s.clone().schedule(notified);
        join
    }

    fn run_all(s: &Arc<RegSched>) {
        loop {
            let next = s.queue.lock().unwrap().pop_front();
            let Some(t) = next else { return };
            t.run();
        }
    }

    #[test]
    fn insert_remove_in_any_order() {
        let s = sched();
        let drops = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..10).map(|_| spawn_pending(&s, &drops)).collect();
        run_all(&s);
        assert_eq!(s.registry.alive(), 10);
        let mut live = 0;
        s.registry.visit(|_| live += 1);
        assert_eq!(live, 10);
        // abort every other task: they complete and leave the registry
        for h in hs.iter().step_by(2) {
            h.abort();
        }
        run_all(&s);
        assert_eq!(drops.load(SeqCst), 5);
        assert_eq!(s.registry.alive(), 5);
        let mut ids = Vec::new();
        s.registry.visit(|h| ids.push(h.id.0));
        ids.sort_unstable();
        let expect: Vec<u64> = hs.iter().skip(1).step_by(2).map(|h| h.task_id()).collect();
        assert_eq!(ids, expect);
        s.registry.close_and_shutdown_all();
        assert_eq!(drops.load(SeqCst), 10);
        assert_eq!(s.registry.alive(), 0);
        assert_eq!(s.registry.spawned(), 10);
        drop(hs);
        assert_eq!(Arc::strong_count(&s), 1, "every task freed");
    }

    #[test]
    fn insert_after_close_is_refused() {
        let s = sched();
        s.registry.close_and_shutdown_all();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(drops.clone());
        let (task, notified, mut join) =
            new_task(async move { drop(guard) }, s.clone(), Location::caller());
        let task = s.registry.insert(task).unwrap_err();
        drop(notified);
        task.shutdown();
        assert_eq!(drops.load(SeqCst), 1);
        let w = Waker::from(Arc::new(CountWaker::default()));
        assert!(matches!(poll_join(&mut join, &w), Poll::Ready(Err(ref e)) if e.is_cancelled()));
        drop(join);
        assert_eq!(Arc::strong_count(&s), 1);
    }
}

/// A task handed to another thread while the scheduler is still working: the shape of a
/// wake from a thread that is not the task's worker (the scheduler pushes to the inject
/// queue, then notifies a parked worker). Here the other thread runs the task to
/// completion, which frees the cell, before the scheduler finishes; the scheduler must
/// not be reading anything of the cell by then. Under Miri, both tests reported the cell
/// freed while the scheduler's `&self`, borrowed from it, was still in use, before the
/// hand-off was split into `Schedule::handoff` and an owned `Handoff`.
mod cross_thread_handoff {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Hands each task to the runner thread, waits until it ran, then "notifies".
    #[derive(Default)]
    struct Relay {
        slot: Mutex<Option<Notified>>,
        ran: AtomicBool,
        notified: AtomicUsize,
        registry: Mutex<Vec<Task>>,
    }

    impl Relay {
        fn hand_off(&self, task: Notified) {
            *self.slot.lock().unwrap() = Some(task);
            // The runner may complete and free the task meanwhile.
            while !self.ran.load(SeqCst) {
                std::thread::yield_now();
            }
            self.notified.fetch_add(1, SeqCst);
        }

        /// The runner: takes one task, runs it, reports.
        fn run_one(self: Arc<Self>) -> std::thread::JoinHandle<()> {
            std::thread::spawn(move || loop {
                let task = self.slot.lock().unwrap().take();
                if let Some(task) = task {
                    task.run();
                    self.ran.store(true, SeqCst);
                    return;
                }
                std::thread::yield_now();
            })
        }
    }

    impl Schedule for Arc<Relay> {
        type Handoff = Self;
        fn handoff(&self) -> Self {
            self.clone()
        }
        fn release(&self, task: RawTask) -> bool {
            let mut reg = self.registry.lock().unwrap();
            let Some(i) = reg.iter().position(|t| t.raw() == task) else {
                return false;
            };
            std::mem::forget(reg.swap_remove(i));
            true
        }
    }

    impl Handoff for Arc<Relay> {
        fn schedule(self, task: Notified) {
            self.hand_off(task);
        }
        fn yield_now(self, task: Notified) {
            self.hand_off(task);
        }
    }

    fn spawn_detached<F>(s: &Arc<Relay>, f: F) -> Notified
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (task, notified, join) = new_task(f, s.clone(), Location::caller());
        s.registry.lock().unwrap().push(task);
        drop(join);
        notified
    }

    /// A detached task woken by value from this thread while the runner completes it.
    #[test]
    fn wake_by_value_racing_completion_on_another_thread() {
        let s = Arc::new(Relay::default());
        let (g, ctl) = gate();
        let first = spawn_detached(&s, async move {
            g.await;
        });
        first.run(); // the first poll, here: the gate is shut, its waker stored
        assert_eq!(ctl.polls.load(SeqCst), 1);
        let runner = s.clone().run_one();
        ctl.open_and_wake(); // by value: the waker's reference becomes the Notified
        runner.join().unwrap();
        assert_eq!(ctl.polls.load(SeqCst), 2);
        assert_eq!(ctl.drops.load(SeqCst), 1);
        assert_eq!(s.notified.load(SeqCst), 1);
        assert_eq!(Arc::strong_count(&s), 1, "the task was freed");
    }

    /// A task woken during its own poll is re-queued by its runner (a yield) and run to
    /// completion by another thread before the yield returns.
    #[test]
    fn yield_racing_completion_on_another_thread() {
        struct WakeSelfOnce(bool, Arc<AtomicUsize>);
        impl Future for WakeSelfOnce {
            type Output = ();
            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
                self.1.fetch_add(1, SeqCst);
                if std::mem::replace(&mut self.0, true) {
                    return Poll::Ready(());
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
        let s = Arc::new(Relay::default());
        let polls = Arc::new(AtomicUsize::new(0));
        let first = spawn_detached(&s, WakeSelfOnce(false, polls.clone()));
        let runner = s.clone().run_one();
        first.run(); // pending, woken during the poll: yielded to the runner
        runner.join().unwrap();
        assert_eq!(polls.load(SeqCst), 2);
        assert_eq!(s.notified.load(SeqCst), 1);
        assert_eq!(Arc::strong_count(&s), 1, "the task was freed");
    }
}
