//! The load balancer from "Concurrency is not parallelism": requesters send work to a
//! balancer, which hands each request to the least-loaded worker.
//!
//! The Go original (Rob Pike, 2012; abridged):
//!
//! ```go
//! type Request struct {
//!     fn func() int // the operation to perform
//!     c  chan int   // the channel to return the result
//! }
//!
//! func requester(work chan<- Request) {
//!     c := make(chan int)
//!     for {
//!         time.Sleep(rand.Int63n(nWorker * 2 * time.Second)) // kill some time (fake load)
//!         work <- Request{workFn, c}                          // send request
//!         result := <-c                                       // wait for answer
//!         furtherProcess(result)
//!     }
//! }
//!
//! type Worker struct {
//!     requests chan Request // work to do (buffered channel)
//!     pending  int          // count of pending tasks
//!     index    int          // index in the heap
//! }
//!
//! func (w *Worker) work(done chan *Worker) {
//!     for {
//!         req := <-w.requests // get Request from balancer
//!         req.c <- req.fn()   // call fn and send result
//!         done <- w           // we've finished this request
//!     }
//! }
//!
//! type Pool []*Worker // a heap, ordered by pending
//!
//! type Balancer struct {
//!     pool Pool
//!     done chan *Worker
//! }
//!
//! func (b *Balancer) balance(work chan Request) {
//!     for {
//!         select {
//!         case req := <-work: // received a Request...
//!             b.dispatch(req) // ...so send it to a Worker
//!         case w := <-b.done: // a worker has finished ...
//!             b.completed(w)  // ...so update its info
//!         }
//!     }
//! }
//!
//! func (b *Balancer) dispatch(req Request) {
//!     w := heap.Pop(&b.pool).(*Worker) // grab the least loaded worker...
//!     w.requests <- req                // ...send it the task
//!     w.pending++                      // one more in its work queue
//!     heap.Push(&b.pool, w)            // put it into its place in the heap
//! }
//!
//! func (b *Balancer) completed(w *Worker) {
//!     w.pending--                     // one fewer in the queue
//!     heap.Remove(&b.pool, w.index)   // remove it from heap
//!     heap.Push(&b.pool, w)           // put it into its place in the heap
//! }
//! ```
//!
//! Differences, to make the program stop by itself: each requester makes a fixed number of
//! requests; when every requester is done the `work` channel closes, the balancer waits for
//! the pending requests to complete and returns, which drops the workers' request channels,
//! and the workers exit. A request's function is an async job (it sleeps to fake work, which
//! must not block a worker thread). Why nothing can block forever: every worker queue and
//! the `done` channel have room for one entry per requester, and a requester has at most one
//! request outstanding, so the balancer's sends and the workers' `done` sends never wait.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use waza::chan::{self, Receiver, Sender};
use waza::time;

use crate::cli::ensure;
use crate::{Out, Rng, Size};

/// A unit of work and where to send its result.
pub struct Request {
    /// The operation to perform.
    pub job: BoxFuture<'static, u64>,
    /// The channel to return the result on.
    pub reply: Sender<u64>,
}

/// The size of a run.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Number of worker tasks.
    pub workers: usize,
    /// Number of requester tasks.
    pub requesters: usize,
    /// Requests made by each requester.
    pub requests_each: usize,
    /// Upper bound of a requester's random pause between requests.
    pub max_pause: Duration,
    /// Upper bound of a job's random duration.
    pub max_job: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: 4,
            requesters: 16,
            requests_each: 40,
            max_pause: Duration::from_millis(8),
            max_job: Duration::from_millis(8),
        }
    }
}

/// One worker as the balancer sees it.
struct WorkerSlot {
    requests: Sender<Request>,
    pending: usize,
    served: u64,
    /// Invariant: `pool.heap[heap_index]` is this worker's id.
    heap_index: usize,
}

/// The workers and a binary min-heap of their ids ordered by pending count (Go's
/// `container/heap` with the `index` field, so a changed worker can be fixed in place).
struct Pool {
    workers: Vec<WorkerSlot>,
    heap: Vec<usize>,
}

impl Pool {
    fn load(&self, heap_pos: usize) -> usize {
        self.workers[self.heap[heap_pos]].pending
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.workers[self.heap[a]].heap_index = a;
        self.workers[self.heap[b]].heap_index = b;
    }

    /// Restores heap order after worker `id`'s pending count changed (Go's `heap.Fix`).
    fn fix(&mut self, id: usize) {
        let mut i = self.workers[id].heap_index;
        while i > 0 && self.load(i) < self.load((i - 1) / 2) {
            self.swap(i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
        loop {
            let smallest = [2 * i + 1, 2 * i + 2]
                .into_iter()
                .filter(|&c| c < self.heap.len())
                .fold(i, |m, c| if self.load(c) < self.load(m) { c } else { m });
            if smallest == i {
                return;
            }
            self.swap(i, smallest);
            i = smallest;
        }
    }

    async fn dispatch(&mut self, req: Request) {
        let id = self.heap[0]; // the least loaded worker
        let w = &mut self.workers[id];
        w.requests
            .send(req)
            .await
            .expect("workers live as long as the pool");
        w.pending += 1;
        w.served += 1;
        self.fix(id);
    }

    fn completed(&mut self, id: usize) {
        self.workers[id].pending -= 1;
        self.fix(id);
    }

    fn total_pending(&self) -> usize {
        self.workers.iter().map(|w| w.pending).sum()
    }
}

/// What the balancer observed.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Requests served by each worker.
    pub served: Vec<u64>,
    /// Requests whose reply was the right answer.
    pub correct: u64,
    /// Mean, over dispatches, of the average pending count per worker.
    pub mean_load: f64,
    /// Mean, over dispatches, of the standard deviation of pending counts across workers.
    pub mean_spread: f64,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: u64 = self.served.iter().sum();
        writeln!(
            f,
            "{total} requests served, {} correct replies",
            self.correct
        )?;
        for (i, n) in self.served.iter().enumerate() {
            writeln!(f, "  worker {i}: {n:4} requests")?;
        }
        write!(
            f,
            "average pending per worker {:.2}, spread (std dev) {:.2}",
            self.mean_load, self.mean_spread
        )
    }
}

