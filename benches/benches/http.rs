//! HTTP/1.1 "Hello, world!" throughput: hyper 1.x on waza against hyper 1.x on tokio.
//!
//! Both servers run in this process, one after the other, each on a 2-worker runtime and an
//! ephemeral 127.0.0.1 port, with the same hyper version, the same service
//! ([`waza_examples::hyper_compat::hello`]), `TCP_NODELAY`, unvectored writes, and a hyper
//! timer (so both pay for hyper's header-read timeout). The waza side is exactly the
//! `hello_hyper` example's server ([`waza_examples::hyper_compat::serve`]); the tokio side
//! is its twin in `src/http.rs`, with small adapters equivalent to hyper-util's `TokioIo` and
//! `TokioTimer` (but with unvectored writes, as on the waza side).
//!
//! Load comes from `wrk` when it is on PATH (`benches/http.sh` installs it), otherwise from a
//! built-in closed-loop generator: one OS thread per keep-alive connection, each sending a
//! request, reading the whole response (checked byte for byte), and repeating. Every
//! measurement is preceded by a one-second warm-up and bounded in time.
//!
//! Run: `bash benches/http.sh`, or
//! `cargo bench -p waza-benches --bench http -- [--seconds N] [--connections C] [--rounds R] [--builtin] [--only waza|tokio]`
//! (defaults: 5 s, 64 connections, 3 rounds alternating waza and tokio). It prints req/s per
//! run, the median per runtime, and the ratio waza / tokio. With wrk (a separate process)
//! it also prints the server's CPU time per request, taken from `/proc/self/stat`: on a
//! machine busy with other work, throughput swings with what the neighbours do, while CPU
//! per request stays comparable.

use waza_benches::http::{with_tokio_server, with_waza_server, Load, Sample};

/// Worker threads of each runtime (the machine has 2 cores).
const WORKERS: usize = 2;

/// What the command line asked for.
#[derive(Clone, Debug)]
struct Options {
    seconds: u64,
    connections: usize,
    rounds: usize,
    builtin: bool,
    /// `Some("waza")` or `Some("tokio")`: run only that server (for profiling).
    only: Option<String>,
}

fn parse_options() -> Options {
    let mut opts = Options {
        seconds: 5,
        connections: 64,
        rounds: 3,
        builtin: false,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> u64 {
            let value = args
                .next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")));
            match value.parse() {
                Ok(n) if n > 0 => n,
                _ => usage(&format!("{name}: not a positive number: {value:?}")),
            }
        };
        match arg.as_str() {
            "--seconds" => opts.seconds = number("--seconds"),
            "--connections" => opts.connections = number("--connections") as usize,
            "--rounds" => opts.rounds = number("--rounds") as usize,
            "--builtin" => opts.builtin = true,
            "--only" => match args.next().as_deref() {
                Some(name @ ("waza" | "tokio")) => opts.only = Some(name.to_owned()),
                other => usage(&format!("--only takes waza or tokio, not {other:?}")),
            },
            // `cargo bench` passes `--bench`; other harness flags are not ours either.
            other if other.starts_with("--") => {}
            other => usage(&format!("unexpected argument {other:?}")),
        }
    }
    opts
}

fn usage(msg: &str) -> ! {
    eprintln!("{msg}\nusage: http [--seconds N] [--connections C] [--rounds R] [--builtin] [--only waza|tokio]");
    std::process::exit(2)
}

fn main() {
    let opts = parse_options();
    let load = Load::choose(opts.builtin, WORKERS);
    println!(
        "HTTP/1.1 hello, hyper 1.x, {WORKERS} workers per runtime; load: {}",
        load.describe(opts.connections, opts.seconds)
    );
    let measure = |addr, secs| load.measure(addr, opts.connections, secs);
    let run = |name: &str| opts.only.as_deref().map_or(true, |only| only == name);
    let (mut waza, mut tokio) = (Vec::new(), Vec::new());
    for round in 1..=opts.rounds {
        let mut line = format!("round {round}:");
        if run("waza") {
            let w = with_waza_server(WORKERS, |addr| {
                measure(addr, 1);
                measure(addr, opts.seconds)
            });
            line += &format!(" waza {w}  ");
            waza.push(w);
        }
        if run("tokio") {
            let t = with_tokio_server(WORKERS, |addr| {
                measure(addr, 1);
                measure(addr, opts.seconds)
            });
            line += &format!(" tokio {t}  ");
            tokio.push(t);
        }
        if let (Some(w), Some(t)) = (waza.last(), tokio.last()) {
            line += &format!(" ratio {:.3}", w.rate / t.rate);
        }
        println!("{}", line.trim_end());
    }
    summarize("waza", &waza);
    summarize("tokio", &tokio);
    if waza.is_empty() || tokio.is_empty() {
        return;
    }
    let (w, t) = (median_rate(&waza), median_rate(&tokio));
    println!("waza / tokio requests per second (medians) = {:.3}", w / t);
    if let (Some(w), Some(t)) = (median_cpu(&waza), median_cpu(&tokio)) {
        println!(
            "tokio / waza CPU per request (medians) = {:.3} (above 1: waza is cheaper)",
            t / w
        );
    }
}

fn median_rate(samples: &[Sample]) -> f64 {
    median(samples.iter().map(|s| s.rate).collect())
}

/// The median server CPU time per request, if every sample has one.
fn median_cpu(samples: &[Sample]) -> Option<f64> {
    let per_req: Option<Vec<f64>> = samples.iter().map(|s| s.cpu_us_per_req).collect();
    per_req.map(median)
}

/// Prints the medians of one server's samples.
fn summarize(name: &str, samples: &[Sample]) {
    if samples.is_empty() {
        return;
    }
    let cpu = match median_cpu(samples) {
        Some(us) => format!(", {us:.2} µs server CPU per request"),
        None => String::new(),
    };
    println!("median {name}: {:.0} req/s{cpu}", median_rate(samples));
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
}
