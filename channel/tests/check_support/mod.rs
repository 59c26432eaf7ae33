//! The checker's runtime glue: threads and executor (std or shuttle), the logical clock,
//! the ways an operation is awaited, the seed runner.

pub mod model;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// Threads and executors: shuttle's under `--cfg shuttle`, else std's, `futures`' (one
/// thread per `block_on`) and a 2-worker tokio runtime for spawned tasks.
#[cfg(shuttle)]
pub mod rt {
    pub use shuttle::future::block_on;
    pub use shuttle::thread::{spawn, yield_now};
    use std::future::Future;

    /// Where actors run as tasks (not threads).
    pub struct Tasks;

    impl Tasks {
        pub fn new() -> Self {
            Tasks
        }

        /// Spawns `f` as a task; the returned closure waits for its output.
        pub fn spawn<F>(&self, f: F) -> Box<dyn FnOnce() -> F::Output>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            let handle = shuttle::future::spawn(f);
            Box::new(move || block_on(handle).expect("task panicked"))
        }
    }
}

/// Threads and executors: shuttle's under `--cfg shuttle`, else std's, `futures`' (one
/// thread per `block_on`) and a 2-worker tokio runtime for spawned tasks.
#[cfg(not(shuttle))]
pub mod rt {
    pub use futures::executor::block_on;
    use std::future::Future;
    pub use std::thread::{spawn, yield_now};

    /// Where actors run as tasks (not threads): a multi-threaded runtime, so tasks move
    /// between workers and wake each other across threads.
    pub struct Tasks(tokio::runtime::Runtime);

    impl Tasks {
        pub fn new() -> Self {
            Tasks(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
                    .expect("tokio runtime"),
            )
        }

        /// Spawns `f` as a task; the returned closure waits for its output.
        pub fn spawn<F>(&self, f: F) -> Box<dyn FnOnce() -> F::Output>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            let handle = self.0.spawn(f);
            let rt = self.0.handle().clone();
            Box::new(move || rt.block_on(handle).expect("task panicked"))
        }
    }
}

/// The logical clock that orders events: an operation's `start` is read before it begins
/// and its `end` after it returned (and its future was dropped), so `a.end < b.start`
/// means `a` finished before `b` began. A std atomic even under shuttle: it is not part of
/// what is checked and must not add scheduling points.
pub fn tick() -> u64 {
    static CLOCK: AtomicU64 = AtomicU64::new(1);
    CLOCK.fetch_add(1, Ordering::SeqCst)
}

/// How one operation's future is driven.
#[derive(Clone, Copy, Debug)]
pub enum How {
    /// `fut.await`.
    Await,
    /// `poll!(&mut fut)` once, then dropped if pending.
    PollOnce,
    /// `futures::future::select(fut, timeout)`, the timeout being `n` yields.
    Race(u32),
}

/// Drives `fut` as `how` says; `None` if it was dropped before completing.
pub async fn perform<F: Future>(fut: F, how: How) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match how {
        How::Await => Some(fut.await),
        How::PollOnce => std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).map(Some)))
            .await
            .unwrap_or(None),
        How::Race(n) => match futures::future::select(fut, YieldN(n)).await {
            futures::future::Either::Left((out, _)) => Some(out),
            futures::future::Either::Right(((), _unfinished)) => None,
        },
    }
}

trait UnwrapPoll<T> {
    fn unwrap_or(self, none: Option<T>) -> Option<T>;
}

impl<T> UnwrapPoll<T> for Poll<Option<T>> {
    fn unwrap_or(self, none: Option<T>) -> Option<T> {
        match self {
            Poll::Ready(v) => v,
            Poll::Pending => none,
        }
    }
}

/// A future that is pending `n` times (waking itself each time), then ready: a timeout
/// measured in executor turns, so it means the same under shuttle, which has no clock.
pub struct YieldN(pub u32);

impl Future for YieldN {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// splitmix64: every decision of a scenario comes from here.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    if raw == "random" {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        return Some(nanos);
    }
    match raw.parse() {
        Ok(v) => Some(v),
        Err(_) => panic!("{name}={raw:?}: expected an unsigned integer (or `random` for the seed)"),
    }
}

