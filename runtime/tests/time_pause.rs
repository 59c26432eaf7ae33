//! Test time: a paused clock moves only by `advance` or, when every task is idle, by a
//! jump to the next timer; timers, intervals, `after`/`tick`, `timeout` and context
//! deadlines all follow it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use waza::time::{self, advance, sleep};

const HOUR: Duration = Duration::from_secs(3600);
/// A timer fires at most one wheel tick (62.5 us) after its deadline.
const TICK: Duration = Duration::from_micros(63);

/// Runs `f` on a paused current-thread runtime in another thread; fails (instead of
/// hanging for virtual hours in real time) if it does not finish promptly.
fn paused<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = waza::Runtime::builder()
            .current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        tx.send(rt.block_on(f)).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("a paused-time test took a minute of real time")
}

fn assert_elapsed(from: Instant, expected: Duration) {
    let got = time::now() - from;
    assert!(
        got >= expected && got <= expected + TICK,
        "{got:?} vs {expected:?}"
    );
}

#[test]
fn an_hour_of_sleep_jumps_when_every_task_is_idle() {
    paused(async {
        let t0 = time::now();
        let real = Instant::now();
        sleep(HOUR).await;
        assert_elapsed(t0, HOUR);
        // std's clock is real time and did not move an hour.
        assert!(real.elapsed() < HOUR);
    });
}

#[waza::test(start_paused = true)]
async fn the_test_attribute_starts_paused_on_a_current_thread_runtime() {
    assert_eq!(waza::Handle::current().metrics().num_workers(), 1);
    let t0 = time::now();
    let r = time::timeout(HOUR, std::future::pending::<()>()).await;
    assert!(r.is_err());
    assert_elapsed(t0, HOUR);
}

#[test]
fn timeout_interval_after_tick_and_contexts_follow_the_clock() {
    paused(async {
        let t0 = time::now();
        assert_eq!(time::timeout(HOUR, sleep(HOUR / 2)).await, Ok(()));
        assert_elapsed(t0, HOUR / 2);

        let t1 = time::now();
        let mut iv = time::interval(Duration::from_secs(1));
        for _ in 0..5 {
            iv.tick().await;
        }
        assert_elapsed(t1, Duration::from_secs(4)); // the first tick is immediate

        let t2 = time::now();
        let at = time::after(Duration::from_secs(10)).recv().await.unwrap();
        assert!(at >= t2 + Duration::from_secs(10));
        assert_elapsed(t2, Duration::from_secs(10));

        let t3 = time::now();
        let ticks = time::tick(Duration::from_secs(2));
        for i in 1..=3u32 {
            ticks.recv().await.unwrap();
            assert_elapsed(t3, Duration::from_secs(2) * i);
        }

        let t4 = time::now();
        let (ctx, _cancel) = waza::context::Context::background().with_timeout(HOUR);
        ctx.done().await;
        assert_eq!(
            ctx.err(),
            Some(waza::context::ContextError::DeadlineExceeded)
        );
        assert_elapsed(t4, HOUR);
    });
}

#[test]
fn advance_fires_due_timers_and_runs_their_tasks() {
    paused(async {
        let fired = Arc::new(AtomicUsize::new(0));
        for secs in [10u64, 20, 30] {
            let f = fired.clone();
            waza::spawn(async move {
                sleep(Duration::from_secs(secs)).await;
                f.fetch_add(1, Ordering::SeqCst);
            });
        }
        waza::yield_now().await; // let them register
        let t0 = time::now();
        advance(Duration::from_secs(5)).await;
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        advance(Duration::from_secs(5)).await;
        assert_eq!(fired.load(Ordering::SeqCst), 1);
        advance(Duration::from_secs(15)).await;
        assert_eq!(fired.load(Ordering::SeqCst), 2);
        assert_eq!(time::now() - t0, Duration::from_secs(25));
        sleep(HOUR).await; // the 30 s timer fires on the way
        assert_eq!(fired.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn completion_order_follows_virtual_deadlines_exactly() {
    let order = paused(async {
        let mut set = waza::task::JoinSet::new();
        for secs in [5u64, 3, 1, 4, 2] {
            set.spawn(async move {
                sleep(Duration::from_secs(secs)).await;
                secs
            });
        }
        let mut order = Vec::new();
        while let Some(v) = set.join_next().await {
            order.push(v.unwrap());
        }
        order
    });
    assert_eq!(order, [1, 2, 3, 4, 5]);
}

#[test]
fn time_does_not_jump_while_a_task_can_run() {
    paused(async {
        let spins = Arc::new(AtomicUsize::new(0));
        let s = spins.clone();
        waza::spawn(async move {
            for _ in 0..500 {
                s.fetch_add(1, Ordering::SeqCst);
                waza::yield_now().await;
            }
        });
        sleep(Duration::from_secs(1)).await;
        // The clock jumped only once the spinner was done.
        assert_eq!(spins.load(Ordering::SeqCst), 500);
    });
}

#[test]
fn a_blocking_closure_in_flight_holds_the_clock() {
    paused(async {
        let t0 = time::now();
        let h = waza::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(20));
            time::now() // outside the runtime context: real time
        });
        sleep(HOUR).await;
        // The hour did pass, but only after the closure (which nobody awaited) was done.
        assert_elapsed(t0, HOUR);
        assert!(h.is_finished());
        h.await.unwrap();
    });
}

#[test]
fn cancelled_sleeps_leave_nothing_behind() {
    paused(async {
        let t0 = time::now();
        for _ in 0..100 {
            let mut s = std::pin::pin!(sleep(Duration::from_secs(50)));
            // Registered, then dropped.
            assert!(futures::poll!(s.as_mut()).is_pending());
        }
        // No stale timer to jump to: the next one is this sleep's.
        sleep(Duration::from_secs(100)).await;
        assert_elapsed(t0, Duration::from_secs(100));
    });
}

#[test]
fn pause_resume_and_their_misuse() {
    let rt = waza::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        time::pause();
        let t0 = time::now();
        advance(Duration::from_secs(7)).await;
        assert_eq!(time::now() - t0, Duration::from_secs(7));
        let again = std::panic::catch_unwind(time::pause);
        assert!(again.is_err());
        time::resume();
        // Running again, from where it stood.
        let t1 = time::now();
        assert!(t1 >= t0 + Duration::from_secs(7));
        sleep(Duration::from_millis(1)).await;
        assert!(time::now() > t1);
        assert!(std::panic::catch_unwind(time::resume).is_err());
    });
    let multi = waza::Runtime::builder().workers(1).build().unwrap();
    assert!(multi
        .block_on(async { std::panic::catch_unwind(time::pause) })
        .is_err());
    let err = waza::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(std::panic::catch_unwind(time::pause).is_err());
    // Outside a runtime (and with no paused runtime current), now() is real time.
    let before = Instant::now();
    assert!(time::now() >= before);
}
