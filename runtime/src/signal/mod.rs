//! Signals: [`ctrl_c`] everywhere waza runs, and on unix any signal as a stream
//! ([`unix::signal`]).
//!
//! Deliveries travel from the signal handler through a self-pipe that each listener
//! registers with its runtime's reactor: no thread is started, and any number of tasks (in
//! any number of runtimes) may listen for the same signal; each one sees every delivery
//! made while it listens. Deliveries that arrive between two polls of one listener are
//! coalesced into one, as tokio and the OS's own pending-signal set do.
//!
//! Once a signal has had a listener, waza's handler stays installed for the rest of the
//! process: for SIGINT that means Ctrl-C no longer kills the process by default, so a
//! program that listens for it should exit by itself when it sees it.
//!
//! | Go | waza |
//! |---|---|
//! | `signal.Notify(c, os.Interrupt)` | `waza::signal::ctrl_c().await` |
//! | `signal.Notify(c, syscall.SIGHUP)` | `waza::signal::unix::signal(SignalKind::hangup())?` |

mod registry;
pub mod unix;

use std::io;

/// Completes when the process receives Ctrl-C (SIGINT).
///
/// The listener is installed when the future is first polled; a Ctrl-C that arrived
/// earlier is not seen. To be sure not to miss one, create a
/// [`unix::signal`]`(SignalKind::interrupt())` stream early and `recv` it later.
///
/// # Errors
///
/// If the handler or its pipe cannot be set up, or the runtime shut down while waiting.
///
/// # Panics
///
/// Outside a waza runtime.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future drops the listener, and a later `ctrl_c` listens anew.
///
/// # Examples
///
/// ```no_run
/// waza::block_on(async {
///     let server = waza::spawn(async { /* serve */ });
///     waza::signal::ctrl_c().await.expect("listening for Ctrl-C");
///     println!("shutting down");
///     drop(server);
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = unix::signal(unix::SignalKind::interrupt())?;
    match interrupts.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other("the waza runtime has shut down")),
    }
}
