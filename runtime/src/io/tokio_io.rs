//! tokio's `AsyncRead`/`AsyncWrite` for waza's streams (feature `tokio-io`), so crates
//! built on tokio's io traits (codecs, TLS, protocol libraries) can use them. Only the
//! traits come from tokio (with its default features off); no tokio runtime is involved.
//!
//! Each impl forwards to the type's futures-io impl. A read hands the futures-io side
//! tokio's unfilled region after `ReadBuf::initialize_unfilled` (which zeroes only memory
//! never initialised before, so a reused buffer is zeroed once), then advances by what was
//! read; a reader reporting more than it was given is an error, never a panic.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::ReadBuf;

/// tokio's `poll_read` through a futures-io reader.
fn poll_read<R: futures_io::AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let unfilled = buf.initialize_unfilled();
    let len = unfilled.len();
    let n = ready!(reader.poll_read(cx, unfilled))?;
    if n > len {
        return Poll::Ready(Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("reader reported {n} bytes read into a {len}-byte buffer"),
        )));
    }
    buf.advance(n);
    Poll::Ready(Ok(()))
}

macro_rules! tokio_read {
    ($($ty:ty),* $(,)?) => {$(
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read(self, cx, buf)
            }
        }
    )*};
}

macro_rules! tokio_write {
    ($vectored:expr => $($ty:ty),* $(,)?) => {$(
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                $vectored
            }
        }
    )*};
}

use crate::fs::File;
use crate::net::{OwnedReadHalf, OwnedWriteHalf, TcpStream};

tokio_read!(TcpStream, OwnedReadHalf, File);
// Sockets write vectors with one `writev`; a file's buffer takes one slice at a time.
tokio_write!(true => TcpStream, OwnedWriteHalf);
tokio_write!(false => File);

#[cfg(unix)]
mod unix {
    use super::*;
    use crate::net::{UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixStream};
    use crate::process::{ChildStderr, ChildStdin, ChildStdout};

    tokio_read!(UnixStream, UnixOwnedReadHalf, ChildStdout, ChildStderr);
    tokio_write!(true => UnixStream, UnixOwnedWriteHalf);
    tokio_write!(false => ChildStdin);
}
