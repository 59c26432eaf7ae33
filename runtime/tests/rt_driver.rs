//! The scheduler drives the I/O and timer driver: timers fire while workers are busy, after
//! `block_on` hands the driver back, and from plain-thread spawns.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn timers_fire_after_block_on_returns() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    // block_on may park on the driver; afterwards a worker must take it over
    rt.block_on(async { waza::time::sleep(Duration::from_millis(1)).await });
    let (tx, rx) = std::sync::mpsc::channel();
    drop(rt.spawn(async move {
        waza::time::sleep(Duration::from_millis(2)).await;
        tx.send(()).unwrap();
    }));
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the timer never fired: nobody is running the driver");
}

#[test]
fn busy_worker_still_fires_timers() {
    // One worker that never runs dry: the timer fires through the periodic driver turn.
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let spins = rt.block_on(async move {
        drop(waza::spawn(async move {
            waza::time::sleep(Duration::from_millis(2)).await;
            f.store(true, SeqCst);
        }));
        let busy = waza::spawn(async move {
            let mut spins = 0u64;
            while !flag.load(SeqCst) {
                spins += 1;
                waza::yield_now().await;
            }
            spins
        });
        busy.await.unwrap()
    });
    assert!(spins > 0);
}

#[test]
fn budget_exhausted_task_yields_to_timers() {
    // A task that only spends budget (never returns Pending on its own) must not starve a
    // timer on the same single worker.
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    rt.block_on(async move {
        drop(waza::spawn(async move {
            waza::time::sleep(Duration::from_millis(2)).await;
            f.store(true, SeqCst);
        }));
        waza::spawn(async move {
            while !flag.load(SeqCst) {
                waza::task::consume_budget().await;
            }
        })
        .await
        .unwrap();
    });
}

#[test]
fn many_sleepers_across_workers() {
    let rt = waza::Runtime::builder().workers(3).build().unwrap();
    let total = rt.block_on(async {
        let hs: Vec<_> = (0..200u64)
            .map(|i| {
                waza::spawn(async move {
                    waza::time::sleep(Duration::from_millis(i % 5)).await;
                    i
                })
            })
            .collect();
        let mut total = 0;
        for h in hs {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..200).sum::<u64>());
}
