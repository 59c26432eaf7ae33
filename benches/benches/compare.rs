//! The side-by-side comparison harness: runs a representative set of workloads once per
//! implementation (a warm-up, then `REPS` timed repetitions; the median counts) and prints
//! Markdown tables with absolute times and the ratio waza / peer, ready for the README:
//! runtime, async channels, blocking channels, select, and I/O + timers (TCP echo, 200,000
//! sleeps and their p99 wake-up lateness).
//! When `go` is on PATH it also runs the Go versions in `benches/go/` (with GOMAXPROCS=2)
//! and adds them as a column.
//!
//! Run: `cargo bench -p waza-benches --bench compare`
//! (set `WAZA_COMPARE_REPS` to change the repetitions, `WAZA_COMPARE_NO_GO=1` to skip Go).

#[allow(dead_code)]
mod common;

use std::collections::HashMap;
use std::fmt::Debug;
use std::process::Command;
use std::time::{Duration, Instant};

use common::chans::{self, AsyncChan, AsyncChannel, Flume, Kanal, Kind, SyncChan, TokioMpsc};
use common::chans::{Crossbeam, WazaChan, WazaSync};
use common::exec::{Exec, Smol, Tokio, Waza};
use common::{io, select, tasks};
use waza_benches::{median, percentile, Table};

/// The Go column's name.
const GO: &str = "Go (GOMAXPROCS=2)";

/// Runs `f` once to warm up and check its result, then `reps` more times; the median time.
fn measure<T: PartialEq + Debug>(reps: usize, expected: T, mut f: impl FnMut() -> T) -> Duration {
    assert_eq!(f(), expected, "wrong result");
    let times: Vec<_> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            let got = f();
            let elapsed = start.elapsed();
            assert_eq!(got, expected, "wrong result");
            elapsed
        })
        .collect();
    median(&times)
}

type TaskWorkload<E> = fn(&E) -> usize;

fn runtime_table(reps: usize) -> Table {
    let mut table = Table::new([Waza::NAME, Tokio::NAME, Smol::NAME]);
    fn on<E: Exec>(table: &mut Table, reps: usize) {
        let (ex, owner) = E::start(common::WORKERS);
        let half = tasks::SPAWN_MANY / 2;
        let rows: [(&str, TaskWorkload<E>, usize); 5] = [
            ("spawn_many", tasks::spawn_many::<E>, half),
            ("spawn_remote", tasks::spawn_remote::<E>, half),
            (
                "yield_many",
                tasks::yield_many::<E>,
                tasks::YIELD_TASKS * tasks::YIELDS,
            ),
            ("chained_spawn", tasks::chained_spawn::<E>, tasks::CHAIN),
            ("ping_pong", tasks::ping_pong::<E>, tasks::ROUND_TRIPS),
        ];
        for (name, workload, expected) in rows {
            table.set(name, E::NAME, measure(reps, expected, || workload(&ex)));
        }
        drop(owner);
    }
    on::<Waza>(&mut table, reps);
    on::<Tokio>(&mut table, reps);
    on::<Smol>(&mut table, reps);
    table
}

type AsyncWorkload = fn(&Tokio, Kind) -> Option<u64>;

fn channel_table(reps: usize) -> Table {
    let names = [
        WazaChan::NAME,
        AsyncChannel::NAME,
        Flume::NAME,
        Kanal::NAME,
        TokioMpsc::NAME,
    ];
    let mut table = Table::new(names);
    let (ex, _runtime) = Tokio::start(common::WORKERS);
    fn on<C: AsyncChan>(table: &mut Table, ex: &Tokio, reps: usize) {
        let all = chans::sum_below(chans::MESSAGES);
        let rows: [(&str, AsyncWorkload, u64); 4] = [
            ("ping_pong", chans::ping_pong::<C>, 2 * chans::ROUND_TRIPS),
            ("spsc", chans::spsc::<C>, all),
            ("mpsc 4→1", chans::mpsc::<C>, all),
            ("mpmc 4×4", chans::mpmc::<C>, all),
        ];
        for (name, workload, expected) in rows {
            for kind in Kind::ALL {
                let row = format!("{name} {}", kind.label());
                // A library without this flavour (`None`) leaves its cell empty.
                if workload(ex, kind).is_some() {
                    let t = measure(reps, Some(expected), || workload(ex, kind));
                    table.set(&row, C::NAME, t);
                }
            }
        }
    }
    on::<WazaChan>(&mut table, &ex, reps);
    on::<AsyncChannel>(&mut table, &ex, reps);
    on::<Flume>(&mut table, &ex, reps);
    on::<Kanal>(&mut table, &ex, reps);
    on::<TokioMpsc>(&mut table, &ex, reps);
    table
}

