//! A socket's link to the driver, and [`PollIo`], the wrapper every waza socket is built on.
//!
//! [`Registration`] owns one slot of the driver's slab (see the `reactor` module docs for the
//! deferred release). [`PollIo`] pairs a mio source with its registration and implements the
//! one loop all socket operations share:
//!
//! 1. wait for readiness in the operation's direction (`ReadyEvent` with its tick);
//! 2. spend one unit of the task's cooperative budget;
//! 3. try the non-blocking syscall;
//! 4. on `WouldBlock`, clear exactly the readiness observed in step 1 (only if no newer event
//!    arrived) and go back to step 1; any other result is returned.

use std::io;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::readiness::{Direction, ReadyEvent, ScheduledIo, READABLE};
use super::DriverHandle;

/// The error every I/O operation returns once the runtime has shut down.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("the waza runtime has shut down")
}

/// A registered source's readiness state and slab key.
pub(crate) struct Registration {
    handle: Arc<DriverHandle>,
    io: Arc<ScheduledIo>,
    key: usize,
}

impl Registration {
    /// Registers `source` with the driver for `interest`.
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_ctl`/`kevent`, or [`shutdown_error`] after shutdown.
    pub(crate) fn new(
        handle: &Arc<DriverHandle>,
        source: &mut impl mio::event::Source,
        interest: mio::Interest,
    ) -> io::Result<Registration> {
        let io = Arc::new(ScheduledIo::new());
        let key = handle.lock_regs().insert(io.clone())?;
        if let Err(e) = handle
            .registry
            .register(source, mio::Token(key + 1), interest)
        {
            handle.lock_regs().release(key);
            return Err(e);
        }
        Ok(Registration {
            handle: handle.clone(),
            io,
            key,
        })
    }

    /// Registers `source` with the current runtime's driver.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    pub(crate) fn current(
        source: &mut impl mio::event::Source,
        interest: mio::Interest,
    ) -> io::Result<Registration> {
        Registration::new(&super::current(), source, interest)
    }

    /// Waits for readiness in `dir` (protocol 2 of `readiness`).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        self.io.poll_ready(cx, dir)
    }

    /// Clears readiness after `WouldBlock` (protocol 3 of `readiness`).
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.io.clear_readiness(ev);
    }

    /// Removes `source` from the poller (the slab slot is released when `self` drops).
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        self.handle.registry.deregister(source)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.handle.lock_regs().release(self.key);
    }
}

/// A mio source registered with the driver; deregisters on drop.
pub(crate) struct PollIo<E: mio::event::Source> {
    /// Invariant: `Some` until `into_inner` or drop.
    io: Option<E>,
    reg: Registration,
}

impl<E: mio::event::Source> PollIo<E> {
    /// Registers `io` with the current runtime for reading and writing.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    pub(crate) fn new(mut io: E) -> io::Result<Self> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        let reg = Registration::current(&mut io, interest)?;
        Ok(PollIo { io: Some(io), reg })
    }

    /// The source.
    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("PollIo used after into_inner")
    }

    /// Deregisters and returns the source.
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self.io.take().expect("PollIo used after into_inner");
        self.reg.deregister(&mut io)?;
        Ok(io)
    }

    /// Runs the shared readiness loop (module docs) for one operation.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until_drained(cx, dir, op, |_| false)
    }

    /// [`PollIo::poll_io`] for a read of at most `len` bytes from a stream socket (TCP,
    /// Unix stream) that also clears the readable bit after a short read.
    ///
    /// A stream read that returns `1..len` bytes took everything the kernel had queued at
    /// that moment; [`PollIo::poll_read_drained`] explains the clear.
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut(&E) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_read_drained(cx, |e| op(e).map(|n| (n, n > 0 && n < len)))
    }

    /// [`PollIo::poll_io`] for a stream read whose `op` also says whether it drained the
    /// socket (`(bytes read, drained)`); a drained read clears the readable bit.
    ///
    /// A drained socket would fail the next read with `WouldBlock`; clearing now saves that
    /// syscall. The clear is the tick-guarded one of protocol 3 in `readiness`: if the
    /// driver recorded a new event since `ev` was observed (data that arrived during or
    /// after the read), the tick differs and the bit stays set, so no edge is lost. Only
    /// `READABLE` is cleared (not `ERROR`, which the next read must still report). `op`
    /// may say "drained" only if no byte was left queued when it returned: a short read
    /// of a stream, or a read after which the OS reported nothing left (not for datagram
    /// sockets, where a short datagram says nothing about the queue behind it).
    pub(crate) fn poll_read_drained(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&E) -> io::Result<(usize, bool)>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io_until_drained(cx, Direction::Read, op, |&(_, drained)| drained)
            .map_ok(|(n, _)| n)
    }

    /// The readiness loop: wait for readiness in `dir`, run `op`; on `WouldBlock` clear the
    /// readiness and wait again. A success for which `drained` holds also clears the
    /// readable bit (tick-guarded), as [`PollIo::poll_read_drained`] explains.
    fn poll_io_until_drained<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = ready!(self.reg.poll_ready(cx, dir));
            if ev.is_shutdown() {
                return Poll::Ready(Err(shutdown_error()));
            }
            ready!(super::poll_proceed(cx));
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.reg.clear_readiness(ev),
                Ok(r) if drained(&r) => {
                    self.reg.clear_readiness(ReadyEvent {
                        ready: ev.ready & READABLE,
                        tick: ev.tick,
                    });
                    return Poll::Ready(Ok(r));
                }
                res => return Poll::Ready(res),
            }
        }
    }

    /// Runs `op` once if the source is ready in `dir`, without waiting.
    ///
    /// `WouldBlock` if it is not ready (or `op` would block; the readiness is then cleared
    /// as in step 4).
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let Some(ev) = self.reg.io.ready_now(dir) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if ev.is_shutdown() {
            return Err(shutdown_error());
        }
        let res = op(self.get_ref());
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.reg.clear_readiness(ev);
        }
        res
    }

    /// Whether the source is marked ready in `dir` right now (tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.reg.io.ready_now(dir).is_some()
    }

    /// Waits until the source is ready in `dir` (it may still turn out to would-block).
    pub(crate) async fn ready(&self, dir: Direction) -> io::Result<()> {
        let ev = std::future::poll_fn(|cx| self.reg.poll_ready(cx, dir)).await;
        if ev.is_shutdown() {
            return Err(shutdown_error());
        }
        Ok(())
    }

    /// Async form of [`PollIo::poll_io`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe as long as `op` has no effect when it fails with `WouldBlock` (true of
    /// every socket syscall): a dropped future did either the whole operation or none of it.
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_io(cx, dir, &mut op)).await
    }
}

impl<E: mio::event::Source> Drop for PollIo<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // The source is closed right after; a failing deregister changes nothing.
            let _ = self.reg.deregister(&mut io);
        }
    }
}

impl<E: mio::event::Source + std::fmt::Debug> std::fmt::Debug for PollIo<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.io.fmt(f)
    }
}
