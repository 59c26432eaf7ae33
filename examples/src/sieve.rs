//! The concurrent prime sieve: a generator feeds a chain of filter tasks, one per prime
//! found so far, linked by rendezvous channels.
//!
//! The Go original (from the Go tour and the talk's references):
//!
//! ```go
//! func Generate(ch chan<- int) {
//!     for i := 2; ; i++ {
//!         ch <- i
//!     }
//! }
//!
//! func Filter(in <-chan int, out chan<- int, prime int) {
//!     for {
//!         i := <-in
//!         if i%prime != 0 {
//!             out <- i
//!         }
//!     }
//! }
//!
//! func main() {
//!     ch := make(chan int)
//!     go Generate(ch)
//!     for i := 0; i < 10; i++ {
//!         prime := <-ch
//!         fmt.Println(prime)
//!         ch1 := make(chan int)
//!         go Filter(ch, ch1, prime)
//!         ch = ch1
//!     }
//! }
//! ```
//!
//! The one change: Go's program simply exits and abandons its goroutines, while here each
//! task stops when its downstream channel closes. When [`primes`] returns it drops the last
//! receiver, the last filter's next send fails, it returns and drops its own receiver, and
//! so on up the chain to the generator.

use waza::chan::{self, Receiver, Sender};

use crate::cli::ensure;
use crate::Out;

/// Sends 2, 3, 4, … until nobody listens any more.
async fn generate(ch: Sender<u64>) {
    let mut i = 2;
    while ch.send(i).await.is_ok() {
        i += 1;
    }
}

/// Passes on the numbers from `input` that `prime` does not divide.
async fn filter(input: Receiver<u64>, output: Sender<u64>, prime: u64) {
    while let Some(i) = input.recv().await {
        if i % prime != 0 && output.send(i).await.is_err() {
            return;
        }
    }
}

/// Finds the first `n` primes with the sieve, writing each one to `out` as it appears.
///
/// # Cancel safety
///
/// Dropping the future drops the last receiver of the chain; each filter task then exits in
/// turn.
///
/// # Examples
///
/// ```
/// let primes = waza::block_on(waza_examples::sieve::primes(5, &waza_examples::Out::capture()));
/// assert_eq!(primes, [2, 3, 5, 7, 11]);
/// ```
pub async fn primes(n: usize, out: &Out) -> Vec<u64> {
    let (tx, mut ch) = chan::rendezvous();
    waza::go!(generate(tx));
    let mut found = Vec::with_capacity(n);
    for _ in 0..n {
        let prime = ch
            .recv()
            .await
            .expect("the generator never stops on its own");
        out.line(prime.to_string());
        found.push(prime);
        let (tx1, ch1) = chan::rendezvous();
        waza::go!(filter(ch, tx1, prime));
        ch = ch1;
    }
    found
}

/// The first `n` primes by trial division, to check the sieve against.
fn trial_division(n: usize) -> Vec<u64> {
    (2u64..)
        .filter(|&k| (2..k).take_while(|d| d * d <= k).all(|d| k % d != 0))
        .take(n)
        .collect()
}

/// The whole program: prints the first `n` primes and checks them against trial division.
///
/// # Errors
///
/// A description of the check that failed.
///
/// # Cancel safety
///
/// As [`primes`].
pub async fn program(n: usize, out: &Out) -> Result<(), String> {
    let found = primes(n, out).await;
    ensure(found == trial_division(n), || {
        format!("the sieve found {found:?}")
    })
}
