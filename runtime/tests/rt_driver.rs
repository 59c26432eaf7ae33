//! The scheduler drives the I/O and timer driver: timers fire while workers are busy, after
//! `block_on` hands the driver back, and from plain-thread spawns.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// Tasks spawned after the sleepers registered: never polled when the timers fire.
const BACKLOG: usize = 20_000;
/// Sleepers that all become due at once, behind the backlog.
const SLEEPERS: usize = 500;

/// Spawns [`SLEEPERS`] sleepers on a one-worker runtime, waits until each registered its
/// timer, then spawns [`BACKLOG`] counting tasks and blocks the worker past the deadline.
/// Returns, for each sleeper, how many backlog tasks had run when it woke (after checking
/// that every backlog task ran once).
fn backlog_seen_by_woken_sleepers(via_block_on: bool) -> Vec<usize> {
    // The blocked-worker monitor off: the worker's long poll below stands for a busy
    // worker, whose queue must stay where it is (rt_blocked_poll tests the monitor).
    let rt = waza::Runtime::builder()
        .workers(1)
        .blocked_poll_threshold(Duration::MAX)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let registered = Arc::new(AtomicUsize::new(0));
    let main = async move {
        // Far enough that the sleepers register before it on any machine; if they do not,
        // they complete at once and the assertion below still holds.
        let deadline = Instant::now() + Duration::from_millis(100);
        let sleepers: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                let (ran, registered) = (ran.clone(), registered.clone());
                waza::spawn(async move {
                    let sleep = waza::time::sleep_until(deadline);
                    registered.fetch_add(1, SeqCst);
                    sleep.await;
                    ran.load(SeqCst)
                })
            })
            .collect();
        while registered.load(SeqCst) < SLEEPERS {
            waza::yield_now().await;
        }
        for _ in 0..BACKLOG {
            let ran = ran.clone();
            drop(waza::spawn(async move {
                ran.fetch_add(1, SeqCst);
            }));
        }
        // Keep the only worker busy until every sleeper is due: the next driver turn
        // wakes all of them at once, with the whole backlog queued.
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        std::thread::sleep(Duration::from_millis(2));
        let mut seen = Vec::with_capacity(SLEEPERS);
        for s in sleepers {
            seen.push(s.await.unwrap());
        }
        while ran.load(SeqCst) < BACKLOG {
            waza::yield_now().await;
        }
        assert_eq!(ran.load(SeqCst), BACKLOG);
        seen
    };
    let main = rt.spawn(main);
    if via_block_on {
        rt.block_on(main).unwrap()
    } else {
        futures::executor::block_on(main).unwrap()
    }
}

#[test]
fn timer_wakes_run_before_the_spawn_backlog() {
    // The worker turns the driver itself (nobody else can): at its next maintenance turn,
    // at most 61 ticks after the burst, all sleepers fire and go ahead of the backlog; only
    // the every-61st-tick fairness pops let a few backlog tasks in between. Before woken
    // tasks had their own queue, one went to the LIFO slot and the rest behind the backlog.
    let seen = backlog_seen_by_woken_sleepers(false);
    assert_eq!(seen.len(), SLEEPERS);
    let worst = seen.iter().copied().max().unwrap();
    assert!(
        worst < 200,
        "a sleeper ran after {worst} of {BACKLOG} backlog tasks"
    );
}

#[test]
fn block_on_timer_wakes_run_before_the_spawn_backlog() {
    // Here the block_on thread may fire the timers itself, in its fallback driver turn
    // (taken while the only worker is busy and does not hold the driver): woken from outside
    // the worker, the sleepers go to the woken queue, not the inject queue. The bound is
    // loose because the worker runs backlog tasks until someone fires the timers.
    let seen = backlog_seen_by_woken_sleepers(true);
    assert_eq!(seen.len(), SLEEPERS);
    let worst = seen.iter().copied().max().unwrap();
    assert!(
        worst < BACKLOG / 2,
        "a sleeper ran after {worst} of {BACKLOG} backlog tasks"
    );
}

#[test]
fn block_on_turns_the_driver_while_every_worker_is_blocked() {
    // The block_on thread normally leaves the driver to the workers; with the only worker
    // blocked, its timed fallback turn must still fire its own timer. (The monitor off:
    // it would hand the worker's driver duty to a replacement, not tested here.)
    let rt = waza::Runtime::builder()
        .workers(1)
        .blocked_poll_threshold(Duration::MAX)
        .build()
        .unwrap();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let blocker = rt.spawn(async move {
        started_tx.send(()).unwrap();
        // Blocks the worker thread until released (false if nobody released it).
        release_rx.recv_timeout(Duration::from_secs(30)).is_ok()
    });
    started_rx.recv().unwrap();
    rt.block_on(async { waza::time::sleep(Duration::from_millis(5)).await });
    release_tx.send(()).unwrap();
    assert!(
        rt.block_on(blocker).unwrap(),
        "the timer fired only after the worker gave up waiting"
    );
}