fn thread_table(reps: usize) -> Table {
    let mut table = Table::new([WazaSync::NAME, Crossbeam::NAME]);
    fn on<C: SyncChan>(table: &mut Table, reps: usize) {
        let all = chans::sum_below(chans::MESSAGES);
        let fan = chans::FAN;
        for kind in Kind::ALL {
            let label = kind.label();
            let t = measure(reps, 2 * chans::ROUND_TRIPS, || {
                chans::thread_ping_pong::<C>(kind)
            });
            table.set(&format!("ping_pong {label}"), C::NAME, t);
            let t = measure(reps, all, || chans::threads::<C>(kind, 1, 1));
            table.set(&format!("spsc {label}"), C::NAME, t);
            let t = measure(reps, all, || chans::threads::<C>(kind, fan, 1));
            table.set(&format!("mpsc 4→1 {label}"), C::NAME, t);
            let t = measure(reps, all, || chans::threads::<C>(kind, fan, fan));
            table.set(&format!("mpmc 4×4 {label}"), C::NAME, t);
        }
    }
    on::<WazaSync>(&mut table, reps);
    on::<Crossbeam>(&mut table, reps);
    table
}

fn select_table(reps: usize) -> Table {
    let mut table = Table::new(["waza select!", "tokio::select!", "futures::select!"]);
    let all = chans::sum_below(chans::MESSAGES);
    let (tokio, _tokio_rt) = Tokio::start(common::WORKERS);
    for n in [2, 4] {
        let row = format!("select over {n}");
        let t = measure(reps, all, || select::waza_select(&tokio, n));
        table.set(&row, "waza select!", t);
        let t = measure(reps, all, || select::tokio_select(&tokio, n));
        table.set(&row, "tokio::select!", t);
        let t = measure(reps, all, || select::futures_select(&tokio, n));
        table.set(&row, "futures::select!", t);
    }
    let row = "select with timeout arm";
    let (waza, waza_rt) = Waza::start(common::WORKERS);
    table.set(
        row,
        "waza select!",
        measure(reps, all, || select::waza_timeout(&waza)),
    );
    drop(waza_rt);
    let t = measure(reps, all, || select::tokio_timeout(&tokio));
    table.set(row, "tokio::select!", t);
    let (smol, _smol_threads) = Smol::start(common::WORKERS);
    let t = measure(reps, all, || select::futures_timeout(&smol));
    table.set(row, "futures::select!", t);
    table
}

/// TCP echo and 200,000 sleeps, waza vs tokio, with the sleeps' p99 wake-up lateness.
fn io_table(reps: usize) -> Table {
    let mut table = Table::new([Waza::NAME, Tokio::NAME]);
    let echo_row = "tcp echo (64 conns × 100 round trips)";
    let round_trips = io::CONNECTIONS * io::ROUND_TRIPS;
    fn sleeps<E: Exec>(table: &mut Table, ex: &E, reps: usize, run: fn(&E) -> Vec<u64>) {
        let mut times = Vec::with_capacity(reps);
        let mut p99s = Vec::with_capacity(reps);
        for _ in 0..reps.max(1) {
            let start = Instant::now();
            let late = run(ex);
            times.push(start.elapsed());
            assert_eq!(late.len(), io::SLEEPS, "lost sleepers");
            p99s.push(Duration::from_micros(percentile(&late, 99.0)));
        }
        table.set("200,000 sleeps of 0–50 ms", E::NAME, median(&times));
        table.set(
            "p99 wake-up lateness of those sleeps",
            E::NAME,
            median(&p99s),
        );
    }
    let (waza, waza_rt) = Waza::start(common::WORKERS);
    let t = measure(reps, round_trips, || io::waza_echo(&waza));
    table.set(echo_row, Waza::NAME, t);
    sleeps(&mut table, &waza, reps, io::waza_sleeps);
    drop(waza_rt);
    let (tokio, tokio_rt) = Tokio::start(common::WORKERS);
    let t = measure(reps, round_trips, || io::tokio_echo(&tokio));
    table.set(echo_row, Tokio::NAME, t);
    sleeps(&mut table, &tokio, reps, io::tokio_sleeps);
    drop(tokio_rt);
    table
}

