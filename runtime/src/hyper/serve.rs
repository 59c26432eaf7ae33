//! [`serve`]: hyper's HTTP server on a waza [`TcpListener`], one task per connection, with
//! graceful shutdown.
//!
//! # Graceful shutdown, step by step
//!
//! 1. The accept loop polls the shutdown signal before each accept; once it completes,
//!    the listener is dropped (new clients are refused by the OS from then on).
//! 2. A shared [`Context`] is cancelled. Every connection task watches it and, when it
//!    ends, calls hyper's `graceful_shutdown`: a request in flight is answered and the
//!    connection closed after it; an idle keep-alive connection closes at once; a
//!    connection accepted but not yet read still has its first request served.
//! 3. A [`WaitGroup`] counts the connection tasks; the serve future completes when it is
//!    zero. Bound how long that may take with a deadline around the future (a
//!    `Context` deadline or `waza::time::timeout`).

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::{pin, Pin};
use std::task::{Poll, Waker};

use ::hyper::body::{Body, Incoming};
use ::hyper::service::Service;
use ::hyper::{Request, Response};

use super::{Io, Timer};
use crate::context::Context;
use crate::net::{TcpListener, TcpStream};
use crate::sync::WaitGroup;

type BoxError = Box<dyn StdError + Send + Sync>;
type ShutdownSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves HTTP on `listener`: each accepted connection gets its own task and a clone of
/// `service` (a hyper `Service`, e.g. from `hyper::service::service_fn`).
///
/// Await the returned [`Serve`] to run until the listener fails, or call
/// [`Serve::with_graceful_shutdown`] to stop on a signal.
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use http_body_util::Full;
/// use hyper::{body::Bytes, service::service_fn, Request, Response};
///
/// waza::block_on(async {
///     let listener = waza::net::TcpListener::bind("127.0.0.1:0").await?;
///     let hello = service_fn(|_req: Request<hyper::body::Incoming>| async {
///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hi"))))
///     });
///     let (stop_tx, stop_rx) = waza::sync::oneshot::channel::<()>();
///     let server = waza::spawn(
///         waza::hyper::serve(listener, hello)
///             .with_graceful_shutdown(async move { let _ = stop_rx.await; })
///             .into_future(),
///     );
///     let _ = stop_tx.send(());
///     server.await.unwrap()
/// })
/// .unwrap();
/// # use std::future::IntoFuture;
/// ```
pub fn serve<S, B>(listener: TcpListener, service: S) -> Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Serve { listener, service }
}

/// An HTTP server that has not started yet; see [`serve`]. Await it (it is `IntoFuture`)
/// to serve until the listener fails.
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
}

/// A [`Serve`] that stops on a signal; see [`Serve::with_graceful_shutdown`]. Await it.
pub struct GracefulShutdown<S> {
    serve: Serve<S>,
    signal: ShutdownSignal,
}

impl<S, B> Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Serves until `signal` completes, then shuts down gracefully (module docs): stops
    /// accepting, lets requests in flight finish, and completes when every connection has
    /// closed.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use std::convert::Infallible;
    /// # use http_body_util::Full;
    /// # use hyper::{body::Bytes, service::service_fn, Request, Response};
    /// #[waza::main]
    /// async fn main() -> std::io::Result<()> {
    ///     let listener = waza::net::TcpListener::bind("127.0.0.1:8080").await?;
    ///     let svc = service_fn(|_req: Request<hyper::body::Incoming>| async {
    ///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hi"))))
    ///     });
    ///     waza::hyper::serve(listener, svc)
    ///         .with_graceful_shutdown(async { waza::signal::ctrl_c().await.unwrap() })
    ///         .await
    /// }
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> GracefulShutdown<S>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        GracefulShutdown {
            serve: self,
            signal: Box::pin(signal),
        }
    }

    /// The accept loop: steps 1-3 of the module docs.
    async fn run(self, mut signal: ShutdownSignal) -> io::Result<()> {
        let Serve { listener, service } = self;
        let (ctx, cancel) = Context::background().with_cancel();
        let connections = WaitGroup::new();
        let result = loop {
            let accepted = std::future::poll_fn(|cx| {
                if signal.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                listener.poll_accept(cx).map(Some)
            })
            .await;
            match accepted {
                None => break Ok(()),
                Some(Ok((stream, _peer))) => {
                    let conn = serve_connection(stream, service.clone(), ctx.clone());
                    drop(connections.go(conn));
                }
                Some(Err(e)) if is_per_connection(&e) => continue,
                Some(Err(e)) => break Err(e),
            }
        };
        drop(listener);
        cancel.cancel();
        connections.wait().await;
        result
    }
}

