//! `block_in_place`: the blocked worker's queue, LIFO slot and driver duty move to a
//! replacement, so the tasks queued behind a blocking call still run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Long enough never to be reached on a healthy run; bounds a failing one.
const NEVER: Duration = Duration::from_secs(20);

#[test]
fn tasks_queued_on_the_only_worker_run_while_it_blocks() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let out = rt.block_on(rt.spawn(async {
        let (tx, rx) = mpsc::channel();
        // Spawned from the worker: it sits in this worker's LIFO slot.
        let helper = waza::spawn(async move { tx.send(7).unwrap() });
        let got = waza::task::block_in_place(|| rx.recv_timeout(NEVER));
        helper.await.unwrap();
        got
    }));
    assert_eq!(out.unwrap(), Ok(7));
}

#[test]
fn timers_fire_while_the_only_worker_blocks() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let out = rt.block_on(rt.spawn(async {
        let (tx, rx) = mpsc::channel();
        waza::spawn(async move {
            waza::time::sleep(Duration::from_millis(2)).await;
            tx.send("slept").unwrap();
        });
        waza::task::block_in_place(|| rx.recv_timeout(NEVER))
    }));
    assert_eq!(out.unwrap(), Ok("slept"));
}

#[test]
fn block_on_inside_block_in_place() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let handle = rt.handle();
    let out = rt.block_on(rt.spawn(async move {
        let h = waza::spawn(async { 20 });
        waza::task::block_in_place(move || handle.block_on(async move { h.await.unwrap() + 1 }))
    }));
    assert_eq!(out.unwrap(), 21);
}

#[test]
fn outside_a_runtime_and_on_a_block_on_thread_it_just_runs() {
    assert_eq!(waza::task::block_in_place(|| 3), 3);
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    assert_eq!(rt.block_on(async { waza::task::block_in_place(|| 4) }), 4);
}

#[test]
fn many_concurrent_blocking_sections_every_task_completes() {
    const TASKS: usize = 64;
    let rt = waza::Runtime::builder().workers(4).build().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    rt.block_on(async move {
        let mut set = waza::task::JoinSet::new();
        for i in 0..TASKS {
            let c = c.clone();
            set.spawn(async move {
                waza::yield_now().await;
                let v = waza::task::block_in_place(|| {
                    std::thread::sleep(Duration::from_micros(200));
                    i
                });
                // The task goes on after the blocking section (on the retired thread,
                // then wherever it is woken).
                waza::yield_now().await;
                c.fetch_add(1, Ordering::SeqCst);
                v
            });
        }
        let mut sum = 0;
        while let Some(v) = set.join_next().await {
            sum += v.unwrap();
        }
        assert_eq!(sum, (0..TASKS).sum::<usize>());
    });
    assert_eq!(count.load(Ordering::SeqCst), TASKS);
    // The runtime still runs tasks on its (replacement) workers, then shuts down.
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
    drop(rt);
}

#[test]
fn a_panic_in_the_blocking_section_fails_only_its_task() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let h = rt.spawn(async { waza::task::block_in_place(|| panic!("blocked and failed")) });
    assert!(rt.block_on(h).unwrap_err().is_panic());
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
}

#[test]
fn dropping_the_runtime_does_not_wait_for_a_blocked_section() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    rt.spawn(async move {
        waza::task::block_in_place(move || {
            entered_tx.send(()).unwrap();
            release_rx.recv_timeout(NEVER).unwrap();
            done_tx.send(()).unwrap();
        });
    });
    entered_rx.recv_timeout(NEVER).unwrap();
    // Returns although the section still blocks (its thread is not joined).
    drop(rt);
    release_tx.send(()).unwrap();
    done_rx.recv_timeout(NEVER).unwrap();
}

#[test]
fn shutdown_during_a_storm_of_blocking_sections() {
    for _ in 0..5 {
        let rt = waza::Runtime::builder().workers(2).build().unwrap();
        let entered = Arc::new(AtomicUsize::new(0));
        for _ in 0..16 {
            let e = entered.clone();
            rt.spawn(async move {
                loop {
                    waza::task::block_in_place(|| {
                        e.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(100));
                    });
                    waza::yield_now().await;
                }
            });
        }
        while entered.load(Ordering::SeqCst) < 32 {
            std::thread::yield_now();
        }
        // Neither hangs nor panics; the sections on retired threads finish on their own.
        drop(rt);
    }
}
