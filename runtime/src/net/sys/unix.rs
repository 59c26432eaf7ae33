//! Unix domain stream sockets: [`UnixListener`] and [`UnixStream`].

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use crate::net::stream_io::StreamIo;
use crate::reactor::{Direction, PollIo};

/// A Unix domain socket server, listening for connections.
///
/// # Examples
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use waza::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("waza-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sock");
/// let _ = std::fs::remove_file(&path);
/// waza::block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct UnixListener {
    io: PollIo<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to the socket file `path` (which must not exist yet).
    ///
    /// Synchronous, like tokio's: binding a path never waits.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `AddrInUse` if the file exists.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = mio::net::UnixListener::bind(path)?;
        Ok(UnixListener {
            io: PollIo::new(listener)?,
        })
    }

    /// Waits for and accepts a new connection.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`, or an error if the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `accept` future never accepted a connection.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.io.io(Direction::Read, |l| l.accept()).await?;
        Ok((UnixStream::from_mio(stream)?, addr))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error.
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
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollIo::new(mio::net::UnixListener::from_std(listener))?,
        })
    }

    /// Unwraps the standard library listener (still in non-blocking mode).
    ///
    /// # Errors
    ///
    /// If deregistering from the driver fails.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.io.into_inner().map(Into::into)
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

/// A Unix domain stream connection: `AsyncRead + AsyncWrite`, also through `&UnixStream`.
pub struct UnixStream {
    io: PollIo<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `NotFound` or `ConnectionRefused`.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons (closes) the connection attempt.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
        stream
            .io
            .io(Direction::Write, |s| match s.take_error()? {
                Some(e) => Err(e),
                None => Ok(()),
            })
            .await?;
        Ok(stream)
    }

    /// A connected pair of streams.
    ///
    /// # Errors
    ///
    /// The OS error of `socketpair`.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollIo::new(stream)?,
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
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// Unwraps the standard library stream (still in non-blocking mode).
    ///
    /// # Errors
    ///
    /// If deregistering from the driver fails.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        self.io.into_inner().map(Into::into)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read half, the write half, or both (synchronous).
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Splits the stream into owned halves; dropping the write half shuts down writing.
    pub fn into_split(self) -> (UnixOwnedReadHalf, UnixOwnedWriteHalf) {
        let inner = Arc::new(self);
        (
            UnixOwnedReadHalf {
                inner: inner.clone(),
            },
            UnixOwnedWriteHalf {
                inner,
                shutdown_on_drop: true,
            },
        )
    }
}

impl StreamIo for UnixStream {
    type Sys = mio::net::UnixStream;

    fn poll_io_ref(&self) -> &PollIo<mio::net::UnixStream> {
        &self.io
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

/// The reading half of a [`UnixStream`], from [`UnixStream::into_split`].
#[derive(Debug)]
pub struct UnixOwnedReadHalf {
    inner: Arc<UnixStream>,
}

/// The writing half of a [`UnixStream`]; dropping or closing it shuts down writing.
#[derive(Debug)]
pub struct UnixOwnedWriteHalf {
    inner: Arc<UnixStream>,
    shutdown_on_drop: bool,
}

impl Drop for UnixOwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may be gone already; nothing useful to do with the error in drop.
            let _ = self.inner.shutdown(Shutdown::Write);
        }
    }
}

impl_async_io!(UnixStream);
impl_async_read!(UnixOwnedReadHalf, this => *this.inner);
impl_async_write!(UnixOwnedWriteHalf, this => *this.inner, this.shutdown_on_drop = false);
