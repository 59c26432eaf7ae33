//! Go's `time.After` and `time.Tick`: timers that deliver on a channel.
//!
//! Both are wheel entries that own the channel's `Sender` (see `time::driver`, protocol 5):
//! no task is spawned, and an `after` costs one wheel entry until it fires.

use std::time::{Duration, Instant};

use waza_channel::{bounded, Receiver};

/// Go's `time.After`: a channel that receives the current time once `duration` has passed,
/// then closes.
///
/// Exactly one value is delivered (the channel has room for it, so it waits for a late
/// reader); after it the channel reports closed. If the runtime shuts down first, the
/// channel closes without a value.
///
/// # Panics
///
/// Outside a waza runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// waza::block_on(async {
///     let (_tx, rx) = waza::chan::unbounded::<i32>();
///     let timeout = waza::time::after(Duration::from_millis(5));
///     waza::select! {
///         v = rx.recv() => panic!("nothing was sent, got {v:?}"),
///         Some(_at) = timeout.recv() => {} // timed out
///     }
///     assert_eq!(timeout.recv().await, None, "exactly one value, then closed");
/// });
/// ```
#[track_caller]
pub fn after(duration: Duration) -> Receiver<Instant> {
    let (tx, rx) = bounded(1);
    let deadline = super::now()
        .checked_add(duration)
        .unwrap_or_else(super::sleep::far_future);
    let timers = super::sleep::current_timer_ref();
    if timers.insert_chan(deadline, tx, None) {
        timers.unpark();
    }
    rx
}

/// Go's `time.Tick`: a channel that receives the current time every `period`, first after
/// one `period`.
///
/// The channel holds one value; a reader that falls behind misses ticks (they are dropped,
/// as in Go), and the schedule skips ticks the runtime could not deliver on time. The timer
/// stops at the first tick after every receiver is dropped or the channel is closed. Periods
/// are rounded up to the timer resolution (62.5 µs).
///
/// # Panics
///
/// If `period` is zero, or outside a waza runtime.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// waza::block_on(async {
///     let start = Instant::now();
///     let ticks = waza::time::tick(Duration::from_millis(2));
///     for _ in 0..3 {
///         ticks.recv().await.unwrap();
///     }
///     assert!(start.elapsed() >= Duration::from_millis(6));
/// });
/// ```
#[track_caller]
pub fn tick(period: Duration) -> Receiver<Instant> {
    assert!(
        !period.is_zero(),
        "waza::time::tick: period must be non-zero"
    );
    let (tx, rx) = bounded(1);
    let first = super::now()
        .checked_add(period)
        .unwrap_or_else(super::sleep::far_future);
    let timers = super::sleep::current_timer_ref();
    if timers.insert_chan(first, tx, Some(period)) {
        timers.unpark();
    }
    rx
}
