//! The side-by-side comparison harness: runs a representative set of workloads for every
//! implementation (a warm-up each, then `REPS` rounds in which every implementation runs
//! once, interleaved, so that drifting machine conditions hit every column alike; the
//! median counts; the runtime table instead runs each runtime alone, see `runtime_table`)
//! and prints Markdown tables with absolute times and the ratio waza / peer, ready for the
//! README:
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

/// Pause before each timed run (see [`measure_row`]).
const SETTLE: Duration = Duration::from_millis(5);

/// One implementation's workload in a row: returns a result the caller checks.
type Job<'a, T> = (&'a str, Box<dyn FnMut() -> T + 'a>);

/// Measures every implementation of one row: a checked warm-up each, then `reps` rounds in
/// which every implementation runs once, in an order rotated by one each round. Machine
/// conditions on these shared 2-core hosts drift by tens of percent within a minute;
/// interleaving makes such drift hit every column alike instead of whichever ran during
/// it. With `settle` (jobs on different runtimes) it pauses [`SETTLE`] before each run; not
/// otherwise, because a pause changes what is measured: workers that went to sleep make
/// the next run start cold (ping-pong on a parked tokio runtime measured 3x slower).
/// Stores the median time per implementation in `table`.
fn measure_row<T: PartialEq + Debug>(
    table: &mut Table,
    row: &str,
    reps: usize,
    expected: T,
    mut jobs: Vec<Job<'_, T>>,
    settle: bool,
) {
    for (name, job) in &mut jobs {
        assert_eq!(job(), expected, "{name}: wrong result in {row}");
    }
    let mut times = vec![Vec::with_capacity(reps); jobs.len()];
    for round in 0..reps {
        for k in 0..jobs.len() {
            let i = (round + k) % jobs.len();
            let (name, job) = &mut jobs[i];
            if settle {
                // The jobs run on different runtimes: let the previous job's workers go
                // idle (they search for a moment after their work runs out) so that they
                // do not compete with this one.
                std::thread::sleep(SETTLE);
            }
            let start = Instant::now();
            let got = job();
            let elapsed = start.elapsed();
            assert_eq!(got, expected, "{name}: wrong result in {row}");
            times[i].push(elapsed);
        }
    }
    for ((name, _), t) in jobs.iter().zip(&times) {
        table.set(row, name, median(t));
    }
}

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
    /// The job of library `C`, or none if it lacks this flavour or workload.
    fn job<'a, C: AsyncChan>(
        ex: &'a Tokio,
        w: fn(&Tokio, Kind) -> Option<u64>,
        kind: Kind,
    ) -> Option<Job<'a, Option<u64>>> {
        w(ex, kind)?;
        Some((C::NAME, Box::new(move || w(ex, kind))))
    }
    let all = chans::sum_below(chans::MESSAGES);
    macro_rules! rows {
        ($name:expr, $workload:ident, $expected:expr) => {
            for kind in Kind::ALL {
                let jobs: Vec<_> = [
                    job::<WazaChan>(&ex, chans::$workload::<WazaChan>, kind),
                    job::<AsyncChannel>(&ex, chans::$workload::<AsyncChannel>, kind),
                    job::<Flume>(&ex, chans::$workload::<Flume>, kind),
                    job::<Kanal>(&ex, chans::$workload::<Kanal>, kind),
                    job::<TokioMpsc>(&ex, chans::$workload::<TokioMpsc>, kind),
                ]
                .into_iter()
                .flatten()
                .collect();
                let row = format!("{} {}", $name, kind.label());
                measure_row(&mut table, &row, reps, Some($expected), jobs, false);
            }
        };
    }
    rows!("ping_pong", ping_pong, 2 * chans::ROUND_TRIPS);
    rows!("spsc", spsc, all);
    rows!("mpsc 4→1", mpsc, all);
    rows!("mpmc 4×4", mpmc, all);
    table
}

/// A blocking-channel workload of one library for one flavour.
/// A runtime workload: returns a count the caller checks.
type TaskWorkload<E> = fn(&E) -> usize;

/// Each runtime alone, one after the other (unlike the other tables): a runtime that just
/// finished a workload keeps its workers searching for a moment, and interleaving runtimes
/// made them compete with the next runtime's run (measured: medians moved by up to 2×).
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
            measure_row(
                table,
                name,
                reps,
                expected,
                vec![(E::NAME, Box::new(|| workload(&ex)))],
                false,
            );
        }
        drop(owner);
    }
    on::<Waza>(&mut table, reps);
    on::<Tokio>(&mut table, reps);
    on::<Smol>(&mut table, reps);
    table
}

type ThreadWorkload = fn(Kind) -> u64;

