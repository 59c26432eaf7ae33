//! First response wins: non-blocking `select!` sends with `default`, next to a buffered
//! channel.
//!
//! The Go original and the program itself are in `waza_examples::first_response`
//! (`examples/src/first_response.rs`). `--quick` runs the short form; the run checks its
//! own result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{first_response, Out};

const USAGE: Usage = Usage::quick("first_response");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(first_response::program(args.size(), &Out::stdout()).await)
}
