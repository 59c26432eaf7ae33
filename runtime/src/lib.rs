//! waza: Go's concurrency model in Rust — tasks started with [`go!`], typed channels
//! ([`chan`]), Go's [`select!`], on a work-stealing runtime with an I/O and timer driver.
//!
//! # Go → waza
//!
//! | Go | waza |
//! |---|---|
//! | `go f(a, b)` | `waza::go!(f(a, b))` or [`waza::spawn`](fn@spawn)`(f(a, b))` |
//! | `func main()` | `#[waza::main] async fn main()` |
//! | `make(chan T)` / `make(chan T, n)` | `waza::chan::rendezvous()` / `waza::chan::bounded(n)` |
//! | `ch <- v` / `v, ok := <-ch` | `tx.send(v).await` / `rx.recv().await` |
//! | `select { … }` | `waza::select! { … }` |
//! | `runtime.Gosched()` | `waza::yield_now().await` |
//! | `GOMAXPROCS` | `$WAZA_MAXPROCS` or [`Builder::workers`] |
//! | a goroutine blocking in a system call | [`task::block_in_place`] |
//! | `testing/synctest`'s fake clock | `#[waza::test(start_paused = true)]`, [`time::advance`] |
//! | `time.Sleep(d)` | `waza::time::sleep(d).await` |
//! | `sync.WaitGroup` | `waza::sync::WaitGroup` |
//!
//! # tokio → waza
//!
//! Porting is mostly imports: [`sync::mpsc`] has tokio's channel API, [`io`] re-exports
//! the futures-io utilities under tokio's names, `#[waza::main]` / `#[waza::test]` take
//! tokio's options, and `select!` has tokio's `else => …` (every arm disabled) beside
//! Go's `default => …` (nothing ready right now). The README's "tokio → waza" table lists
//! where meanings differ.
//!
//! # Examples
//!
//! ```
//! waza::block_on(async {
//!     let handles: Vec<_> = (0..10u64).map(|i| waza::go!(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for h in handles {
//!         sum += h.await.unwrap();
//!     }
//!     assert_eq!(sum, 285);
//! });
//! ```

#![warn(missing_docs)]

pub use waza_channel as chan;
pub use waza_channel::select;
pub use waza_macros::{main, test};

pub(crate) mod blocking;
pub mod context;
pub mod fs;
mod group;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
mod join_set;
pub(crate) mod loom;
pub mod net;
#[cfg(unix)]
pub mod process;
pub(crate) mod reactor;
pub mod runtime;
pub(crate) mod scheduler;
#[cfg(unix)]
pub mod signal;
pub mod sync;
pub mod task;
#[cfg(test)]
mod test_support;
pub mod time;

pub use runtime::{
    block_on, Builder, EnterGuard, Handle, Runtime, RuntimeMetrics, TaskDump, TaskInfo, TaskState,
};
pub use scheduler::monitor::BlockedPoll;
pub use task::{spawn, spawn_blocking, yield_now, AbortHandle, JoinError, JoinHandle};

/// Starts a task: Go's `go` statement. `go!(f(a, b))` is [`spawn`](fn@spawn)`(f(a, b))`.
///
/// The arguments are evaluated at once, on the calling task, as in Go; the call's future
/// then runs concurrently. Returns the task's [`JoinHandle`] (drop it to detach).
///
/// # Panics
///
/// Panics outside a waza runtime.
///
/// # Examples
///
/// ```
/// async fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
/// waza::block_on(async {
///     let h = waza::go!(add(2, 3));
///     assert_eq!(h.await.unwrap(), 5);
///     let h = waza::go!(async move { "closure-like" });
///     assert_eq!(h.await.unwrap(), "closure-like");
/// });
/// ```
#[macro_export]
macro_rules! go {
    ($future:expr $(,)?) => {
        $crate::spawn($future)
    };
}

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
