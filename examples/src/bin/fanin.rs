//! Two boring generators multiplexed onto one channel: forwarding tasks, a `select!` loop,
//! then restoring sequence.
//!
//! The Go original and the program itself are in `waza_examples::fanin`
//! (`examples/src/fanin.rs`). `--quick` runs the short form; the run checks its own result
//! and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{fanin, Out};

const USAGE: Usage = Usage::quick("fanin");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(fanin::program(args.size(), &Out::stdout()).await)
}
