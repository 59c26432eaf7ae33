//! hyper 1.x on waza: the three runtime hooks hyper asks for, and a "Hello, world!" server.
//!
//! hyper is runtime-agnostic. It never spawns, sleeps or touches a socket by itself; it asks
//! its caller for three things, all in [`hyper::rt`]:
//!
//! | hyper asks for | waza supplies | backed by |
//! |---|---|---|
//! | [`Executor<F>`](hyper::rt::Executor) (HTTP/2 streams, client connections) | [`WazaExecutor`] | [`waza::spawn`] or a [`waza::Handle`] |
//! | [`Timer`](hyper::rt::Timer) (header-read timeouts, keep-alive) | [`WazaTimer`] | [`waza::time::sleep_until`], reset in place |
//! | [`Read`](hyper::rt::Read) + [`Write`](hyper::rt::Write) (the connection) | [`Io<T>`] | any `futures_io` `AsyncRead + AsyncWrite`, e.g. [`waza::net::TcpStream`] |
//!
//! On top of those, [`serve`] and [`serve_connection`] run hyper's HTTP/1 server on a waza
//! [`TcpListener`] with the [`hello`] service. The `hello_hyper` binary, the `tests/hyper.rs`
//! integration test and the `http` bench in `waza-benches` all use them, so the program that
//! is tested is the program that is measured.
//!
//! # Reading without `unsafe`
//!
//! hyper hands a reader a [`ReadBufCursor`] over possibly uninitialised memory, while a
//! `futures_io::AsyncRead` wants an initialised `&mut [u8]`. Zero-filling hyper's buffer
//! before every read would cost a `memset` of its whole free part (8 KiB and more) per read,
//! including the reads that end in `WouldBlock`. [`Io`]'s `poll_read` (`hyper::rt::Read`)
//! instead:
//!
//! 1. borrows a per-thread scratch buffer of [`MAX_READ`] bytes, zeroed once when the
//!    thread first reads;
//! 2. lets the inner reader fill a prefix of at most `min(MAX_READ, room in hyper's buffer)`
//!    bytes and report `n`;
//! 3. rejects `n` larger than that prefix (a broken reader) with an error;
//! 4. copies the `n` bytes into hyper's buffer with the safe `put_slice`.
//!
//! So a read costs one copy of the bytes actually read. The scratch buffer is borrowed only
//! for the duration of one synchronous `poll_read` call (there is no `.await` in between), so
//! tasks on one thread never see each other's bytes. Should an inner reader itself read
//! through another `Io` on the same thread, the nested call finds the scratch buffer
//! borrowed and uses a fresh zeroed buffer instead.

use std::cell::RefCell;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::io::{AsyncRead, AsyncWrite};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::rt::ReadBufCursor;
use hyper::service::service_fn;
use hyper::{Request, Response};
use pin_project::pin_project;
use waza::net::{TcpListener, TcpStream};

/// The body every [`hello`] response carries.
pub const HELLO: &[u8] = b"Hello, world!";

/// The most bytes [`Io`] asks the inner reader for in one read.
pub const MAX_READ: usize = 16 * 1024;

/// Runs futures hyper hands over as waza tasks: hyper's [`Executor`](hyper::rt::Executor).
///
/// Spawned tasks are detached (their [`JoinHandle`](waza::JoinHandle)s are dropped), as
/// hyper expects.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
/// use waza_examples::hyper_compat::WazaExecutor;
///
/// waza::block_on(async {
///     let (tx, rx) = waza::chan::bounded(1);
///     WazaExecutor::new().execute(async move { tx.send(7).await.unwrap() });
///     assert_eq!(rx.recv().await, Some(7));
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct WazaExecutor {
    handle: Option<waza::Handle>,
}

impl WazaExecutor {
    /// An executor that spawns onto the runtime of the thread calling `execute`.
    ///
    /// `execute` panics when called outside a waza runtime; use [`WazaExecutor::on`] to
    /// spawn from other threads.
    pub fn new() -> Self {
        WazaExecutor { handle: None }
    }

    /// An executor that spawns onto `handle`'s runtime, from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use hyper::rt::Executor;
    /// use waza_examples::hyper_compat::WazaExecutor;
    ///
    /// let rt = waza::Runtime::new().unwrap();
    /// let (tx, rx) = waza::chan::bounded(1);
    /// WazaExecutor::on(rt.handle().clone()).execute(async move { tx.send(1).await.unwrap() });
    /// assert_eq!(rx.recv_blocking(), Some(1));
    /// ```
    pub fn on(handle: waza::Handle) -> Self {
        WazaExecutor {
            handle: Some(handle),
        }
    }
}

