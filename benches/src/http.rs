//! The HTTP/1.1 "Hello, world!" harness: the same hyper 1.x server on waza, on tokio and
//! on smol, and the load generators that drive a server at an address (wrk when it is on
//! PATH, otherwise a built-in closed-loop generator). The `http` bench (`benches/http.sh`)
//! and the `compare` program's HTTP row both use it.
//!
//! Every server uses the same hyper version, the same service
//! ([`waza_examples::hyper_compat::hello`]), `TCP_NODELAY`, unvectored writes, and a hyper
//! timer (so each pays for hyper's header-read timeout). The waza side is exactly the
//! `hello_hyper` example's server ([`waza_examples::hyper_compat::serve`]); the tokio side
//! is its twin with small adapters equivalent to hyper-util's `TokioIo` and `TokioTimer`
//! (but with unvectored writes, as on the waza side); the smol side wraps smol's futures-io
//! stream in waza's [`waza::hyper::Io`] and uses smol's timer.
//!
//! The built-in generator runs one OS thread per keep-alive connection, each sending a
//! request, reading the whole response (checked byte for byte), and repeating until a
//! deadline.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Command;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::rt::ReadBufCursor;
use hyper::service::service_fn;
use pin_project::pin_project;
use waza_examples::hyper_compat::{self, HELLO};

/// Where load comes from.
#[derive(Clone, Debug)]
pub enum Load {
    /// `wrk` at this path, a separate process with the given number of threads.
    Wrk {
        /// The `wrk` binary.
        path: PathBuf,
        /// Its `-t` argument.
        threads: usize,
    },
    /// The built-in generator, one thread per connection in this process.
    Builtin,
}

impl Load {
    /// `wrk` from PATH with `threads` threads, or the built-in generator if there is none
    /// or `builtin` is set.
    pub fn choose(builtin: bool, threads: usize) -> Load {
        match find_on_path("wrk") {
            Some(path) if !builtin => Load::Wrk { path, threads },
            _ => Load::Builtin,
        }
    }

    /// Drives the server at `addr` with `connections` keep-alive connections for `secs`
    /// seconds.
    ///
    /// # Panics
    ///
    /// If wrk fails or reports non-2xx responses, or if the built-in generator's client
    /// gets a wrong response or an I/O error: a broken server fails the run.
    pub fn measure(&self, addr: SocketAddr, connections: usize, secs: u64) -> Sample {
        match self {
            Load::Wrk { path, threads } => run_wrk(path, *threads, addr, connections, secs),
            Load::Builtin => run_builtin(addr, connections, Duration::from_secs(secs)),
        }
    }

    /// A one-line description for reports.
    pub fn describe(&self, connections: usize, secs: u64) -> String {
        match self {
            Load::Wrk { path, threads } => format!(
                "wrk -t{threads} -c{connections} -d{secs}s ({})",
                path.display()
            ),
            Load::Builtin => format!(
                "built-in generator, {connections} connections × {secs} s (wrk not on PATH)"
            ),
        }
    }
}

/// One measured run.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Completed requests per wall-clock second.
    pub rate: f64,
    /// CPU time this process (the server; wrk runs apart) spent per request, in µs. `None`
    /// with the in-process generator, or where `/proc/self/stat` is missing.
    pub cpu_us_per_req: Option<f64>,
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:>8.0} req/s", self.rate)?;
        match self.cpu_us_per_req {
            Some(us) => write!(f, " ({us:>5.2} µs CPU/req)"),
            None => Ok(()),
        }
    }
}

