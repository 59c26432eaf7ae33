//! Byte-stream I/O shared by the stream sockets ([`TcpStream`](super::TcpStream) and, on
//! Unix, `UnixStream`): one generic implementation of the poll functions over a registered
//! mio stream, and the macros that turn them into `AsyncRead`/`AsyncWrite` impls for a
//! stream, a shared reference to it, and its owned split halves.
//!
//! A socket type opts in by implementing [`StreamIo`] (handing out its `PollIo`); the
//! provided methods then run every read and write through the reactor's readiness loop
//! ([`PollIo::poll_io`]). No unsafe code and no state of its own.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};

use crate::reactor::{Direction, PollIo};

/// A mio stream socket that can shut down its write direction.
pub(crate) trait MioStream: mio::event::Source {
    /// `shutdown(Shutdown::Write)` on the socket.
    fn shutdown_write(&self) -> io::Result<()>;

    /// One plain read into `bufs`: the byte count, and whether it was short (so the socket
    /// is drained: see `PollIo::poll_read_drained`).
    fn read_drained(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<(usize, bool)>;
}

/// Total room in `bufs`.
pub(crate) fn room(bufs: &[IoSliceMut<'_>]) -> usize {
    bufs.iter().map(|b| b.len()).sum()
}

/// [`MioStream::read_drained`] for a socket that is readable through `&S`.
fn read_short_is_drained<S>(socket: &S, bufs: &mut [IoSliceMut<'_>]) -> io::Result<(usize, bool)>
where
    for<'a> &'a S: Read,
{
    let len = room(bufs);
    let mut socket = socket;
    let n = match bufs {
        [buf] => socket.read(buf)?,
        _ => socket.read_vectored(bufs)?,
    };
    Ok((n, n > 0 && n < len))
}

impl MioStream for mio::net::TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn read_drained(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<(usize, bool)> {
        read_short_is_drained(self, bufs)
    }
}

#[cfg(unix)]
impl MioStream for mio::net::UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn read_drained(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<(usize, bool)> {
        read_short_is_drained(self, bufs)
    }
}

/// A stream socket registered with the reactor; the provided methods are the bodies of its
/// `AsyncRead`/`AsyncWrite` impls (see the `impl_async_read!` and `impl_async_write!` macros).
pub(crate) trait StreamIo {
    /// The registered mio socket.
    type Sys: MioStream;

    /// The socket's registration.
    fn poll_io_ref(&self) -> &PollIo<Self::Sys>;

    /// One read into `bufs`: `(bytes read, drained)`, as `PollIo::poll_read_drained`
    /// wants it. By default the socket's plain read, where only a short read counts as
    /// drained.
    fn read_once(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<(usize, bool)> {
        self.poll_io_ref().get_ref().read_drained(bufs)
    }

    /// `AsyncRead::poll_read`.
    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_io_ref()
            .poll_read_drained(cx, |_| self.read_once(&mut [IoSliceMut::new(buf)]))
    }

    /// `AsyncRead::poll_read_vectored`.
    fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io_ref()
            .poll_read_drained(cx, |_| self.read_once(bufs))
    }

    /// `AsyncWrite::poll_write`.
    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>
    where
        for<'a> &'a Self::Sys: Write,
    {
        self.poll_io_ref()
            .poll_io(cx, Direction::Write, |mut s| s.write(buf))
    }

    /// `AsyncWrite::poll_write_vectored`.
    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a Self::Sys: Write,
    {
        self.poll_io_ref()
            .poll_io(cx, Direction::Write, |mut s| s.write_vectored(bufs))
    }

    /// `AsyncWrite::poll_close`: shuts the write direction; an already-disconnected socket
    /// counts as closed.
    fn poll_close_priv(&self) -> Poll<io::Result<()>> {
        match self.poll_io_ref().get_ref().shutdown_write() {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            res => Poll::Ready(res),
        }
    }
}

/// `impl AsyncRead for $ty`, where `$stream` (an expression in `$this: &mut $ty`) is a
/// [`StreamIo`] socket.
macro_rules! impl_async_read {
    ($ty:ty, $this:ident => $stream:expr) => {
        impl ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = self.get_mut();
                $crate::net::stream_io::StreamIo::poll_read_priv(&$stream, cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = self.get_mut();
                $crate::net::stream_io::StreamIo::poll_read_vectored_priv(&$stream, cx, bufs)
            }
        }
    };
}

/// `impl AsyncWrite for $ty`, where `$stream` (an expression in `$this: &mut $ty`) is a
/// [`StreamIo`] socket; the optional `$after_close` runs after `poll_close` (a write half
/// uses it to skip its shutdown-on-drop).
macro_rules! impl_async_write {
    ($ty:ty, $this:ident => $stream:expr $(, $after_close:expr)?) => {
        impl ::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = self.get_mut();
                $crate::net::stream_io::StreamIo::poll_write_priv(&$stream, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = self.get_mut();
                $crate::net::stream_io::StreamIo::poll_write_vectored_priv(&$stream, cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $this = self.get_mut();
                let res = $crate::net::stream_io::StreamIo::poll_close_priv(&$stream);
                $($after_close;)?
                res
            }
        }
    };
}

/// Both `impl_async_read!` and `impl_async_write!` for a stream and for `&stream`.
macro_rules! impl_async_io {
    ($ty:ty) => {
        impl_async_read!($ty, this => *this);
        impl_async_read!(&$ty, this => **this);
        impl_async_write!($ty, this => *this);
        impl_async_write!(&$ty, this => **this);
    };
}
