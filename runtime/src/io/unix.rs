//! [`AsyncFd`]: readiness of a user's own file descriptor, from the runtime's reactor.
//!
//! The descriptor is registered (edge-triggered) for reading and writing when the `AsyncFd`
//! is made and deregistered when it is dropped, before the wrapped value (and so the
//! descriptor) is dropped. The descriptor should be in non-blocking mode: readiness is a
//! hint, and an operation that would block must say so with `WouldBlock` instead of
//! blocking a worker.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};

use crate::reactor::{Direction, PollIo};

/// A direction of readiness to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest(Direction);

impl Interest {
    /// Readable (or a hang-up or an error to read).
    pub const READABLE: Interest = Interest(Direction::Read);
    /// Writable (or an error to read).
    pub const WRITABLE: Interest = Interest(Direction::Write);
}

/// The raw descriptor as a mio source (it does not own the descriptor).
struct Fd(RawFd);

impl mio::event::Source for Fd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0).deregister(registry)
    }
}

/// A value owning a file descriptor (a pipe, an eventfd, a device, a socket from another
/// library), with its readiness driven by the runtime's reactor: tokio's `AsyncFd`.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use waza::io::unix::AsyncFd;
///
/// waza::block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = AsyncFd::new(a)?;
///     b.write_all(b"ping")?;
///     let mut buf = [0u8; 4];
///     let n = a.async_io(waza::io::unix::Interest::READABLE, |s| (&*s).read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"ping");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// Declared first: deregisters before `inner` closes the descriptor.
    io: PollIo<Fd>,
    inner: T,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s descriptor with the current runtime's reactor.
    ///
    /// # Errors
    ///
    /// The OS error of the registration (e.g. a regular file, which `epoll` refuses).
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        let io = PollIo::new(Fd(inner.as_raw_fd()))?;
        Ok(AsyncFd { io, inner })
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Deregisters the descriptor and returns the wrapped value.
    pub fn into_inner(self) -> T {
        let AsyncFd { io, inner } = self;
        drop(io);
        inner
    }

    /// Waits until the descriptor is readable; the guard says what to do next.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits until the descriptor is writable; the guard says what to do next.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits for `interest`.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.io.ready(interest.0).await?;
        Ok(AsyncFdReadyGuard { fd: self, interest })
    }

    /// Polls for read readiness (see [`AsyncFd::readable`]).
    pub fn poll_read_ready(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'_, T>>> {
        self.poll_ready(cx, Interest::READABLE)
    }

    /// Polls for write readiness (see [`AsyncFd::writable`]).
    pub fn poll_write_ready(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'_, T>>> {
        self.poll_ready(cx, Interest::WRITABLE)
    }

    fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'_, T>>> {
        self.io
            .poll_io(cx, interest.0, |_| Ok(()))
            .map_ok(|()| AsyncFdReadyGuard { fd: self, interest })
    }

    /// Runs `f` whenever the descriptor is ready for `interest`, until it does not fail with
    /// `WouldBlock`; returns its result.
    ///
    /// # Errors
    ///
    /// The error of `f`, or an error if the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `f` has no effect when it fails with `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.io(interest.0, |_| f(&self.inner)).await
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .finish()
    }
}

/// Readiness observed by [`AsyncFd::readable`] or [`AsyncFd::writable`].
///
/// Readiness stays set until an operation reports `WouldBlock` through
/// [`AsyncFdReadyGuard::try_io`], or [`AsyncFdReadyGuard::clear_ready`] is called: clear it
/// once the descriptor is drained, or the next wait returns at once.
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    interest: Interest,
}

/// `try_io`'s answer when the operation would block (readiness was cleared: wait again).
#[derive(Debug)]
pub struct TryIoError(());

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// Forgets the observed readiness: the next wait waits for a new event.
    pub fn clear_ready(&mut self) {
        let _ = self.fd.io.try_io(self.interest.0, |_| {
            Err::<(), _>(io::ErrorKind::WouldBlock.into())
        });
    }

    /// Runs `f`; if it fails with `WouldBlock`, clears the readiness and returns
    /// `Err(TryIoError)` (wait again), else `Ok` with its result.
    ///
    /// # Errors
    ///
    /// `TryIoError` when `f` would block.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let fd = self.fd;
        match fd.io.try_io(self.interest.0, |_| f(fd)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(TryIoError(())),
            res => Ok(res),
        }
    }

    /// The `AsyncFd` this guard is for.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.fd
    }

    /// The wrapped value.
    pub fn get_inner(&self) -> &'a T {
        &self.fd.inner
    }
}

impl<T: AsRawFd> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("interest", &self.interest)
            .finish()
    }
}
