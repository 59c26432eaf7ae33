//! The programs of Rob Pike's talk "Concurrency is not parallelism" (and their classic
//! friends from "Go Concurrency Patterns"), written with waza.
//!
//! Each module holds one program's logic as an `async fn` that returns what it computed, so
//! the binaries in `src/bin/` can print it and `tests/smoke.rs` can check it. Programs write
//! their running commentary through an [`Out`], which prints to stdout or captures lines.
//!
//! | module | Go original | what it shows |
//! |---|---|---|
//! | [`sieve`] | the concurrent prime sieve | a pipeline of tasks over rendezvous channels |
//! | [`daisychain`] | "Chinese whispers" | 100,000 tasks are cheap |
//! | [`pingpong`] | the ping-pong ball | two tasks handing one value back and forth |
//! | [`boring`] | `boring()` with `time.After` | timeouts with `select!` |
//! | [`query`] | "first response wins", Google Search 3.0 | replicated queries, buffered channels |
//! | [`loadbalancer`] | the talk's load balancer | a heap of workers, `select!` over requests and completions |
//! | [`hyper_compat`] | `net/http`'s `ListenAndServe` | hyper 1.x serving HTTP/1 on waza's sockets and timers |

use std::sync::{Arc, Mutex};

pub mod boring;
pub mod daisychain;
pub mod hyper_compat;
pub mod loadbalancer;
pub mod pingpong;
pub mod query;
pub mod sieve;

/// Where an example writes its commentary: standard output, or a buffer for tests.
///
/// `Out` is cheap to clone; clones write to the same place.
///
/// # Examples
///
/// ```
/// let out = waza_examples::Out::capture();
/// out.line("hello");
/// assert_eq!(out.lines(), ["hello"]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Out {
    captured: Option<Arc<Mutex<Vec<String>>>>,
}

impl Out {
    /// An `Out` that prints every line to standard output.
    pub fn stdout() -> Self {
        Out { captured: None }
    }

    /// An `Out` that keeps every line in memory; read them with [`Out::lines`].
    pub fn capture() -> Self {
        Out {
            captured: Some(Arc::default()),
        }
    }

    /// Writes one line.
    pub fn line(&self, line: impl Into<String>) {
        let line = line.into();
        match &self.captured {
            Some(buf) => buf.lock().unwrap_or_else(|e| e.into_inner()).push(line),
            None => println!("{line}"),
        }
    }

    /// The lines captured so far (empty for [`Out::stdout`]).
    pub fn lines(&self) -> Vec<String> {
        match &self.captured {
            Some(buf) => buf.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            None => Vec::new(),
        }
    }
}

/// A tiny deterministic pseudo-random generator (xorshift64*), standing in for Go's
/// `math/rand` so that runs are reproducible.
///
/// # Examples
///
/// ```
/// let mut a = waza_examples::Rng::new(7);
/// let mut b = waza_examples::Rng::new(7);
/// assert_eq!(a.below(100), b.below(100));
/// ```
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next raw 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n` must be non-zero).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A duration of `0..max_ms` milliseconds.
    pub fn millis(&mut self, max_ms: u64) -> std::time::Duration {
        std::time::Duration::from_millis(self.below(max_ms.max(1)))
    }
}
