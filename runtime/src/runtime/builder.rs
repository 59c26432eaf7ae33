//! [`Builder`]: configure and start a [`Runtime`].

use super::Runtime;
use crate::blocking;
use std::io;
use std::time::Duration;

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
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) workers: Option<usize>,
    pub(crate) thread_name: String,
    pub(crate) max_blocking_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) detect_deadlock: bool,
    pub(crate) current_thread: bool,
    pub(crate) start_paused: bool,
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
    /// `{name}-blocking-{index}`.
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

    /// Starts the runtime: its I/O driver and worker threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the worker count is zero, or with `start_paused` on a
    /// multi-threaded runtime; otherwise the OS error of creating the driver or a thread.
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
