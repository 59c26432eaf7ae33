//! `compare`: waza's benchmark program.
//!
//! Runs the workload set with every library on its own runtime — waza (runtime, channels,
//! `select!`), tokio with kanal, with async-channel and with its own mpsc, smol with
//! async-channel, waza's channels on tokio (to separate channel cost from runtime cost), and
//! Go when `go` is on PATH — in interleaved rounds (every column runs once per round, in an
//! order rotated each round, so drifting machine conditions hit every column alike), and
//! reports the median per cell with the ratio of waza's cost to each column's. Writes
//! `target/compare/report.md` and `target/compare/chart.svg` and prints the table.
//!
//! Every workload is the same function of `waza_benches::workloads` for every Rust column
//! (its Go twin lives in `benches/go/`), each runtime keeps its default settings except the
//! worker count, and every run checks its result. A cell that should have been measured
//! and was not makes the program exit with an error, so `--quick` doubles as a check that
//! the report is complete.
//!
//! Run: `cargo run --release -p waza-benches --bin compare -- [--quick] [--only NAME]
//! [--workers N]` (`--help` lists the workloads).

mod chart;
mod cli;
mod go;
mod plan;

use std::path::PathBuf;
use std::process::{exit, Command};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use waza_benches::http::find_on_path;
use waza_benches::report::{Cell, Table, Value};
use waza_benches::workloads::chans::{first_primes, Kind};

use plan::{Col, Job, Runtimes, Work};

/// Pause before each run: the previous run's runtime keeps its workers searching for work
/// for a moment after it ran out, and they would compete with the next run.
const SETTLE: Duration = Duration::from_millis(5);

/// The workloads `--only` accepts, in table order.
const KEYS: [&str; 14] = [
    "spawn",
    "mpmc",
    "mpsc",
    "rendezvous",
    "select",
    "tcp",
    "idle",
    "spawn_remote",
    "yield",
    "chain",
    "sieve",
    "ping_pong",
    "timers",
    "http",
];

/// One workload of the set: its `--only` key, sizes, table rows and rounds.
struct Spec {
    key: &'static str,
    work: Work,
    rows: Vec<String>,
    rounds: usize,
}

/// `n` for people: `1M`, `500k`, `6,250`.
fn count(n: usize) -> String {
    if n >= 1_000_000 && n % 100_000 == 0 {
        let m = n as f64 / 1e6;
        format!("{m}M")
    } else if n >= 10_000 && n % 1_000 == 0 {
        format!("{}k", n / 1_000)
    } else if n >= 1_000 {
        format!("{},{:03}", n / 1_000, n % 1_000)
    } else {
        n.to_string()
    }
}

/// Rounds of the long rows (TCP echo, peak RSS, HTTP): fewer, to keep a full run within
/// about 10 minutes on 2 cores.
fn few_rounds(quick: bool, rounds: usize) -> usize {
    if quick {
        1
    } else {
        rounds.min(3)
    }
}

