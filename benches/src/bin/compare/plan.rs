//! The columns (a library on its own runtime) and the workload set, and how each column
//! runs each workload: the same workload function from `waza_benches::workloads` for every
//! Rust column, its Go twin in `benches/go/` for the Go column.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use waza_benches::http::{self, Load};
use waza_benches::percentile;
use waza_benches::report::Value;
use waza_benches::workloads::chans::{
    self, AsyncChan, AsyncChannel, Kanal, Kind, TokioMpsc, WazaChan,
};
use waza_benches::workloads::exec::{Exec, Smol, Tokio, Waza};
use waza_benches::workloads::io::{self, Net};
use waza_benches::workloads::select::{self, FuturesSelect, Select2, TokioSelect, WazaSelect};
use waza_benches::workloads::tasks;

use crate::go::{GoProgram, GoWorker};

/// A column: one library (or pairing) on its own runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    /// waza's runtime, channels and `select!`.
    Waza,
    /// tokio with kanal's async channels, `tokio::select!`.
    TokioKanal,
    /// tokio with async-channel, `tokio::select!`.
    TokioAsyncChannel,
    /// tokio with its own mpsc, `tokio::select!`.
    TokioMpsc,
    /// smol (async-executor on worker threads) with async-channel, `futures::select!`.
    Smol,
    /// waza's channels and `select!` on tokio: separates channel cost from runtime cost.
    TokioWazaChan,
    /// Go, with GOMAXPROCS set to the worker count.
    Go,
}

impl Col {
    /// Every Rust column, in table order.
    pub const RUST: [Col; 6] = [
        Col::Waza,
        Col::TokioKanal,
        Col::TokioAsyncChannel,
        Col::TokioMpsc,
        Col::Smol,
        Col::TokioWazaChan,
    ];

    /// The column's heading.
    pub fn name(self) -> &'static str {
        match self {
            Col::Waza => "waza",
            Col::TokioKanal => "tokio + kanal",
            Col::TokioAsyncChannel => "tokio + async-channel",
            Col::TokioMpsc => "tokio + mpsc",
            Col::Smol => "smol + async-channel",
            Col::TokioWazaChan => "tokio + waza chan",
            Col::Go => "Go",
        }
    }

    /// The column's name on the command line of an `--rss-child`.
    pub fn key(self) -> &'static str {
        match self {
            Col::Waza => "waza",
            Col::TokioKanal => "tokio-kanal",
            Col::TokioAsyncChannel => "tokio-async-channel",
            Col::TokioMpsc => "tokio-mpsc",
            Col::Smol => "smol",
            Col::TokioWazaChan => "tokio-waza-chan",
            Col::Go => "go",
        }
    }

    /// The Rust column called `key`.
    pub fn from_key(key: &str) -> Option<Col> {
        Col::RUST.into_iter().find(|c| c.key() == key)
    }

    /// Whether the column runs on tokio (so a workload without channels is the same
    /// measurement for all of them).
    fn on_tokio(self) -> bool {
        matches!(
            self,
            Col::TokioKanal | Col::TokioAsyncChannel | Col::TokioMpsc | Col::TokioWazaChan
        )
    }
}

/// One workload with its sizes.
#[derive(Clone, Copy, Debug)]
pub enum Work {
    /// Spawn `n` trivial tasks from a task and join them all.
    Spawn(usize),
    /// Spawn `n` trivial tasks from a plain thread and join them all.
    SpawnRemote(usize),
    /// `tasks` tasks each yield `yields` times.
    Yield { tasks: usize, yields: usize },
    /// Each task spawns the next, `depth` deep.
    Chain(usize),
    /// Two tasks, `round_trips` round trips over two `bounded(1)` channels.
    PingPong(u64),
    /// 4 producers × 4 consumers over one channel of flavour `kind`, `values` values.
    Mpmc { kind: Kind, values: u64 },
    /// 4 producers → 1 consumer over an unbounded channel.
    Mpsc(u64),
    /// One consumer, 2-way select over two fed `bounded(1024)` channels.
    Select(u64),
    /// The concurrent prime sieve, first `primes` primes; `sum` is their sum.
    Sieve { primes: usize, sum: u64 },
    /// `tasks` timers of 0..`max`; time and p99 lateness.
    Timers { tasks: usize, max: Duration },
    /// TCP echo, client and server in one process.
    Echo { conns: usize, round_trips: usize },
    /// HTTP hello against each runtime's server.
    Http { conns: usize, secs: u64, warm: bool },
    /// `tasks` idle tasks each parked on its own channel's receive: peak RSS.
    Idle(usize),
}

