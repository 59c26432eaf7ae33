//! One interface over the three executors under comparison, each with the same number of
//! worker threads: waza's [`waza::Runtime`], tokio's multi-thread runtime, and
//! `async-executor` run by dedicated threads (smol's executor).
//!
//! A workload is written once against [`Exec`] and then measured on each. The handle
//! ([`Exec`]) is cheap to clone and goes into tasks; the runtime itself lives in the
//! `Owner`, which the bench keeps until the end and which shuts the executor down on drop.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

/// A clonable handle to a running executor.
pub trait Exec: Clone + Send + Sync + 'static {
    /// The executor's name in reports.
    const NAME: &'static str;
    /// Keeps the executor alive; dropping it shuts the executor down.
    type Owner;
    /// The join handle of a spawned task, resolving to its output.
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;

    /// Starts an executor with `workers` worker threads.
    fn start(workers: usize) -> (Self, Self::Owner);

    /// Spawns `fut` onto the executor, from a worker or from any other thread.
    fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Self::Join<T>;

    /// Spawns `fut` and detaches it (Go's `go`): it runs to completion unobserved.
    fn go(&self, fut: impl Future<Output = ()> + Send + 'static);

    /// Yields to the executor once (Go's `runtime.Gosched`).
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Sleeps for `d` on the executor's own timer (Go's `time.Sleep`).
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;

    /// Runs `fut` as a task on the executor and blocks the calling thread until it ends.
    fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        futures::executor::block_on(self.spawn(fut))
    }
}

/// waza's runtime.
#[derive(Clone)]
pub struct Waza(waza::Handle);

/// Unwraps a join result: the benches' tasks never panic.
pub struct Unwrap<F>(F);

impl<F, T, E> Future for Unwrap<F>
where
    F: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("bench tasks do not panic"))
    }
}

impl Exec for Waza {
    const NAME: &'static str = "waza";
    type Owner = waza::Runtime;
    type Join<T: Send + 'static> = Unwrap<waza::JoinHandle<T>>;

    fn start(workers: usize) -> (Self, Self::Owner) {
        let rt = waza::Runtime::builder()
            .workers(workers)
            .thread_name("waza-bench")
            .build()
            .expect("waza runtime starts");
        (Waza(rt.handle()), rt)
    }

    fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Self::Join<T> {
        Unwrap(self.0.spawn(fut))
    }

    fn go(&self, fut: impl Future<Output = ()> + Send + 'static) {
        drop(self.0.spawn(fut)); // dropping a JoinHandle detaches
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        waza::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        waza::time::sleep(d)
    }
}

/// tokio's multi-thread runtime.
#[derive(Clone)]
pub struct Tokio(tokio::runtime::Handle);

impl Exec for Tokio {
    const NAME: &'static str = "tokio";
    type Owner = tokio::runtime::Runtime;
    type Join<T: Send + 'static> = Unwrap<tokio::task::JoinHandle<T>>;

    fn start(workers: usize) -> (Self, Self::Owner) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("tokio runtime starts");
        (Tokio(rt.handle().clone()), rt)
    }

    fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Self::Join<T> {
        Unwrap(self.0.spawn(fut))
    }

    fn go(&self, fut: impl Future<Output = ()> + Send + 'static) {
        drop(self.0.spawn(fut)); // dropping a JoinHandle detaches
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }
}

/// smol's executor (`async-executor`), run by dedicated threads.
#[derive(Clone)]
pub struct Smol(Arc<async_executor::Executor<'static>>);

/// The threads running a [`Smol`] executor; dropping it stops and joins them.
pub struct SmolThreads {
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Drop for SmolThreads {
    fn drop(&mut self) {
        self.stop.take(); // closes the channel: every `run` below returns
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Exec for Smol {
    const NAME: &'static str = "smol";
    type Owner = SmolThreads;
    type Join<T: Send + 'static> = async_executor::Task<T>;

    fn start(workers: usize) -> (Self, Self::Owner) {
        let ex = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..workers)
            .map(|i| {
                let (ex, stopped) = (ex.clone(), stopped.clone());
                thread::Builder::new()
                    .name(format!("smol-bench-{i}"))
                    .spawn(move || {
                        let _ = smol::block_on(ex.run(stopped.recv()));
                    })
                    .expect("thread starts")
            })
            .collect();
        let owner = SmolThreads {
            stop: Some(stop),
            threads,
        };
        (Smol(ex), owner)
    }

    fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Self::Join<T> {
        self.0.spawn(fut)
    }

    fn go(&self, fut: impl Future<Output = ()> + Send + 'static) {
        self.0.spawn(fut).detach(); // dropping a smol Task would cancel it
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }

    async fn sleep(d: Duration) {
        smol::Timer::after(d).await;
    }
}
