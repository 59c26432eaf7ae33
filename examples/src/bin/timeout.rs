//! Timeouts with `select!`: per message, then for the whole conversation.
//!
//! The Go original and the program itself are in `waza_examples::boring`
//! (`examples/src/boring.rs`). `--quick` runs the short form; the run checks its own result
//! and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{boring, Out};

const USAGE: Usage = Usage::quick("timeout");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(boring::program(args.size(), &Out::stdout()).await)
}
