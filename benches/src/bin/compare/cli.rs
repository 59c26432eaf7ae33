//! The command line of the `compare` program.

use std::process::exit;

/// What the command line asked for.
#[derive(Clone, Debug)]
pub struct Options {
    /// Small sizes and few rounds: a completeness check, not a measurement.
    pub quick: bool,
    /// Run only these workloads (by key); empty: all.
    pub only: Vec<String>,
    /// Worker threads of every runtime, and Go's GOMAXPROCS.
    pub workers: usize,
    /// Rounds per workload (after the warm-up), overriding the mode's default.
    pub reps: Option<usize>,
    /// Leave out the Go column even if `go` is on PATH.
    pub no_go: bool,
    /// Hidden: measure the peak RSS of idle tasks for one column in this (child) process.
    pub rss_child: Option<(String, usize)>,
}

const USAGE: &str = "\
usage: compare [--quick] [--only NAME[,NAME...]] [--workers N] [--reps N] [--no-go]

Runs the workload set with every library on its own runtime, interleaved rounds, and
writes target/compare/report.md and target/compare/chart.svg.

  --quick       small sizes and 2 rounds: checks that every cell of the report is filled
  --only NAMES  run only these workloads (comma-separated; see the list below)
  --workers N   worker threads of every runtime and Go's GOMAXPROCS (default: the number
                of CPUs, which is every runtime's own default)
  --reps N      rounds per workload after the warm-up (default 5, or 2 with --quick)
  --no-go       leave out the Go column even if `go` is on PATH

workloads: ";

/// Prints `msg` and the usage, then exits with status 2.
pub fn usage(msg: &str, keys: &[&str]) -> ! {
    if !msg.is_empty() {
        eprintln!("compare: {msg}");
    }
    eprintln!("{USAGE}{}", keys.join(", "));
    exit(2)
}

/// Parses the arguments; `keys` are the workload names `--only` accepts.
pub fn parse(keys: &[&str]) -> Options {
    let mut opts = Options {
        quick: false,
        only: Vec::new(),
        workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        reps: None,
        no_go: false,
        rss_child: None,
    };
    let mut args = std::env::args().skip(1);
    let positive = |name: &str, value: Option<String>| -> usize {
        let value = value.unwrap_or_else(|| usage(&format!("{name} needs a value"), keys));
        match value.parse() {
            Ok(n) if n > 0 => n,
            _ => usage(&format!("{name}: not a positive number: {value:?}"), keys),
        }
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--no-go" => opts.no_go = true,
            "--workers" => opts.workers = positive("--workers", args.next()),
            "--reps" => opts.reps = Some(positive("--reps", args.next())),
            "--only" => {
                let list = args
                    .next()
                    .unwrap_or_else(|| usage("--only needs a workload name", keys));
                for name in list.split(',').filter(|n| !n.is_empty()) {
                    if !keys.contains(&name) {
                        usage(&format!("--only: no workload called {name:?}"), keys);
                    }
                    opts.only.push(name.to_owned());
                }
                if opts.only.is_empty() {
                    usage("--only needs a workload name", keys);
                }
            }
            "--rss-child" => {
                let column = args
                    .next()
                    .unwrap_or_else(|| usage("--rss-child needs a column", keys));
                let n = positive("--rss-child", args.next());
                opts.rss_child = Some((column, n));
            }
            "-h" | "--help" => usage("", keys),
            // `cargo bench` passes `--bench` to bench targets; a bin gets only ours.
            other => usage(&format!("unexpected argument {other:?}"), keys),
        }
    }
    opts
}
