//! A generator stopped by a quit channel, then the round trip in which it cleans up and
//! replies.
//!
//! The Go original and the program itself are in `waza_examples::quit`
//! (`examples/src/quit.rs`). `--quick` runs the short form; the run checks its own result
//! and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{quit, Out};

const USAGE: Usage = Usage::quick("quit");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(quit::program(args.size(), &Out::stdout()).await)
}
