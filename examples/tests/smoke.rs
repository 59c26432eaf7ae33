//! Smoke tests: every example runs to completion and says what it should.

use std::future::Future;
use std::process::Command;
use std::time::Duration;

use waza_examples::query::{first, first_within, google, Replica};
use waza_examples::{boring, daisychain, loadbalancer, pingpong, sieve, Out};

fn run<F: Future>(fut: F) -> F::Output {
    let rt = waza::Runtime::builder()
        .workers(2)
        .build()
        .expect("runtime builds");
    rt.block_on(fut)
}

#[test]
fn sieve_finds_the_first_primes() {
    let out = Out::capture();
    let primes = run(sieve::primes(10, &out));
    assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
    let printed: Vec<String> = primes.iter().map(u64::to_string).collect();
    assert_eq!(out.lines(), printed);
    let hundred = run(sieve::primes(100, &Out::capture()));
    assert_eq!(hundred.len(), 100);
    assert_eq!(hundred[99], 541);
}

#[test]
fn daisychain_adds_one_per_task() {
    assert_eq!(run(daisychain::whispers(0)), 1);
    assert_eq!(run(daisychain::whispers(10_000)), 10_001);
}

#[test]
fn pingpong_players_alternate() {
    let out = Out::capture();
    let hits = run(pingpong::game(9, Duration::from_millis(1), &out));
    assert_eq!(
        hits.iter().map(|h| h.1).collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    for pair in hits.windows(2) {
        assert_ne!(pair[0].0, pair[1].0, "the same player hit twice: {hits:?}");
    }
    let lines = out.lines();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[9], "game over after 9 hits");
}

/// Messages must be `"{prefix} 0"`, `"{prefix} 1"`, … in order, with none skipped.
fn assert_numbered(heard: &[String], prefix: &str) {
    for (i, s) in heard.iter().enumerate() {
        assert_eq!(s, &format!("{prefix} {i}"));
    }
}

#[test]
fn timeouts_end_both_conversations() {
    let out = Out::capture();
    let (slow, chatty) = run(boring::run(Duration::from_millis(100), &out));
    assert_eq!(slow.ending, "You're too slow.");
    assert_numbered(&slow.heard, "slowing down");
    assert_eq!(chatty.ending, "You talk too much.");
    assert_numbered(&chatty.heard, "boring!");
    let lines = out.lines();
    assert_eq!(lines.len(), slow.heard.len() + chatty.heard.len() + 2);
    assert_eq!(lines.last().map(String::as_str), Some("You talk too much."));
}

#[test]
fn first_response_wins() {
    let ms = Duration::from_millis;
    let fast = [Replica::new("r1", ms(1)), Replica::new("r2", ms(2))];
    let answer = run(first(&fast, "q"));
    assert!(
        answer == "r1 result for \"q\"" || answer == "r2 result for \"q\"",
        "{answer}"
    );
    let slow = [Replica::new("slow", Duration::from_secs(30))];
    assert_eq!(run(first_within(&slow, "q", ms(20))), None);
    let quick = [Replica::new("quick", Duration::ZERO)];
    assert_eq!(
        run(first_within(&quick, "q", Duration::from_secs(30))).as_deref(),
        Some("quick result for \"q\"")
    );
}

#[test]
fn google_search_returns_at_most_one_result_per_kind() {
    let out = Out::capture();
    let results = run(google("golang", 3, &out));
    assert!(results.len() <= 3);
    for kind in ["web", "image", "video"] {
        let n = results.iter().filter(|r| r.starts_with(kind)).count();
        assert!(n <= 1, "{kind} twice in {results:?}");
    }
}

#[test]
fn loadbalancer_serves_every_request_once() {
    let cfg = loadbalancer::Config {
        workers: 3,
        requesters: 8,
        requests_each: 10,
        max_pause: Duration::from_millis(2),
        max_job: Duration::from_millis(3),
    };
    let out = Out::capture();
    let stats = run(loadbalancer::run(cfg, &out));
    assert_eq!(stats.served.len(), 3);
    assert_eq!(stats.served.iter().sum::<u64>(), 80);
    assert_eq!(stats.correct, 80);
    assert!(stats.mean_load <= 8.0 / 3.0 + 1e-9, "{stats:?}");
    assert!(out.lines()[0].starts_with("80 requests served, 80 correct replies"));
}

#[test]
fn tour_runs_every_program() {
    let output = Command::new(env!("CARGO_BIN_EXE_tour"))
        .output()
        .expect("the tour binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "tour failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for needle in [
        "first 10 primes: [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]",
        "the leftmost task heard 100001",
        "game over after 6 hits",
        "You're too slow.",
        "You talk too much.",
        "first answer: replica-",
        "320 requests served, 320 correct replies",
        "tour finished",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
}
