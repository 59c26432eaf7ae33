//! Periodic work: an [`interval`](waza::time::interval) paces a batch of jobs, and a
//! [`tick`](waza::time::tick) channel drives work until a [`Context`] deadline stops it.
//!
//! The Go original (the `time.Tick` and `context.WithTimeout` idioms):
//!
//! ```go
//! ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
//! defer cancel()
//! tick := time.Tick(50 * time.Millisecond)
//! for {
//!     select {
//!     case <-tick:
//!         doWork()
//!     case <-ctx.Done():
//!         fmt.Println(ctx.Err()) // context deadline exceeded
//!         return
//!     }
//! }
//! ```
//!
//! `interval` ticks at once and then every period, and delays missed ticks (tokio's
//! behaviour); `tick` delivers its first value after one period and drops ticks a slow
//! reader misses (Go's). Neither fires early, so after `t` of work at most `t / period + 1`
//! ticks can have been handled.

use std::time::{Duration, Instant};

use waza::context::{Context, ContextError};
use waza::time;

use crate::cli::ensure;
use crate::{Out, Size};

/// How a periodic run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Jobs done, one per tick.
    pub done: u64,
    /// Why the context ended, if it did.
    pub err: Option<ContextError>,
    /// How long the run took.
    pub elapsed: Duration,
}

/// Does `jobs` jobs, one per tick of `interval(period)`, unless `ctx` ends first.
///
/// # Cancel safety
///
/// Cancel safe: nothing is lost but the remaining jobs.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza::context::Context;
///
/// let ctx = Context::background();
/// let run = waza::block_on(waza_examples::ticker::paced(ctx, Duration::from_millis(1), 3));
/// assert_eq!(run.done, 3);
/// ```
pub async fn paced(ctx: Context, period: Duration, jobs: u64) -> Run {
    let start = Instant::now();
    let mut interval = time::interval(period);
    let mut done = 0;
    while done < jobs {
        waza::select! {
            _ = interval.tick() => done += 1,
            _ = ctx.done() => break,
        }
    }
    Run {
        done,
        err: ctx.err(),
        elapsed: start.elapsed(),
    }
}

/// Works on every tick of `tick(period)` until `ctx` ends.
///
/// # Cancel safety
///
/// Cancel safe.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza::context::{Context, ContextError};
///
/// waza::block_on(async {
///     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(10));
///     let run = waza_examples::ticker::until_done(ctx, Duration::from_millis(2)).await;
///     assert_eq!(run.err, Some(ContextError::DeadlineExceeded));
/// });
/// ```
pub async fn until_done(ctx: Context, period: Duration) -> Run {
    let start = Instant::now();
    let tick = time::tick(period);
    let mut done = 0;
    loop {
        waza::select! {
            Some(_) = tick.recv() => done += 1,
            _ = ctx.done() => break,
        }
    }
    Run {
        done,
        err: ctx.err(),
        elapsed: start.elapsed(),
    }
}

/// The whole program: 5 jobs paced 5 ms apart under a generous deadline, then ticks every
/// 5 ms until a 30 ms deadline (full: 10 jobs, 50 ms, 400 ms). Checks that the batch
/// finished inside its deadline, that the deadline ended the second run with
/// `DeadlineExceeded`, and that no run handled more ticks than time allowed.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// Cancel safe.
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let period = Duration::from_millis(size.pick(5, 50));
    let jobs = size.pick(5, 10);
    let deadline = Duration::from_millis(size.pick(30, 400));
    let at_most = |run: &Run| run.elapsed.as_nanos() / period.as_nanos() + 1;

    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_secs(30));
    let run = paced(ctx, period, jobs).await;
    out.line(format!(
        "interval({period:?}): {} jobs in {:.1?}, context: {:?}",
        run.done, run.elapsed, run.err
    ));
    ensure(run.done == jobs && run.err.is_none(), || format!("{run:?}"))?;
    // `interval` ticks at once, so `jobs` ticks need (jobs - 1) periods.
    ensure(run.elapsed >= period * (jobs as u32 - 1), || {
        format!("the interval ticked early: {run:?}")
    })?;

    let (ctx, _cancel) = Context::background().with_timeout(deadline);
    let run = until_done(ctx, period).await;
    out.line(format!(
        "tick({period:?}) until a {deadline:?} deadline: {} ticks handled, then: {}",
        run.done,
        run.err.map_or("-".to_owned(), |e| e.to_string())
    ));
    ensure(run.err == Some(ContextError::DeadlineExceeded), || {
        format!("{run:?}")
    })?;
    ensure(u128::from(run.done) <= at_most(&run), || {
        format!("more ticks than time allows: {run:?}")
    })
}
