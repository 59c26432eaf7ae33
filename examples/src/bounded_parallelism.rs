//! Bounded parallelism: many CPU-heavy inputs, at most `limit` of them being worked on at
//! once (a [`Semaphore`] of `limit` permits), each on the blocking pool
//! ([`spawn_blocking`](waza::spawn_blocking)) so the workers stay free; the results are
//! gathered in input order.
//!
//! The Go original ("Go Concurrency Patterns: Pipelines and cancellation", the Go blog,
//! 2014, "Bounded parallelism"; here with the semaphore idiom):
//!
//! ```go
//! sem := make(chan struct{}, limit)
//! results := make([]Sum, len(inputs))
//! var wg sync.WaitGroup
//! for i, in := range inputs {
//!     wg.Add(1)
//!     go func() {
//!         defer wg.Done()
//!         sem <- struct{}{}        // acquire
//!         defer func() { <-sem }() // release
//!         results[i] = digest(in)
//!     }()
//! }
//! wg.Wait()
//! ```
//!
//! Awaiting the `JoinHandle`s in input order gathers the results in order, whatever order
//! they finish in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use waza::sync::Semaphore;

use crate::cli::ensure;
use crate::{Out, Size};

/// The CPU-heavy work: `rounds` rounds of FNV-1a over the input (a stand-in for MD5 of a
/// file).
///
/// # Examples
///
/// ```
/// use waza_examples::bounded_parallelism::digest;
/// assert_eq!(digest(7, 10), digest(7, 10));
/// assert_ne!(digest(7, 10), digest(8, 10));
/// ```
pub fn digest(input: u64, rounds: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for _ in 0..rounds {
        for b in input.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The results, and the most digests that ran at the same time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// `digest(inputs[i])` at index `i`.
    pub results: Vec<u64>,
    /// The peak number of digests in flight.
    pub peak: usize,
}

/// Counts digests in flight and remembers the peak.
#[derive(Debug, Default)]
struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl InFlight {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Digests every input on the blocking pool, at most `limit` at a time.
///
/// # Panics
///
/// Panics if `limit` is zero or a digest panics.
///
/// # Cancel safety
///
/// Dropping the future detaches the tasks; each finishes its digest by itself.
///
/// # Examples
///
/// ```
/// use waza_examples::bounded_parallelism::{digest, digest_all};
///
/// let run = waza::block_on(digest_all(vec![1, 2, 3], 2, 10));
/// assert_eq!(run.results, [digest(1, 10), digest(2, 10), digest(3, 10)]);
/// assert!(run.peak <= 2);
/// ```
pub async fn digest_all(inputs: Vec<u64>, limit: usize, rounds: u32) -> Run {
    assert!(limit > 0, "digest_all needs a limit of at least 1");
    let sem = Arc::new(Semaphore::new(limit));
    let in_flight = Arc::new(InFlight::default());
    let tasks: Vec<_> = inputs
        .into_iter()
        .map(|input| {
            let (sem, in_flight) = (sem.clone(), in_flight.clone());
            waza::go!(async move {
                let _permit = sem.acquire_owned().await.expect("never closed"); // released on drop
                waza::spawn_blocking(move || {
                    in_flight.enter();
                    let d = digest(input, rounds);
                    in_flight.leave();
                    d
                })
                .await
                .expect("digests do not panic")
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for t in tasks {
        results.push(t.await.expect("digest tasks do not panic"));
    }
    Run {
        results,
        peak: in_flight.peak.load(Ordering::SeqCst),
    }
}

/// The whole program: 200 inputs (40 quick), at most 4 digests at a time. Checks the
/// results against a sequential run, in order, and that the peak never passed the limit.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// As [`digest_all`].
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let (n, limit, rounds) = (size.pick(40, 200), 4, size.pick(2_000, 20_000));
    let inputs: Vec<u64> = (0..n).map(|i| i * 7919).collect();
    let run = digest_all(inputs.clone(), limit, rounds).await;
    out.line(format!(
        "{n} digests on the blocking pool, at most {limit} at a time: peak {} in flight",
        run.peak
    ));
    out.line(format!(
        "first results, in input order: {:x?}",
        &run.results[..3]
    ));
    let expected: Vec<u64> = inputs.iter().map(|&i| digest(i, rounds)).collect();
    ensure(run.results == expected, || "results wrong or out of order")?;
    ensure((1..=limit).contains(&run.peak), || {
        format!("peak {} outside 1..={limit}", run.peak)
    })
}
