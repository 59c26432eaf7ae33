//! Channel benchmarks. Async channels all run on one 2-worker tokio runtime, so only the
//! channel differs: waza vs async-channel vs flume vs kanal vs tokio's mpsc (where it
//! applies: no rendezvous, no MPMC). Blocking channels run on OS threads: waza's
//! `send_blocking`/`recv_blocking` vs crossbeam-channel.
//!
//! Groups: `async/<workload>/<flavour>` and `threads/<workload>/<flavour>`, with workloads
//! ping_pong (1,000 round trips), spsc, mpsc (4→1) and mpmc (4×4) moving 5,000 values,
//! and flavours rendezvous, bounded(1), bounded(1024), unbounded.
//!
//! Run: `cargo bench -p waza-benches --bench channels` (add `-- --quick` for a smoke run,
//! or a filter such as `-- async/spsc`).

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

use waza_benches::workloads::chans::{
    self, AsyncChan, AsyncChannel, Flume, Kanal, Kind, SyncChan, TokioMpsc,
};
use waza_benches::workloads::chans::{Crossbeam, WazaChan, WazaSync};
use waza_benches::workloads::exec::{Exec, Tokio};

type AsyncWorkload = fn(&Tokio, Kind) -> Option<u64>;

/// The async workloads with the result each must produce.
fn async_workloads<C: AsyncChan>() -> [(&'static str, AsyncWorkload, u64); 4] {
    let all = chans::sum_below(chans::MESSAGES);
    [
        (
            "ping_pong",
            |ex, k| chans::ping_pong::<Tokio, C>(ex, k, chans::ROUND_TRIPS),
            2 * chans::ROUND_TRIPS,
        ),
        (
            "spsc",
            |ex, k| chans::spsc::<Tokio, C>(ex, k, chans::MESSAGES),
            all,
        ),
        (
            "mpsc",
            |ex, k| chans::mpsc::<Tokio, C>(ex, k, chans::MESSAGES),
            all,
        ),
        (
            "mpmc",
            |ex, k| chans::mpmc::<Tokio, C>(ex, k, chans::MESSAGES),
            all,
        ),
    ]
}

/// Times library `C` on workload `index` of [`async_workloads`], if it has the flavour.
fn bench_async<C: AsyncChan>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    ex: &Tokio,
    index: usize,
    kind: Kind,
) {
    let (_, workload, expected) = async_workloads::<C>()[index];
    let Some(got) = workload(ex, kind) else {
        return; // the library lacks this flavour or shape
    };
    assert_eq!(got, expected, "{} gave a wrong result", C::NAME);
    group.bench_function(C::NAME, |b| b.iter(|| workload(ex, kind)));
}

fn async_channels(c: &mut Criterion) {
    let (ex, _runtime) = Tokio::start(waza_benches::workloads::WORKERS);
    for (index, (name, _, _)) in async_workloads::<WazaChan>().into_iter().enumerate() {
        for kind in Kind::ALL {
            let mut group = c.benchmark_group(format!("async/{name}/{}", kind.label()));
            bench_async::<WazaChan>(&mut group, &ex, index, kind);
            bench_async::<AsyncChannel>(&mut group, &ex, index, kind);
            bench_async::<Flume>(&mut group, &ex, index, kind);
            bench_async::<Kanal>(&mut group, &ex, index, kind);
            bench_async::<TokioMpsc>(&mut group, &ex, index, kind);
            group.finish();
        }
    }
}

type ThreadWorkload = fn(Kind) -> u64;

/// The blocking workloads with the result each must produce.
fn thread_workloads<C: SyncChan>() -> [(&'static str, ThreadWorkload, u64); 4] {
    let all = chans::sum_below(chans::MESSAGES);
    [
        (
            "ping_pong",
            chans::thread_ping_pong::<C>,
            2 * chans::ROUND_TRIPS,
        ),
        ("spsc", |k| chans::threads::<C>(k, 1, 1), all),
        ("mpsc", |k| chans::threads::<C>(k, chans::FAN, 1), all),
        (
            "mpmc",
            |k| chans::threads::<C>(k, chans::FAN, chans::FAN),
            all,
        ),
    ]
}

fn bench_threads<C: SyncChan>(group: &mut BenchmarkGroup<'_, WallTime>, index: usize, kind: Kind) {
    let (_, workload, expected) = thread_workloads::<C>()[index];
    assert_eq!(workload(kind), expected, "{} gave a wrong result", C::NAME);
    group.bench_function(C::NAME, |b| b.iter(|| workload(kind)));
}

fn thread_channels(c: &mut Criterion) {
    for (index, (name, _, _)) in thread_workloads::<WazaSync>().into_iter().enumerate() {
        for kind in Kind::ALL {
            let mut group = c.benchmark_group(format!("threads/{name}/{}", kind.label()));
            bench_threads::<WazaSync>(&mut group, index, kind);
            bench_threads::<Crossbeam>(&mut group, index, kind);
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = waza_benches::criterion_config();
    targets = async_channels, thread_channels
}
criterion_main!(benches);