impl Work {
    /// Whether the workload uses no channel, so that the tokio columns share one tokio
    /// measurement.
    pub fn runtime_only(self) -> bool {
        matches!(
            self,
            Work::Spawn(_)
                | Work::SpawnRemote(_)
                | Work::Yield { .. }
                | Work::Chain(_)
                | Work::Timers { .. }
                | Work::Echo { .. }
                | Work::Http { .. }
        )
    }

    /// Why column `col` cannot run this workload as specified, if it cannot.
    pub fn not_applicable(self, col: Col) -> Option<&'static str> {
        let async_channel = matches!(col, Col::TokioAsyncChannel | Col::Smol);
        match self {
            Work::Mpmc {
                kind: Kind::Rendezvous,
                ..
            } if async_channel => {
                Some("async-channel has no rendezvous channel (bounded(0) panics)")
            }
            // Measured: values went missing in this row (a select drops the losing receive).
            Work::Select(_) if col == Col::TokioKanal => Some(
                "kanal's receive is not cancel-safe: a select that drops the losing receive can lose its value (kanal issues 24 and 50), which this row's check caught",
            ),
            Work::Mpmc { .. } if col == Col::TokioMpsc => {
                Some("tokio's mpsc has a single receiver, so no MPMC (and no rendezvous flavour)")
            }
            _ => None,
        }
    }

    /// Whether the harness should run each column once before the timed rounds.
    pub fn warm_up(self) -> bool {
        // Each of these runs for seconds (and HTTP warms its server up itself).
        !matches!(self, Work::Http { .. } | Work::Idle(_) | Work::Echo { .. })
    }
}

/// The runtimes the Rust columns run on, each started once with `workers` threads.
pub struct Runtimes {
    /// Worker threads of each runtime.
    pub workers: usize,
    waza: Waza,
    tokio: Tokio,
    smol: Smol,
    _owners: (
        waza::Runtime,
        tokio::runtime::Runtime,
        <Smol as Exec>::Owner,
    ),
    /// How the HTTP row is loaded.
    pub load: Load,
}

impl Runtimes {
    /// Starts waza, tokio and smol with `workers` worker threads each.
    pub fn start(workers: usize) -> Runtimes {
        let (waza, w) = Waza::start(workers);
        let (tokio, t) = Tokio::start(workers);
        let (smol, s) = Smol::start(workers);
        Runtimes {
            workers,
            waza,
            tokio,
            smol,
            _owners: (w, t, s),
            load: Load::choose(false, workers),
        }
    }
}

/// Times `f`.
fn timed(f: impl FnOnce()) -> Vec<Value> {
    let start = Instant::now();
    f();
    vec![Value::Time(start.elapsed())]
}

