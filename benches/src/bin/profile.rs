//! One contended workload, once, for profilers: `valgrind --tool=callgrind`, `perf record`,
//! `perf stat -e context-switches`, `strace -f -c`.
//!
//! ```sh
//! cargo build --release -p waza-benches --bin profile
//! valgrind --tool=callgrind target/release/profile select 0.1
//! PROFILE_RUNTIME=tokio target/release/profile mpsc 1    # waza's channels on tokio
//! ```
//!
//! Workloads (the shapes of `compare`'s rows; sizes times `scale`, default 1): `select`
//! (1M values, a 2-way `select!` loop over two bounded(1024) channels), `mpsc` (2M values,
//! 4→1 unbounded), `mpmc` (2M values, 4×4 bounded(1024)), `rendezvous` (500k values, 4×4),
//! `ping_pong` (200k round trips over rendezvous channels), `spawn` (1M tasks spawned from a
//! task, then joined), `yield` (200 tasks yielding 10k times each), `chain` (1M tasks, each
//! spawning the next). 2 workers unless
//! `PROFILE_WORKERS` says otherwise. Prints the time per
//! value; the sums double as a check that every value arrived once.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use waza::chan;

type BoxFuture = Pin<Box<dyn Future<Output = u64> + Send>>;

/// Spawns on whichever runtime runs the workload.
#[derive(Clone, Copy)]
enum Rt {
    Waza,
    Tokio,
}

impl Rt {
    fn go(self, fut: impl Future<Output = u64> + Send + 'static) -> BoxFuture {
        match self {
            Rt::Waza => {
                let h = waza::spawn(fut);
                Box::pin(async move { h.await.expect("task panicked") })
            }
            Rt::Tokio => {
                let h = tokio::spawn(fut);
                Box::pin(async move { h.await.expect("task panicked") })
            }
        }
    }
}

async fn producers(rt: Rt, tx: chan::Sender<u64>, tasks: u64, per_task: u64) {
    for _ in 0..tasks {
        let tx = tx.clone();
        drop(rt.go(async move {
            for i in 0..per_task {
                tx.send(i).await.expect("receivers alive");
            }
            0
        }));
    }
}

async fn drain(rx: chan::Receiver<u64>) -> u64 {
    let mut sum = 0;
    while let Some(v) = rx.recv().await {
        sum += v;
    }
    sum
}

async fn mpmc(
    rt: Rt,
    n: u64,
    tx: chan::Sender<u64>,
    rx: chan::Receiver<u64>,
    consumers: u64,
) -> u64 {
    producers(rt, tx, 4, n / 4).await;
    let handles: Vec<BoxFuture> = (0..consumers).map(|_| rt.go(drain(rx.clone()))).collect();
    drop(rx);
    let mut sum = 0;
    for h in handles {
        sum += h.await;
    }
    sum
}

async fn select(rt: Rt, n: u64) -> u64 {
    let (t1, r1) = chan::bounded::<u64>(1024);
    let (t2, r2) = chan::bounded::<u64>(1024);
    producers(rt, t1, 1, n / 2).await;
    producers(rt, t2, 1, n / 2).await;
    let (mut sum, mut open1, mut open2) = (0, true, true);
    while open1 || open2 {
        waza::select! {
            v = r1.recv(), if open1 => match v { Some(v) => sum += v, None => open1 = false },
            v = r2.recv(), if open2 => match v { Some(v) => sum += v, None => open2 = false },
        }
    }
    sum
}

async fn ping_pong(rt: Rt, n: u64) -> u64 {
    let (ping, pinged) = chan::rendezvous::<u64>();
    let (pong, ponged) = chan::rendezvous::<u64>();
    drop(rt.go(async move {
        while let Some(v) = pinged.recv().await {
            pong.send(v + 1).await.expect("pinger alive");
        }
        0
    }));
    let mut last = 0;
    for i in 0..n {
        ping.send(i).await.expect("ponger alive");
        last = ponged.recv().await.expect("ponger alive");
    }
    last
}

async fn spawn(rt: Rt, n: u64) -> u64 {
    let handles: Vec<BoxFuture> = (0..n).map(|i| rt.go(async move { i })).collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await;
    }
    sum
}

