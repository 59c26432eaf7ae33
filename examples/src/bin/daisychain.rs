//! Chinese whispers: 100,000 tasks in a chain each add one to a number; prints 100001.
//! See `waza_examples::daisychain`.

use std::time::Instant;

#[waza::main]
async fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let start = Instant::now();
    let result = waza_examples::daisychain::whispers(n).await;
    println!("{result}");
    println!("({n} tasks in {:.1?})", start.elapsed());
}
