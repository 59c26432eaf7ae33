//! A daemon: a task that copies its input channel to its output until the input closes;
//! then it returns, which drops its sender and closes the output in turn.
//!
//! The Go original ("Concurrency is not parallelism", 2012, the slide on closures):
//!
//! ```go
//! go func() { // copy input to output
//!     for val := range input {
//!         output <- val
//!     }
//! }()
//! ```
//!
//! Go's loop ends when `input` is closed; the program then has to `close(output)` itself.
//! In Rust the daemon owns its `Sender`, so returning closes `output` (when it was the last
//! sender): closing the input propagates down the chain without another line of code.

use waza::chan::{self, Receiver, Sender};

use crate::cli::ensure;
use crate::{Out, Size};

/// Copies `input` to `output` until `input` closes (or `output` does); returns how many
/// values it copied.
///
/// # Cancel safety
///
/// A value taken from `input` is lost if the future is dropped while sending it on.
pub async fn daemon<T>(input: Receiver<T>, output: Sender<T>) -> usize {
    let mut copied = 0;
    while let Some(val) = input.recv().await {
        if output.send(val).await.is_err() {
            break;
        }
        copied += 1;
    }
    copied
}

/// What main saw at the end of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The values received, in order, before `output` closed.
    pub received: Vec<u64>,
    /// How many values each daemon copied, first daemon first.
    pub copied: Vec<usize>,
}

/// Sends `1..=n` through a chain of `daemons` copy tasks over rendezvous channels, closes
/// the input, and receives until the end of the chain closes.
///
/// # Panics
///
/// Panics if a daemon task panics.
///
/// # Cancel safety
///
/// Dropping the future drops the ends of the chain; the daemons then stop.
///
/// # Examples
///
/// ```
/// let run = waza::block_on(waza_examples::daemon::chain(2, 3));
/// assert_eq!(run.received, [1, 2, 3]);
/// assert_eq!(run.copied, [3, 3]);
/// ```
pub async fn chain(daemons: usize, n: u64) -> Run {
    let (input, mut rx) = chan::rendezvous();
    let mut tasks = Vec::new();
    for _ in 0..daemons {
        let (tx, next) = chan::rendezvous();
        tasks.push(waza::go!(daemon(rx, tx)));
        rx = next;
    }
    waza::go!(async move {
        for v in 1..=n {
            if input.send(v).await.is_err() {
                return;
            }
        }
        input.close(); // Go's close(input); dropping `input` would do the same
    });
    let mut received = Vec::new();
    while let Some(v) = rx.recv().await {
        received.push(v);
    }
    let mut copied = Vec::new();
    for t in tasks {
        copied.push(t.await.expect("daemons do not panic"));
    }
    Run { received, copied }
}

/// The whole program: 5 values (1,000 full) through 3 daemons; checks that every value
/// arrived in order, that the close reached the end, and that every daemon copied each one.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// As [`chain`].
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let n = size.pick(5, 1000);
    let run = chain(3, n).await;
    let shown: Vec<_> = run.received.iter().take(5).collect();
    out.line(format!(
        "received {} values {shown:?}{}, then the output closed",
        run.received.len(),
        if run.received.len() > 5 { " …" } else { "" }
    ));
    out.line(format!("each daemon copied {:?} and returned", run.copied));
    let expected: Vec<u64> = (1..=n).collect();
    ensure(run.received == expected, || {
        format!("values lost or out of order: {:?}", run.received)
    })?;
    ensure(run.copied.iter().all(|&c| c as u64 == n), || {
        format!("copy counts {:?}, expected {n} each", run.copied)
    })
}
