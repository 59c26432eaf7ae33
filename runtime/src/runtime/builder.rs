//! [`Builder`]: configure and start a [`Runtime`].

use super::Runtime;
use crate::blocking;
use crate::scheduler::monitor::{self, BlockedPoll, OnBlockedPoll};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The default of [`Builder::blocked_poll_threshold`].
const DEFAULT_BLOCKED_POLL_THRESHOLD: Duration = Duration::from_millis(10);

/// Configures a [`Runtime`] (tokio-style: setters take `&mut self`, `build` creates it).
///
/// # Examples
///
/// ```
/// let rt = waza::Runtime::builder()
///     .workers(2)
///     .thread_name("app")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 40 + 2 }), 42);
/// ```
#[derive(Clone)]
pub struct Builder {
    pub(crate) workers: Option<usize>,
    pub(crate) thread_name: String,
    pub(crate) max_blocking_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) detect_deadlock: bool,
    pub(crate) current_thread: bool,
    pub(crate) start_paused: bool,
    pub(crate) blocked_poll_threshold: Option<Duration>,
    pub(crate) on_blocked_poll: Option<OnBlockedPoll>,
    pub(crate) warn_on_blocked_poll: bool,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("workers", &self.workers)
            .field("thread_name", &self.thread_name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("keep_alive", &self.keep_alive)
            .field("detect_deadlock", &self.detect_deadlock)
            .field("current_thread", &self.current_thread)
            .field("start_paused", &self.start_paused)
            .field("blocked_poll_threshold", &self.blocked_poll_threshold)
            .field(
                "on_blocked_poll",
                &self.on_blocked_poll.as_ref().map(|_| ".."),
            )
            .field("warn_on_blocked_poll", &self.warn_on_blocked_poll)
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults: one worker per CPU (or `$WAZA_MAXPROCS`), threads
    /// named `waza-worker-N`, at most 512 blocking threads.
    pub fn new() -> Builder {
        Builder {
            workers: None,
            thread_name: "waza-worker".to_string(),
            max_blocking_threads: blocking::DEFAULT_MAX_THREADS,
            keep_alive: blocking::KEEP_ALIVE,
            detect_deadlock: false,
            current_thread: false,
            start_paused: false,
            blocked_poll_threshold: Some(DEFAULT_BLOCKED_POLL_THRESHOLD),
            on_blocked_poll: None,
            warn_on_blocked_poll: false,
        }
    }

    /// A builder for a current-thread runtime (tokio's name): see
    /// [`Builder::current_thread`].
    pub fn new_current_thread() -> Builder {
        let mut b = Builder::new();
        b.current_thread();
        b
    }

    /// A builder for a multi-threaded runtime (tokio's name; the same as [`Builder::new`]).
    pub fn new_multi_thread() -> Builder {
        Builder::new()
    }

    /// Makes the runtime current-thread: no worker threads; tasks run inside
    /// [`Runtime::block_on`], on the calling thread, which also drives I/O and timers.
    /// Tasks spawned while no `block_on` runs wait for the next one. [`Builder::workers`]
    /// is ignored; [`spawn_local`](crate::task::spawn_local) works inside `block_on`;
    /// [`block_in_place`](crate::task::block_in_place) panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::builder().current_thread().build().unwrap();
    /// let main = std::thread::current().id();
    /// let ran_on = rt.block_on(async { waza::spawn(async { std::thread::current().id() }).await });
    /// assert_eq!(ran_on.unwrap(), main);
    /// ```
    pub fn current_thread(&mut self) -> &mut Self {
        self.current_thread = true;
        self
    }

    /// Runs tasks on exactly `n` worker threads. `0` makes [`Builder::build`] fail.
    pub fn workers(&mut self, n: usize) -> &mut Self {
        self.workers = Some(n);
        self
    }

    /// Same as [`Builder::workers`] (tokio's name).
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.workers(n)
    }

    /// Prefix of the worker thread names (`{name}-{index}`); blocking threads are named
    /// `{name}-blocking-{index}`, the blocked-worker monitor `sysmon-{name}`.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.thread_name = name.into();
        self
    }

    /// Upper limit on threads of the blocking pool (default 512; at least 1).
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before exiting (default 10 s).
    pub fn thread_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.keep_alive = d;
        self
    }

    /// Turns on Go's deadlock detector: `block_on` panics with a message containing
    /// "all tasks are asleep - deadlock!" and a [`TaskDump`](crate::TaskDump) when its
    /// future is pending and nothing in the runtime can ever run again (every worker
    /// parked, no task scheduled, the blocking pool idle, no timer pending, no task
    /// waiting on a socket).
    ///
    /// A task waiting for network I/O (e.g. in `TcpListener::accept` or a read) keeps the
    /// runtime alive, as in Go: a peer may still connect or send. Wake-ups from other OS
    /// threads (a plain thread sending on a channel) are not foreseeable, so a runtime
    /// whose only hope is such a thread is reported as deadlocked; enable the detector for
    /// programs whose tasks wait on each other, channels, timers and sockets (the usual
    /// case in tests). Off by default.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::builder().workers(1).detect_deadlock(true).build().unwrap();
    /// let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     rt.block_on(async {
    ///         let (_tx, rx) = waza::chan::rendezvous::<u8>();
    ///         rx.recv().await // nobody will ever send
    ///     })
    /// }));
    /// let msg = r.unwrap_err().downcast::<String>().unwrap();
    /// assert!(msg.contains("all tasks are asleep - deadlock!"));
    /// ```
    pub fn detect_deadlock(&mut self, on: bool) -> &mut Self {
        self.detect_deadlock = on;
        self
    }

    /// Starts the runtime with its clock paused (test time, see
    /// [`time::pause`](crate::time::pause)). Needs [`Builder::current_thread`], as in
    /// tokio.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = waza::Runtime::builder().current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     // An hour of timers, in microseconds of real time.
    ///     let r = waza::time::timeout(Duration::from_secs(3600), std::future::pending::<()>());
    ///     assert!(r.await.is_err());
    /// });
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// How long one poll of a task may run before the blocked-worker monitor (Go's
    /// sysmon) steps in; default 10 ms. A task that blocks inside `poll` (a synchronous
    /// lock, a blocking read, a long computation) would stall every task queued behind it
    /// on its worker. Once its poll has run this long, the monitor reports it (the
    /// [`on_blocked_poll`](Builder::on_blocked_poll) callback, the
    /// [`blocked_polls_count`](crate::RuntimeMetrics::blocked_polls_count) metric, the
    /// [`warn_on_blocked_poll`](Builder::warn_on_blocked_poll) line, and
    /// [`Handle::dump`](crate::Handle::dump) shows it as `running (blocked N ms)`) and, on
    /// a multi-threaded runtime, moves that worker's queue, LIFO slot and I/O-driver duty
    /// to a replacement thread, named like the workers. When the blocked poll returns,
    /// its thread exits and the replacement goes on as that worker, so the threads
    /// running tasks never exceed [`workers`](Builder::workers) for longer than a poll
    /// blocks; at most [`max_blocking_threads`](Builder::max_blocking_threads) blocked
    /// threads are replaced at once. A current-thread runtime only reports: its tasks
    /// never move to another thread.
    ///
    /// The monitor samples the workers about every millisecond while they run (less
    /// often while no poll spans two samples, not at all while every worker is parked),
    /// so it finds a blocked poll within the threshold plus a few milliseconds; a
    /// reported poll ran at least the threshold. Each poll costs the worker a few plain
    /// loads and stores of its own slot (no read-modify-write, no clock read). The
    /// replacement needs Linux's `membarrier` (4.14 and later); elsewhere the monitor only
    /// reports. `Duration::MAX` turns the monitor off; zero
    /// makes [`Builder::build`] fail.
    ///
    /// The monitor sees wall-clock time: a worker thread that the OS deschedules in the
    /// middle of a poll for longer than the threshold (a heavily overloaded machine)
    /// looks blocked too, as it does to Go's sysmon; the hand-off then only costs a
    /// thread. Keep the callback short: it runs on the monitor's thread.
    ///
    /// Blocking on purpose still belongs in [`spawn_blocking`](crate::spawn_blocking) or
    /// [`block_in_place`](crate::task::block_in_place): the monitor is a safety net, and
    /// until it steps in, the worker's queue waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let rt = waza::Runtime::builder()
    ///     .workers(1)
    ///     .blocked_poll_threshold(Duration::from_millis(10))
    ///     .build()
    ///     .unwrap();
    /// let released = Arc::new(AtomicBool::new(false));
    /// let flag = released.clone();
    /// // This task blocks its (only) worker until the flag is set (or 5 s passed)...
    /// rt.spawn(async move {
    ///     let start = std::time::Instant::now();
    ///     while !flag.load(Ordering::Acquire) && start.elapsed() < Duration::from_secs(5) {
    ///         std::thread::sleep(Duration::from_millis(1));
    ///     }
    /// });
    /// // ...and this one still runs, on the replacement thread (Linux; elsewhere it
    /// // waits for the blocker).
    /// let h = rt.spawn(async { waza::time::sleep(Duration::from_millis(5)).await; 7 });
    /// assert_eq!(rt.block_on(h).unwrap(), 7);
    /// released.store(true, Ordering::Release);
    /// assert_eq!(rt.handle().metrics().blocked_polls_count(), 1);
    /// ```
    pub fn blocked_poll_threshold(&mut self, threshold: Duration) -> &mut Self {
        self.blocked_poll_threshold = (threshold != Duration::MAX).then_some(threshold);
        self
    }

    /// Calls `f` on the monitor's thread for each poll it finds blocked (see
    /// [`Builder::blocked_poll_threshold`]): with the task's id, its spawn location and how
    /// long the poll had run. Once per blocked poll; a panic in `f` is caught and noted on
    /// stderr.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = waza::Runtime::builder()
    ///     .on_blocked_poll(|b: &waza::BlockedPoll| {
    ///         eprintln!("task {} at {} blocked for {:?}", b.task_id(), b.location(), b.duration());
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_blocked_poll(
        &mut self,
        f: impl Fn(&BlockedPoll) + Send + Sync + 'static,
    ) -> &mut Self {
        self.on_blocked_poll = Some(Arc::new(f));
        self
    }

    /// Prints a line on stderr for each poll the monitor finds blocked: the task's id,
    /// spawn location and worker (see [`Builder::blocked_poll_threshold`]). Off by
    /// default.
    pub fn warn_on_blocked_poll(&mut self, on: bool) -> &mut Self {
        self.warn_on_blocked_poll = on;
        self
    }

    pub(crate) fn monitor_config(&self) -> monitor::Config {
        monitor::Config {
            threshold: self.blocked_poll_threshold,
            on_blocked: self.on_blocked_poll.clone(),
            warn: self.warn_on_blocked_poll,
            max_replacements: self.max_blocking_threads.max(1),
        }
    }

    /// Starts the runtime: its I/O driver and worker threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the worker count or the blocked-poll threshold is zero, or with
    /// `start_paused` on a multi-threaded runtime; otherwise the OS error of creating the
    /// driver or a thread.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let workers = match self.workers {
            Some(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "waza: the number of workers must be at least 1",
                ))
            }
            Some(n) => n,
            None => default_workers(),
        };
        if self.blocked_poll_threshold == Some(Duration::ZERO) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "waza: blocked_poll_threshold must be above zero (Duration::MAX turns the \
                 monitor off)",
            ));
        }
        if self.start_paused && !self.current_thread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "waza: start_paused needs a current-thread runtime (Builder::current_thread)",
            ));
        }
        Runtime::start(self, workers)
    }
}

/// `$WAZA_MAXPROCS` if set to a positive integer, else the available parallelism.
fn default_workers() -> usize {
    std::env::var("WAZA_MAXPROCS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
