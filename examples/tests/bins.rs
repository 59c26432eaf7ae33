//! Runs every example binary the way CI does (`--quick`, or `--demo` for servers) and
//! checks its exit status and a marker in its output; bad arguments must exit with 2.
//!
//! Each example checks its own result and exits non-zero when it is wrong, so a passing
//! run here means the program computed the right thing, not merely that it ran.

use std::process::{Command, Output};

/// Runs binary `exe` with `args`.
fn run(exe: &str, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {exe}: {e}"))
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `exe args`, expects success and every one of `markers` on stdout.
fn check(exe: &str, args: &[&str], markers: &[&str]) {
    let output = run(exe, args);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "{exe} {args:?} failed with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for m in markers {
        assert!(stdout.contains(m), "{exe} {args:?}: no {m:?} in\n{stdout}");
    }
}

/// Expects `exe args` to exit with status 2 and a usage line on stderr.
fn rejects(exe: &str, args: &[&str]) {
    let output = run(exe, args);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{exe} {args:?}: {stderr}");
    assert!(stderr.contains("usage: "), "{exe} {args:?}: {stderr}");
}

macro_rules! bin {
    ($name:literal) => {
        env!(concat!("CARGO_BIN_EXE_", $name))
    };
}

#[test]
fn timer_chan() {
    check(
        bin!("timer_chan"),
        &["--quick"],
        &["the sleeper completed at"],
    );
}

#[test]
fn daemon() {
    check(
        bin!("daemon"),
        &["--quick"],
        &["received 5 values [1, 2, 3, 4, 5], then the output closed"],
    );
}

#[test]
fn loadbalancer() {
    check(
        bin!("loadbalancer"),
        &["--quick"],
        &["320 requests served, 320 correct replies"],
    );
}

#[test]
fn first_response() {
    check(
        bin!("first_response"),
        &["--quick"],
        &[
            "first answer: db",
            "Buffered: 5 queries x 3 replicas; 15 answers delivered, 0 dropped",
        ],
    );
}

#[test]
fn fanin() {
    check(
        bin!("fanin"),
        &["--quick"],
        &["restoring sequence", "You're both boring; I'm leaving."],
    );
}

#[test]
fn timeout() {
    check(
        bin!("timeout"),
        &["--quick"],
        &["You're too slow.", "You talk too much."],
    );
}

#[test]
fn quit() {
    check(bin!("quit"), &["--quick"], &["Joe says: \"See you!\""]);
}

#[test]
fn daisychain() {
    check(
        bin!("daisychain"),
        &["--quick"],
        &["10000 tasks: the leftmost heard 10001"],
    );
}

#[test]
fn google_search() {
    check(
        bin!("google_search"),
        &["--quick"],
        &[
            "1.0 sequential",
            "2.0 fan-in",
            "2.1 + timeout",
            "3.0 + replicas",
            "complete 20/20",
        ],
    );
}

#[test]
fn pingpong() {
    check(bin!("pingpong"), &["--quick"], &["game over after 6 hits"]);
}

#[test]
fn nilchan() {
    check(
        bin!("nilchan"),
        &["--quick"],
        &["merged until both closed", "biased; drains urgent first"],
    );
}

#[test]
fn sieve() {
    check(
        bin!("sieve"),
        &["--quick"],
        &["2\n3\n5\n7\n11\n13\n17\n19\n23\n29\n"],
    );
    check(bin!("sieve"), &["25"], &["97\n"]);
}

#[test]
fn pipeline() {
    check(
        bin!("pipeline"),
        &["--quick"],
        &["1..=4: 4 squares printed, sum 30", "cancelled after 5"],
    );
}

#[test]
fn bounded_parallelism() {
    check(
        bin!("bounded_parallelism"),
        &["--quick"],
        &["40 digests on the blocking pool, at most 4 at a time"],
    );
}

#[test]
fn errgroup() {
    check(
        bin!("errgroup"),
        &["--quick"],
        &[
            "Successfully fetched all URLs.",
            "Cancelled: http://slow.example.net/a",
        ],
    );
}

#[test]
fn ticker() {
    check(
        bin!("ticker"),
        &["--quick"],
        &["5 jobs in", "then: context deadline exceeded"],
    );
}

#[test]
fn echo_server() {
    check(
        bin!("echo_server"),
        &["--demo"],
        &[
            "client 2: 5 lines echoed intact",
            "server stopped after 3 connections",
        ],
    );
}

#[test]
fn chat() {
    check(
        bin!("chat"),
        &["--demo"],
        &[
            "has left",
            "server stopped: 3 connections, at most 3 clients at once",
        ],
    );
}

#[test]
fn udp_echo() {
    check(
        bin!("udp_echo"),
        &["--demo"],
        &["20 datagrams echoed intact"],
    );
}

#[test]
fn http_hello() {
    check(
        bin!("http_hello"),
        &["--demo"],
        &[
            "400 of 400 hyper requests answered \"Hello, world!\"",
            "server stopped",
        ],
    );
}

#[test]
fn axum_hello() {
    check(
        bin!("axum_hello"),
        &["--demo"],
        &[
            r#"GET /hello/gopher -> {"hello":"gopher","letters":6}"#,
            r#"GET /hello/日本語 -> {"hello":"日本語","letters":3}"#,
            "server stopped",
        ],
    );
}

#[test]
fn graceful_shutdown() {
    check(
        bin!("graceful_shutdown"),
        &["--demo"],
        &["sent SIGINT with about", "no accepted request was dropped"],
    );
}

#[test]
fn deadlock_exits_non_zero_with_the_dump() {
    let output = run(bin!("deadlock"), &["--quick"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("fatal error: all tasks are asleep - deadlock!"),
        "{stderr}"
    );
    assert!(
        stderr.contains("deadlock.rs"),
        "the dump names the spawn site: {stderr}"
    );
}

#[test]
fn tour_runs_every_example() {
    check(
        bin!("tour"),
        &["--quick"],
        &[
            "== 1. timer_chan",
            "== 20. deadlock",
            "all tasks are asleep - deadlock!",
            "every check passed",
        ],
    );
}

#[test]
fn bad_arguments_get_usage_and_status_2() {
    rejects(bin!("sieve"), &["abc"]);
    rejects(bin!("sieve"), &["0"]);
    rejects(bin!("daisychain"), &["1", "2"]);
    for exe in [
        bin!("timer_chan"),
        bin!("daemon"),
        bin!("fanin"),
        bin!("quit"),
        bin!("google_search"),
        bin!("first_response"),
        bin!("pipeline"),
        bin!("errgroup"),
        bin!("nilchan"),
        bin!("ticker"),
        bin!("bounded_parallelism"),
        bin!("pingpong"),
        bin!("timeout"),
        bin!("loadbalancer"),
        bin!("deadlock"),
        bin!("tour"),
    ] {
        rejects(exe, &["--bogus"]);
    }
    for exe in [bin!("echo_server"), bin!("chat"), bin!("udp_echo")] {
        rejects(exe, &["--quick"]);
        rejects(exe, &["8080"]);
    }
    let help = run(bin!("sieve"), &["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("usage: sieve"));
}
