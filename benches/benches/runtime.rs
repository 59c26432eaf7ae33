//! Executor benchmarks: waza vs tokio (multi-thread) vs smol (`async-executor` on
//! dedicated threads), each with 2 worker threads, side by side in one group per workload.
//!
//! Run: `cargo bench -p waza-benches --bench runtime` (add `-- --quick` for a smoke run).
//!
//! Two groups compare waza with tokio only, on the runtimes a tokio user ports:
//! `join_set_100k` (a `JoinSet` of 100,000 tasks spawned from a task, then joined, on 2
//! workers) and `current_thread_ping_pong` (two tasks on a current-thread runtime trading a
//! value back and forth: waza's rendezvous channel vs tokio's `mpsc::channel(1)`, its
//! nearest).

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
    let (ex, owner) = E::start(waza_benches::workloads::WORKERS);
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

/// Tasks in the `join_set_100k` group.
const JOIN_SET_TASKS: u64 = 100_000;
/// Round trips in the `current_thread_ping_pong` group.
const CT_ROUND_TRIPS: u64 = 10_000;

fn waza_join_set(rt: &waza::Runtime) -> u64 {
    rt.block_on(rt.spawn(async {
        let mut set = waza::task::JoinSet::new();
        for i in 0..JOIN_SET_TASKS {
            set.spawn(async move { i });
        }
        let mut sum = 0;
        while let Some(v) = set.join_next().await {
            sum += v.unwrap();
        }
        sum
    }))
    .unwrap()
}

fn tokio_join_set(rt: &tokio::runtime::Runtime) -> u64 {
    rt.block_on(rt.spawn(async {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..JOIN_SET_TASKS {
            set.spawn(async move { i });
        }
        let mut sum = 0;
        while let Some(v) = set.join_next().await {
            sum += v.unwrap();
        }
        sum
    }))
    .unwrap()
}

fn join_set(c: &mut Criterion) {
    let expected = JOIN_SET_TASKS * (JOIN_SET_TASKS - 1) / 2;
    let mut group = c.benchmark_group("join_set_100k");
    let waza_rt = waza::Runtime::builder()
        .workers(waza_benches::workloads::WORKERS)
        .build()
        .unwrap();
    assert_eq!(waza_join_set(&waza_rt), expected);
    group.bench_function("waza", |b| b.iter(|| waza_join_set(&waza_rt)));
    drop(waza_rt);
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(waza_benches::workloads::WORKERS)
        .build()
        .unwrap();
    assert_eq!(tokio_join_set(&tokio_rt), expected);
    group.bench_function("tokio", |b| b.iter(|| tokio_join_set(&tokio_rt)));
    group.finish();
}

fn waza_ct_ping_pong(rt: &waza::Runtime) -> u64 {
    rt.block_on(async {
        let (ping_tx, ping_rx) = waza::chan::rendezvous::<u64>();
        let (pong_tx, pong_rx) = waza::chan::rendezvous::<u64>();
        let ponger = waza::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v + 1).await.unwrap();
            }
        });
        let pinger = waza::spawn(async move {
            let mut sum = 0;
            for i in 0..CT_ROUND_TRIPS {
                ping_tx.send(i).await.unwrap();
                sum += pong_rx.recv().await.unwrap();
            }
            sum
        });
        let sum = pinger.await.unwrap();
        ponger.await.unwrap();
        sum
    })
}

fn tokio_ct_ping_pong(rt: &tokio::runtime::Runtime) -> u64 {
    rt.block_on(async {
        let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(1);
        let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(1);
        let ponger = tokio::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v + 1).await.unwrap();
            }
        });
        let pinger = tokio::spawn(async move {
            let mut sum = 0;
            for i in 0..CT_ROUND_TRIPS {
                ping_tx.send(i).await.unwrap();
                sum += pong_rx.recv().await.unwrap();
            }
            sum
        });
        let sum = pinger.await.unwrap();
        ponger.await.unwrap();
        sum
    })
}

fn current_thread_ping_pong(c: &mut Criterion) {
    let expected = CT_ROUND_TRIPS * (CT_ROUND_TRIPS + 1) / 2;
    let mut group = c.benchmark_group("current_thread_ping_pong");
    let waza_rt = waza::Runtime::builder().current_thread().build().unwrap();
    assert_eq!(waza_ct_ping_pong(&waza_rt), expected);
    group.bench_function("waza", |b| b.iter(|| waza_ct_ping_pong(&waza_rt)));
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(tokio_ct_ping_pong(&tokio_rt), expected);
    group.bench_function("tokio", |b| b.iter(|| tokio_ct_ping_pong(&tokio_rt)));
    group.finish();
}

fn runtime(c: &mut Criterion) {
    join_set(c);
    current_thread_ping_pong(c);
    side_by_side!(c, spawn_many, tasks::SPAWN_MANY / 2);
    side_by_side!(c, spawn_remote, tasks::SPAWN_MANY / 2);
    side_by_side!(c, yield_many, tasks::YIELD_TASKS * tasks::YIELDS);
    side_by_side!(c, chained_spawn, tasks::CHAIN);
    side_by_side!(c, ping_pong, tasks::ROUND_TRIPS);
}

criterion_group! {
    name = benches;
    config = waza_benches::criterion_config();
    targets = runtime
}
criterion_main!(benches);