/// The workload set. `--quick` divides the sizes by 20 (a completeness check, not a
/// measurement); otherwise each run takes 0.3 s or more on the project's 2-core machine.
fn workload_set(quick: bool, rounds: usize) -> Vec<Spec> {
    let q = |n: usize| if quick { n / 20 } else { n };
    let few = few_rounds(quick, rounds);
    let mut set = Vec::new();
    let mut add = |key, work, rows: Vec<String>, rounds| {
        set.push(Spec {
            key,
            work,
            rows,
            rounds,
        })
    };
    let spawn = q(1_000_000);
    add(
        "spawn",
        Work::Spawn(spawn),
        vec![format!(
            "spawn {} tasks from a task, join all †",
            count(spawn)
        )],
        rounds,
    );
    let mpmc = q(2_000_000);
    add(
        "mpmc",
        Work::Mpmc {
            kind: Kind::Bounded(1024),
            values: mpmc as u64,
        },
        vec![format!("mpmc 4×4 bounded(1024), {} values", count(mpmc))],
        rounds,
    );
    let mpsc = q(2_000_000);
    add(
        "mpsc",
        Work::Mpsc(mpsc as u64),
        vec![format!("mpsc 4→1 unbounded, {} values", count(mpsc))],
        rounds,
    );
    let rendezvous = q(500_000);
    add(
        "rendezvous",
        Work::Mpmc {
            kind: Kind::Rendezvous,
            values: rendezvous as u64,
        },
        vec![format!("mpmc 4×4 rendezvous, {} values", count(rendezvous))],
        rounds,
    );
    let select = q(1_000_000);
    add(
        "select",
        Work::Select(select as u64),
        vec![format!(
            "select over 2 fed bounded(1024), {} values",
            count(select)
        )],
        rounds,
    );
    let (conns, trips) = (64, q(6_250));
    add(
        "tcp",
        Work::Echo {
            conns,
            round_trips: trips,
        },
        vec![format!(
            "TCP echo, {conns} conns × {} round trips of 64 B †",
            count(trips)
        )],
        few,
    );
    let idle = q(1_000_000);
    add(
        "idle",
        Work::Idle(idle),
        vec![format!(
            "{} idle tasks, each parked on its own receive: peak RSS",
            count(idle)
        )],
        few,
    );
    let remote = q(1_000_000);
    add(
        "spawn_remote",
        Work::SpawnRemote(remote),
        vec![format!(
            "spawn {} tasks from a plain thread, join all †",
            count(remote)
        )],
        rounds,
    );
    let (tasks, yields) = (1_000, q(10_000));
    add(
        "yield",
        Work::Yield { tasks, yields },
        vec![format!(
            "{} tasks × {} yields †",
            count(tasks),
            count(yields)
        )],
        rounds,
    );
    let depth = q(3_000_000);
    add(
        "chain",
        Work::Chain(depth),
        vec![format!("chain of {} spawns †", count(depth))],
        rounds,
    );
    let primes = if quick { 300 } else { 2_500 };
    add(
        "sieve",
        Work::Sieve {
            primes,
            sum: first_primes(primes).iter().sum(),
        },
        vec![format!("prime sieve, first {} primes", count(primes))],
        rounds,
    );
    let trips = q(1_000_000);
    add(
        "ping_pong",
        Work::PingPong(trips as u64),
        vec![format!(
            "ping-pong over bounded(1), {} round trips",
            count(trips)
        )],
        rounds,
    );
    let (timers, max_ms) = (q(200_000), if quick { 50 } else { 300 });
    add(
        "timers",
        Work::Timers {
            tasks: timers,
            max: Duration::from_millis(max_ms),
        },
        vec![
            format!("{} timers of 0–{max_ms} ms: time †", count(timers)),
            format!("{} timers: p99 lateness †", count(timers)),
        ],
        rounds,
    );
    let (conns, secs) = (64, if quick { 1 } else { 2 });
    add(
        "http",
        Work::Http {
            conns,
            secs,
            warm: !quick,
        },
        vec![format!("HTTP hello, {conns} connections: requests/s †")],
        few,
    );
    set
}

/// Where the report goes: `target/compare/` of the workspace (or of `CARGO_TARGET_DIR`).
fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("compare")
}

/// The first line of a command's output, if it runs.
fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned()
    })
}

/// The shortest timed run: a workload that takes less repeats back to back within one run
/// (see [`measure`]), so that timer resolution and scheduling hiccups stay small against
/// what is measured.
const MIN_RUN: Duration = Duration::from_millis(300);

/// How a workload is measured.
struct Method {
    /// Values (rows) each run returns.
    rows: usize,
    /// Interleaved rounds.
    rounds: usize,
    /// Whether every column runs once before the rounds.
    warm: bool,
    /// Whether a run shorter than [`MIN_RUN`] may repeat the workload (single-time rows).
    batch: bool,
}

