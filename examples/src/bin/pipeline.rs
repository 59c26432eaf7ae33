//! generate → square → print: bounded stages, back-pressure, cancellation by a Context, a
//! WaitGroup.
//!
//! The Go original and the program itself are in `waza_examples::pipeline`
//! (`examples/src/pipeline.rs`). `--quick` runs the short form; the run checks its own
//! result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{pipeline, Out};

const USAGE: Usage = Usage::quick("pipeline");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(pipeline::program(args.size(), &Out::stdout()).await)
}
