//! The I/O and timer workloads, written once against [`Net`] (TCP on futures-io streams)
//! and [`Exec::sleep`], and run on each runtime's own reactor and timer.
//!
//! - TCP echo: a server task accepts the connections on 127.0.0.1 and echoes each on its
//!   own task; one client task per connection makes round trips of a [`MESSAGE`]-byte
//!   message, checking every echo. The time includes the connects.
//! - Sleeps: tasks each sleep a pseudo-random duration below a bound and record how late
//!   they woke (actual minus requested); the workload returns the lateness samples so the
//!   caller can report percentiles.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::exec::{Exec, Smol, Tokio, Waza};

/// Concurrent connections in the criterion echo bench.
pub const CONNECTIONS: usize = 64;
/// Round trips per connection in the criterion echo bench.
pub const ROUND_TRIPS: usize = 100;
/// Bytes per message.
pub const MESSAGE: usize = 64;
/// Sleeping tasks in the criterion sleep bench.
pub const SLEEPS: usize = 200_000;
/// Upper bound of a sleep in the criterion sleep bench.
pub const MAX_SLEEP: Duration = Duration::from_millis(50);

/// A runtime's TCP, as futures-io streams: what the echo workload needs.
pub trait Net: Exec {
    /// A listening socket.
    type Listener: Send + Sync + 'static;
    /// A connected socket.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Binds a listener to `addr`.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;
    /// The address `listener` is bound to.
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;
    /// Accepts one connection.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;
    /// Connects to `addr`.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
    /// Disables Nagle's algorithm (every message is small and awaited).
    fn set_nodelay(stream: &Self::Stream) -> io::Result<()>;
}

impl Net for Waza {
    type Listener = waza::net::TcpListener;
    type Stream = waza::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        waza::net::TcpListener::bind(addr)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        Ok(listener.accept().await?.0)
    }

    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        waza::net::TcpStream::connect(addr)
    }

    fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
        stream.set_nodelay(true)
    }
}

/// A tokio TCP stream seen through futures-io's traits (what `tokio-util`'s `Compat` does).
pub struct TokioStream(tokio::net::TcpStream);

impl AsyncRead for TokioStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut rb = tokio::io::ReadBuf::new(buf);
        ready!(tokio::io::AsyncRead::poll_read(
            Pin::new(&mut self.get_mut().0),
            cx,
            &mut rb
        ))?;
        Poll::Ready(Ok(rb.filled().len()))
    }
}

impl AsyncWrite for TokioStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.get_mut().0), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.get_mut().0), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.get_mut().0), cx)
    }
}

impl Net for Tokio {
    type Listener = tokio::net::TcpListener;
    type Stream = TokioStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        tokio::net::TcpListener::bind(addr)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        Ok(TokioStream(listener.accept().await?.0))
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        Ok(TokioStream(tokio::net::TcpStream::connect(addr).await?))
    }

    fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
        stream.0.set_nodelay(true)
    }
}

impl Net for Smol {
    type Listener = smol::net::TcpListener;
    type Stream = smol::net::TcpStream;

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        smol::net::TcpListener::bind(addr).await
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        Ok(listener.accept().await?.0)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        smol::net::TcpStream::connect(addr).await
    }

    fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
        stream.set_nodelay(true)
    }
}

/// The message a client sends in round trip `r`: every byte tagged with `r` and `i`.
fn message(r: usize) -> [u8; MESSAGE] {
    std::array::from_fn(|i| (r * 31 + i) as u8)
}

/// The requested sleep of task `i`: a fixed pseudo-random spread over `0..max`.
fn sleep_of(i: usize, max: Duration) -> Duration {
    let h = (i as u64 ^ 0x5DEE_CE66).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    Duration::from_micros(h % (max.as_micros() as u64).max(1))
}

/// Echoes everything read until the peer closes.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) {
    let mut buf = [0u8; MESSAGE];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) if s.write_all(&buf[..n]).await.is_err() => return,
            Ok(_) => {}
        }
    }
}

/// One client: `round_trips` checked round trips; returns `round_trips`.
async fn client<E: Net>(addr: SocketAddr, round_trips: usize) -> usize {
    let mut s = E::connect(addr).await.expect("connects");
    E::set_nodelay(&s).expect("nodelay");
    let mut buf = [0u8; MESSAGE];
    for r in 0..round_trips {
        s.write_all(&message(r)).await.expect("writes");
        s.read_exact(&mut buf).await.expect("reads the echo");
        assert_eq!(buf, message(r), "echo differs");
    }
    round_trips
}

/// TCP echo over `connections` connections × `round_trips` round trips of [`MESSAGE`]
/// bytes, client and server on runtime `E`; returns the number of verified round trips.
pub fn echo<E: Net>(ex: &E, connections: usize, round_trips: usize) -> usize {
    let inner = ex.clone();
    ex.run(async move {
        let localhost = SocketAddr::from(([127, 0, 0, 1], 0));
        let listener = E::bind(localhost).await.expect("binds");
        let addr = E::local_addr(&listener).expect("has an address");
        let acceptor = inner.clone();
        inner.go(async move {
            for _ in 0..connections {
                let s = E::accept(&listener).await.expect("accepts");
                E::set_nodelay(&s).expect("nodelay");
                acceptor.go(serve(s));
            }
        });
        let clients: Vec<_> = (0..connections)
            .map(|_| inner.spawn(client::<E>(addr, round_trips)))
            .collect();
        let mut n = 0;
        for c in clients {
            n += c.await;
        }
        n
    })
}

/// `tasks` tasks each sleep a pseudo-random duration below `max` on `E`'s timer; returns
/// every task's lateness (how long after its deadline it ran) in microseconds.
pub fn sleeps<E: Exec>(ex: &E, tasks: usize, max: Duration) -> Vec<u64> {
    let inner = ex.clone();
    ex.run(async move {
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                inner.spawn(async move {
                    let (d, start) = (sleep_of(i, max), Instant::now());
                    E::sleep(d).await;
                    start.elapsed().saturating_sub(d).as_micros() as u64
                })
            })
            .collect();
        let mut late = Vec::with_capacity(tasks);
        for h in handles {
            late.push(h.await);
        }
        late
    })
}