fn thread_table(reps: usize) -> Table {
    let mut table = Table::new([WazaSync::NAME, Crossbeam::NAME]);
    let all = chans::sum_below(chans::MESSAGES);
    fn jobs<'a>(f: ThreadWorkload, g: ThreadWorkload, kind: Kind) -> Vec<Job<'a, u64>> {
        vec![
            (WazaSync::NAME, Box::new(move || f(kind))),
            (Crossbeam::NAME, Box::new(move || g(kind))),
        ]
    }
    fn spsc<C: SyncChan>(kind: Kind) -> u64 {
        chans::threads::<C>(kind, 1, 1)
    }
    fn mpsc<C: SyncChan>(kind: Kind) -> u64 {
        chans::threads::<C>(kind, chans::FAN, 1)
    }
    fn mpmc<C: SyncChan>(kind: Kind) -> u64 {
        chans::threads::<C>(kind, chans::FAN, chans::FAN)
    }
    for kind in Kind::ALL {
        let label = kind.label();
        let rows: [(String, ThreadWorkload, ThreadWorkload, u64); 4] = [
            (
                format!("ping_pong {label}"),
                chans::thread_ping_pong::<WazaSync>,
                chans::thread_ping_pong::<Crossbeam>,
                2 * chans::ROUND_TRIPS,
            ),
            (
                format!("spsc {label}"),
                spsc::<WazaSync>,
                spsc::<Crossbeam>,
                all,
            ),
            (
                format!("mpsc 4→1 {label}"),
                mpsc::<WazaSync>,
                mpsc::<Crossbeam>,
                all,
            ),
            (
                format!("mpmc 4×4 {label}"),
                mpmc::<WazaSync>,
                mpmc::<Crossbeam>,
                all,
            ),
        ];
        for (row, f, g, expected) in rows {
            measure_row(&mut table, &row, reps, expected, jobs(f, g, kind), false);
        }
    }
    table
}

fn select_table(reps: usize) -> Table {
    let mut table = Table::new(["waza select!", "tokio::select!", "futures::select!"]);
    let all = chans::sum_below(chans::MESSAGES);
    let (tokio, _tokio_rt) = Tokio::start(common::WORKERS);
    for n in [2, 4] {
        let t = &tokio;
        let jobs: Vec<Job<'_, u64>> = vec![
            ("waza select!", Box::new(move || select::waza_select(t, n))),
            (
                "tokio::select!",
                Box::new(move || select::tokio_select(t, n)),
            ),
            (
                "futures::select!",
                Box::new(move || select::futures_select(t, n)),
            ),
        ];
        measure_row(
            &mut table,
            &format!("select over {n}"),
            reps,
            all,
            jobs,
            false,
        );
    }
    let (waza, _waza_rt) = Waza::start(common::WORKERS);
    let (smol, _smol_threads) = Smol::start(common::WORKERS);
    let jobs: Vec<Job<'_, u64>> = vec![
        ("waza select!", Box::new(|| select::waza_timeout(&waza))),
        ("tokio::select!", Box::new(|| select::tokio_timeout(&tokio))),
        (
            "futures::select!",
            Box::new(|| select::futures_timeout(&smol)),
        ),
    ];
    measure_row(&mut table, "select with timeout arm", reps, all, jobs, true);
    table
}

/// TCP echo and 200,000 sleeps, waza vs tokio, with the sleeps' p99 wake-up lateness.
fn io_table(reps: usize) -> Table {
    let mut table = Table::new([Waza::NAME, Tokio::NAME]);
    let round_trips = io::CONNECTIONS * io::ROUND_TRIPS;
    let (waza, _waza_rt) = Waza::start(common::WORKERS);
    let (tokio, _tokio_rt) = Tokio::start(common::WORKERS);
    let jobs: Vec<Job<'_, usize>> = vec![
        (Waza::NAME, Box::new(|| io::waza_echo(&waza))),
        (Tokio::NAME, Box::new(|| io::tokio_echo(&tokio))),
    ];
    measure_row(
        &mut table,
        "tcp echo (64 conns × 100 round trips)",
        reps,
        round_trips,
        jobs,
        true,
    );
    // Sleeps: interleaved rounds too, keeping each run's p99 lateness beside its time.
    let mut late: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for round in 0..reps.max(1) {
        for k in 0..2 {
            let i = (round + k) % 2;
            std::thread::sleep(SETTLE);
            let start = Instant::now();
            let lateness = if i == 0 {
                io::waza_sleeps(&waza)
            } else {
                io::tokio_sleeps(&tokio)
            };
            times[i].push(start.elapsed());
            assert_eq!(lateness.len(), io::SLEEPS, "lost sleepers");
            late[i].push(Duration::from_micros(percentile(&lateness, 99.0)));
        }
    }
    for (i, name) in [Waza::NAME, Tokio::NAME].into_iter().enumerate() {
        table.set("200,000 sleeps of 0–50 ms", name, median(&times[i]));
        table.set(
            "p99 wake-up lateness of those sleeps",
            name,
            median(&late[i]),
        );
    }
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
