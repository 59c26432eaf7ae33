//! Interval and Go's after/tick channels on a live runtime.

use std::time::{Duration, Instant};

use futures::StreamExt;
use waza::time::{after, interval, interval_at, sleep, tick, MissedTickBehavior};

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn interval_ticks_immediately_then_every_period() {
    rt().block_on(async {
        let start = Instant::now();
        let mut iv = interval(10 * MS);
        let first = iv.tick().await;
        assert!(first <= Instant::now());
        assert!(first >= start);
        let second = iv.tick().await;
        assert_eq!(second, first + 10 * MS);
        assert!(Instant::now() >= second);
        let third = iv.next().await.unwrap();
        assert_eq!(third, first + 20 * MS);
        assert!(Instant::now() >= third);
    });
}

/// Lets an interval fall 35 ms behind its 10 ms schedule, then returns the next 4 ticks
/// as offsets from the schedule's start.
async fn late_ticks(behavior: MissedTickBehavior) -> Vec<Duration> {
    let t0 = Instant::now();
    let mut iv = interval_at(t0, 10 * MS);
    iv.set_missed_tick_behavior(behavior);
    assert_eq!(iv.tick().await, t0);
    sleep(35 * MS).await;
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(iv.tick().await - t0);
    }
    out
}

#[test]
fn missed_ticks_burst() {
    let ticks = rt().block_on(late_ticks(MissedTickBehavior::Burst));
    assert_eq!(ticks, [10 * MS, 20 * MS, 30 * MS, 40 * MS]);
}

#[test]
fn missed_ticks_skip() {
    let ticks = rt().block_on(late_ticks(MissedTickBehavior::Skip));
    assert_eq!(ticks[0], 10 * MS);
    // The next tick is the next slot of the original grid after the late delivery.
    assert_eq!(ticks[1].as_nanos() % (10 * MS).as_nanos(), 0);
    assert!(ticks[1] >= 40 * MS);
    assert_eq!(ticks[2], ticks[1] + 10 * MS);
}

#[test]
fn missed_ticks_delay_is_the_default() {
    assert_eq!(
        interval(MS).missed_tick_behavior(),
        MissedTickBehavior::Delay
    );
    let ticks = rt().block_on(late_ticks(MissedTickBehavior::Delay));
    assert_eq!(ticks[0], 10 * MS);
    assert!(ticks[1] >= 45 * MS, "one period after the late delivery");
    assert_eq!(ticks[2], ticks[1] + 10 * MS);
    assert_eq!(ticks[3], ticks[2] + 10 * MS);
}

#[test]
#[should_panic(expected = "period must be non-zero")]
fn zero_interval_panics() {
    let _ = interval(Duration::ZERO);
}

#[test]
fn after_delivers_exactly_one_value_then_closes() {
    rt().block_on(async {
        let start = Instant::now();
        let rx = after(15 * MS);
        let at = rx.recv().await.expect("one value");
        assert!(at >= start + 15 * MS);
        assert!(Instant::now() >= start + 15 * MS);
        assert_eq!(rx.recv().await, None);
        assert!(rx.is_closed());
    });
}

#[test]
fn after_waits_for_a_late_reader() {
    rt().block_on(async {
        let rx = after(MS);
        sleep(20 * MS).await;
        assert!(rx.recv().await.is_some());
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn after_in_select_times_out_a_receive() {
    rt().block_on(async {
        let (_tx, rx) = waza::chan::unbounded::<u32>();
        let mut timeouts = 0;
        for _ in 0..3 {
            waza::select! {
                v = rx.recv() => panic!("nothing was sent: {v:?}"),
                _ = after(2 * MS).recv() => timeouts += 1,
            }
        }
        assert_eq!(timeouts, 3);
    });
}

#[test]
fn tick_delivers_periodically_never_early() {
    rt().block_on(async {
        let start = Instant::now();
        let ticks = tick(5 * MS);
        for k in 1..=5u32 {
            let at = ticks.recv().await.unwrap();
            assert!(at >= start + 5 * MS * k, "tick {k} early");
        }
        drop(ticks);
        // The dropped ticker is freed at its next firing; the runtime keeps working.
        sleep(20 * MS).await;
    });
}

#[test]
fn tick_drops_values_for_a_slow_reader() {
    rt().block_on(async {
        let ticks = tick(MS);
        sleep(30 * MS).await;
        // About 30 ticks fired, but the channel holds one: the rest were dropped.
        let mut ready = 0;
        while ticks.try_recv().is_ok() {
            ready += 1;
        }
        assert!((1..=3).contains(&ready), "{ready} buffered ticks");
    });
}