/// Runs `scenario` for `WAZA_CHECK_ITERS` (default `iters`) consecutive seeds from
/// `WAZA_CHECK_SEED` (default fixed per test name). On failure prints the seed and the
/// command that replays it, then fails.
pub fn run<F: Fn(u64) + Copy + Send + Sync + 'static>(name: &str, iters: u64, scenario: F) {
    let first = env_u64("WAZA_CHECK_SEED").unwrap_or_else(|| {
        // A fixed default per test, so CI runs are reproducible.
        name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    });
    let iters = env_u64("WAZA_CHECK_ITERS").unwrap_or(iters);
    let mode = if cfg!(shuttle) { "shuttle" } else { "threads" };
    let keep_going = std::env::var_os("WAZA_CHECK_KEEP_GOING").is_some();
    eprintln!("{name} [{mode}]: seeds {first}..+{iters}");
    let mut failures = Vec::new();
    for i in 0..iters {
        let seed = first.wrapping_add(i);
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_one(seed, scenario)));
        if let Err(panic) = result {
            if keep_going {
                let msg = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(non-string panic)");
                failures.push(format!("seed {seed}: {}", msg.replace('\n', " | ")));
                continue;
            }
            let rustflags = if cfg!(shuttle) {
                "RUSTFLAGS=\"--cfg shuttle\" CARGO_TARGET_DIR=target/shuttle "
            } else {
                ""
            };
            let release = if cfg!(debug_assertions) {
                ""
            } else {
                "--release "
            };
            eprintln!(
                "\n{name} [{mode}] FAILED at seed {seed}; replay with:\n  WAZA_CHECK_SEED={seed} \
                 WAZA_CHECK_ITERS=1 {rustflags}cargo test {release}-p waza-channel --test check \
                 -- --include-ignored --exact {name}\n"
            );
            std::panic::resume_unwind(panic);
        }
    }
    if !failures.is_empty() {
        eprintln!(
            "{name} [{mode}]: {} of {iters} seeds failed:",
            failures.len()
        );
        for f in &failures {
            eprintln!("  {f}");
        }
        panic!(
            "{name} [{mode}]: {} of {iters} seeds failed",
            failures.len()
        );
    }
}

/// One seed under shuttle: the schedule comes from the same seed. `WAZA_CHECK_SCHED=pct`
/// (or `pct:DEPTH`, default 3) uses shuttle's PCT scheduler, which favours schedules with
/// few, well-placed preemptions, instead of the uniformly random one.
#[cfg(shuttle)]
fn run_one<F: Fn(u64) + Copy + Send + Sync + 'static>(seed: u64, scenario: F) {
    use shuttle::scheduler::{PctScheduler, RandomScheduler};
    let mut config = shuttle::Config::new();
    config.max_steps = shuttle::MaxSteps::FailAfter(200_000);
    let sched = std::env::var("WAZA_CHECK_SCHED").unwrap_or_default();
    match sched
        .split_once(':')
        .map_or((sched.as_str(), None), |(k, d)| (k, Some(d)))
    {
        ("" | "random", None) => {
            let scheduler = RandomScheduler::new_from_seed(seed, 1);
            shuttle::Runner::new(scheduler, config).run(move || scenario(seed));
        }
        ("pct", depth) => {
            let depth = depth.map_or(3, |d| {
                d.parse()
                    .unwrap_or_else(|_| panic!("WAZA_CHECK_SCHED=pct:{d}: depth must be a number"))
            });
            let scheduler = PctScheduler::new_from_seed(seed, depth, 1);
            shuttle::Runner::new(scheduler, config).run(move || scenario(seed));
        }
        _ => panic!("WAZA_CHECK_SCHED={sched:?}: expected `random`, `pct` or `pct:DEPTH`"),
    }
}

/// One seed on real threads, with a watchdog: no scenario may hang.
#[cfg(not(shuttle))]
fn run_one<F: Fn(u64) + Copy + Send + Sync + 'static>(seed: u64, scenario: F) {
    use std::sync::mpsc;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let _done = done_tx;
        scenario(seed);
    });
    match done_rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("seed {seed}: the scenario did not finish within 60 s (a hang)")
        }
        _ => {
            if let Err(p) = worker.join() {
                std::panic::resume_unwind(p);
            }
        }
    }
}
