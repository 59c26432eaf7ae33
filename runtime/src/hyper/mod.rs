//! hyper 1.x on waza (feature `hyper`): the [`Executor`], [`Timer`] and [`Io`] adapters
//! hyper asks its runtime for, and [`serve`](fn@serve), an HTTP server with graceful shutdown.
//!
//! hyper never spawns, sleeps or touches a socket by itself; it asks for three things in
//! [`hyper::rt`]:
//!
//! | hyper asks for | waza supplies | backed by |
//! |---|---|---|
//! | `Executor<F>` (HTTP/2 streams, client connections) | [`Executor`] | [`crate::spawn`](fn@crate::spawn) or a [`crate::Handle`] |
//! | `Timer` (header-read timeouts, keep-alive) | [`Timer`] | [`crate::time::Sleep`], reset in place |
//! | `Read` + `Write` (the connection) | [`Io<T>`] | any futures-io `AsyncRead + AsyncWrite`, e.g. [`TcpStream`] |
//!
//! [`serve`](fn@serve) accepts connections on a [`TcpListener`] and serves each on its
//! own task with HTTP/1.1 (and, with the `hyper-http2` feature, HTTP/2 for clients that
//! open with its preface). [`Serve::with_graceful_shutdown`] stops accepting when a signal
//! future completes, lets requests in flight finish, and completes when the last
//! connection has.
//!
//! # Reading without `unsafe`
//!
//! hyper lends a reader a `ReadBufCursor` over possibly uninitialised memory, while a
//! futures-io `AsyncRead` wants an initialised `&mut [u8]`. Instead of zero-filling hyper's
//! buffer before every read, [`Io`]'s `poll_read`:
//!
//! 1. borrows a per-thread scratch buffer of [`MAX_READ`] bytes, zeroed once per thread;
//! 2. lets the inner reader fill a prefix of at most `min(MAX_READ, room in hyper's buffer)`;
//! 3. rejects a reported length larger than that prefix (a broken reader) with an error;
//! 4. copies the bytes into hyper's buffer with the safe `put_slice`.
//!
//! A read thus costs one copy of the bytes read. The scratch buffer is borrowed only within
//! one synchronous `poll_read` (no `.await` in between), so tasks on one thread never see
//! each other's bytes; a nested read through another `Io` finds it borrowed and uses a fresh
//! zeroed buffer.

mod serve;

pub use serve::{serve, GracefulShutdown, Serve};

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use ::hyper::rt::ReadBufCursor;
use futures_io::{AsyncRead, AsyncWrite};
use pin_project::pin_project;

#[cfg(doc)]
use crate::net::{TcpListener, TcpStream};

/// The most bytes [`Io`] asks the inner reader for in one read.
pub const MAX_READ: usize = 16 * 1024;

/// Runs the futures hyper hands over as waza tasks: hyper's `Executor`.
///
/// Spawned tasks are detached, as hyper expects.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor as _;
///
/// waza::block_on(async {
///     let (tx, rx) = waza::chan::bounded(1);
///     waza::hyper::Executor::new().execute(async move { tx.send(7).await.unwrap() });
///     assert_eq!(rx.recv().await, Some(7));
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct Executor {
    handle: Option<crate::Handle>,
}

impl Executor {
    /// An executor that spawns onto the runtime of the thread calling `execute` (which
    /// then panics outside a waza runtime; see [`Executor::on`]).
    pub fn new() -> Executor {
        Executor { handle: None }
    }

    /// An executor that spawns onto `handle`'s runtime, from any thread.
    pub fn on(handle: crate::Handle) -> Executor {
        Executor {
            handle: Some(handle),
        }
    }
}

impl<F> ::hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, fut: F) {
        drop(match &self.handle {
            Some(handle) => handle.spawn(fut),
            None => crate::spawn(fut),
        });
    }
}

/// hyper's `Timer` on waza's timer wheel.
///
/// `reset` moves the existing timer entry instead of allocating a new sleep: hyper resets
/// its header-read timer once per request on a keep-alive connection. Its sleeps must be
/// polled inside a waza runtime.
///
/// # Examples
///
/// ```
/// use hyper::rt::Timer as _;
/// use std::time::{Duration, Instant};
///
/// waza::block_on(async {
///     let start = Instant::now();
///     waza::hyper::Timer.sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours.get_mut().0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A waza sleep that hyper can box and downcast (`hyper::rt::Sleep` is a marker trait each
/// runtime implements for its own type).
struct HyperSleep(crate::time::Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl ::hyper::rt::Sleep for HyperSleep {}

/// A byte stream as hyper sees it: wraps a futures-io `AsyncRead`/`AsyncWrite` and
/// implements hyper's `Read` and `Write`.
///
/// Reads go through a per-thread buffer (see the module docs). [`Io::vectored`] tells hyper
/// whether the inner writer has a real `poll_write_vectored`.
///
/// # Examples
///
/// ```
/// use waza::hyper::Io;
///
/// waza::block_on(async {
///     let listener = waza::net::TcpListener::bind("127.0.0.1:0").await?;
///     let stream = waza::net::TcpStream::connect(listener.local_addr()?).await?;
///     let io = Io::new(stream).vectored(true);
///     assert!(hyper::rt::Write::is_write_vectored(&io));
///     let _stream: waza::net::TcpStream = io.into_inner();
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[pin_project]
pub struct Io<T> {
    #[pin]
    inner: T,
    vectored: bool,
}

impl<T> Io<T> {
    /// Wraps `inner`; writes are reported to hyper as not vectored.
    pub fn new(inner: T) -> Io<T> {
        Io {
            inner,
            vectored: false,
        }
    }

    /// Sets whether hyper should use the inner writer's `poll_write_vectored`: say `true`
    /// only if `T` implements it natively (waza's `TcpStream` does).
    pub fn vectored(mut self, vectored: bool) -> Io<T> {
        self.vectored = vectored;
        self
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for Io<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Io")
            .field("inner", &self.inner)
            .field("vectored", &self.vectored)
            .finish()
    }
}

thread_local! {
    /// The landing area of step 1 in the module docs.
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; MAX_READ].into_boxed_slice());
}

impl<T: AsyncRead> ::hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut inner = self.project().inner;
        let shared = SCRATCH.try_with(|scratch| {
            let mut scratch = scratch.try_borrow_mut().ok()?;
            Some(read_through(inner.as_mut(), cx, &mut buf, &mut scratch))
        });
        match shared {
            Ok(Some(res)) => res,
            // A nested read, or a thread tearing down its thread-locals.
            Ok(None) | Err(_) => {
                let len = buf.remaining().min(MAX_READ);
                read_through(inner, cx, &mut buf, &mut vec![0; len])
            }
        }
    }
}

/// Steps 2-4 of the module docs.
fn read_through<R: AsyncRead>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBufCursor<'_>,
    scratch: &mut [u8],
) -> Poll<io::Result<()>> {
    let len = buf.remaining().min(scratch.len());
    let n = ready!(reader.poll_read(cx, &mut scratch[..len]))?;
    if n > len {
        return Poll::Ready(Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("reader reported {n} bytes read into a {len}-byte buffer"),
        )));
    }
    buf.put_slice(&scratch[..n]);
    Poll::Ready(Ok(()))
}

impl<T: AsyncWrite> ::hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
}
