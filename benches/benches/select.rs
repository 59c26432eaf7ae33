//! select benchmarks: a consumer selecting over 2 and over 4 channels fed by producers,
//! and a select with a timeout arm in a loop. waza's `select!` over waza channels vs
//! `tokio::select!` over tokio mpsc vs `futures::select!` over async-channel.
//!
//! The channel selects share one 2-worker tokio runtime; the timeout loop runs each on its
//! own runtime (waza on waza, tokio on tokio, futures + async-io timer on smol), since each
//! needs its own timer. See `src/workloads/select.rs`.
//!
//! Run: `cargo bench -p waza-benches --bench select` (add `-- --quick` for a smoke run).

use criterion::{criterion_group, criterion_main, Criterion};

use waza_benches::workloads::chans;
use waza_benches::workloads::exec::{Exec, Smol, Tokio, Waza};
use waza_benches::workloads::select;

type SelectWorkload = fn(&Tokio, u64) -> u64;

fn select_over_channels(c: &mut Criterion) {
    let all = chans::sum_below(chans::MESSAGES);
    let (ex, _runtime) = Tokio::start(waza_benches::workloads::WORKERS);
    for n in [2, 4] {
        let mut group = c.benchmark_group(format!("select_over_{n}"));
        let impls: [(&str, SelectWorkload); 3] = [
            ("waza", select::waza_select),
            ("tokio", select::tokio_select),
            ("futures", select::futures_select),
        ];
        for (name, workload) in impls {
            assert_eq!(workload(&ex, n), all, "{name} lost or duplicated values");
            group.bench_function(name, |b| b.iter(|| workload(&ex, n)));
        }
        group.finish();
    }
}

fn select_with_timeout(c: &mut Criterion) {
    let all = chans::sum_below(chans::MESSAGES);
    let mut group = c.benchmark_group("select_with_timeout");
    let (waza, waza_rt) = Waza::start(waza_benches::workloads::WORKERS);
    assert_eq!(select::waza_timeout(&waza), all);
    group.bench_function("waza", |b| b.iter(|| select::waza_timeout(&waza)));
    drop(waza_rt);
    let (tokio, tokio_rt) = Tokio::start(waza_benches::workloads::WORKERS);
    assert_eq!(select::tokio_timeout(&tokio), all);
    group.bench_function("tokio", |b| b.iter(|| select::tokio_timeout(&tokio)));
    drop(tokio_rt);
    let (smol, smol_threads) = Smol::start(waza_benches::workloads::WORKERS);
    assert_eq!(select::futures_timeout(&smol), all);
    group.bench_function("futures", |b| b.iter(|| select::futures_timeout(&smol)));
    drop(smol_threads);
    group.finish();
}

criterion_group! {
    name = benches;
    config = waza_benches::criterion_config();
    targets = select_over_channels, select_with_timeout
}
criterion_main!(benches);
