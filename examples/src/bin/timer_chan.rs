//! A task sleeps, then sends the time on a channel; main works, then receives.
//!
//! The Go original and the program itself are in `waza_examples::timer_chan`
//! (`examples/src/timer_chan.rs`). `--quick` runs the short form; the run checks its own
//! result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{timer_chan, Out};

const USAGE: Usage = Usage::quick("timer_chan");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(timer_chan::program(args.size(), &Out::stdout()).await)
}
