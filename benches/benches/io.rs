//! I/O and timer benchmarks, waza vs tokio on 2-worker runtimes: TCP echo (64 connections
//! × 100 round trips of 64 bytes, connects included) and 200,000 tasks sleeping 0–50 ms
//! each. Before timing the sleeps, one run per runtime prints the wake-up lateness
//! percentiles (how long after its deadline a sleeper ran). See `src/workloads/io.rs`.
//!
//! Run: `cargo bench -p waza-benches --bench io` (add `-- --quick` for a smoke run).

use criterion::{criterion_group, criterion_main, Criterion};

use waza_benches::percentile;
use waza_benches::workloads::exec::{Exec, Tokio, Waza};
use waza_benches::workloads::io;

fn tcp_echo(c: &mut Criterion) {
    let expected = io::CONNECTIONS * io::ROUND_TRIPS;
    let mut group = c.benchmark_group("tcp_echo");
    let (waza, waza_rt) = Waza::start(waza_benches::workloads::WORKERS);
    assert_eq!(io::echo(&waza, io::CONNECTIONS, io::ROUND_TRIPS), expected);
    group.bench_function("waza", |b| {
        b.iter(|| io::echo(&waza, io::CONNECTIONS, io::ROUND_TRIPS))
    });
    drop(waza_rt);
    let (tokio, tokio_rt) = Tokio::start(waza_benches::workloads::WORKERS);
    assert_eq!(io::echo(&tokio, io::CONNECTIONS, io::ROUND_TRIPS), expected);
    group.bench_function("tokio", |b| {
        b.iter(|| io::echo(&tokio, io::CONNECTIONS, io::ROUND_TRIPS))
    });
    drop(tokio_rt);
    group.finish();
}

/// Prints the lateness percentiles of one run.
fn report_lateness(name: &str, late_us: &[u64]) {
    assert_eq!(late_us.len(), io::SLEEPS, "{name} lost sleepers");
    println!(
        "sleep lateness on {name}: p50 {} µs, p99 {} µs, max {} µs",
        percentile(late_us, 50.0),
        percentile(late_us, 99.0),
        percentile(late_us, 100.0)
    );
}

fn sleeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("sleeps_200k");
    fn sleeps<E: Exec>(ex: &E) -> Vec<u64> {
        io::sleeps(ex, io::SLEEPS, io::MAX_SLEEP)
    }
    let (waza, waza_rt) = Waza::start(waza_benches::workloads::WORKERS);
    report_lateness("waza", &sleeps(&waza));
    group.bench_function("waza", |b| b.iter(|| sleeps(&waza)));
    drop(waza_rt);
    let (tokio, tokio_rt) = Tokio::start(waza_benches::workloads::WORKERS);
    report_lateness("tokio", &sleeps(&tokio));
    group.bench_function("tokio", |b| b.iter(|| sleeps(&tokio)));
    drop(tokio_rt);
    group.finish();
}

criterion_group! {
    name = benches;
    config = waza_benches::criterion_config();
    targets = tcp_echo, sleeps
}
criterion_main!(benches);
