//! A task sleeps, then sends the time on a channel; meanwhile main works, then receives.
//!
//! The Go original ("Concurrency is not parallelism", 2012, the slide on channels):
//!
//! ```go
//! timerChan := make(chan time.Time)
//! go func() {
//!     time.Sleep(deltaT)
//!     timerChan <- time.Now() // send time on timerChan
//! }()
//! // Do something else; when ready, receive.
//! // Receive will block until timerChan delivers.
//! // Value sent is other goroutine's completion time.
//! completedAt := <-timerChan
//! ```
//!
//! The channel is a rendezvous channel, so the send is also a synchronization: the sleeper
//! cannot finish until main has taken the value.

use std::time::{Duration, Instant};

use waza::chan;
use waza::time;

use crate::cli::ensure;
use crate::{Out, Size};

/// What one run saw.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    /// When the program started.
    pub started: Instant,
    /// The time the sleeper sent: when it woke.
    pub completed_at: Instant,
    /// What main computed while it waited (the sum of the first `n` squares).
    pub work: u64,
}

/// Starts a task that sleeps `delta_t` and then sends the time; sums `n` squares in the
/// meantime; then receives the sleeper's time.
///
/// # Cancel safety
///
/// Dropping the future drops the receiver; the sleeper's send then fails and it exits.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let run = waza::block_on(waza_examples::timer_chan::run(Duration::from_millis(5), 3));
/// assert!(run.completed_at >= run.started + Duration::from_millis(5));
/// assert_eq!(run.work, 1 + 4 + 9);
/// ```
pub async fn run(delta_t: Duration, n: u64) -> Run {
    let started = Instant::now();
    let (timer_tx, timer_chan) = chan::rendezvous();
    waza::go!(async move {
        time::sleep(delta_t).await;
        let _ = timer_tx.send(Instant::now()).await; // send time on timerChan
    });
    let work = (1..=n).map(|i| i * i).sum(); // do something else
    let completed_at = timer_chan
        .recv()
        .await
        .expect("the sleeper sends before it exits");
    Run {
        started,
        completed_at,
        work,
    }
}

/// The whole program: sleep 100 ms (20 ms quick) while summing squares; checks that the
/// sleeper's time is no earlier than its deadline and that the work is right.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// As [`run`].
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let delta_t = Duration::from_millis(size.pick(20, 100));
    let n = 1000;
    let r = run(delta_t, n).await;
    out.line(format!(
        "main worked: sum of the first {n} squares = {}",
        r.work
    ));
    out.line(format!(
        "the sleeper completed at +{:.1?} (deltaT = {delta_t:?})",
        r.completed_at - r.started
    ));
    ensure(r.work == n * (n + 1) * (2 * n + 1) / 6, || {
        format!("wrong sum of squares {}", r.work)
    })?;
    ensure(r.completed_at >= r.started + delta_t, || {
        "the sleeper woke before its deadline"
    })
}