/// Serves one connection until it closes, shutting it down gracefully once `ctx` ends.
async fn serve_connection<S, B>(stream: TcpStream, service: S, ctx: Context)
where
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    // Nagle only delays small responses; a failure here is harmless.
    let _ = stream.set_nodelay(true);
    #[cfg(feature = "hyper-http2")]
    {
        // Bounded like hyper's own wait for a first request (its header-read timeout).
        let sniffed = crate::time::timeout(h2::SNIFF_TIMEOUT, h2::sniff(stream, &ctx)).await;
        // A timeout, an error, or a shutdown before the client sent a byte: close.
        let Ok(Ok(Some((stream, is_h2)))) = sniffed else {
            return;
        };
        if is_h2 {
            let conn = ::hyper::server::conn::http2::Builder::new(super::Executor::new())
                .timer(Timer)
                .serve_connection(Io::new(stream), service);
            // Errors of single connections (resets, protocol errors) end only them.
            let _ = until_shutdown(conn, ctx, |c| c.graceful_shutdown()).await;
            return;
        }
        let conn = ::hyper::server::conn::http1::Builder::new()
            .timer(Timer)
            .serve_connection(Io::new(stream), service);
        let _ = until_shutdown(conn, ctx, |c| c.graceful_shutdown()).await;
    }
    #[cfg(not(feature = "hyper-http2"))]
    {
        let conn = ::hyper::server::conn::http1::Builder::new()
            .timer(Timer)
            .serve_connection(Io::new(stream), service);
        // Errors of single connections (resets, malformed requests, timeouts) end only them.
        let _ = until_shutdown(conn, ctx, |c| c.graceful_shutdown()).await;
    }
}

/// Polls `conn` to the end, calling `shutdown` on it once when `ctx` ends.
async fn until_shutdown<C: Future>(
    conn: C,
    ctx: Context,
    shutdown: impl FnOnce(Pin<&mut C>),
) -> C::Output {
    let mut conn = pin!(conn);
    let mut done = pin!(ctx.done());
    let mut shutdown = Some(shutdown);
    // The waker `done` holds. Polling `done` takes the context's lock, so while the task's
    // waker stays the same a poll only loads the context's flag: a cancel after that load
    // wakes the registered waker, and the next poll sees the flag.
    let mut registered: Option<Waker> = None;
    std::future::poll_fn(|cx| {
        // The connection reads first: a request already in the socket is then in hyper's
        // buffer, so hyper's shutdown answers it instead of closing an "unused" connection.
        if let Poll::Ready(out) = conn.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        if shutdown.is_some() {
            let fresh = registered.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
            let ended = if fresh {
                ctx.is_done()
            } else {
                registered = Some(cx.waker().clone());
                done.as_mut().poll(cx).is_ready()
            };
            if ended {
                if let Some(shutdown) = shutdown.take() {
                    shutdown(conn.as_mut());
                }
                return conn.as_mut().poll(cx);
            }
        }
        Poll::Pending
    })
    .await
}

#[cfg(feature = "hyper-http2")]
mod h2 {
    //! Telling HTTP/2 from HTTP/1 by the client's first bytes, and giving them back.

    use std::future::Future;
    use std::io::{self, IoSlice};
    use std::pin::{pin, Pin};
    use std::task::{Context as TaskContext, Poll};

    use futures_io::{AsyncRead, AsyncWrite};

    use crate::context::Context;
    use crate::net::TcpStream;

    /// How long a new connection may take to send its first bytes.
    pub(super) const SNIFF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

    /// What an HTTP/2 client sends first (RFC 9113, section 3.4).
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /// Reads until the first bytes differ from the preface (HTTP/1) or match all of it
    /// (HTTP/2), and returns the stream with those bytes put back in front. `None` if `ctx`
    /// ends before the client sent anything (as hyper closes such a connection).
    pub(super) async fn sniff(
        mut stream: TcpStream,
        ctx: &Context,
    ) -> io::Result<Option<(Rewind, bool)>> {
        let mut buf = [0u8; PREFACE.len()];
        let mut len = 0;
        let mut done = pin!(ctx.done());
        let decided = std::future::poll_fn(|cx| loop {
            if len == PREFACE.len() || buf[..len] != PREFACE[..len] {
                return Poll::Ready(Ok(true));
            }
            match Pin::new(&mut stream).poll_read(cx, &mut buf[len..]) {
                // End of stream: hyper reports it as HTTP/1 would.
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(true)),
                Poll::Ready(Ok(n)) => len += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if len == 0 && done.as_mut().poll(cx).is_ready() => {
                    return Poll::Ready(Ok(false));
                }
                Poll::Pending => return Poll::Pending,
            }
        })
        .await?;
        if !decided {
            return Ok(None);
        }
        let is_h2 = buf[..len] == *PREFACE;
        let rewind = Rewind {
            prefix: buf,
            pos: 0,
            len,
            inner: stream,
        };
        Ok(Some((rewind, is_h2)))
    }

    /// A stream whose first reads return bytes already read from it.
    pub(super) struct Rewind {
        prefix: [u8; PREFACE.len()],
        pos: usize,
        len: usize,
        inner: TcpStream,
    }

    impl AsyncRead for Rewind {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut TaskContext<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            if this.pos < this.len {
                let n = (this.len - this.pos).min(buf.len());
                buf[..n].copy_from_slice(&this.prefix[this.pos..this.pos + n]);
                this.pos += n;
                return Poll::Ready(Ok(n));
            }
            Pin::new(&mut this.inner).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Rewind {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut TaskContext<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut TaskContext<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_flush(cx)
        }

        fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_close(cx)
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

impl<S, B> IntoFuture for Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run(Box::pin(std::future::pending())))
    }
}

impl<S, B> IntoFuture for GracefulShutdown<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.serve.run(self.signal))
    }
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .finish()
    }
}

impl<S> fmt::Debug for GracefulShutdown<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GracefulShutdown")
            .field("serve", &self.serve)
            .finish()
    }
}
