//! `waza::sync` broadcast and watch vs tokio's, each on its own runtime with 2 workers,
//! side by side in one group per workload. Both sides run the same source (one macro
//! expanded over each library's paths).
//!
//! * `broadcast_1x8`: one sender task sends 100,000 values into a channel of capacity
//!   1,024 read by 8 receiver tasks. Every 128 sends the sender yields while more than
//!   half the ring is unread, so no receiver lags and each must receive every value.
//! * `watch_8_waiters`: one sender task sends 1..=10,000, yielding after each send; 8
//!   tasks loop on `changed()` until they have seen the last value.
//!
//! Run: `cargo bench -p waza-benches --bench sync -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, Criterion};

/// Values sent in `broadcast_1x8`.
const BROADCAST_VALUES: u64 = 100_000;
/// Ring capacity in `broadcast_1x8`.
const BROADCAST_CAP: usize = 1024;
/// Receiver tasks in both workloads.
const RECEIVERS: u64 = 8;
/// Sends in `watch_8_waiters`.
const WATCH_SENDS: u64 = 10_000;

/// Expands to both workloads for one library: `$sync` is its `sync` module, `$spawn` its
/// spawn function, `$yield` its `yield_now`.
macro_rules! workloads {
    ($name:ident, $sync:path, $spawn:path, $yield:path) => {
        mod $name {
            use super::*;
            use $sync as sync;

            /// Sum of all values received by all receivers.
            pub async fn broadcast_1x8() -> u64 {
                let (tx, _) = sync::broadcast::channel::<u64>(BROADCAST_CAP);
                let receivers: Vec<_> = (0..RECEIVERS)
                    .map(|_| {
                        let mut rx = tx.subscribe();
                        $spawn(async move {
                            let mut sum = 0;
                            while let Ok(v) = rx.recv().await {
                                sum += v;
                            }
                            sum
                        })
                    })
                    .collect();
                let sender = $spawn(async move {
                    for i in 0..BROADCAST_VALUES {
                        if i % 128 == 0 {
                            while tx.len() > BROADCAST_CAP / 2 {
                                $yield().await;
                            }
                        }
                        tx.send(i).unwrap();
                    }
                });
                sender.await.unwrap();
                let mut total = 0;
                for r in receivers {
                    total += r.await.unwrap();
                }
                total
            }

            /// Number of receivers that saw the last value.
            pub async fn watch_8_waiters() -> u64 {
                let (tx, rx) = sync::watch::channel(0u64);
                let waiters: Vec<_> = (0..RECEIVERS)
                    .map(|_| {
                        let mut rx = rx.clone();
                        $spawn(async move {
                            while *rx.borrow_and_update() < WATCH_SENDS {
                                rx.changed().await.unwrap();
                            }
                        })
                    })
                    .collect();
                drop(rx);
                let sender = $spawn(async move {
                    for i in 1..=WATCH_SENDS {
                        tx.send(i).unwrap();
                        $yield().await;
                    }
                    tx
                });
                let tx = sender.await.unwrap();
                let mut done = 0;
                for w in waiters {
                    w.await.unwrap();
                    done += 1;
                }
                drop(tx);
                done
            }
        }
    };
}

workloads!(on_waza, waza::sync, waza::spawn, waza::yield_now);
workloads!(on_tokio, tokio::sync, tokio::spawn, tokio::task::yield_now);

fn waza_rt() -> waza::Runtime {
    waza::Runtime::builder()
        .workers(waza_benches::workloads::WORKERS)
        .build()
        .expect("waza runtime starts")
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(waza_benches::workloads::WORKERS)
        .build()
        .expect("tokio runtime starts")
}

fn broadcast(c: &mut Criterion) {
    let expected = RECEIVERS * BROADCAST_VALUES * (BROADCAST_VALUES - 1) / 2;
    let mut group = c.benchmark_group("broadcast_1x8");
    let rt = waza_rt();
    let run = || rt.block_on(rt.spawn(on_waza::broadcast_1x8())).unwrap();
    assert_eq!(run(), expected);
    group.bench_function("waza", |b| b.iter(run));
    drop(rt);
    let rt = tokio_rt();
    let run = || rt.block_on(rt.spawn(on_tokio::broadcast_1x8())).unwrap();
    assert_eq!(run(), expected);
    group.bench_function("tokio", |b| b.iter(run));
    group.finish();
}

fn watch(c: &mut Criterion) {
    let mut group = c.benchmark_group("watch_8_waiters");
    let rt = waza_rt();
    let run = || rt.block_on(rt.spawn(on_waza::watch_8_waiters())).unwrap();
    assert_eq!(run(), RECEIVERS);
    group.bench_function("waza", |b| b.iter(run));
    drop(rt);
    let rt = tokio_rt();
    let run = || rt.block_on(rt.spawn(on_tokio::watch_8_waiters())).unwrap();
    assert_eq!(run(), RECEIVERS);
    group.bench_function("tokio", |b| b.iter(run));
    group.finish();
}

criterion_group! {
    name = benches;
    config = waza_benches::criterion_config();
    targets = broadcast, watch
}
criterion_main!(benches);
