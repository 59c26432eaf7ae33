//! "Chinese whispers": a chain of 100,000 tasks, each passing a number one step left and
//! adding one, shows that tasks are cheap.
//!
//! The Go original ("Go Concurrency Patterns", 2012):
//!
//! ```go
//! func f(left, right chan int) {
//!     left <- 1 + <-right
//! }
//!
//! func main() {
//!     const n = 100000
//!     leftmost := make(chan int)
//!     right := leftmost
//!     left := leftmost
//!     for i := 0; i < n; i++ {
//!         right = make(chan int)
//!         go f(left, right)
//!         left = right
//!     }
//!     go func(c chan int) { c <- 1 }(right)
//!     fmt.Println(<-leftmost)
//! }
//! ```

use std::time::Instant;

use waza::chan::{self, Receiver, Sender};

use crate::cli::ensure;
use crate::Out;

/// One gopher: hears a number on the right, whispers it plus one to the left.
async fn whisper(left: Sender<u64>, right: Receiver<u64>) {
    if let Some(v) = right.recv().await {
        let _ = left.send(v + 1).await;
    }
}

/// Builds a chain of `n` tasks, whispers 1 into its right end and returns what comes out
/// of the left end: `n + 1`.
///
/// # Cancel safety
///
/// Dropping the future drops the leftmost receiver; the chain then unwinds task by task.
///
/// # Examples
///
/// ```
/// assert_eq!(waza::block_on(waza_examples::daisychain::whispers(1_000)), 1_001);
/// ```
pub async fn whispers(n: usize) -> u64 {
    let (leftmost, result) = chan::rendezvous();
    let mut left = leftmost;
    for _ in 0..n {
        let (right, from_right) = chan::rendezvous();
        waza::go!(whisper(left, from_right));
        left = right;
    }
    waza::go!(async move {
        let _ = left.send(1).await;
    });
    result
        .recv()
        .await
        .expect("every gopher passes the number on")
}

/// The whole program: a chain of `n` tasks; prints what the leftmost one heard and checks
/// that it is `n + 1`.
///
/// # Errors
///
/// A description of the check that failed.
///
/// # Cancel safety
///
/// As [`whispers`].
pub async fn program(n: usize, out: &Out) -> Result<(), String> {
    let start = Instant::now();
    let heard = whispers(n).await;
    out.line(format!(
        "{n} tasks: the leftmost heard {heard} ({:.1?})",
        start.elapsed()
    ));
    ensure(heard == n as u64 + 1, || format!("expected {}", n + 1))
}
