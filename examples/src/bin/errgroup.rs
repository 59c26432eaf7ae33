//! `task::Group` fetching fake URLs; the first error cancels the rest through the group's
//! Context.
//!
//! The Go original and the program itself are in `waza_examples::errgroup`
//! (`examples/src/errgroup.rs`). `--quick` runs the short form; the run checks its own
//! result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{errgroup, Out};

const USAGE: Usage = Usage::quick("errgroup");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(errgroup::program(args.size(), &Out::stdout()).await)
}