/// 200 tasks, each yielding `yields` times (the `yield` row of the runtime bench).
async fn yields(rt: Rt, yields: u64) -> u64 {
    let handles: Vec<BoxFuture> = (0..200)
        .map(|_| {
            rt.go(async move {
                for _ in 0..yields {
                    match rt {
                        Rt::Waza => waza::yield_now().await,
                        Rt::Tokio => tokio::task::yield_now().await,
                    }
                }
                yields
            })
        })
        .collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await;
    }
    sum
}

/// Each task spawns the next, `depth` deep (the `chain` row); the last one reports back.
fn chain_link(rt: Rt, left: u64, done: futures::channel::oneshot::Sender<u64>) {
    drop(rt.go(async move {
        if left == 0 {
            let _ = done.send(1);
        } else {
            chain_link(rt, left - 1, done);
        }
        0
    }));
}

async fn chain(rt: Rt, depth: u64) -> u64 {
    let (done, finished) = futures::channel::oneshot::channel();
    chain_link(rt, depth, done);
    finished.await.expect("the chain completes") * depth
}

/// The workload `name` at `scale`: its value count and its future.
fn workload(rt: Rt, name: &str, scale: f64) -> Option<(u64, BoxFuture)> {
    let n = |x: f64| (x * scale) as u64;
    Some(match name {
        "select" => (n(1e6), Box::pin(select(rt, n(1e6)))),
        "mpsc" => {
            let (tx, rx) = chan::unbounded();
            (n(2e6), Box::pin(mpmc(rt, n(2e6), tx, rx, 1)))
        }
        "mpmc" => {
            let (tx, rx) = chan::bounded(1024);
            (n(2e6), Box::pin(mpmc(rt, n(2e6), tx, rx, 4)))
        }
        "rendezvous" => {
            let (tx, rx) = chan::rendezvous();
            (n(5e5), Box::pin(mpmc(rt, n(5e5), tx, rx, 4)))
        }
        "ping_pong" => (n(2e5), Box::pin(ping_pong(rt, n(2e5)))),
        "spawn" => (n(1e6), Box::pin(spawn(rt, n(1e6)))),
        "yield" => (200 * n(1e4), Box::pin(yields(rt, n(1e4)))),
        "chain" => (n(1e6), Box::pin(chain(rt, n(1e6)))),
        _ => return None,
    })
}

fn usage() -> ! {
    eprintln!("usage: profile <select|mpsc|mpmc|rendezvous|ping_pong|spawn|yield|chain> [scale]");
    eprintln!("env: PROFILE_WORKERS (default 2), PROFILE_RUNTIME=waza|tokio (default waza)");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| usage());
    let scale: f64 = match args.next() {
        Some(s) => s.parse().unwrap_or_else(|_| usage()),
        None => 1.0,
    };
    let workers: usize = match std::env::var("PROFILE_WORKERS") {
        Ok(s) => s.parse().unwrap_or_else(|_| usage()),
        Err(_) => 2,
    };
    let rt = match std::env::var("PROFILE_RUNTIME").as_deref() {
        Ok("tokio") => Rt::Tokio,
        Ok("waza") | Err(_) => Rt::Waza,
        Ok(_) => usage(),
    };
    let start = Instant::now();
    let (values, sum) = match rt {
        Rt::Waza => {
            let runtime = waza::Runtime::builder()
                .workers(workers)
                .build()
                .expect("runtime");
            let (values, fut) = workload(rt, &name, scale).unwrap_or_else(|| usage());
            (
                values,
                runtime.block_on(runtime.spawn(fut)).expect("no panic"),
            )
        }
        Rt::Tokio => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .build()
                .expect("runtime");
            let (values, fut) = workload(rt, &name, scale).unwrap_or_else(|| usage());
            (
                values,
                runtime.block_on(runtime.spawn(fut)).expect("no panic"),
            )
        }
    };
    let elapsed = start.elapsed();
    println!(
        "{name}: {:.1} ns per value (sum {sum})",
        elapsed.as_nanos() as f64 / values.max(1) as f64
    );
}
