//! A copy loop task, `for val := range input { output <- val }`: closing the input closes
//! the output.
//!
//! The Go original and the program itself are in `waza_examples::daemon`
//! (`examples/src/daemon.rs`). `--quick` runs the short form; the run checks its own result
//! and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{daemon, Out};

const USAGE: Usage = Usage::quick("daemon");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(daemon::program(args.size(), &Out::stdout()).await)
}