/// CPU time (user + system) used so far by this process, from `/proc/self/stat`.
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name start at field 3 (state); utime and
    // stime are fields 14 and 15, in clock ticks of 1/100 s (Linux's fixed USER_HZ).
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Runs `f` against the hello_hyper example's server on a fresh waza runtime.
pub fn with_waza_server<R>(workers: usize, f: impl FnOnce(SocketAddr) -> R) -> R {
    let rt = waza::Runtime::builder()
        .workers(workers)
        .build()
        .expect("waza runtime");
    let listener = rt
        .block_on(waza::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let server = rt.spawn(hyper_compat::serve(listener));
    let result = f(addr);
    assert!(!server.is_finished(), "waza server stopped early");
    server.abort();
    rt.shutdown_timeout(Duration::from_secs(5));
    result
}

/// Runs `f` against the same server built on tokio.
pub fn with_tokio_server<R>(workers: usize, f: impl FnOnce(SocketAddr) -> R) -> R {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let server = rt.spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => return e,
            };
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer)
                    .serve_connection(TokioIo(stream), service_fn(hyper_compat::hello::<Incoming>))
                    .await;
            });
        }
    });
    let result = f(addr);
    assert!(!server.is_finished(), "tokio server stopped early");
    server.abort();
    rt.shutdown_timeout(Duration::from_secs(5));
    result
}

/// Runs `f` against the same server built on smol: `workers` threads running one
/// `async-executor`, the connection wrapped in [`waza::hyper::Io`] (smol's
/// streams are futures-io streams, like waza's), smol's timer for hyper.
pub fn with_smol_server<R>(workers: usize, f: impl FnOnce(SocketAddr) -> R) -> R {
    use crate::workloads::exec::{Exec, Smol};
    let (ex, threads) = Smol::start(workers);
    let listener = smol::block_on(smol::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let inner = ex.clone();
    let server = ex.spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => return e,
            };
            inner.go(async move {
                let _ = stream.set_nodelay(true);
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(SmolTimer)
                    .serve_connection(
                        waza::hyper::Io::new(stream),
                        service_fn(hyper_compat::hello::<Incoming>),
                    )
                    .await;
            });
        }
    });
    let result = f(addr);
    assert!(!server.is_finished(), "smol server stopped early");
    drop(server); // cancels the accept loop
    drop(threads);
    result
}

/// hyper's `Timer` on smol's (async-io's) timers.
#[derive(Clone, Copy)]
struct SmolTimer;

struct SmolSleep(smol::Timer);

impl std::future::Future for SmolSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

impl hyper::rt::Sleep for SmolSleep {}

