//! The concurrent prime sieve: prints the first 10 primes (or as many as the first
//! argument says), found by a chain of filter tasks. See `waza_examples::sieve`.

use waza_examples::{sieve, Out};

#[waza::main]
async fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    sieve::primes(n, &Out::stdout()).await;
}
