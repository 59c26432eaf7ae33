//! [`TcpStream`].

use crate::loom::std_sync::{AtomicBool, Ordering::Relaxed};
use std::fmt;
use std::io::{self, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr};

use super::split::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::net::addr::{resolve, with_addr};
use crate::net::stream_io::{room, MioStream, StreamIo};
use crate::net::sys;
use crate::net::ToSocketAddrs;
use crate::reactor::{Direction, PollIo};

/// A TCP connection: `futures::io::AsyncRead + AsyncWrite`, also through `&TcpStream`.
///
/// Reading and writing through `&TcpStream` lets one task read while another writes; for
/// ownership across tasks use [`TcpStream::into_split`].
///
/// # Examples
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use waza::net::{TcpListener, TcpStream};
///
/// waza::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct TcpStream {
    io: PollIo<mio::net::TcpStream>,
    /// Whether the last read filled its buffer: then the next one asks the OS how many
    /// bytes it leaves behind (see [`TcpStream::read_once`]). Only a hint: any value is
    /// correct, a wrong one costs one system call.
    filled: AtomicBool,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each resolved address in turn.
    ///
    /// Host names are resolved on the blocking pool (see [`ToSocketAddrs`]).
    ///
    /// # Errors
    ///
    /// The OS error of the last address tried, e.g. `ConnectionRefused`.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons (closes) the half-open connection.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs = resolve(&addr).await?;
        let mut last = None;
        for &addr in addrs.as_slice() {
            match TcpStream::connect_addr(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(with_addr(e, addr)),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// Connects to one address: start a non-blocking connect, wait until writable, then
    /// read the outcome (`SO_ERROR`, then whether a peer is known).
    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
        stream
            .io
            .io(Direction::Write, |s| {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(stream)
    }

    /// Registers an already non-blocking mio stream.
    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        sys::tcp_prepare(&stream);
        Ok(TcpStream {
            io: PollIo::new(stream)?,
            filled: AtomicBool::new(false),
        })
    }

    /// Wraps a stream made with the standard library (set to non-blocking here).
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Unwraps the standard library stream (still in non-blocking mode).
    ///
    /// # Errors
    ///
    /// If deregistering from the driver fails.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        let stream = self.io.into_inner()?;
        sys::tcp_release(&stream);
        Ok(stream.into())
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername` (e.g. `NotConnected`).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Shuts down the read half, the write half, or both (synchronous, like `std`).
    ///
    /// After `Shutdown::Write` the peer reads end-of-file once it has read everything sent.
    ///
    /// # Errors
    ///
    /// The OS error (e.g. `NotConnected`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Receives data without removing it from the queue.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.peek(buf)).await
    }

    /// Waits until the stream may be readable (data, end-of-file or an error).
    ///
    /// Readiness can be spurious: follow with [`TcpStream::try_read`] and handle
    /// `WouldBlock` by waiting again.
    ///
    /// # Errors
    ///
    /// If the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until the stream may be writable.
    ///
    /// # Errors
    ///
    /// If the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Reads without waiting: `WouldBlock` if no data is available now.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |mut s| s.read(buf))
    }

    /// Writes without waiting: `WouldBlock` if the send buffer is full now.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |mut s| s.write(buf))
    }

    /// Splits the stream into owned read and write halves usable from different tasks.
    ///
    /// Dropping the write half shuts down the write direction (the peer sees end-of-file).
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }
}

impl StreamIo for TcpStream {
    type Sys = mio::net::TcpStream;

    fn poll_io_ref(&self) -> &PollIo<mio::net::TcpStream> {
        &self.io
    }

    /// A read that fills the buffer says nothing about what is left, so the next read
    /// would be a `WouldBlock` system call; where the OS can report the bytes left
    /// (`sys::tcp_read_reporting`) a read after a full one asks, and a drained socket then
    /// waits without that call. The report costs a little on every read, so reads after
    /// a short one (which drains by itself) do not ask. Request/response traffic with
    /// messages the size of the reader's buffer (the TCP echo) asks every time; traffic
    /// read into a larger buffer (an HTTP server) never does.
    fn read_once(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<(usize, bool)> {
        let len = room(bufs);
        let stream = self.io.get_ref();
        let (n, drained) = if self.filled.load(Relaxed) {
            let (n, left) = sys::tcp_read_reporting(stream, bufs)?;
            (n, n > 0 && left.map_or(n < len, |left| left == 0))
        } else {
            stream.read_drained(bufs)?
        };
        let filled = n == len && n > 0;
        if filled != self.filled.load(Relaxed) {
            self.filled.store(filled, Relaxed);
        }
        Ok((n, drained))
    }
}

impl_async_io!(TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::net::TcpListener;
    use futures_util::io::{AsyncReadExt, AsyncWriteExt};

    /// Whether a read that fills the buffer can tell that it drained the socket.
    const REPORTS_LEFT: bool = cfg!(target_os = "linux");

    async fn connected() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, server)
    }

    /// After a read that filled its buffer, the next read asks how many bytes it leaves:
    /// if none, the read readiness is cleared (the read after it waits without a system
    /// call); if some, it is kept. A short read clears it everywhere and stops the asking.
    /// On a current-thread runtime no driver turn runs inside a read's poll, so each clear
    /// is deterministic.
    #[test]
    fn a_read_that_drains_the_socket_clears_read_readiness() {
        let rt = crate::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async {
            let (mut client, mut server) = connected().await;
            let mut buf = [0u8; 64];

            client.write_all(&[1; 64]).await.unwrap();
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [1; 64]);
            assert!(server.io.is_ready(Direction::Read), "a plain full read");
            assert!(server.filled.load(Relaxed));

            client.write_all(&[2; 64]).await.unwrap();
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [2; 64]);
            assert_eq!(server.io.is_ready(Direction::Read), !REPORTS_LEFT);

            client.write_all(&[3; 100]).await.unwrap();
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [3; 64]);
            assert!(server.io.is_ready(Direction::Read), "36 bytes still queued");
            let n = server.read(&mut buf).await.unwrap();
            assert_eq!((n, &buf[..n]), (36, &[3; 36][..]));
            assert!(!server.io.is_ready(Direction::Read), "a short read drains");
            assert!(!server.filled.load(Relaxed));
        });
    }

    /// A stream handed back to the user no longer carries the kernel's queue report (a
    /// user's own `recvmsg` would otherwise get an unexpected control message), and taken
    /// back it reads with the report again.
    #[test]
    fn into_std_turns_the_queue_report_off() {
        let rt = crate::Runtime::builder().current_thread().build().unwrap();
        rt.block_on(async {
            let (mut client, server) = connected().await;
            let server = mio::net::TcpStream::from_std(server.into_std().unwrap());
            client.write_all(b"hello").await.unwrap();
            let mut buf = [0u8; 8];
            let got = loop {
                match sys::tcp_read_reporting(&server, &mut [IoSliceMut::new(&mut buf)]) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                    res => break res.unwrap(),
                }
            };
            assert_eq!((got, &buf[..5]), ((5, None), &b"hello"[..]));

            let mut server = TcpStream::from_std(server.into()).unwrap();
            for round in 0..2 {
                client.write_all(&[round; 8]).await.unwrap();
                server.read_exact(&mut buf).await.unwrap();
                assert_eq!(buf, [round; 8]);
            }
            assert_eq!(
                server.io.is_ready(Direction::Read),
                !REPORTS_LEFT,
                "registered again, a full read after a full read reports the socket drained"
            );
        });
    }
}
