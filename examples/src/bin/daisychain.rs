//! Chinese whispers: N (100,000; 10,000 with `--quick`) tasks in a chain each add one to a
//! number; prints and checks N + 1. The Go original and the program are in
//! `waza_examples::daisychain`.

use std::process::ExitCode;

use waza_examples::cli::{self, Flag, Number, Usage};
use waza_examples::{daisychain, Out};

const USAGE: Usage = Usage {
    program: "daisychain",
    flags: &[Flag::Quick],
    numbers: &[Number {
        name: "N",
        min: 0,
        max: 10_000_000,
    }],
};

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    let n = args.number(0).unwrap_or(args.size().pick(10_000, 100_000)) as usize;
    cli::exit_status(daisychain::program(n, &Out::stdout()).await)
}