/// Runs `work` once on runtime `E` with channel library `C` and select `S`; returns the
/// measured values (panics on a wrong result).
fn run_rust<E: Net, C: AsyncChan, S: Select2<C>>(col: Col, ex: &E, work: Work) -> Vec<Value> {
    let all = |n: u64| Some(chans::sum_below(n));
    let col = col.name();
    match work {
        Work::Spawn(n) => {
            timed(|| assert_eq!(tasks::spawn_many(ex, n), n / 2, "{col}: wrong result"))
        }
        Work::SpawnRemote(n) => {
            timed(|| assert_eq!(tasks::spawn_remote(ex, n), n / 2, "{col}: wrong result"))
        }
        Work::Yield { tasks: t, yields } => timed(|| {
            assert_eq!(
                tasks::yield_many(ex, t, yields),
                t * yields,
                "{col}: wrong result"
            )
        }),
        Work::Chain(d) => {
            timed(|| assert_eq!(tasks::chained_spawn(ex, d), d, "{col}: wrong result"))
        }
        Work::PingPong(r) => timed(|| {
            assert_eq!(
                chans::ping_pong::<E, C>(ex, Kind::Bounded(1), r),
                Some(2 * r),
                "{col}: wrong result"
            )
        }),
        Work::Mpmc { kind, values } => timed(|| {
            assert_eq!(
                chans::mpmc::<E, C>(ex, kind, values),
                all(values),
                "{col}: wrong result"
            )
        }),
        Work::Mpsc(values) => timed(|| {
            assert_eq!(
                chans::mpsc::<E, C>(ex, Kind::Unbounded, values),
                all(values),
                "{col}: wrong result"
            )
        }),
        Work::Select(values) => timed(|| {
            assert_eq!(
                select::select2::<E, C, S>(ex, values),
                all(values),
                "{col}: wrong result"
            )
        }),
        Work::Sieve { primes, sum } => timed(|| {
            assert_eq!(
                chans::sieve::<E, C>(ex, primes),
                Some(sum),
                "{col}: wrong result"
            )
        }),
        Work::Timers { tasks: n, max } => {
            let start = Instant::now();
            let late = io::sleeps(ex, n, max);
            let elapsed = start.elapsed();
            assert_eq!(late.len(), n, "{col}: lost sleepers");
            let p99 = Duration::from_micros(percentile(&late, 99.0));
            vec![Value::Time(elapsed), Value::Time(p99)]
        }
        Work::Echo { conns, round_trips } => timed(|| {
            assert_eq!(
                io::echo(ex, conns, round_trips),
                conns * round_trips,
                "{col}: wrong result"
            )
        }),
        Work::Http { .. } | Work::Idle(_) => unreachable!("rust_job runs these itself"),
    }
}

/// One column's job for one workload: runs it once and returns one value per row of the
/// workload.
pub type Job<'a> = Box<dyn FnMut() -> Vec<Value> + 'a>;

/// The job of Rust column `col` for `work`.
pub fn rust_job(rt: &Runtimes, col: Col, work: Work) -> Job<'_> {
    match work {
        Work::Http { conns, secs, warm } => {
            return Box::new(move || vec![run_http(rt, col, conns, secs, warm)])
        }
        Work::Idle(n) => {
            return Box::new(move || vec![Value::Bytes(rss_of_child(col, n, rt.workers))])
        }
        _ => {}
    }
    match col {
        Col::Waza => Box::new(move || run_rust::<Waza, WazaChan, WazaSelect>(col, &rt.waza, work)),
        Col::TokioKanal => {
            Box::new(move || run_rust::<Tokio, Kanal, TokioSelect>(col, &rt.tokio, work))
        }
        Col::TokioAsyncChannel => {
            Box::new(move || run_rust::<Tokio, AsyncChannel, TokioSelect>(col, &rt.tokio, work))
        }
        Col::TokioMpsc => {
            Box::new(move || run_rust::<Tokio, TokioMpsc, TokioSelect>(col, &rt.tokio, work))
        }
        Col::Smol => {
            Box::new(move || run_rust::<Smol, AsyncChannel, FuturesSelect>(col, &rt.smol, work))
        }
        Col::TokioWazaChan => {
            Box::new(move || run_rust::<Tokio, WazaChan, WazaSelect>(col, &rt.tokio, work))
        }
        Col::Go => unreachable!("go_job runs the Go column"),
    }
}

/// One HTTP measurement of column `col`'s server (a fresh one, as `benches/http.sh` does):
/// an optional one-second warm-up, then `secs` seconds of load; requests per second.
fn run_http(rt: &Runtimes, col: Col, conns: usize, secs: u64, warm: bool) -> Value {
    let measure = |addr: SocketAddr| {
        if warm {
            rt.load.measure(addr, conns, 1);
        }
        Value::Rate(rt.load.measure(addr, conns, secs).rate)
    };
    match col {
        Col::Waza => http::with_waza_server(rt.workers, measure),
        Col::Smol => http::with_smol_server(rt.workers, measure),
        c if c.on_tokio() => http::with_tokio_server(rt.workers, measure),
        c => unreachable!("{c:?} has no Rust HTTP server"),
    }
}

