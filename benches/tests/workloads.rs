//! The workloads at small sizes on every runtime and channel pairing of the `compare`
//! program: each must produce its exact result (counts and sums), so a broken workload or
//! adapter cannot pass as a fast one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use waza_benches::workloads::chans::{
    self, first_primes, AsyncChan, AsyncChannel, Kanal, Kind, TokioMpsc, WazaChan,
};
use waza_benches::workloads::exec::{Exec, Smol, Tokio, Waza};
use waza_benches::workloads::io::{self, Net};
use waza_benches::workloads::select::{self, FuturesSelect, Select2, TokioSelect, WazaSelect};
use waza_benches::workloads::tasks;

/// Runs every channel workload of `compare` for one pairing and checks the results.
fn channel_workloads<E: Exec, C: AsyncChan, S: Select2<C>>(ex: &E) {
    let all = |n: u64| Some(chans::sum_below(n));
    assert_eq!(
        chans::ping_pong::<E, C>(ex, Kind::Bounded(1), 500),
        Some(1_000)
    );
    assert_eq!(chans::mpsc::<E, C>(ex, Kind::Unbounded, 4_000), all(4_000));
    if C::NAME != TokioMpsc::NAME {
        assert_eq!(
            chans::mpmc::<E, C>(ex, Kind::Bounded(1024), 4_000),
            all(4_000)
        );
    }
    // kanal's receive is not cancel-safe (a dropped receive can lose a value), so a select
    // over kanal receives is not a correct program; `compare` reports it as such.
    if C::NAME != Kanal::NAME {
        assert_eq!(select::select2::<E, C, S>(ex, 4_000), all(4_000));
    }
    let primes = first_primes(60);
    assert_eq!(chans::sieve::<E, C>(ex, 60), Some(primes.iter().sum()));

    let measured = Arc::new(AtomicUsize::new(0));
    let m = measured.clone();
    let received = chans::idle_tasks::<E, C>(ex, 2_000, move || {
        m.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(
        received,
        2_000,
        "{}: every parked task got its value",
        C::NAME
    );
    assert_eq!(measured.load(Ordering::Relaxed), 1, "measured exactly once");
}

/// Runs the runtime-only workloads on `E` and checks the results.
fn runtime_workloads<E: Net>(ex: &E) {
    assert_eq!(tasks::spawn_many(ex, 1_001), 500);
    assert_eq!(tasks::spawn_remote(ex, 1_001), 500);
    assert_eq!(tasks::yield_many(ex, 10, 20), 200);
    assert_eq!(tasks::chained_spawn(ex, 1_000), 1_000);
    assert_eq!(io::echo(ex, 4, 10), 40);
    let late = io::sleeps(ex, 100, Duration::from_millis(5));
    assert_eq!(late.len(), 100, "every sleeper reports");
}

#[test]
fn waza_columns() {
    let (ex, _rt) = Waza::start(2);
    channel_workloads::<Waza, WazaChan, WazaSelect>(&ex);
    runtime_workloads(&ex);
}

#[test]
fn tokio_columns() {
    let (ex, _rt) = Tokio::start(2);
    channel_workloads::<Tokio, Kanal, TokioSelect>(&ex);
    channel_workloads::<Tokio, AsyncChannel, TokioSelect>(&ex);
    channel_workloads::<Tokio, TokioMpsc, TokioSelect>(&ex);
    channel_workloads::<Tokio, WazaChan, WazaSelect>(&ex);
    runtime_workloads(&ex);
}

#[test]
fn smol_column() {
    let (ex, _threads) = Smol::start(2);
    channel_workloads::<Smol, AsyncChannel, FuturesSelect>(&ex);
    runtime_workloads(&ex);
}

#[test]
fn the_rendezvous_row_runs_where_a_rendezvous_channel_exists() {
    let (ex, _rt) = Tokio::start(2);
    let all = Some(chans::sum_below(1_000));
    assert_eq!(
        chans::mpmc::<Tokio, WazaChan>(&ex, Kind::Rendezvous, 1_000),
        all
    );
    assert_eq!(
        chans::mpmc::<Tokio, Kanal>(&ex, Kind::Rendezvous, 1_000),
        all
    );
    // The libraries without one report it instead of substituting another flavour.
    assert_eq!(
        chans::mpmc::<Tokio, AsyncChannel>(&ex, Kind::Rendezvous, 1_000),
        None
    );
    assert_eq!(
        chans::mpmc::<Tokio, TokioMpsc>(&ex, Kind::Bounded(1024), 1_000),
        None
    );
}