/// A worker: runs each request's job, replies, and reports completion to the balancer.
async fn work(id: usize, requests: Receiver<Request>, done: Sender<usize>) {
    while let Some(req) = requests.recv().await {
        let _ = req.reply.send(req.job.await).await;
        if done.send(id).await.is_err() {
            return;
        }
    }
}

/// A requester: makes `cfg.requests_each` requests, one at a time, and counts right answers.
async fn requester(id: usize, work: Sender<Request>, cfg: Config) -> u64 {
    let mut rng = Rng::new(id as u64 + 1);
    let (reply, answers) = chan::rendezvous();
    let mut correct = 0;
    for k in 0..cfg.requests_each {
        time::sleep(rng.millis(cfg.max_pause.as_millis() as u64)).await; // fake load
        let x = (id * cfg.requests_each + k) as u64;
        let job_time = rng.millis(cfg.max_job.as_millis() as u64);
        let job = Box::pin(async move {
            time::sleep(job_time).await;
            x * x
        });
        let req = Request {
            job,
            reply: reply.clone(),
        };
        work.send(req)
            .await
            .expect("the balancer serves until the end");
        if answers.recv().await == Some(x * x) {
            correct += 1;
        }
    }
    correct
}

enum Event {
    Request(Option<Request>),
    Done(usize),
}

/// The balancer: dispatches requests to the least-loaded worker until `work` closes and
/// nothing is pending, recording load statistics on every dispatch.
async fn balance(mut pool: Pool, work: Receiver<Request>, done: Receiver<usize>) -> Stats {
    let (mut open, mut samples, mut load_sum, mut spread_sum) = (true, 0u64, 0.0, 0.0);
    while open || pool.total_pending() > 0 {
        let event = waza::select! {
            req = work.recv(), if open => Event::Request(req),
            Some(id) = done.recv() => Event::Done(id),
        };
        match event {
            Event::Request(Some(req)) => {
                pool.dispatch(req).await;
                let n = pool.workers.len() as f64;
                let mean = pool.total_pending() as f64 / n;
                let var = pool
                    .workers
                    .iter()
                    .map(|w| (w.pending as f64 - mean).powi(2))
                    .sum::<f64>()
                    / n;
                samples += 1;
                load_sum += mean;
                spread_sum += var.sqrt();
            }
            Event::Request(None) => open = false,
            Event::Done(id) => pool.completed(id),
        }
    }
    let samples = samples.max(1) as f64;
    Stats {
        served: pool.workers.iter().map(|w| w.served).collect(),
        correct: 0,
        mean_load: load_sum / samples,
        mean_spread: spread_sum / samples,
    }
}

/// Runs the whole system once and returns the balancer's statistics.
///
/// # Panics
///
/// Panics if `cfg.workers` or `cfg.requesters` is zero.
///
/// # Cancel safety
///
/// Dropping the future detaches the requesters, balancer and workers; they finish their
/// fixed amount of work and exit.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::{loadbalancer, Out};
///
/// let cfg = loadbalancer::Config {
///     workers: 2,
///     requesters: 3,
///     requests_each: 5,
///     max_pause: Duration::from_millis(1),
///     max_job: Duration::from_millis(1),
/// };
/// let stats = waza::block_on(loadbalancer::run(cfg, &Out::capture()));
/// assert_eq!(stats.served.iter().sum::<u64>(), 15);
/// assert_eq!(stats.correct, 15);
/// ```
pub async fn run(cfg: Config, out: &Out) -> Stats {
    assert!(
        cfg.workers > 0 && cfg.requesters > 0,
        "need workers and requesters"
    );
    let (done_tx, done_rx) = chan::bounded(cfg.requesters);
    let workers = (0..cfg.workers)
        .map(|id| {
            let (requests, inbox) = chan::bounded(cfg.requesters);
            waza::go!(work(id, inbox, done_tx.clone()));
            WorkerSlot {
                requests,
                pending: 0,
                served: 0,
                heap_index: id,
            }
        })
        .collect();
    drop(done_tx);
    let pool = Pool {
        workers,
        heap: (0..cfg.workers).collect(),
    };
    let (work_tx, work_rx) = chan::rendezvous(); // Go: work := make(chan Request)
    let balancer = waza::go!(balance(pool, work_rx, done_rx));
    let requesters: Vec<_> = (0..cfg.requesters)
        .map(|id| waza::go!(requester(id, work_tx.clone(), cfg)))
        .collect();
    drop(work_tx);
    let mut correct = 0;
    for r in requesters {
        correct += r.await.expect("requesters do not panic");
    }
    let mut stats = balancer.await.expect("the balancer does not panic");
    stats.correct = correct;
    out.line(stats.to_string());
    stats
}

/// The whole program: 16 requesters making 40 requests each (quick: 20 each) to 4
/// workers. Checks that every request was served once and answered correctly.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// As [`run`].
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let cfg = Config {
        requests_each: size.pick(20, 40),
        ..Config::default()
    };
    let stats = run(cfg, out).await;
    let total = (cfg.requesters * cfg.requests_each) as u64;
    ensure(stats.served.iter().sum::<u64>() == total, || {
        format!("served {:?} of {total}", stats.served)
    })?;
    ensure(stats.correct == total, || {
        format!("{} of {total} replies correct", stats.correct)
    })
}
