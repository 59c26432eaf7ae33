//! A child's standard streams as futures-io pipes on the reactor.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::pipe::{Receiver, Sender};

use crate::reactor::{Direction, PollIo};

/// Registers a std pipe end with the reactor in non-blocking mode.
fn receiver(r: Receiver) -> io::Result<PollIo<Receiver>> {
    r.set_nonblocking(true)?;
    PollIo::new(r)
}

/// The child's standard input: `AsyncWrite`. `close` (or dropping it) sends end-of-file.
pub struct ChildStdin {
    /// `None` once closed.
    io: Option<PollIo<Sender>>,
}

/// The child's standard output: `AsyncRead`.
pub struct ChildStdout {
    io: PollIo<Receiver>,
}

/// The child's standard error: `AsyncRead`.
pub struct ChildStderr {
    io: PollIo<Receiver>,
}

impl ChildStdin {
    pub(crate) fn new(std: std::process::ChildStdin) -> io::Result<ChildStdin> {
        let s = Sender::from(std);
        s.set_nonblocking(true)?;
        Ok(ChildStdin {
            io: Some(PollIo::new(s)?),
        })
    }
}

impl ChildStdout {
    pub(crate) fn new(std: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout {
            io: receiver(Receiver::from(std))?,
        })
    }
}

impl ChildStderr {
    pub(crate) fn new(std: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr {
            io: receiver(Receiver::from(std))?,
        })
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was closed")
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Some(io) = &self.io else {
            return Poll::Ready(Err(closed()));
        };
        io.poll_io(cx, Direction::Write, |s| (&*s).write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io = None;
        Poll::Ready(Ok(()))
    }
}

macro_rules! async_read {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read_stream(cx, buf.len(), |r| (&*r).read(buf))
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("fd", &self.as_raw_fd())
                    .finish()
            }
        }
    };
}

async_read!(ChildStdout);
async_read!(ChildStderr);

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.io.as_ref().map(|io| io.get_ref().as_raw_fd());
        f.debug_struct("ChildStdin").field("fd", &fd).finish()
    }
}
