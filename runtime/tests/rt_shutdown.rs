//! Shutdown drops every task's future exactly once, joins the workers, and never hangs.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Pending forever; counts its drops.
struct Forever(Arc<AtomicUsize>);

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for Forever {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn drop_runtime_drops_pending_futures_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let n = 1000;
    let started = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let f = Forever(drops.clone());
        let started = started.clone();
        drop(rt.spawn(async move {
            started.fetch_add(1, SeqCst);
            f.await
        }));
    }
    // some tasks are parked, some may still be queued: both must be dropped
    assert_eq!(drops.load(SeqCst), 0);
    drop(rt);
    assert_eq!(drops.load(SeqCst), n);
}

#[test]
fn shutdown_timeout_cancels_and_join_handles_report_it() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let hs: Vec<_> = (0..10).map(|_| rt.spawn(Forever(drops.clone()))).collect();
    rt.block_on(async { waza::yield_now().await });
    rt.shutdown_timeout(Duration::from_millis(100));
    assert_eq!(drops.load(SeqCst), 10);
    for h in hs {
        assert!(h.is_finished());
        let err = futures::executor::block_on(h).unwrap_err();
        assert!(err.is_cancelled());
    }
}

#[test]
fn spawn_after_shutdown_is_cancelled_at_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let handle = rt.handle().clone();
    drop(rt);
    let h = handle.spawn(Forever(drops.clone()));
    assert_eq!(drops.load(SeqCst), 1);
    assert!(futures::executor::block_on(h).unwrap_err().is_cancelled());
    assert_eq!(handle.metrics().num_alive_tasks(), 0);
}

#[test]
fn futures_dropped_during_shutdown_may_spawn_and_wake() {
    /// On drop, spawns another task and wakes a stored waker: both must be handled.
    struct Noisy(Arc<AtomicUsize>);
    impl Drop for Noisy {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
            if let Some(h) = waza::Handle::try_current() {
                drop(h.spawn(Forever(self.0.clone())));
            }
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    for _ in 0..50 {
        let n = Noisy(drops.clone());
        drop(rt.spawn(async move {
            let _n = n;
            std::future::pending::<()>().await
        }));
    }
    drop(rt);
    // 50 noisy futures, each of which spawned a `Forever` that was cancelled at once
    assert_eq!(drops.load(SeqCst), 100);
}

#[test]
fn drop_runtime_with_busy_tasks_joins_workers() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let polls = Arc::new(AtomicUsize::new(0));
    for _ in 0..4 {
        let polls = polls.clone();
        drop(rt.spawn(async move {
            loop {
                polls.fetch_add(1, SeqCst);
                waza::yield_now().await;
            }
        }));
    }
    while polls.load(SeqCst) < 100 {
        std::thread::yield_now();
    }
    drop(rt);
    let after = polls.load(SeqCst);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(polls.load(SeqCst), after, "no task runs after drop returns");
}

#[test]
fn blocking_task_queued_at_shutdown_is_cancelled() {
    let rt = waza::Runtime::builder()
        .workers(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let gate = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let g = gate.clone();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let first = rt.handle().spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = g.lock().unwrap().recv();
        1
    });
    started_rx.recv().unwrap(); // the only pool thread is now busy
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let second = rt.handle().spawn_blocking(move || {
        r.fetch_add(1, SeqCst);
    });
    drop(rt);
    drop(tx); // release the first closure
    assert_eq!(futures::executor::block_on(first).unwrap(), 1);
    assert!(futures::executor::block_on(second)
        .unwrap_err()
        .is_cancelled());
    assert_eq!(ran.load(SeqCst), 0);
}
