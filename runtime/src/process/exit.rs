//! How a child's exit reaches the reactor: a pidfd on Linux, SIGCHLD elsewhere (and where
//! the kernel has no `pidfd_open`, before 5.3, or a sandbox forbids it).
//!
//! # Invariants
//!
//! - A pidfd is opened for a child we have not reaped, so its pid still names our child
//!   (a zombie keeps its pid until reaped, and only this module's owner reaps it).
//! - Exit is always confirmed with `waitpid(pid, WNOHANG)` (`std::process::Child::try_wait`)
//!   run *after* the watch exists: an exit before that call is seen by the call, and one
//!   after it produces an event (pidfd readable, or a SIGCHLD delivery) that the watch
//!   has registered for. So no exit is missed; events that were not our child's exit only
//!   cost one more `try_wait`.

use std::io;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{ready, Context, Poll};

use crate::signal::unix::{signal, Signal, SignalKind};

/// Set when pidfds turned out not to work (or a test asks for the SIGCHLD path).
static NO_PIDFD: AtomicBool = AtomicBool::new(!cfg!(target_os = "linux"));

/// Makes every child spawned from now on wait through SIGCHLD instead of a pidfd (on
/// Linux; elsewhere SIGCHLD is always used). For tests of that path; not stable API.
#[doc(hidden)]
pub fn __force_sigchld(force: bool) {
    NO_PIDFD.store(force || !cfg!(target_os = "linux"), Ordering::Relaxed);
}

/// A watch on one child's exit.
pub(crate) enum ExitWatch {
    #[cfg(target_os = "linux")]
    PidFd(crate::reactor::PollIo<pidfd::PidFd>),
    Sigchld(Signal),
}

impl ExitWatch {
    /// A watch for `child`, registered with the current runtime.
    pub(crate) fn new(child: &std::process::Child) -> io::Result<ExitWatch> {
        #[cfg(target_os = "linux")]
        if !NO_PIDFD.load(Ordering::Relaxed) {
            match pidfd::PidFd::open(child.id()) {
                Ok(fd) => return Ok(ExitWatch::PidFd(crate::reactor::PollIo::new(fd)?)),
                // No pidfds here (old kernel, seccomp): SIGCHLD from now on.
                Err(_) => NO_PIDFD.store(true, Ordering::Relaxed),
            }
        }
        let _ = child;
        Ok(ExitWatch::Sigchld(signal(SignalKind::child())?))
    }

    /// Waits until `child` has exited and reaps it.
    pub(crate) fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        child: &mut std::process::Child,
    ) -> Poll<io::Result<ExitStatus>> {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::PidFd(io) => io.poll_io(cx, crate::reactor::Direction::Read, |_| {
                child
                    .try_wait()?
                    .ok_or_else(|| io::ErrorKind::WouldBlock.into())
            }),
            ExitWatch::Sigchld(sigchld) => loop {
                if let Some(status) = child.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                if ready!(sigchld.poll_recv(cx)).is_none() {
                    return Poll::Ready(Err(io::Error::other("the waza runtime has shut down")));
                }
            },
        }
    }
}

#[cfg(target_os = "linux")]
mod pidfd {
    //! An owned pidfd as a mio source.

    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    pub(crate) struct PidFd(OwnedFd);

    impl PidFd {
        /// `pidfd_open(pid, 0)`.
        pub(crate) fn open(pid: u32) -> io::Result<PidFd> {
            let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
            // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1;
            // it touches no memory of ours.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = i32::try_from(fd).map_err(io::Error::other)?;
            // SAFETY: `fd` was just returned by pidfd_open, so it is open and nobody else
            // owns it.
            Ok(PidFd(unsafe { OwnedFd::from_raw_fd(fd) }))
        }
    }

    impl mio::event::Source for PidFd {
        fn register(
            &mut self,
            registry: &mio::Registry,
            token: mio::Token,
            interests: mio::Interest,
        ) -> io::Result<()> {
            mio::unix::SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
        }

        fn reregister(
            &mut self,
            registry: &mio::Registry,
            token: mio::Token,
            interests: mio::Interest,
        ) -> io::Result<()> {
            mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
        }

        fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
            mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(registry)
        }
    }
}