/// Runs every job once (if `method.warm`), then `method.rounds` interleaved rounds; returns,
/// per job, the median of each of its values. With `method.batch`, a job whose warm-up took
/// less than [`MIN_RUN`] runs its workload back to back enough times in each timed run to
/// take that long, and reports the time per workload (the mean within the run).
fn measure(
    jobs: &mut [(Col, Job<'_>)],
    method: &Method,
    bar: &ProgressBar,
    key: &str,
) -> Vec<Vec<Value>> {
    let rows = method.rows;
    let run = |i: usize, jobs: &mut [(Col, Job<'_>)], times: usize| {
        let (col, job) = &mut jobs[i];
        bar.set_message(format!("{key}: {}", col.name()));
        std::thread::sleep(SETTLE);
        let mut values = job();
        assert_eq!(
            values.len(),
            rows,
            "{key} on {}: one value per row",
            col.name()
        );
        if times > 1 {
            let Value::Time(first) = values[0] else {
                unreachable!("only single-time rows repeat")
            };
            let total = (1..times).fold(first, |sum, _| match job()[..] {
                [Value::Time(t)] => sum + t,
                ref other => panic!("{key} on {}: {other:?} from a timed row", col.name()),
            });
            values[0] = Value::Time(total / times as u32);
        }
        bar.inc(1);
        values
    };
    let mut times = vec![1; jobs.len()];
    if method.warm {
        for (i, t) in times.iter_mut().enumerate() {
            let warm_up = run(i, jobs, 1);
            if let ([Value::Time(d)], true) = (&warm_up[..], method.batch) {
                let per = d.as_secs_f64().max(1e-6);
                *t = ((MIN_RUN.as_secs_f64() / per).ceil() as usize).clamp(1, 100);
            }
        }
    }
    let mut samples = vec![Vec::with_capacity(method.rounds); jobs.len()];
    for round in 0..method.rounds {
        for k in 0..jobs.len() {
            let i = (round + k) % jobs.len();
            samples[i].push(run(i, jobs, times[i]));
        }
    }
    samples
        .iter()
        .map(|runs| {
            (0..rows)
                .map(|r| Value::median(&runs.iter().map(|v| v[r]).collect::<Vec<_>>()))
                .collect()
        })
        .collect()
}

fn main() {
    let opts = cli::parse(&KEYS);
    if let Some((key, n)) = &opts.rss_child {
        let col = Col::from_key(key).unwrap_or_else(|| cli::usage("no such column", &KEYS));
        println!("RSS {}", plan::rss_child(col, *n, opts.workers));
        return;
    }
    let started = Instant::now();
    let rounds = opts.reps.unwrap_or(if opts.quick { 2 } else { 5 });
    let set: Vec<Spec> = workload_set(opts.quick, rounds)
        .into_iter()
        .filter(|s| opts.only.is_empty() || opts.only.iter().any(|o| o == s.key))
        .collect();
    let out = out_dir();
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("compare: cannot create {}: {e}", out.display());
        exit(1);
    }

    // The Go column, when `go` is on PATH: a build failure is an error, not a silent gap.
    let go = match find_on_path("go") {
        Some(go) if !opts.no_go => {
            eprintln!("building benches/go with {} ...", go.display());
            match go::build(&go, &out, opts.workers) {
                Ok(program) => Some(program),
                Err(e) => {
                    eprintln!("compare: {e}");
                    exit(1);
                }
            }
        }
        _ => {
            eprintln!("no Go column: `go` is not on PATH (or --no-go)");
            None
        }
    };
    let mut columns: Vec<Col> = Col::RUST.to_vec();
    if go.is_some() {
        columns.push(Col::Go);
    }
    let mut go_worker = go.as_ref().map(go::GoProgram::worker);

    let rt = Runtimes::start(opts.workers);
    let mut table = Table::new(columns.iter().map(|c| c.name()));
    for spec in &set {
        for row in &spec.rows {
            table.add_row(row);
        }
    }

    // Runtime-only workloads run one tokio column; the others show its result.
    let measured = |spec: &Spec, c: Col| {
        !(spec.work.runtime_only()
            && matches!(
                c,
                Col::TokioAsyncChannel | Col::TokioMpsc | Col::TokioWazaChan
            ))
            && spec.work.not_applicable(c).is_none()
    };
    let total: u64 = set
        .iter()
        .map(|s| {
            let n = columns.iter().filter(|&&c| measured(s, c)).count();
            let runs = s.rounds + usize::from(s.work.warm_up());
            (n * runs) as u64
        })
        .sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} runs  {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );

    for spec in &set {
        let mut jobs: Vec<(Col, Job<'_>)> = Vec::new();
        let mut worker = go_worker.as_mut(); // the one Go column's job takes it
        for &c in &columns {
            if let Some(why) = spec.work.not_applicable(c) {
                for row in &spec.rows {
                    table.set(row, c.name(), Cell::NotApplicable(why.to_owned()));
                }
            } else if measured(spec, c) {
                let job = match c {
                    Col::Go => plan::go_job(
                        &rt,
                        go.as_ref().expect("a Go column has a program"),
                        worker.take().expect("one Go column with a worker"),
                        spec.work,
                    ),
                    _ => plan::rust_job(&rt, c, spec.work),
                };
                jobs.push((c, job));
            }
        }
        let method = Method {
            rows: spec.rows.len(),
            rounds: spec.rounds,
            warm: spec.work.warm_up(),
            batch: !opts.quick && spec.rows.len() == 1,
        };
        let medians = measure(&mut jobs, &method, &bar, spec.key);
        for ((c, _), values) in jobs.iter().zip(&medians) {
            for (row, v) in spec.rows.iter().zip(values) {
                table.set(row, c.name(), Cell::Measured(*v));
                if spec.work.runtime_only() && *c == Col::TokioKanal {
                    for shared in [Col::TokioAsyncChannel, Col::TokioMpsc, Col::TokioWazaChan] {
                        table.set(row, shared.name(), Cell::Measured(*v));
                    }
                }
            }
        }
        let line = format!(
            "done: {} ({:.0} s so far)",
            spec.key,
            started.elapsed().as_secs_f64()
        );
        if bar.is_hidden() {
            // No terminal (CI): the bar draws nothing, so say where the run is.
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    }
    bar.finish_and_clear();
    drop(go_worker);

    let elapsed = started.elapsed();
    let report = report(
        &opts,
        &table,
        go.as_ref().map(|g| g.version.as_str()),
        &rt,
        rounds,
        elapsed,
    );
    println!("{report}");
    let md = out.join("report.md");
    let svg = out.join("chart.svg");
    if let Err(e) = std::fs::write(&md, &report) {
        eprintln!("compare: cannot write {}: {e}", md.display());
        exit(1);
    }
    if let Err(e) = chart::draw(&table, &svg) {
        eprintln!("compare: cannot draw {}: {e}", svg.display());
        exit(1);
    }
    eprintln!(
        "wrote {} and {} in {:.0} s",
        md.display(),
        svg.display(),
        elapsed.as_secs_f64()
    );

    let missing = table.missing();
    if !missing.is_empty() {
        eprintln!("compare: the report is incomplete; missing cells:");
        for (row, col) in missing {
            eprintln!("  {row} / {col}");
        }
        exit(1);
    }
}

/// The Markdown report: what ran, where, how, and the table.
fn report(
    opts: &cli::Options,
    table: &Table,
    go_version: Option<&str>,
    rt: &Runtimes,
    rounds: usize,
    elapsed: Duration,
) -> String {
    let here = env!("CARGO_MANIFEST_DIR");
    let date = first_line(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
        .unwrap_or_else(|| "unknown date".into());
    let commit = first_line(Command::new("git").args(["-C", here, "rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let dirty = first_line(Command::new("git").args([
        "-C",
        here,
        "status",
        "--porcelain",
        "--untracked-files=no",
    ]))
    .is_some_and(|l| !l.is_empty());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = if args.is_empty() {
        "cargo run --release -p waza-benches --bin compare".to_owned()
    } else {
        format!(
            "cargo run --release -p waza-benches --bin compare -- {}",
            args.join(" ")
        )
    };
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let go = go_version.map_or_else(
        || "no Go column (`go` not on PATH, or `--no-go`)".to_owned(),
        |v| format!("{v}, GOMAXPROCS={}", rt.workers),
    );
    let mode = if opts.quick {
        "`--quick`: sizes divided by 20, a completeness check rather than a measurement"
    } else {
        "full sizes"
    };
    let few = few_rounds(opts.quick, rounds);
    let batching = if opts.quick {
        "no repetition within a run"
    } else {
        "a workload whose warm-up took under 0.3 s repeats back to back within each timed run until the run takes 0.3 s or more, and the cell is the time per workload"
    };
    let mut s = String::new();
    s += "# waza vs peers: the `compare` report\n\n";
    s += &format!(
        "- date: {date}; commit {commit}{}\n",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    );
    s += &format!("- command: `{command}`; {mode}\n");
    s += &format!(
        "- machine: {cpus} CPUs, load average {load} when the run ended; {} worker threads per runtime; Go: {go}\n",
        rt.workers
    );
    s += &format!(
        "- each cell: the median of {rounds} interleaved rounds after a warm-up run (TCP echo, peak RSS and HTTP: {few} rounds, no warm-up); {batching}; the run took {:.0} s\n",
        elapsed.as_secs_f64()
    );
    let http_secs = if opts.quick { 1 } else { 2 };
    s += &format!(
        "- HTTP load: {}{}\n\n",
        rt.load.describe(64, http_secs),
        if opts.quick {
            ""
        } else {
            ", after a 1 s warm-up, on a fresh server per run"
        }
    );
    s += &table.to_markdown();
    s += "\n";
    s += "Ratios are waza's cost ÷ the column's cost (time, memory, or 1 / rate): below 1.00× waza is better. ";
    s += "† marks rows that use no channel: the four tokio columns show one tokio measurement there.\n\n";
    s += "Columns: `waza` is waza's runtime, channels and `select!`; `tokio + X` is tokio's multi-thread runtime \
with channel library X and `tokio::select!`; `smol + async-channel` is smol's executor on worker threads with \
`futures::select!`; `tokio + waza chan` is waza's channels and `select!` on tokio, which separates channel cost \
from runtime cost; `Go` is the same workloads in Go (`benches/go/`). Every runtime keeps its default settings \
apart from the worker count; channels in ping-pong, the sieve and the idle tasks are bounded(1) (Go: capacity 1); \
Go has no unbounded channel, so its mpsc row uses a buffer that holds every value; Go has no thread outside its \
scheduler, so its spawn_remote row spawns from a goroutine locked to its OS thread.\n\n";
    s += "![chart: cost relative to waza](chart.svg)\n";
    s
}