impl<F> hyper::rt::Executor<F> for WazaExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Spawns `fut` as a detached task.
    ///
    /// # Panics
    ///
    /// For an executor made with [`WazaExecutor::new`], panics when called outside a waza
    /// runtime.
    #[track_caller]
    fn execute(&self, fut: F) {
        drop(match &self.handle {
            Some(handle) => handle.spawn(fut),
            None => waza::spawn(fut),
        });
    }
}

/// hyper's [`Timer`](hyper::rt::Timer) on waza's timer wheel.
///
/// Sleeps are [`waza::time::Sleep`]s; [`reset`](hyper::rt::Timer::reset) moves the existing
/// timer entry instead of allocating a new sleep, which matters because hyper resets its
/// header-read timer once per request on a keep-alive connection.
///
/// The sleeps it returns must be polled inside a waza runtime.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer;
/// use waza_examples::hyper_compat::WazaTimer;
///
/// waza::block_on(async {
///     let start = Instant::now();
///     WazaTimer.sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WazaTimer;

impl hyper::rt::Timer for WazaTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WazaSleep(waza::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WazaSleep(waza::time::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<WazaSleep>() {
            Some(ours) => ours.get_mut().0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A [`waza::time::Sleep`] that hyper can box and downcast (`hyper::rt::Sleep` is a
/// marker trait each runtime implements for its own type).
struct WazaSleep(waza::time::Sleep);

impl Future for WazaSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl hyper::rt::Sleep for WazaSleep {}

/// A byte stream as hyper sees it: wraps any `futures_io` `AsyncRead`/`AsyncWrite` and
/// implements [`hyper::rt::Read`] and [`hyper::rt::Write`].
///
/// Reads copy at most [`MAX_READ`] bytes at a time, through a per-thread buffer (see the
/// module docs for why). Writes go straight through; [`Io::vectored`] tells hyper whether
/// the inner writer has a real `poll_write_vectored` (hyper then queues header and body buffers instead of copying
/// them into one).
///
/// # Examples
///
/// ```
/// use waza_examples::hyper_compat::Io;
///
/// waza::block_on(async {
///     let listener = waza::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let stream = waza::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let io = Io::new(stream).vectored(true);
///     assert!(hyper::rt::Write::is_write_vectored(&io));
///     let _stream: waza::net::TcpStream = io.into_inner();
/// });
/// ```
#[pin_project]
pub struct Io<T> {
    #[pin]
    inner: T,
    vectored: bool,
}

impl<T> Io<T> {
    /// Wraps `inner`; writes are reported to hyper as not vectored.
    pub fn new(inner: T) -> Self {
        Io {
            inner,
            vectored: false,
        }
    }

    /// Sets whether hyper should use the inner writer's `poll_write_vectored`.
    ///
    /// Say `true` only if `T` implements it natively (waza's `TcpStream` does); the
    /// default `futures_io` implementation writes one buffer per call.
    pub fn vectored(mut self, vectored: bool) -> Self {
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

impl<T: AsyncRead> hyper::rt::Read for Io<T> {
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

/// Steps 2-4 of the module docs: reads from `reader` into `scratch`, then copies into `buf`.
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

impl<T: AsyncWrite> hyper::rt::Write for Io<T> {
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

/// The service of the hello server: answers every request with `200 OK` and [`HELLO`].
///
/// # Examples
///
/// ```
/// use hyper::body::Body;
/// use waza_examples::hyper_compat::{hello, HELLO};
///
/// // Any request type works; the body is never read.
/// let res = waza::block_on(hello(hyper::Request::new(()))).unwrap();
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.body().size_hint().exact(), Some(HELLO.len() as u64));
/// ```
///
/// # Errors
///
/// Never: the error type is [`Infallible`].
pub async fn hello<B>(_req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(HELLO))))
}

/// Serves HTTP/1.1 with the [`hello`] service on one accepted connection until the client
/// closes it.
///
/// Sets `TCP_NODELAY` (responses are small) and gives hyper a [`WazaTimer`], which enables
/// hyper's default 30-second header-read timeout. Writes are not vectored: for small
/// responses hyper's copy of head and body into one buffer and a single `write` measured
/// cheaper than `writev` of the two (see the `http` bench).
///
/// # Errors
///
/// hyper's error if the connection fails (a reset, a malformed request, a timeout).
///
/// # Cancel safety
///
/// Dropping the future closes the connection, possibly in the middle of a response.
pub async fn serve_connection(stream: TcpStream) -> hyper::Result<()> {
    // Nagle only delays small responses; a failure here is harmless.
    let _ = stream.set_nodelay(true);
    hyper::server::conn::http1::Builder::new()
        .timer(WazaTimer)
        .serve_connection(Io::new(stream), service_fn(hello::<Incoming>))
        .await
}

/// Accepts connections on `listener` forever, serving each with [`serve_connection`] in its
/// own task.
///
/// Errors of single connections are ignored (clients hang up all the time); an
/// accept error that concerns only the connection being accepted is skipped.
///
/// Completes only with the first accept error that concerns the listener itself (for
/// example running out of file descriptors), which it returns.
///
/// # Cancel safety
///
/// Dropping the future stops accepting; connections already accepted keep being served by
/// their tasks.
pub async fn serve(listener: TcpListener) -> io::Error {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => drop(waza::spawn(async move {
                let _ = serve_connection(stream).await;
            })),
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => return e,
        }
    }
}

/// Whether an accept error concerns only the connection being accepted.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::{Read, Timer, Write};

    fn run<F: Future>(fut: F) -> F::Output {
        let rt = waza::Runtime::builder()
            .workers(2)
            .build()
            .expect("runtime");
        rt.block_on(fut)
    }

    #[test]
    fn timer_reset_moves_the_same_sleep() {
        run(async {
            let mut sleep = WazaTimer.sleep(Duration::from_secs(3600));
            assert!(sleep.is::<WazaSleep>());
            let deadline = Instant::now() + Duration::from_millis(5);
            WazaTimer.reset(&mut sleep, deadline);
            // Still the same kind of sleep: reset moved it instead of replacing it.
            assert!(sleep.is::<WazaSleep>());
            let res = waza::time::timeout(Duration::from_secs(10), sleep).await;
            assert!(res.is_ok(), "reset sleep never fired");
            assert!(Instant::now() >= deadline);
        });
    }

    /// A reader that reports more bytes than it was given room for.
    struct Liar;

    impl AsyncRead for Liar {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(buf.len() + 1))
        }
    }

    #[test]
    fn read_copies_and_rejects_lying_readers() {
        let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 8];
        let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
        let mut io = Io::new(&b"abc"[..]);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let res = Pin::new(&mut io).poll_read(&mut cx, buf.unfilled());
        assert!(matches!(res, Poll::Ready(Ok(()))));
        assert_eq!(buf.filled(), b"abc");

        let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 8];
        let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
        let res = Pin::new(&mut Io::new(Liar)).poll_read(&mut cx, buf.unfilled());
        match res {
            Poll::Ready(Err(e)) => assert_eq!(e.kind(), io::ErrorKind::InvalidData),
            other => panic!("expected an error, got {other:?}"),
        }
        assert!(buf.filled().is_empty());
    }

    /// A reader that itself reads through an `Io`, as a TLS layer under hyper would.
    struct Nested(Io<&'static [u8]>);

    impl AsyncRead for Nested {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            out: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 64];
            let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
            ready!(Pin::new(&mut self.0).poll_read(cx, buf.unfilled()))?;
            let got = buf.filled();
            out[..got.len()].copy_from_slice(got);
            Poll::Ready(Ok(got.len()))
        }
    }

    #[test]
    fn nested_reads_use_their_own_buffer() {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut outer = Io::new(Nested(Io::new(&b"nested bytes"[..])));
        let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 100];
        let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
        let res = Pin::new(&mut outer).poll_read(&mut cx, buf.unfilled());
        assert!(matches!(res, Poll::Ready(Ok(()))), "{res:?}");
        assert_eq!(buf.filled(), b"nested bytes");
        // The inner source is drained: the next read reports end of stream.
        let res = Pin::new(&mut outer).poll_read(&mut cx, buf.unfilled());
        assert!(matches!(res, Poll::Ready(Ok(()))), "{res:?}");
        assert_eq!(buf.filled(), b"nested bytes");
    }

    #[test]
    fn write_passes_through() {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut io = Io::new(futures::io::Cursor::new(Vec::new()));
        assert!(!io.is_write_vectored());
        assert!(io.get_ref().get_ref().is_empty());
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
        let res = Pin::new(&mut io).poll_write_vectored(&mut cx, &bufs);
        assert!(matches!(res, Poll::Ready(Ok(4))), "{res:?}");
        let res = Pin::new(&mut io).poll_write(&mut cx, b"e");
        assert!(matches!(res, Poll::Ready(Ok(1))), "{res:?}");
        assert!(matches!(
            Pin::new(&mut io).poll_flush(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert!(matches!(
            Pin::new(&mut io).poll_shutdown(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(io.into_inner().into_inner(), b"abcde");
    }
}
