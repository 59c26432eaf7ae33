//! Go's nil-channel trick: a `select` case on a nil channel never fires, so setting a closed
//! input to nil switches its case off. In `select!` the same is a precondition,
//! `v = a.recv(), if a_open`. And `biased;` gives some cases priority over others.
//!
//! The Go original (the merge from "Why are there nil channels in Go?", Francesc Campoy,
//! 2016; the trick itself is in "Advanced Go Concurrency Patterns", 2013):
//!
//! ```go
//! func merge(a, b <-chan int) <-chan int {
//!     c := make(chan int)
//!     go func() {
//!         defer close(c)
//!         for a != nil || b != nil {
//!             select {
//!             case v, ok := <-a:
//!                 if !ok {
//!                     a = nil
//!                     continue
//!                 }
//!                 c <- v
//!             case v, ok := <-b:
//!                 if !ok {
//!                     b = nil
//!                     continue
//!                 }
//!                 c <- v
//!             }
//!         }
//!     }()
//!     return c
//! }
//! ```
//!
//! Without the trick the loop would spin: a closed channel is always ready (with `None`).
//! Go has no priority select; the usual workaround is a nested select with a default. Here
//! `biased;` polls the arms in written order, so a ready urgent message always wins.

use std::time::Duration;

use waza::chan::{self, Receiver};
use waza::time;

use crate::cli::ensure;
use crate::{Out, Size};

/// Merges `a` and `b` into one channel that closes once both have closed.
pub fn merge<T: Send + 'static>(a: Receiver<T>, b: Receiver<T>) -> Receiver<T> {
    let (c, rx) = chan::rendezvous();
    waza::go!(async move {
        let (mut a_open, mut b_open) = (true, true);
        while a_open || b_open {
            let v = waza::select! {
                v = a.recv(), if a_open => { a_open = v.is_some(); v }
                v = b.recv(), if b_open => { b_open = v.is_some(); v }
            };
            if let Some(v) = v {
                if c.send(v).await.is_err() {
                    return;
                }
            }
        }
    }); // returning drops `c`: Go's `defer close(c)`
    rx
}

/// Sends each of `values` after `pause`, then closes (by returning).
fn source(values: Vec<u64>, pause: Duration) -> Receiver<u64> {
    let (tx, rx) = chan::rendezvous();
    waza::go!(async move {
        for v in values {
            time::sleep(pause).await;
            if tx.send(v).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Takes every message from two prefilled, closed queues with `biased;`, urgent first.
///
/// # Cancel safety
///
/// Cancel safe: values not yet taken stay in the queues.
///
/// # Examples
///
/// ```
/// let order = waza::block_on(waza_examples::nilchan::by_priority(2));
/// assert_eq!(order, ["urgent 0", "urgent 1", "normal 0", "normal 1"]);
/// ```
pub async fn by_priority(n: usize) -> Vec<String> {
    let (urgent_tx, urgent) = chan::bounded(n.max(1));
    let (normal_tx, normal) = chan::bounded(n.max(1));
    for i in 0..n {
        normal_tx.try_send(format!("normal {i}")).expect("room");
        urgent_tx.try_send(format!("urgent {i}")).expect("room");
    }
    drop((urgent_tx, normal_tx));
    let (mut urgent_open, mut normal_open) = (true, true);
    let mut order = Vec::new();
    while urgent_open || normal_open {
        waza::select! {
            biased;
            v = urgent.recv(), if urgent_open => match v {
                Some(v) => order.push(v),
                None => urgent_open = false,
            },
            v = normal.recv(), if normal_open => match v {
                Some(v) => order.push(v),
                None => normal_open = false,
            },
        }
    }
    order
}

/// The whole program: merges 1..=5 and 10, 20, …, 50 from two sources that close at
/// different times, then drains two queues by priority. Checks that the merge delivered
/// every value once, each source in order, and closed; and the exact priority order.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// Dropping the future drops the merged channel; the merge and the sources then stop.
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let pause = Duration::from_millis(size.pick(1, 20));
    let a = source((1..=5).collect(), pause);
    let b = source((1..=5).map(|v| v * 10).collect(), pause * 2);
    let c = merge(a, b);
    let mut merged = Vec::new();
    while let Some(v) = c.recv().await {
        merged.push(v);
    }
    out.line(format!("merged until both closed: {merged:?}"));
    let small: Vec<u64> = merged.iter().copied().filter(|&v| v < 10).collect();
    let tens: Vec<u64> = merged.iter().copied().filter(|&v| v >= 10).collect();
    ensure(
        small == [1, 2, 3, 4, 5] && tens == [10, 20, 30, 40, 50],
        || format!("lost, doubled or reordered: {merged:?}"),
    )?;

    let order = by_priority(3).await;
    out.line(format!("biased; drains urgent first: {order:?}"));
    let expected = [
        "urgent 0", "urgent 1", "urgent 2", "normal 0", "normal 1", "normal 2",
    ];
    ensure(order == expected, || {
        format!("wrong priority order {order:?}")
    })
}
