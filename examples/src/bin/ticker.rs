//! `interval` and `tick` driving periodic work under a Context deadline.
//!
//! The Go original and the program itself are in `waza_examples::ticker`
//! (`examples/src/ticker.rs`). `--quick` runs the short form; the run checks its own result
//! and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{ticker, Out};

const USAGE: Usage = Usage::quick("ticker");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(ticker::program(args.size(), &Out::stdout()).await)
}
