//! Executor benchmarks: waza vs tokio (multi-thread) vs smol (`async-executor` on
//! dedicated threads), each with 2 worker threads, side by side in one group per workload.
//!
//! Run: `cargo bench -p waza-benches --bench runtime` (add `-- --quick` for a smoke run).

#[allow(dead_code)]
mod common;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

use waza_benches::workloads::exec::{Exec, Smol, Tokio, Waza};
use waza_benches::workloads::tasks;

/// Times `workload` on executor `E`, after checking its result once.
fn bench_on<E: Exec>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    expected: usize,
    workload: fn(&E) -> usize,
) {
    let (ex, owner) = E::start(common::WORKERS);
    assert_eq!(workload(&ex), expected, "wrong result on {}", E::NAME);
    group.bench_function(E::NAME, |b| b.iter(|| workload(&ex)));
    drop(owner);
}

/// The workloads at the criterion benches' sizes.
fn spawn_many<E: Exec>(ex: &E) -> usize {
    tasks::spawn_many(ex, tasks::SPAWN_MANY)
}
fn spawn_remote<E: Exec>(ex: &E) -> usize {
    tasks::spawn_remote(ex, tasks::SPAWN_MANY)
}
fn yield_many<E: Exec>(ex: &E) -> usize {
    tasks::yield_many(ex, tasks::YIELD_TASKS, tasks::YIELDS)
}
fn chained_spawn<E: Exec>(ex: &E) -> usize {
    tasks::chained_spawn(ex, tasks::CHAIN)
}
fn ping_pong<E: Exec>(ex: &E) -> usize {
    tasks::ping_pong(ex, tasks::ROUND_TRIPS)
}

macro_rules! side_by_side {
    ($c:expr, $workload:ident, $expected:expr) => {{
        let mut group = $c.benchmark_group(stringify!($workload));
        bench_on::<Waza>(&mut group, $expected, $workload::<Waza>);
        bench_on::<Tokio>(&mut group, $expected, $workload::<Tokio>);
        bench_on::<Smol>(&mut group, $expected, $workload::<Smol>);
        group.finish();
    }};
}

fn runtime(c: &mut Criterion) {
    side_by_side!(c, spawn_many, tasks::SPAWN_MANY / 2);
    side_by_side!(c, spawn_remote, tasks::SPAWN_MANY / 2);
    side_by_side!(c, yield_many, tasks::YIELD_TASKS * tasks::YIELDS);
    side_by_side!(c, chained_spawn, tasks::CHAIN);
    side_by_side!(c, ping_pong, tasks::ROUND_TRIPS);
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = runtime
}
criterion_main!(benches);
