//! A program that forgets to send: main waits for a result the worker never sends, and the
//! worker waits for main's "quit". With the deadlock detector on, the runtime notices that
//! no task can ever run again and stops with Go's message and a dump of the tasks.
//!
//! The Go original (a classic mistake):
//!
//! ```go
//! func main() {
//!     results := make(chan int)
//!     quit := make(chan bool)
//!     go func() {
//!         sum := 0
//!         for i := 1; i <= 10; i++ {
//!             sum += i
//!         }
//!         // forgot: results <- sum
//!         <-quit
//!     }()
//!     fmt.Println(<-results)
//!     quit <- true
//! }
//! ```
//!
//! Go prints `fatal error: all goroutines are asleep - deadlock!`, one stack per goroutine,
//! and exits with status 2. `Builder::detect_deadlock(true)` makes `block_on` panic with
//! `all tasks are asleep - deadlock!` and a task dump; [`detect`] catches that panic.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use waza::chan;

use crate::cli::ensure;
use crate::{Out, Size};

/// The marker in the detector's message (Go says "goroutines").
pub const MARKER: &str = "all tasks are asleep - deadlock!";

/// The program with the bug: returns the sum it received, which never comes.
///
/// # Cancel safety
///
/// Dropping the future drops main's channel ends; the worker then sees `quit` close.
pub async fn forgetful() -> u64 {
    let (results_tx, results) = chan::rendezvous::<u64>();
    let (quit, quit_rx) = chan::rendezvous::<bool>();
    waza::go!(async move {
        let _sum: u64 = (1..=10).sum();
        // forgot: results_tx.send(_sum).await
        let _keep = &results_tx; // the sender stays alive, so `results` never closes
        quit_rx.recv().await;
    });
    let sum = results.recv().await.unwrap_or(0);
    let _ = quit.send(true).await;
    sum
}

/// Runs [`forgetful`] on a fresh runtime with the deadlock detector on, on a thread of its
/// own (so it can be called from anywhere). Returns the detector's message (the marker and
/// the task dump), or `None` if the program finished.
///
/// The detector reports by panicking out of `block_on`; a panic hook installed once keeps
/// that expected panic off stderr (other panics still print as usual).
///
/// # Panics
///
/// Panics if the runtime cannot be built, or re-raises any other panic.
///
/// # Examples
///
/// ```
/// let msg = waza_examples::deadlock::detect().expect("detected");
/// assert!(msg.contains(waza_examples::deadlock::MARKER));
/// ```
pub fn detect() -> Option<String> {
    quiet_detector_panics();
    let thread = std::thread::spawn(|| {
        let rt = waza::Runtime::builder()
            .workers(2)
            .detect_deadlock(true)
            .build()
            .expect("runtime builds");
        panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(forgetful())))
    });
    match thread.join().expect("the detector thread does not panic") {
        Ok(_sum) => None,
        Err(payload) => match payload.downcast::<String>() {
            Ok(msg) if msg.contains(MARKER) => Some(*msg),
            Ok(msg) => panic::resume_unwind(msg),
            Err(payload) => panic::resume_unwind(payload),
        },
    }
}

/// Installs (once) a panic hook that stays silent for the detector's panic and hands every
/// other panic to the previous hook.
fn quiet_detector_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let is_detector = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.contains(MARKER));
            if !is_detector {
                previous(info);
            }
        }));
    });
}

/// The tour's form: runs the program under the detector and checks that it was stopped
/// with the marker and a dump naming the forgetful worker's spawn site.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// Not a cancellation point: the work happens on a thread of its own.
pub async fn program(_size: Size, out: &Out) -> Result<(), String> {
    let detected = waza::spawn_blocking(detect)
        .await
        .map_err(|e| e.to_string())?;
    let msg = detected.ok_or("the program finished: no deadlock detected")?;
    for line in msg.lines().filter(|l| !l.is_empty()) {
        out.line(format!("  {line}"));
    }
    ensure(msg.contains("deadlock.rs"), || {
        format!("the dump does not name the worker's spawn site:\n{msg}")
    })
}
