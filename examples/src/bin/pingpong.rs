//! Two tasks hit one ball back and forth over a rendezvous channel.
//!
//! The Go original and the program itself are in `waza_examples::pingpong`
//! (`examples/src/pingpong.rs`). `--quick` runs the short form; the run checks its own
//! result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{pingpong, Out};

const USAGE: Usage = Usage::quick("pingpong");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(pingpong::program(args.size(), &Out::stdout()).await)
}