/// Runs the Go workloads; their median times by name, or `None` if Go is unavailable.
fn run_go(reps: usize) -> Option<HashMap<String, Duration>> {
    if std::env::var_os("WAZA_COMPARE_NO_GO").is_some() {
        return None;
    }
    let output = Command::new("go")
        .args(["run", ".", "-reps", &reps.to_string()])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/go"))
        .env("GOMAXPROCS", common::WORKERS.to_string())
        .output();
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!("go run failed:\n{}", String::from_utf8_lossy(&o.stderr));
            return None;
        }
        Err(e) => {
            eprintln!("Go column skipped: cannot run `go` ({e})");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let times = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.strip_prefix("BENCH ")?.split_whitespace();
            let name = parts.next()?.to_owned();
            let ns: u64 = parts.next()?.parse().ok()?;
            Some((name, Duration::from_nanos(ns)))
        })
        .collect();
    Some(times)
}

/// Adds the Go column to `table`, mapping each row to its Go workload name.
fn add_go(table: &mut Table, go: &HashMap<String, Duration>, rows: &[(String, String)]) {
    table.add_column(GO);
    for (row, key) in rows {
        if let Some(&t) = go.get(key) {
            table.set(row, GO, t);
        }
    }
}

/// The Go workload name of a channel table row such as `"mpsc 4→1 bounded(1)"`.
fn go_channel_key(row: &str) -> String {
    let (name, flavour) = row
        .rsplit_once(' ')
        .expect("rows are `<workload> <flavour>`");
    let workload = name.split(' ').next().expect("non-empty");
    format!("chan/{workload}/{flavour}")
}

fn main() {
    let reps = std::env::var("WAZA_COMPARE_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let workers = common::WORKERS;
    println!("# waza vs peers ({workers} worker threads each; median of {reps} runs)\n");

    let mut runtime = runtime_table(reps);
    let mut channels = channel_table(reps);
    let threads = thread_table(reps);
    let mut select = select_table(reps);
    let io = io_table(reps);

    if let Some(go) = run_go(reps) {
        let rt_rows: Vec<_> = ["spawn_many", "yield_many", "chained_spawn", "ping_pong"]
            .iter()
            .map(|r| (r.to_string(), format!("runtime/{r}")))
            .collect();
        add_go(&mut runtime, &go, &rt_rows);
        let chan_rows: Vec<_> = ["ping_pong", "spsc", "mpsc 4→1", "mpmc 4×4"]
            .iter()
            .flat_map(|w| Kind::ALL.map(|k| format!("{w} {}", k.label())))
            .map(|row| {
                let key = go_channel_key(&row);
                (row, key)
            })
            .collect();
        add_go(&mut channels, &go, &chan_rows);
        let select_rows = [
            ("select over 2", "select/2"),
            ("select over 4", "select/4"),
            ("select with timeout arm", "select/timeout"),
        ]
        .map(|(r, k)| (r.to_owned(), k.to_owned()));
        add_go(&mut select, &go, &select_rows);
    }

    println!("## Runtime (10,000 spawns; 200 tasks × 1,000 yields; 1,000-deep spawn chain; 1,000 round trips)\n");
    println!("{}", runtime.to_markdown());
    println!("## Async channels on a 2-worker tokio runtime (5,000 values; 1,000 round trips)\n");
    println!("{}", channels.to_markdown());
    println!("## Blocking channels on OS threads\n");
    println!("{}", threads.to_markdown());
    println!("## select (5,000 values from 2 or 4 producers; timeout arm never fires)\n");
    println!("{}", select.to_markdown());
    println!("## I/O and timers\n");
    println!("{}", io.to_markdown());
    println!("Cells: median time (waza time / that time; below 1.00 means waza is faster).");
}
