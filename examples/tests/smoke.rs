//! Smoke tests: every example runs to completion and says what it should.

//! The binaries themselves are run by `tests/bins.rs`.

use std::future::Future;
use std::time::Duration;

use waza_examples::cli::{Flag, Number, Parsed, Usage};
use waza_examples::google_search::{self, first, Backends, Search, Version};
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
fn first_reply_wins() {
    let ms = Duration::from_millis;
    let fast = [Search::new("r1", ms(1)), Search::new("r2", ms(2))];
    let answer = run(first("q", &fast));
    assert!(
        answer == "r1 result for \"q\"" || answer == "r2 result for \"q\"",
        "{answer}"
    );
    let one_slow = [
        Search::new("slow", Duration::from_secs(30)),
        Search::new("quick", ms(0)),
    ];
    assert_eq!(run(first("q", &one_slow)), "quick result for \"q\"");
}

#[test]
fn google_search_versions_return_one_result_per_kind() {
    let b = Backends::random(3, Duration::from_millis(10));
    for version in Version::ALL {
        let results = run(version.search("golang", &b, Duration::from_secs(30)));
        assert_eq!(results.len(), 3, "{version}: {results:?}");
        let answer = google_search::Answer {
            latency: Duration::ZERO,
            results,
        };
        google_search::check(version, &answer).unwrap();
    }
    let all_slow = Backends::random(4, Duration::from_millis(1));
    let mut slow = all_slow.clone();
    for pair in &mut slow.replicas {
        for s in pair {
            s.latency = Duration::from_secs(30);
        }
    }
    for version in [Version::V2_1, Version::V3_0] {
        let results = run(version.search("golang", &slow, Duration::from_millis(5)));
        assert_eq!(
            results,
            Vec::<String>::new(),
            "{version}: nothing arrives in time"
        );
    }
}

#[test]
fn google_search_check_rejects_duplicates_and_missing_kinds() {
    let answer = |results: &[&str]| google_search::Answer {
        latency: Duration::ZERO,
        results: results.iter().map(|s| s.to_string()).collect(),
    };
    let web = "web1 result for \"golang\"";
    let image = "image1 result for \"golang\"";
    assert!(google_search::check(Version::V2_0, &answer(&[web, image])).is_err());
    assert!(google_search::check(Version::V2_1, &answer(&[web, image])).is_ok());
    assert!(google_search::check(Version::V2_1, &answer(&[web, web])).is_err());
    let replica = "web2 result for \"golang\"";
    assert!(google_search::check(Version::V2_1, &answer(&[replica])).is_err());
    assert!(google_search::check(Version::V3_0, &answer(&[replica])).is_ok());
}

const SIEVE: Usage = Usage {
    program: "sieve",
    flags: &[Flag::Quick],
    numbers: &[Number {
        name: "N",
        min: 1,
        max: 100,
    }],
};

#[test]
fn command_lines_are_checked() {
    let parse = |args: &[&str]| SIEVE.parse(args.iter().map(|s| s.to_string()));
    let Ok(Parsed::Run(args)) = parse(&["--quick", "12"]) else {
        panic!("valid arguments rejected")
    };
    assert!(args.quick() && !args.demo());
    assert_eq!(args.number(0), Some(12));
    assert!(matches!(parse(&["--help"]), Ok(Parsed::Help)));
    for bad in [
        &["abc"][..],
        &["0"],
        &["101"],
        &["1", "2"],
        &["--demo"],
        &["--quick", "--quick"],
        &["-1"],
    ] {
        assert!(parse(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(SIEVE.line(), "usage: sieve [--quick] [N]   (N: 1..=100)");
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
