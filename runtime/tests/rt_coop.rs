//! Cooperative budget, LIFO fairness, and yields: busy tasks cannot starve others.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

#[test]
fn consume_budget_lets_others_run_on_one_worker() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let iterations = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let (s, it) = (stop.clone(), iterations.clone());
        let busy = waza::spawn(async move {
            while !s.load(SeqCst) {
                it.fetch_add(1, SeqCst);
                waza::task::consume_budget().await;
            }
        });
        let s = stop.clone();
        let stopper = waza::spawn(async move { s.store(true, SeqCst) });
        stopper.await.unwrap();
        busy.await.unwrap();
    });
    assert!(iterations.load(SeqCst) >= 1);
}

#[test]
fn budget_is_128_per_poll() {
    // Count how many budget units a task can spend before its first forced yield.
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let first_run = rt.block_on(async {
        waza::spawn(async {
            let mut n = 0usize;
            let yielded = Arc::new(AtomicBool::new(false));
            loop {
                let y = yielded.clone();
                let mut spent = Box::pin(waza::task::consume_budget());
                let ready = std::future::poll_fn(|cx| {
                    let r = spent.as_mut().poll(cx);
                    if r.is_pending() {
                        y.store(true, SeqCst);
                    }
                    std::task::Poll::Ready(r.is_ready())
                })
                .await;
                if !ready {
                    break;
                }
                n += 1;
            }
            n
        })
        .await
        .unwrap()
    });
    assert_eq!(first_run, 128);
}

#[test]
fn ping_pong_pair_does_not_starve_a_third_task() {
    // Two tasks that wake each other through rendezvous channels would monopolise the
    // LIFO slot; the cap of 3 LIFO polls and the budget let the third task in.
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let (a_tx, a_rx) = waza::chan::rendezvous::<u32>();
        let (b_tx, b_rx) = waza::chan::rendezvous::<u32>();
        let (s1, r1) = (stop.clone(), rounds.clone());
        let ping = waza::spawn(async move {
            while !s1.load(SeqCst) {
                if a_tx.send(1).await.is_err() {
                    break;
                }
                if b_rx.recv().await.is_none() {
                    break;
                }
                r1.fetch_add(1, SeqCst);
            }
        });
        let pong = waza::spawn(async move {
            while let Some(v) = a_rx.recv().await {
                if b_tx.send(v).await.is_err() {
                    break;
                }
            }
        });
        let s2 = stop.clone();
        let third = waza::spawn(async move { s2.store(true, SeqCst) });
        third.await.unwrap();
        ping.await.unwrap();
        pong.await.unwrap();
    });
    assert!(stop.load(SeqCst));
}

#[test]
fn yield_now_interleaves_tasks_on_one_worker() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = log.clone();
    // spawned from inside a task so both children reach the same worker's queue at once
    let parent = rt.spawn(async move {
        let hs: Vec<_> = (0..2)
            .map(|id| {
                let log = l.clone();
                waza::spawn(async move {
                    for step in 0..3 {
                        log.lock().unwrap().push((id, step));
                        waza::yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    rt.block_on(parent).unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 6);
    // after a yield the other task runs before this one resumes
    for w in log.windows(2) {
        assert_ne!(w[0].0, w[1].0, "{log:?}");
    }
}

/// The cooperative budget never makes a ready arm look pending: a `select!` with
/// `default` whose arm is always ready never runs `default`, however long the loop
/// (the select spends one unit per poll and yields when the budget is gone, instead).
#[test]
fn budget_never_causes_a_false_default() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let defaults = rt.block_on(async {
        waza::spawn(async {
            let mut defaults = 0;
            for _ in 0..2_000 {
                // The arm spends two units, so an odd budget left at some iteration
                // runs out inside the arm, not at the select's own charge.
                let arm = async {
                    waza::task::consume_budget().await;
                    waza::task::consume_budget().await;
                };
                waza::select! {
                    _ = arm => {}
                    default => defaults += 1,
                }
            }
            defaults
        })
        .await
        .unwrap()
    });
    assert_eq!(
        defaults, 0,
        "default ran because the budget made the arm pending"
    );
}
