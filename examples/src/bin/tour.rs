//! A tour of waza: every example in its quick form, in the order of the talks — "Concurrency
//! is not parallelism", then "Go Concurrency Patterns", then their classic friends — each
//! under a heading with one line saying what it shows. Every example checks its own result;
//! the tour exits non-zero if any check failed. Finishes in a few seconds.
//!
//! Run it with `cargo run --release -p waza-examples --bin tour`; every example also has its
//! own binary (`--bin NAME`, listed in `examples/README.md`).

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

const USAGE: Usage = Usage {
    program: "tour",
    flags: &[],
    numbers: &[],
};

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
        "A task sleeps, then sends the time on a channel; main works meanwhile, then receives.",
        timer_chan::program(Quick, out),
    )
    .await;
    t.show("daemon", "for val := range input { output <- val }: closing the input closes the output, down a chain of tasks.",
        daemon::program(Quick, out)).await;
    t.show("loadbalancer", "Requesters -> balancer -> the least-loaded of 4 workers (a heap); completions come back on `done`.",
        loadbalancer::program(Quick, out)).await;
    t.show("first_response", "Ask every replica, take the first answer; the losers drop theirs (select! default) or buffer it.",
        first_response::program(Quick, out)).await;

    println!("\n-- Go Concurrency Patterns (Rob Pike, 2012)");
    t.show("fanin", "Two generators multiplexed onto one channel: forwarding tasks, a select! loop, then taking turns.",
        fanin::program(Quick, out)).await;
    t.show("timeout", "select! with time::sleep / time::after: a per-message timeout, then one for the whole conversation.",
        boring::program(Quick, out)).await;
    t.show("quit", "A quit channel stops a generator; in the round trip it cleans up and answers on the same channel.",
        quit::program(Quick, out)).await;
    t.show(
        "daisychain",
        "10,000 tasks in a chain whisper a number along, each adding one: tasks are cheap.",
        daisychain::program(10_000, out),
    )
    .await;
    t.show("google_search", "Google Search 1.0 (sequential) -> 2.0 (fan-in) -> 2.1 (timeout) -> 3.0 (replicas): latencies fall.",
        google_search::program(Quick, out)).await;

    println!("\n-- Classic friends");
    t.show("pingpong", "Two players hit one ball back and forth over a rendezvous channel (Advanced Go Concurrency Patterns).",
        pingpong::program(Quick, out)).await;
    t.show("nilchan", "A false select! precondition switches an arm off (Go's nil channel); `biased;` gives priority.",
        nilchan::program(Quick, out)).await;
    t.show(
        "sieve",
        "A generator and a chain of filter tasks over rendezvous channels find primes.",
        sieve::program(10, out),
    )
    .await;
    t.show("pipeline", "generate -> square -> print with bounded channels: back-pressure, Context cancellation, a WaitGroup.",
        pipeline::program(Quick, out)).await;
    t.show(
        "bounded_parallelism",
        "A Semaphore keeps at most 4 spawn_blocking digests in flight; results come back in order.",
        bounded_parallelism::program(Quick, out),
    )
    .await;
    t.show("errgroup", "task::Group (Go's errgroup): the first error cancels the other fetches through the group's Context.",
        errgroup::program(Quick, out)).await;
    t.show(
        "ticker",
        "time::interval and time::tick drive periodic work until a Context deadline.",
        ticker::program(Quick, out),
    )
    .await;
    t.show(
        "echo_server",
        "A TCP echo server, a task per connection, checked by three clients on 127.0.0.1.",
        echo_server::demo(3, out),
    )
    .await;
    t.show("chat", "A TCP chat: a broadcaster task owns the clients; joins, leaves and messages travel over channels.",
        chat::demo(out)).await;
    t.show(
        "udp_echo",
        "A UDP echo server and a client that checks every datagram.",
        udp_echo::demo(out),
    )
    .await;
    t.show("deadlock", "A program that forgets to send: the deadlock detector stops it with Go's message and a task dump.",
        deadlock::program(Quick, out)).await;

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
