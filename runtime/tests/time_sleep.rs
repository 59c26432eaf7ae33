//! Timers on a live runtime: never early, cancellation, reset, timeout, many sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use waza::time::{sleep, sleep_until, timeout};

fn rt(workers: usize) -> waza::Runtime {
    waza::Runtime::builder().workers(workers).build().unwrap()
}

/// A small deterministic generator (xorshift) so failures reproduce.
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn a_thousand_random_sleeps_never_wake_early() {
    let rt = rt(2);
    let early = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut handles = Vec::new();
        for _ in 0..1000 {
            // 0..50 ms with microsecond parts, so deadlines fall between ticks.
            let d = Duration::from_micros(xorshift(&mut seed) % 50_000);
            let (early, done) = (early.clone(), done.clone());
            handles.push(waza::spawn(async move {
                let start = Instant::now();
                sleep(d).await;
                if start.elapsed() < d {
                    early.fetch_add(1, Ordering::SeqCst);
                }
                done.fetch_add(1, Ordering::SeqCst);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(early.load(Ordering::SeqCst), 0);
    assert_eq!(done.load(Ordering::SeqCst), 1000);
}

#[test]
fn sleep_until_a_past_instant_completes_at_once() {
    rt(1).block_on(async {
        let past = Instant::now();
        sleep_until(past).await;
        sleep(Duration::ZERO).await;
        assert!(Instant::now() >= past);
    });
}

#[test]
fn timeout_returns_the_output_or_elapsed() {
    rt(2).block_on(async {
        let ok = timeout(Duration::from_secs(10), async { 5 }).await;
        assert_eq!(ok, Ok(5));
        let start = Instant::now();
        let slow = timeout(Duration::from_millis(20), sleep(Duration::from_secs(3600))).await;
        let err = slow.unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(err.to_string(), "deadline has elapsed");
        let as_error: &dyn std::error::Error = &err;
        assert!(as_error.source().is_none());
    });
}

#[test]
fn dropped_sleeps_never_fire_and_the_rest_do() {
    // Cancellation: half the sleeps are dropped via a losing timeout; each survivor fires
    // exactly once and the dropped ones never run their continuation.
    let fired = Arc::new(AtomicUsize::new(0));
    let cancelled = Arc::new(AtomicUsize::new(0));
    rt(2).block_on(async {
        let mut handles = Vec::new();
        for i in 0..200u64 {
            let (fired, cancelled) = (fired.clone(), cancelled.clone());
            handles.push(waza::spawn(async move {
                let long = async {
                    sleep(Duration::from_millis(if i % 2 == 0 { 1 } else { 60_000 })).await;
                    fired.fetch_add(1, Ordering::SeqCst);
                };
                if timeout(Duration::from_millis(30), long).await.is_err() {
                    cancelled.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(fired.load(Ordering::SeqCst), 100);
    assert_eq!(cancelled.load(Ordering::SeqCst), 100);
}

#[test]
fn reset_moves_a_sleep_earlier_and_later() {
    rt(2).block_on(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(3600));
        // Register it (first poll), then move it earlier.
        assert!(timeout(Duration::from_millis(1), &mut s).await.is_err());
        s.reset(Instant::now() + Duration::from_millis(10));
        (&mut s).await;
        assert!(s.is_elapsed());
        assert!(start.elapsed() >= Duration::from_millis(10));
        // Completed sleeps can be reused; later deadlines are honoured, never early.
        let target = Instant::now() + Duration::from_millis(25);
        s.reset(Instant::now() + Duration::from_millis(5));
        s.reset(target);
        assert!(!s.is_elapsed());
        (&mut s).await;
        assert!(Instant::now() >= target);
    });
}

#[test]
fn many_concurrent_sleeps_all_complete() {
    // 1,000,000 in release (bounded memory: one wheel entry each); fewer in debug.
    let n: usize = if cfg!(debug_assertions) {
        20_000
    } else {
        1_000_000
    };
    let done = Arc::new(AtomicUsize::new(0));
    rt(2).block_on(async {
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let done = done.clone();
            handles.push(waza::spawn(async move {
                sleep(Duration::from_millis(1 + (i % 200) as u64)).await;
                done.fetch_add(1, Ordering::Relaxed);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), n);
}

#[test]
fn a_blocked_worker_does_not_freeze_timers_on_the_other() {
    let rt = rt(2);
    let timers_done = Arc::new(AtomicUsize::new(0));
    let blocker_saw_timers = rt.block_on({
        let timers_done = timers_done.clone();
        async move {
            // Occupies one worker thread without yielding until the timers finish; gives up
            // (and fails the test) after 10 s so a regression cannot hang the suite.
            let blocker = waza::spawn({
                let timers_done = timers_done.clone();
                async move {
                    let start = Instant::now();
                    while timers_done.load(Ordering::SeqCst) == 0 {
                        if start.elapsed() > Duration::from_secs(10) {
                            return false;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    true
                }
            });
            let timers = waza::spawn(async move {
                for _ in 0..20 {
                    sleep(Duration::from_millis(2)).await;
                }
                timers_done.store(1, Ordering::SeqCst);
            });
            timers.await.unwrap();
            blocker.await.unwrap()
        }
    });
    assert!(
        blocker_saw_timers,
        "timers froze while one worker was blocked"
    );
}

#[test]
fn sleep_is_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin>(_: &T) {}
    check(&sleep(Duration::from_secs(1)));
    check(&waza::time::interval(Duration::from_secs(1)));
    check(&timeout(Duration::from_secs(1), std::future::ready(())));
}
