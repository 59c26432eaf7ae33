//! Google Search 1.0 – 3.0 over fake back-ends, with each version's latency distribution.
//!
//! The Go original and the program itself are in `waza_examples::google_search`
//! (`examples/src/google_search.rs`). `--quick` runs the short form; the run checks its own
//! result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{google_search, Out};

const USAGE: Usage = Usage::quick("google_search");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(google_search::program(args.size(), &Out::stdout()).await)
}
