//! The talk's load balancer: requests go to the least-loaded worker (a heap).
//!
//! The Go original and the program itself are in `waza_examples::loadbalancer`
//! (`examples/src/loadbalancer.rs`). `--quick` runs the short form; the run checks its own
//! result and exits non-zero when it is wrong.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{loadbalancer, Out};

const USAGE: Usage = Usage::quick("loadbalancer");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    cli::exit_status(loadbalancer::program(args.size(), &Out::stdout()).await)
}
