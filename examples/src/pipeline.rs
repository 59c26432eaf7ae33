//! A pipeline of bounded stages — generate → square → print — with back-pressure, early
//! cancellation through a [`Context`] and a [`WaitGroup`] that waits for every stage.
//!
//! The Go original ("Go Concurrency Patterns: Pipelines and cancellation", the Go blog,
//! 2014), with `done` replaced by a context as Go code does today:
//!
//! ```go
//! func gen(ctx context.Context, nums ...int) <-chan int {
//!     out := make(chan int, 2)
//!     go func() {
//!         defer close(out)
//!         for _, n := range nums {
//!             select {
//!             case out <- n:
//!             case <-ctx.Done():
//!                 return
//!             }
//!         }
//!     }()
//!     return out
//! }
//!
//! func sq(ctx context.Context, in <-chan int) <-chan int {
//!     out := make(chan int, 2)
//!     go func() {
//!         defer close(out)
//!         for n := range in {
//!             select {
//!             case out <- n * n:
//!             case <-ctx.Done():
//!                 return
//!             }
//!         }
//!     }()
//!     return out
//! }
//!
//! ctx, cancel := context.WithCancel(context.Background())
//! for n := range sq(ctx, gen(ctx, 1, 2, 3, …)) {
//!     fmt.Println(n)
//!     if enough { cancel(); break }
//! }
//! wg.Wait() // every stage has returned
//! ```
//!
//! Back-pressure: each channel holds two values, so the generator can run only a few values
//! ahead of the printer. When the printer cancels after `take` values, the generator has
//! produced at most `take + 2·CAP + 1` (what sits in the two buffers and in `sq`'s hand).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use waza::chan::{self, Receiver};
use waza::context::Context;
use waza::sync::WaitGroup;

use crate::cli::ensure;
use crate::{Out, Size};

/// The capacity of each channel between stages.
pub const CAP: usize = 2;

/// Counts kept by the stages.
#[derive(Debug, Default)]
pub struct Counts {
    /// Values the generator sent.
    pub generated: AtomicU64,
    /// Values `sq` sent.
    pub squared: AtomicU64,
}

/// The first stage: sends `1..=n` until done or cancelled.
fn gen(ctx: Context, wg: &WaitGroup, n: u64, counts: Arc<Counts>) -> Receiver<u64> {
    let (out, rx) = chan::bounded(CAP);
    wg.go(async move {
        for v in 1..=n {
            waza::select! {
                res = out.send(v) => if res.is_err() { return },
                _ = ctx.done() => return,
            }
            counts.generated.fetch_add(1, Ordering::Relaxed);
        }
    }); // returning drops `out`: Go's `defer close(out)`
    rx
}

/// The middle stage: squares what it receives until its input closes or it is cancelled.
fn sq(ctx: Context, wg: &WaitGroup, input: Receiver<u64>, counts: Arc<Counts>) -> Receiver<u64> {
    let (out, rx) = chan::bounded(CAP);
    wg.go(async move {
        while let Some(v) = input.recv().await {
            waza::select! {
                res = out.send(v * v) => if res.is_err() { return },
                _ = ctx.done() => return,
            }
            counts.squared.fetch_add(1, Ordering::Relaxed);
        }
    });
    rx
}

/// What one run of the pipeline did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The values printed, in order.
    pub printed: Vec<u64>,
    /// Values the generator sent.
    pub generated: u64,
    /// Values `sq` sent.
    pub squared: u64,
}

/// Runs the pipeline over `1..=n`, printing at most `take` values, then cancels it and
/// waits for every stage to return.
///
/// # Cancel safety
///
/// Dropping the future drops the last receiver; the stages then stop.
///
/// # Examples
///
/// ```
/// use waza_examples::{pipeline, Out};
///
/// let run = waza::block_on(pipeline::run(1000, 3, &Out::capture()));
/// assert_eq!(run.printed, [1, 4, 9]);
/// assert!(run.generated <= 3 + 2 * pipeline::CAP as u64 + 1);
/// ```
pub async fn run(n: u64, take: usize, out: &Out) -> Run {
    let (ctx, cancel) = Context::background().with_cancel();
    let wg = WaitGroup::new();
    let counts = Arc::new(Counts::default());
    let squares = sq(
        ctx.clone(),
        &wg,
        gen(ctx, &wg, n, counts.clone()),
        counts.clone(),
    );
    let mut printed = Vec::new();
    while printed.len() < take {
        let Some(v) = squares.recv().await else { break };
        out.line(format!("  {v}"));
        printed.push(v);
    }
    cancel.cancel(); // stop the stages still running …
    wg.wait().await; // … and wait until they have
    Run {
        printed,
        generated: counts.generated.load(Ordering::Relaxed),
        squared: counts.squared.load(Ordering::Relaxed),
    }
}

/// The whole program: squares of 1..=4 (1..=10,000 full) printed to the end, then the
/// same pipeline over 1..=1,000,000 cancelled after 5 values. Checks the printed values,
/// and that back-pressure kept the generator within `take + 2·CAP + 1` values.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// As [`run`].
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let n = size.pick(4, 10_000);
    let shown = Out::capture();
    let whole = run(n, usize::MAX, if n <= 10 { out } else { &shown }).await;
    let expected: Vec<u64> = (1..=n).map(|v| v * v).collect();
    out.line(format!(
        "1..={n}: {} squares printed, sum {}; all stages returned",
        whole.printed.len(),
        whole.printed.iter().sum::<u64>()
    ));
    ensure(whole.printed == expected, || "wrong squares")?;
    ensure(whole.generated == n && whole.squared == n, || {
        format!("{whole:?}")
    })?;

    let (n, take) = (1_000_000, 5);
    let early = run(n, take, out).await;
    out.line(format!(
        "1..={n}, cancelled after {take}: the generator produced {} values, sq {}",
        early.generated, early.squared
    ));
    let expected: Vec<u64> = (1..=take as u64).map(|v| v * v).collect();
    ensure(early.printed == expected, || {
        format!("printed {:?}", early.printed)
    })?;
    let bound = take as u64 + 2 * CAP as u64 + 1;
    ensure(early.generated <= bound, || {
        format!(
            "no back-pressure: {} generated, at most {bound} expected",
            early.generated
        )
    })
}
