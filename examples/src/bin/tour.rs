//! A tour of waza: every example in its quick form, in the order of the talks —
//! "Concurrency is not parallelism", then "Go Concurrency Patterns", then their classic
//! friends — each under a heading with one line saying what it shows. Every example checks
//! its own result; the tour exits non-zero if any check failed. Finishes in a few seconds.
//!
//! Run it with `cargo run --release -p waza-examples --bin tour`; every example also has
//! its own binary (`--bin NAME`, listed in `examples/README.md`).

use std::future::Future;
use std::process::ExitCode;
use std::time::Instant;

use waza_examples::cli::Usage;
use waza_examples::Size::Quick;
use waza_examples::{
    boring, bounded_parallelism, chat, daemon, daisychain, deadlock, echo_server, errgroup, fanin,
    first_response, google_search, loadbalancer, nilchan, pingpong, pipeline, quit, sieve, ticker,
    timer_chan, udp_echo, Out,
};

/// `--quick` is accepted like every example's, and changes nothing: the tour is always quick.
const USAGE: Usage = Usage::quick("tour");

/// Counts the examples shown and remembers the ones whose check failed.
#[derive(Default)]
struct Tour {
    shown: u32,
    failed: Vec<&'static str>,
}

impl Tour {
    /// Runs one example under a heading and reports its check.
    async fn show(
        &mut self,
        name: &'static str,
        what: &str,
        example: impl Future<Output = Result<(), String>>,
    ) {
        self.shown += 1;
        println!("\n== {}. {name}\n   {what}\n", self.shown);
        if let Err(reason) = example.await {
            println!("CHECK FAILED: {reason}");
            self.failed.push(name);
        }
    }
}

#[waza::main]
async fn main() -> ExitCode {
    USAGE.args();
    let start = Instant::now();
    let out = &Out::stdout();
    let mut t = Tour::default();

    println!("-- Concurrency is not parallelism (Rob Pike, 2012)");
    t.show(
        "timer_chan",
        "A task sleeps, then sends the time; main works meanwhile, then receives it.",
        timer_chan::program(Quick, out),
    )
    .await;
    t.show(
        "daemon",
        "for val := range input { output <- val }: closing the input closes the output.",
        daemon::program(Quick, out),
    )
    .await;
    t.show(
        "loadbalancer",
        "Requests go to the least-loaded of 4 workers (a heap); completions come on `done`.",
        loadbalancer::program(Quick, out),
    )
    .await;
    t.show(
        "first_response",
        "First answer wins; the losers drop theirs (select! default) or buffer it.",
        first_response::program(Quick, out),
    )
    .await;
    println!("\n-- Go Concurrency Patterns (Rob Pike, 2012)");
    t.show(
        "fanin",
        "Two generators on one channel: forwarding tasks, a select! loop, taking turns.",
        fanin::program(Quick, out),
    )
    .await;
    t.show(
        "timeout",
        "select! with time::sleep / time::after: per message, then per conversation.",
        boring::program(Quick, out),
    )
    .await;
    t.show(
        "quit",
        "A quit channel stops a generator; in the round trip it cleans up and replies.",
        quit::program(Quick, out),
    )
    .await;
    t.show(
        "daisychain",
        "10,000 tasks in a chain whisper a number along, each adding one: tasks are cheap.",
        daisychain::program(10_000, out),
    )
    .await;
    t.show(
        "google_search",
        "Google Search 1.0 -> 2.0 (fan-in) -> 2.1 (timeout) -> 3.0 (replicas).",
        google_search::program(Quick, out),
    )
    .await;
    println!("\n-- Classic friends");
    t.show(
        "pingpong",
        "Two players hit one ball back and forth over a rendezvous channel.",
        pingpong::program(Quick, out),
    )
    .await;
    t.show(
        "nilchan",
        "A false precondition switches an arm off (Go's nil channel); `biased;` ranks.",
        nilchan::program(Quick, out),
    )
    .await;
    t.show(
        "sieve",
        "A generator and a chain of filter tasks find primes.",
        sieve::program(10, out),
    )
    .await;
    t.show(
        "pipeline",
        "generate -> square -> print: back-pressure, Context cancellation, WaitGroup.",
        pipeline::program(Quick, out),
    )
    .await;
    t.show(
        "bounded_parallelism",
        "A Semaphore keeps at most 4 spawn_blocking jobs in flight; results in order.",
        bounded_parallelism::program(Quick, out),
    )
    .await;
    t.show(
        "errgroup",
        "task::Group: the first error cancels the other fetches via the group's Context.",
        errgroup::program(Quick, out),
    )
    .await;
    t.show(
        "ticker",
        "time::interval and time::tick drive periodic work until a Context deadline.",
        ticker::program(Quick, out),
    )
    .await;
    t.show(
        "echo_server",
        "A TCP echo server, a task per connection, checked by three clients.",
        echo_server::demo(3, out),
    )
    .await;
    t.show(
        "chat",
        "A TCP chat: a broadcaster task owns the clients; joins and leaves are messages.",
        chat::demo(out),
    )
    .await;
    t.show(
        "udp_echo",
        "A UDP echo server and a client that checks every datagram.",
        udp_echo::demo(out),
    )
    .await;
    t.show(
        "deadlock",
        "A program forgets to send: the detector stops it with Go's message and a dump.",
        deadlock::program(Quick, out),
    )
    .await;

    println!(
        "\ntour finished in {:.1?}: {} examples",
        start.elapsed(),
        t.shown
    );
    if t.failed.is_empty() {
        println!("every check passed");
        ExitCode::SUCCESS
    } else {
        println!("checks failed: {}", t.failed.join(", "));
        ExitCode::FAILURE
    }
}
