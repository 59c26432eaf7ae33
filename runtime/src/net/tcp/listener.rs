//! [`TcpListener`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use super::TcpStream;
use crate::net::addr::{first_ok, resolve};
use crate::net::ToSocketAddrs;
use crate::reactor::{Direction, PollIo};

/// A TCP socket server, listening for connections.
///
/// # Examples
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use waza::net::{TcpListener, TcpStream};
///
/// waza::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = waza::spawn(async move {
///         let (mut conn, _) = listener.accept().await?;
///         conn.write_all(b"hi").await?;
///         std::io::Result::Ok(())
///     });
///     let mut client = TcpStream::connect(addr).await?;
///     let mut buf = Vec::new();
///     client.read_to_end(&mut buf).await?;
///     assert_eq!(buf, b"hi");
///     server.await.unwrap()
/// })
/// .unwrap();
/// ```
pub struct TcpListener {
    io: PollIo<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (each resolved address is tried in turn).
    ///
    /// Host names are resolved on the blocking pool (see [`ToSocketAddrs`]).
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `AddrInUse`, or `InvalidInput` if `addr` resolves to nothing.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a literal address completes without waiting; while a host name is being
    /// looked up, a dropped future has bound nothing.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let addrs = resolve(&addr).await?;
        let listener = first_ok(&addrs, mio::net::TcpListener::bind)?;
        Ok(TcpListener {
            io: PollIo::new(listener)?,
        })
    }

    /// Waits for and accepts a new connection.
    ///
    /// # Errors
    ///
    /// The OS error of `accept` (e.g. too many open files), or an error if the runtime shut
    /// down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `accept` future never accepted a connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.io.io(Direction::Read, |l| l.accept()).await?;
        Ok((TcpStream::from_mio(stream)?, addr))
    }

    /// Polls for a new connection (see [`TcpListener::accept`]).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |l| l.accept())
            .map(|res| res.and_then(|(s, a)| Ok((TcpStream::from_mio(s)?, a))))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Wraps a listener made with the standard library (set to non-blocking here).
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollIo::new(mio::net::TcpListener::from_std(listener))?,
        })
    }

    /// Unwraps the standard library listener (still in non-blocking mode).
    ///
    /// # Errors
    ///
    /// If deregistering from the driver fails.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_inner().map(Into::into)
    }

    /// Sets `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
