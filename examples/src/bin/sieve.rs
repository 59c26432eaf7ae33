//! The concurrent prime sieve: prints the first N (10) primes, found by a chain of filter
//! tasks, and checks them. The Go original and the program are in `waza_examples::sieve`.

use std::process::ExitCode;

use waza_examples::cli::{self, Flag, Number, Usage};
use waza_examples::{sieve, Out};

const USAGE: Usage = Usage {
    program: "sieve",
    flags: &[Flag::Quick],
    numbers: &[Number {
        name: "N",
        min: 1,
        max: 10_000,
    }],
};

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    let n = args.number(0).unwrap_or(10) as usize;
    cli::exit_status(sieve::program(n, &Out::stdout()).await)
}
