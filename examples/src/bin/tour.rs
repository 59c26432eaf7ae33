//! A tour of waza: runs each program from "Concurrency is not parallelism" briefly, with a
//! one-line explanation before each. Finishes in a few seconds.
//!
//! Run it with `cargo run --release -p waza-examples --bin tour`; every program also has
//! its own binary (`--bin sieve`, `daisychain`, `pingpong`, `timeout`, `query`,
//! `loadbalancer`).

use std::time::{Duration, Instant};

use waza_examples::query::{first, first_within, google, Replica};
use waza_examples::{boring, daisychain, loadbalancer, pingpong, sieve, Out};

fn heading(n: u32, title: &str, what: &str) {
    println!("\n== {n}. {title}\n   {what}\n");
}

#[waza::main]
async fn main() {
    let start = Instant::now();
    let out = Out::stdout();
    let ms = Duration::from_millis;

    heading(
        1,
        "sieve",
        "A generator and a chain of filter tasks over rendezvous channels find primes.",
    );
    let primes = sieve::primes(10, &Out::capture()).await;
    println!("first 10 primes: {primes:?}");

    heading(
        2,
        "daisychain",
        "100,000 tasks in a chain whisper a number along, each adding one.",
    );
    let t = Instant::now();
    let n = daisychain::whispers(100_000).await;
    println!("the leftmost task heard {n} ({:.1?})", t.elapsed());

    heading(
        3,
        "pingpong",
        "Two players hit one ball back and forth over a rendezvous channel.",
    );
    pingpong::game(6, ms(50), &out).await;

    heading(
        4,
        "timeout",
        "select! with time::sleep / time::after: per-message and whole-conversation timeouts.",
    );
    let (slow, chatty) = boring::run(ms(150), &Out::capture()).await;
    for talk in [slow, chatty] {
        match (talk.heard.first(), talk.heard.last()) {
            (Some(first), Some(last)) => println!(
                "heard {} messages ({first:?} … {last:?}), then: {}",
                talk.heard.len(),
                talk.ending
            ),
            _ => println!("heard nothing, then: {}", talk.ending),
        }
    }

    heading(
        5,
        "query",
        "Ask three replicas at once; the first answer wins (the others drop into a buffer).",
    );
    let replicas = [
        Replica::new("replica-1", ms(120)),
        Replica::new("replica-2", ms(30)),
        Replica::new("replica-3", ms(75)),
    ];
    println!("first answer: {}", first(&replicas, "golang").await);
    let late = first_within(&replicas, "golang", ms(10)).await;
    println!(
        "with a 10 ms deadline: {}",
        late.as_deref().unwrap_or("timed out")
    );
    println!("Google Search 3.0 (web, image, video; 2 replicas each; 80 ms deadline):");
    google("golang", 7, &out).await;

    heading(
        6,
        "loadbalancer",
        "Requesters -> balancer -> least-loaded of 4 workers (a heap), completions via `done`.",
    );
    let cfg = loadbalancer::Config {
        requests_each: 20,
        ..loadbalancer::Config::default()
    };
    loadbalancer::run(cfg, &out).await;

    println!("\ntour finished in {:.1?}", start.elapsed());
}
