//! The sync primitives between real waza tasks on several workers: counts are exact.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use waza::sync::{oneshot, Mutex, Notify, OnceCell, RwLock, Semaphore, WaitGroup};

#[waza::test(workers = 4)]
async fn waitgroup_waits_for_every_task() {
    let wg = WaitGroup::new();
    let done = Arc::new(AtomicUsize::new(0));
    for _ in 0..200 {
        wg.add(1);
        let (wg, done) = (wg.clone(), done.clone());
        waza::go!(async move {
            waza::yield_now().await;
            done.fetch_add(1, Ordering::SeqCst);
            wg.done();
        });
    }
    wg.wait().await;
    assert_eq!(done.load(Ordering::SeqCst), 200);
}

#[waza::test(workers = 4)]
async fn mutex_counter_is_exact_across_tasks() {
    let m = Arc::new(Mutex::new(0u64));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let m = m.clone();
            waza::spawn(async move {
                for _ in 0..100 {
                    let mut g = m.lock().await;
                    let v = *g;
                    waza::yield_now().await; // hold the lock across a suspension
                    *g = v + 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*m.lock().await, 6_400);
}

#[waza::test(workers = 4)]
async fn semaphore_bounds_concurrency_of_tasks() {
    let sem = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
            waza::spawn(async move {
                let _p = sem.acquire_owned().await.unwrap();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                waza::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(max.load(Ordering::SeqCst) <= 3);
    assert_eq!(sem.available_permits(), 3);
}

#[waza::test(workers = 2)]
async fn oneshot_and_notify_between_tasks() {
    let (tx, rx) = oneshot::channel();
    let notify = Arc::new(Notify::new());
    let n2 = notify.clone();
    let t = waza::spawn(async move {
        n2.notified().await;
        tx.send("pong").unwrap();
    });
    notify.notify_one();
    assert_eq!(rx.await, Ok("pong"));
    t.await.unwrap();
}

#[waza::test(workers = 4)]
async fn rwlock_and_once_cell_under_tasks() {
    let lock = Arc::new(RwLock::new((0u32, 0u32)));
    let cell = Arc::new(OnceCell::new());
    let inits = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..40u32)
        .map(|i| {
            let (lock, cell, inits) = (lock.clone(), cell.clone(), inits.clone());
            waza::spawn(async move {
                let v = *cell
                    .get_or_init(|| async {
                        inits.fetch_add(1, Ordering::SeqCst);
                        waza::yield_now().await;
                        7u32
                    })
                    .await;
                if i % 4 == 0 {
                    let mut g = lock.write().await;
                    g.0 += v;
                    waza::yield_now().await;
                    g.1 += v;
                } else {
                    let g = lock.read().await;
                    assert_eq!(g.0, g.1);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(inits.load(Ordering::SeqCst), 1);
    assert_eq!(*lock.read().await, (70, 70));
}

#[waza::test(workers = 2)]
async fn waitgroup_go_counts_panicking_and_aborted_tasks() {
    let wg = WaitGroup::new();
    let ok = wg.go(async { 1 });
    let boom = wg.go(async { panic!("task failed") });
    let stuck = wg.go(std::future::pending::<()>());
    assert!(wg.count() <= 3); // some may have finished already
    assert_eq!(ok.await.unwrap(), 1);
    assert!(boom.await.unwrap_err().is_panic());
    stuck.abort();
    wg.wait().await; // the aborted task's future was dropped: done() ran
    assert_eq!(wg.count(), 0);
}

#[test]
#[should_panic(expected = "runtime")]
fn waitgroup_go_outside_runtime_panics() {
    let wg = WaitGroup::new();
    drop(wg.go(async {}));
}

/// Go's `sync.TestWaitGroup`: a group is not released before its count reaches zero.
#[waza::test(workers = 4)]
async fn go_test_waitgroup_two_groups() {
    let n = 16;
    let (wg1, wg2) = (WaitGroup::new(), WaitGroup::new());
    wg1.add(n);
    wg2.add(n);
    let (exited_tx, exited_rx) = waza::chan::bounded::<()>(n);
    for _ in 0..n {
        let (wg1, wg2, exited) = (wg1.clone(), wg2.clone(), exited_tx.clone());
        waza::go!(async move {
            wg1.done();
            wg2.wait().await;
            exited.send(()).await.unwrap();
        });
    }
    wg1.wait().await;
    for _ in 0..n {
        waza::select! {
            _ = exited_rx.recv() => panic!("WaitGroup released group too soon"),
            default => {}
        }
        wg2.done();
    }
    for _ in 0..n {
        exited_rx.recv().await.unwrap();
    }
}

/// Go's `sync.TestParallelReaders`: n readers hold the read lock at the same time.
#[waza::test(workers = 4)]
async fn go_test_parallel_readers() {
    let n = 8;
    let lock = Arc::new(RwLock::new(()));
    let (locked_tx, locked_rx) = waza::chan::unbounded::<()>();
    let (release_tx, release_rx) = waza::chan::unbounded::<()>();
    let (done_tx, done_rx) = waza::chan::unbounded::<()>();
    for _ in 0..n {
        let (lock, locked, release, done) = (
            lock.clone(),
            locked_tx.clone(),
            release_rx.clone(),
            done_tx.clone(),
        );
        waza::go!(async move {
            let _g = lock.read().await;
            locked.send(()).await.unwrap();
            release.recv().await.unwrap(); // still holding the read lock
            drop(_g);
            done.send(()).await.unwrap();
        });
    }
    // Every reader gets in while the others still hold the lock.
    for _ in 0..n {
        locked_rx.recv().await.unwrap();
    }
    assert!(lock.try_write().is_none());
    for _ in 0..n {
        release_tx.send(()).await.unwrap();
    }
    for _ in 0..n {
        done_rx.recv().await.unwrap();
    }
    assert!(lock.try_write().is_some());
}

/// Cancellation storm: lock and acquire futures raced against short timers and dropped
/// mid-wait; every successful critical section is counted, and nothing is lost.
#[waza::test(workers = 4)]
async fn cancellation_storm_conserves_locks_and_permits() {
    use std::time::Duration;
    let m = Arc::new(Mutex::new(0usize));
    let sem = Arc::new(Semaphore::new(2));
    let won = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let (m, sem, won) = (m.clone(), sem.clone(), won.clone());
            waza::spawn(async move {
                for k in 0..30u64 {
                    let d = Duration::from_micros((i * 37 + k * 11) % 400);
                    if let Ok(mut g) = waza::time::timeout(d, m.lock()).await {
                        *g += 1;
                        won.fetch_add(1, Ordering::SeqCst);
                        if k % 5 == 0 {
                            // Hold the lock past other tasks' timeouts.
                            waza::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                    if let Ok(p) = waza::time::timeout(d, sem.acquire()).await {
                        waza::yield_now().await;
                        drop(p);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*m.lock().await, won.load(Ordering::SeqCst));
    assert_eq!(sem.available_permits(), 2);
    assert!(m.try_lock().is_ok());
}

/// A `blocking_*` call inside a task panics with a clear message instead of parking the
/// worker (with one worker, a holder could then never run: a silent deadlock). Every call
/// here could complete at once, so a missing check shows up as a failure, not a hang.
#[waza::test(workers = 1)]
async fn blocking_calls_on_a_worker_panic_instead_of_deadlocking() {
    let m = Arc::new(Mutex::new(0));
    let m2 = m.clone();
    let (tx, rx) = oneshot::channel::<u8>();
    tx.send(1).unwrap();
    let calls: Vec<Box<dyn FnOnce() + Send>> = vec![
        Box::new(move || drop(m2.blocking_lock())),
        Box::new(|| drop(RwLock::new(0).blocking_read())),
        Box::new(|| drop(RwLock::new(0).blocking_write())),
        Box::new(move || {
            let _ = rx.blocking_recv();
        }),
        Box::new(|| WaitGroup::new().wait_blocking()),
    ];
    let mut panicked = 0;
    for call in calls {
        let err = waza::spawn(async move { call() }).await.unwrap_err();
        let msg = err.into_panic().downcast::<String>().unwrap();
        assert!(msg.contains("waza worker thread"), "{msg}");
        panicked += 1;
    }
    assert_eq!(panicked, 5);
    // The mutex is still free: the refused call left no waiter or permit behind.
    assert_eq!(*m.try_lock().unwrap(), 0);
}
