//! Timer lateness while a task blocks a worker inside `poll` (issue 15's target): waza
//! with its blocked-worker monitor (default threshold 10 ms) against tokio, each on its
//! own runtime with default settings.
//!
//! ```sh
//! cargo run --release -p waza-benches --bin blocked            # 1 and 2 workers, 5 rounds
//! cargo run --release -p waza-benches --bin blocked -- --quick # 1 round, shorter block
//! ```
//!
//! Each round: 1,000 tasks register timers due 1–400 ms from now (spread evenly); once
//! all are registered a task blocks its worker with `std::thread::sleep` for 500 ms. Every
//! timer task records how late it woke. Prints p50, p99 and max lateness per runtime and
//! worker count (medians over the rounds), interleaving the runtimes.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TIMERS: usize = 1000;
const SPREAD_MS: u64 = 400;

#[derive(Clone, Copy, Debug)]
enum Stack {
    Waza,
    Tokio,
}

type BoxFuture = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a round needs from a runtime: spawn, and block on a future.
trait Rt {
    fn go(&self, fut: BoxFuture) -> BoxFuture;
    fn run(&self, fut: BoxFuture);
}

impl Rt for waza::Runtime {
    fn go(&self, fut: BoxFuture) -> BoxFuture {
        let h = self.spawn(fut);
        Box::pin(async move { h.await.unwrap() })
    }
    fn run(&self, fut: BoxFuture) {
        self.block_on(fut)
    }
}

impl Rt for tokio::runtime::Runtime {
    fn go(&self, fut: BoxFuture) -> BoxFuture {
        let h = self.spawn(fut);
        Box::pin(async move { h.await.unwrap() })
    }
    fn run(&self, fut: BoxFuture) {
        self.block_on(fut)
    }
}

/// Lateness of every timer of one round, sorted.
fn round(stack: Stack, workers: usize, block: Duration) -> Vec<Duration> {
    match stack {
        Stack::Waza => {
            let rt = waza::Runtime::builder().workers(workers).build().unwrap();
            round_on(&rt, stack, block)
        }
        Stack::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
                .unwrap();
            round_on(&rt, stack, block)
        }
    }
}

fn round_on(rt: &impl Rt, stack: Stack, block: Duration) -> Vec<Duration> {
    let lateness = Arc::new(Mutex::new(Vec::with_capacity(TIMERS)));
    let registered = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(20);
    let timers: Vec<_> = (0..TIMERS)
        .map(|i| {
            let (lateness, registered) = (lateness.clone(), registered.clone());
            let due = start + Duration::from_millis(1 + (i as u64 * SPREAD_MS) / TIMERS as u64);
            rt.go(Box::pin(async move {
                let sleep = sleep_until(stack, due);
                registered.fetch_add(1, Ordering::SeqCst);
                sleep.await;
                let late = Instant::now().saturating_duration_since(due);
                lateness.lock().unwrap().push(late);
            }))
        })
        .collect();
    while registered.load(Ordering::SeqCst) < TIMERS {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Wait until the round starts, then block a worker from inside a task.
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    let blocker = rt.go(Box::pin(async move { std::thread::sleep(block) }));
    rt.run(Box::pin(async move {
        for t in timers {
            t.await;
        }
        blocker.await;
    }));
    let mut v = std::mem::take(&mut *lateness.lock().unwrap());
    assert_eq!(v.len(), TIMERS, "every timer fired once");
    v.sort();
    v
}

fn sleep_until(stack: Stack, due: Instant) -> BoxFuture {
    match stack {
        Stack::Waza => Box::pin(waza::time::sleep_until(due)),
        Stack::Tokio => Box::pin(tokio::time::sleep_until(due.into())),
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, block) = if quick {
        (1, Duration::from_millis(200))
    } else {
        (5, Duration::from_millis(500))
    };
    println!(
        "timer lateness while one task blocks a worker for {} ms ({TIMERS} timers due over \
         {SPREAD_MS} ms; medians of {rounds} rounds)\n",
        block.as_millis()
    );
    println!("| runtime | workers | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    for workers in [1, 2] {
        let mut stats: Vec<(Stack, Vec<[Duration; 3]>)> =
            vec![(Stack::Waza, Vec::new()), (Stack::Tokio, Vec::new())];
        for _ in 0..rounds {
            for (stack, results) in stats.iter_mut() {
                let v = round(*stack, workers, block);
                results.push([pct(&v, 0.5), pct(&v, 0.99), *v.last().unwrap()]);
            }
        }
        for (stack, results) in stats {
            let col = |k: usize| median(results.iter().map(|r| r[k]).collect());
            let name = match stack {
                Stack::Waza => "waza (monitor, 10 ms)",
                Stack::Tokio => "tokio",
            };
            println!(
                "| {name} | {workers} | {} | {} | {} |",
                ms(col(0)),
                ms(col(1)),
                ms(col(2))
            );
        }
    }
}
