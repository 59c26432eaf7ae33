//! A program that forgets to send, run with the deadlock detector on: it prints Go's "all
//! tasks are asleep - deadlock!" and the task dump on stderr and exits with status 2, as a
//! Go program does. The Go original and the program are in `waza_examples::deadlock`.

use std::process::ExitCode;

use waza_examples::cli::Usage;
use waza_examples::deadlock;

const USAGE: Usage = Usage::quick("deadlock");

fn main() -> ExitCode {
    USAGE.args();
    match deadlock::detect() {
        Some(report) => {
            eprintln!("fatal error: {}", report.trim_end());
            ExitCode::from(2)
        }
        None => {
            eprintln!("CHECK FAILED: the program finished; the deadlock went unnoticed");
            ExitCode::FAILURE
        }
    }
}
