//! Helpers shared by the `select_*` test files.
#![allow(dead_code, unused_macros, unused_imports)]

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

/// `select!` as users write it.
pub use waza_channel::select;

/// Scales a count: full size in release builds, `1/div` of it in debug builds.
pub fn scaled(release: usize, div: usize) -> usize {
    if cfg!(debug_assertions) {
        (release / div).max(1)
    } else {
        release
    }
}

/// Runs `f` on its own thread and fails the test, instead of hanging it, if `f` has not
/// finished after `secs` seconds (a lost wake-up or a missed pairing shows up as a hang).
/// The limit is far above the expected run time; it only turns a hang into a failure.
pub fn watchdog<R: std::marker::Send + 'static>(
    name: &str,
    secs: u64,
    f: impl FnOnce() -> R + std::marker::Send + 'static,
) -> R {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let r = f();
            let _ = done_tx.send(());
            r
        })
        .unwrap();
    match done_rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("`{name}` did not finish within {secs} s: a select or channel operation hangs")
        }
    }
}

/// Polls `fut` once with a no-op waker.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    fut.poll(&mut cx)
}

/// A small deterministic xorshift generator for test decisions.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