impl hyper::rt::Timer for SmolTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SmolSleep(smol::Timer::after(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SmolSleep(smol::Timer::at(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<SmolSleep>() {
            Some(mut ours) => ours.0.set_at(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// hyper's `Read`/`Write` over a tokio stream, as hyper-util's `TokioIo` does it: tokio
/// readers accept uninitialised buffers, so nothing is zero-filled.
struct TokioIo<T>(T);

impl<T: tokio::io::AsyncRead + Unpin> hyper::rt::Read for TokioIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `as_mut` requires that no initialised byte is de-initialised; a tokio
        // `ReadBuf` only ever writes initialised bytes into the slice it wraps.
        let unfilled = unsafe { buf.as_mut() };
        let mut tbuf = tokio::io::ReadBuf::uninit(unfilled);
        ready!(Pin::new(&mut self.get_mut().0).poll_read(cx, &mut tbuf))?;
        let n = tbuf.filled().len();
        // SAFETY: tokio's `ReadBuf` counts as filled only bytes the reader initialised, and
        // those are the first `n` bytes of the cursor's unfilled part.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> hyper::rt::Write for TokioIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }

    /// `false`, like the waza server's `Io`: both servers then take the same hyper write
    /// path (head and body copied into one buffer, one `write`), so the comparison is of
    /// the runtimes. hyper-util's `TokioIo` would say `true` for a `TcpStream`; for this
    /// workload that measured no faster on tokio (and slower on waza).
    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }
}

/// hyper's `Timer` on tokio's timers, as hyper-util's `TokioTimer` does it.
#[derive(Clone, Copy)]
struct TokioTimer;

#[pin_project]
struct TokioSleep(#[pin] tokio::time::Sleep);

impl std::future::Future for TokioSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().0.poll(cx)
    }
}

impl hyper::rt::Sleep for TokioSleep {}

impl hyper::rt::Timer for TokioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TokioSleep(tokio::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TokioSleep(tokio::time::sleep_until(deadline.into())))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<TokioSleep>() {
            Some(ours) => ours.project().0.reset(new_deadline.into()),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The first executable file called `name` in `$PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Drives `addr` with wrk for `secs` seconds.
///
/// # Panics
///
/// If wrk fails, reports non-2xx responses, or prints no rate (socket errors only warn).
fn run_wrk(wrk: &Path, threads: usize, addr: SocketAddr, connections: usize, secs: u64) -> Sample {
    let cpu_before = process_cpu_time();
    let out = Command::new(wrk)
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{secs}s"))
        .arg(format!("http://{addr}/"))
        .output()
        .expect("run wrk");
    let cpu_after = process_cpu_time();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("Non-2xx"), "non-2xx responses:\n{text}");
    // Timeouts can happen on an overloaded machine: say so, but keep the measurement.
    if let Some(errors) = text.lines().find(|line| line.contains("Socket errors")) {
        eprintln!("warning: wrk against {addr}: {}", errors.trim());
    }
    let rate: f64 = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|rate| rate.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk output:\n{text}"));
    // "  612345 requests in 5.00s, 71.2MB read"
    let requests: f64 = text
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk output:\n{text}"));
    let cpu_us_per_req = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) if requests > 0.0 => {
            Some((after - before).as_secs_f64() * 1e6 / requests)
        }
        _ => None,
    };
    Sample {
        rate,
        cpu_us_per_req,
    }
}

/// Drives `addr` with `connections` keep-alive clients for `duration`; returns requests per
/// second of complete, byte-checked responses.
fn run_builtin(addr: SocketAddr, connections: usize, duration: Duration) -> Sample {
    let start = Instant::now();
    let deadline = start + duration;
    let total: u64 = std::thread::scope(|s| {
        let clients: Vec<_> = (0..connections)
            .map(|_| s.spawn(move || client_loop(addr, deadline)))
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().expect("client thread").expect("client I/O"))
            .sum()
    });
    Sample {
        rate: total as f64 / start.elapsed().as_secs_f64(),
        // The generator shares this process, so its CPU time would not be the server's.
        cpu_us_per_req: None,
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";

/// One keep-alive client: request, full response, repeat until `deadline`; returns the count.
fn client_loop(addr: SocketAddr, deadline: Instant) -> io::Result<u64> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    // A stalled server fails the run instead of hanging it.
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::with_capacity(4096);
    let mut count = 0;
    while Instant::now() < deadline {
        stream.write_all(REQUEST)?;
        read_response(&mut stream, &mut buf)?;
        count += 1;
    }
    Ok(count)
}

/// Reads one response to [`REQUEST`] and checks it: `200 OK`, body [`HELLO`].
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(len) = complete_response_len(buf)? {
            if len != buf.len() {
                return Err(invalid("bytes after the response (nothing was pipelined)"));
            }
            return Ok(());
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The length of the complete hello response at the start of `buf`, or `None` if more bytes
/// are needed.
fn complete_response_len(buf: &[u8]) -> io::Result<Option<usize>> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| invalid("non-UTF-8 head"))?;
    if !head.starts_with("HTTP/1.1 200 OK\r\n") {
        return Err(invalid("status is not 200 OK"));
    }
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>())
        })
        .ok_or_else(|| invalid("no content-length"))?
        .map_err(|_| invalid("bad content-length"))?;
    let end = head_end + 4 + length;
    if buf.len() < end {
        return Ok(None);
    }
    if &buf[head_end + 4..end] != HELLO {
        return Err(invalid("body is not the hello body"));
    }
    Ok(Some(end))
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}
