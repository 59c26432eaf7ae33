//! Unix signals as streams: [`signal`] returns a [`Signal`] that yields once per delivery.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::registry::{self, Slot};
use crate::reactor::{Direction, PollIo};

/// A kind of unix signal, named as in tokio.
///
/// # Examples
///
/// ```
/// use waza::signal::unix::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw_value(), libc_sigint());
/// # fn libc_sigint() -> i32 { 2 }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// A signal by its number (`libc::SIGUSR1`, a real-time signal, …).
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw_value(self) -> i32 {
        self.0
    }

    /// SIGINT: Ctrl-C in a terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// SIGTERM: the polite request to exit (`kill`, container shutdown).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// SIGHUP: the terminal went away; by convention, reload configuration.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// SIGQUIT: Ctrl-\ in a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// SIGUSR1.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// SIGCHLD: a child process changed state.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// SIGPIPE: a write to a pipe nobody reads.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// SIGALRM: a timer set by `alarm(2)`.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// SIGWINCH: the terminal was resized.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<i32> for SignalKind {
    fn from(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
}

/// Listens for `kind`: the returned stream yields `()` once per delivery (deliveries
/// between two polls coalesce, see the module docs).
///
/// Deliveries from the moment this returns are seen, so create the listener before whatever
/// may send the signal.
///
/// # Errors
///
/// `InvalidInput` for signals that cannot be caught (SIGKILL, SIGSTOP) or must not be
/// (SIGSEGV, SIGILL, SIGFPE); the OS error if the handler or its pipe cannot be set up.
///
/// # Panics
///
/// Outside a waza runtime.
///
/// # Examples
///
/// ```
/// use waza::signal::unix::{signal, SignalKind};
///
/// waza::block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // Send ourselves the signal (as `kill -USR1 <pid>` would).
///     std::process::Command::new("kill")
///         .args(["-USR1", &std::process::id().to_string()])
///         .status()?;
///     usr1.recv().await;
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let slot = registry::install(kind.0)?;
    let pipe = PollIo::new(registry::pipe_reader()?)?;
    // Deliveries made before now count for the listeners that existed then, not for us.
    let _ = registry::drain(pipe.get_ref());
    let key = slot.add();
    Ok(Signal {
        kind,
        slot,
        key,
        seen: slot.generation(),
        pipe,
    })
}

/// A stream of deliveries of one signal; see [`signal`].
pub struct Signal {
    kind: SignalKind,
    slot: &'static Slot,
    /// This listener's key in `slot`.
    key: usize,
    /// The slot's generation when this listener last returned (or was created).
    seen: u64,
    /// This listener's own registration of the shared pipe.
    pipe: PollIo<mio::unix::pipe::Receiver>,
}

impl Signal {
    /// Waits for the next delivery; `None` once the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a delivery seen by a dropped `recv` is still returned by the next one.
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery (see [`Signal::recv`]).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        loop {
            self.slot.set_waker(self.key, cx.waker());
            let generation = self.slot.generation();
            if generation != self.seen {
                self.seen = generation;
                return Poll::Ready(Some(()));
            }
            match self.pipe.poll_io(cx, Direction::Read, registry::drain) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.slot.remove(self.key);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}