/// The Go column's job for `work`, on `worker` (and fresh processes of `program` for the
/// peak-RSS row).
pub fn go_job<'a>(
    rt: &'a Runtimes,
    program: &'a GoProgram,
    worker: &'a mut GoWorker,
    work: Work,
) -> Job<'a> {
    let command = match work {
        Work::Spawn(n) => format!("spawn {n}"),
        Work::SpawnRemote(n) => format!("spawn_remote {n}"),
        Work::Yield { tasks, yields } => format!("yield {tasks} {yields}"),
        Work::Chain(d) => format!("chain {d}"),
        Work::PingPong(r) => format!("ping_pong {r}"),
        Work::Mpmc {
            kind: Kind::Bounded(1024),
            values,
        } => format!("mpmc_bounded {values}"),
        Work::Mpmc {
            kind: Kind::Rendezvous,
            values,
        } => format!("mpmc_rendezvous {values}"),
        Work::Mpmc { kind, .. } => unreachable!("no Go workload for mpmc over {kind:?}"),
        Work::Mpsc(values) => format!("mpsc_unbounded {values}"),
        Work::Select(values) => format!("select {values}"),
        Work::Sieve { primes, .. } => format!("sieve {primes}"),
        Work::Timers { tasks, max } => format!("timers {tasks} {}", max.as_micros()),
        Work::Echo { conns, round_trips } => format!("tcp_echo {conns} {round_trips}"),
        Work::Idle(n) => return Box::new(move || vec![Value::Bytes(program.idle_rss(n))]),
        Work::Http { conns, secs, warm } => {
            return Box::new(move || {
                let answer = worker.ask("http_start");
                let addr: SocketAddr = match &answer[..] {
                    [tag, addr] if tag == "ADDR" => addr.parse().expect("an address"),
                    _ => panic!("http_start: {answer:?}"),
                };
                if warm {
                    rt.load.measure(addr, conns, 1);
                }
                let rate = rt.load.measure(addr, conns, secs).rate;
                worker.run("http_stop");
                vec![Value::Rate(rate)]
            })
        }
    };
    Box::new(move || {
        let (time, extra) = worker.run(&command);
        let mut values = vec![Value::Time(time)];
        values.extend(
            extra
                .into_iter()
                .map(|us| Value::Time(Duration::from_micros(us))),
        );
        values
    })
}

/// This process's peak resident set (VmHWM) in bytes.
///
/// # Panics
///
/// Without a readable `/proc/self/status` (this row needs Linux).
pub fn vm_hwm() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| {
            let kb = l.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?;
            kb.trim().parse::<u64>().ok()
        })
        .expect("a VmHWM line")
        * 1024
}

/// Re-executes this program as `--rss-child` for column `col`: a fresh process, so that
/// no other library's allocations raise the peak.
fn rss_of_child(col: Col, n: usize, workers: usize) -> u64 {
    let exe = std::env::current_exe().expect("the path of this program");
    let out = std::process::Command::new(exe)
        .args(["--rss-child", col.key(), &n.to_string()])
        .args(["--workers", &workers.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the child runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "--rss-child {} failed: {text}",
        col.key()
    );
    text.lines()
        .find_map(|l| l.strip_prefix("RSS ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS line from --rss-child {}: {text}", col.key()))
}

/// The `--rss-child` side: parks `n` tasks on column `col`'s runtime and channels; returns
/// the peak RSS read while they were all parked.
pub fn rss_child(col: Col, n: usize, workers: usize) -> u64 {
    fn idle<E: Exec, C: AsyncChan>(n: usize, workers: usize) -> u64 {
        let (ex, owner) = E::start(workers);
        let peak = Arc::new(AtomicU64::new(0));
        let p = peak.clone();
        let received =
            chans::idle_tasks::<E, C>(&ex, n, move || p.store(vm_hwm(), Ordering::Relaxed));
        assert_eq!(received, n, "every parked task got its value");
        drop(owner);
        peak.load(Ordering::Relaxed)
    }
    match col {
        Col::Waza => idle::<Waza, WazaChan>(n, workers),
        Col::TokioKanal => idle::<Tokio, Kanal>(n, workers),
        Col::TokioAsyncChannel => idle::<Tokio, AsyncChannel>(n, workers),
        Col::TokioMpsc => idle::<Tokio, TokioMpsc>(n, workers),
        Col::Smol => idle::<Smol, AsyncChannel>(n, workers),
        Col::TokioWazaChan => idle::<Tokio, WazaChan>(n, workers),
        Col::Go => unreachable!("Go's idle row runs go-bench -idle"),
    }
}
