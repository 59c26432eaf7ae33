//! The programs of Rob Pike's talks "Concurrency is not parallelism" and "Go Concurrency
//! Patterns" (and their classic friends), written with waza.
//!
//! Each module holds one program: its pieces as `async fn`s that return what they computed
//! (so `tests/smoke.rs` can check them), and a `program` function that runs the whole thing
//! the way its binary in `src/bin/` does, writing commentary through an [`Out`] and checking
//! its own result. The binaries parse their command line with [`cli`], and the `tour` binary
//! runs every `program` in its quick form. See `examples/README.md` for the table of programs.

use std::sync::{Arc, Mutex};

pub mod axum_hello;
pub mod boring;
pub mod bounded_parallelism;
pub mod chat;
pub mod cli;
pub mod daemon;
pub mod daisychain;
pub mod deadlock;
pub mod echo_server;
pub mod errgroup;
pub mod fanin;
pub mod first_response;
pub mod google_search;
pub mod graceful_shutdown;
pub mod http_client;
pub mod http_hello;
pub mod loadbalancer;
pub mod nilchan;
pub mod pingpong;
pub mod pipeline;
pub mod quit;
pub mod sieve;
pub mod ticker;
pub mod timer_chan;
pub mod udp_echo;

/// The old name of [`http_hello`], kept for the `http` bench in `waza-benches`.
#[doc(hidden)]
pub use http_hello as hyper_compat;

/// How long a run an example makes: its full form, or a short one for CI and the tour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// `--quick`: a few hundred milliseconds at most.
    Quick,
    /// The program as the talk shows it (still finishes within seconds).
    Full,
}

impl Size {
    /// `quick` for [`Size::Quick`], `full` for [`Size::Full`].
    ///
    /// # Examples
    ///
    /// ```
    /// use waza_examples::Size;
    /// assert_eq!(Size::Quick.pick(10, 1000), 10);
    /// ```
    pub fn pick<T>(self, quick: T, full: T) -> T {
        match self {
            Size::Quick => quick,
            Size::Full => full,
        }
    }
}

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
