//! Go's nil-channel trick as `select!` preconditions, and `biased;` for priority.
//!
//! The Go original and the program itself are in `waza_examples::nilchan`
//! (`examples/src/nilchan.rs`). `--quick` runs the short form; the run checks its own
//! result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{nilchan, Out};

const USAGE: Usage = Usage::quick("nilchan");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(nilchan::program(args.size(), &Out::stdout()).await)
}
