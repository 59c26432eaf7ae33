//! A Semaphore bounding `spawn_blocking` work over many inputs, results gathered in order.
//!
//! The Go original and the program itself are in `waza_examples::bounded_parallelism`
//! (`examples/src/bounded_parallelism.rs`). `--quick` runs the short form; the run checks
//! its own result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{bounded_parallelism, Out};

const USAGE: Usage = Usage::quick("bounded_parallelism");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(bounded_parallelism::program(args.size(), &Out::stdout()).await)
}
