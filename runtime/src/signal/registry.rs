//! The process-wide signal state: one slot per signal number, the handler, and the
//! self-pipe that carries deliveries into the reactor.
//!
//! # Handles
//!
//! - `SLOTS[n]` (static): for signal `n`, `pending` (set by the handler), `generation`
//!   (bumped once per dispatched delivery) and the wakers of every listener of `n`.
//! - `PIPE` (static, created once): a non-blocking pipe. The write end's descriptor is also
//!   in `WRITE_FD` for the handler; the read end is never read directly: each listener
//!   registers its own duplicate (`dup`) with its runtime's reactor, so every listener, in
//!   any runtime, is woken by the edge when a byte arrives.
//!
//! # Protocols
//!
//! 1. **Delivery (signal handler).** Store `pending = true`, then write one byte to the pipe
//!    (a full pipe is fine: it is readable already). Only async-signal-safe work: an atomic
//!    store, `write(2)`, and saving/restoring `errno`.
//! 2. **Dispatch (any listener).** Read the pipe until it is empty, then for each slot
//!    whose `pending` swaps from true to false: bump `generation`, wake its listeners. A
//!    delivery between the read and the swap leaves a byte behind, which only causes a
//!    spurious dispatch later; one after the swap sets `pending` again and writes a byte,
//!    so it is dispatched by the next reader. No delivery is lost; deliveries between two
//!    polls of a listener coalesce into one (as tokio's and as the OS's own pending set).
//! 3. **Listen (a listener's poll).** Store the waker in the slot, then compare
//!    `generation` with the last one seen; if equal, dispatch if the pipe is readable, and
//!    wait for the pipe. The waker is stored before the check, so a dispatch by another
//!    listener (or another runtime) after the check wakes this one.
//! 4. **Install (first listener of a signal).** Create the pipe, then `sigaction` the
//!    handler, under `INSTALL`. A handler once installed stays for the life of the process
//!    (as in tokio): the signal's default action (for SIGINT, exit) no longer happens.

use std::io;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Waker;

use slab::Slab;

/// One more than the largest signal number we accept (Linux's real-time signals end at 64).
pub(crate) const SLOT_COUNT: usize = 65;

/// Signals whose handlers would break the process or that cannot be caught at all.
const FORBIDDEN: [libc::c_int; 5] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGSEGV,
];

/// The state of one signal number (see the module docs).
pub(crate) struct Slot {
    /// Set by the handler, taken by a dispatch.
    pending: AtomicBool,
    /// Dispatched deliveries so far.
    generation: AtomicU64,
    /// The wakers of this signal's listeners; a listener's key lives as long as it does.
    waiters: Mutex<Slab<Option<Waker>>>,
}

static SLOTS: [Slot; SLOT_COUNT] = [const {
    Slot {
        pending: AtomicBool::new(false),
        generation: AtomicU64::new(0),
        waiters: Mutex::new(Slab::new()),
    }
}; SLOT_COUNT];

/// The pipe's write end, for the handler; -1 until the pipe exists.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
/// The pipe's read end (listeners register duplicates of it).
static PIPE: OnceLock<OwnedFd> = OnceLock::new();
/// Which signals have our handler; also serializes installs.
static INSTALL: Mutex<[bool; SLOT_COUNT]> = Mutex::new([false; SLOT_COUNT]);

impl Slot {
    /// Adds a listener; returns its key for [`Slot::set_waker`] and [`Slot::remove`].
    pub(crate) fn add(&self) -> usize {
        lock(&self.waiters).insert(None)
    }

    /// Stores listener `key`'s waker (protocol 3).
    pub(crate) fn set_waker(&self, key: usize, waker: &Waker) {
        let mut waiters = lock(&self.waiters);
        match &mut waiters[key] {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    /// Removes listener `key`.
    pub(crate) fn remove(&self, key: usize) {
        lock(&self.waiters).remove(key);
    }

    /// Deliveries dispatched so far.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The slot of `signum`, once its handler is installed (protocol 4).
///
/// # Errors
///
/// `InvalidInput` for a signal that cannot or must not be caught; the OS error if the pipe
/// or the handler cannot be set up.
pub(crate) fn install(signum: libc::c_int) -> io::Result<&'static Slot> {
    let index = usize::try_from(signum)
        .ok()
        .filter(|&i| i > 0 && i < SLOT_COUNT && !FORBIDDEN.contains(&signum))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signum} cannot be listened for"),
            )
        })?;
    let mut installed = lock(&INSTALL);
    pipe()?;
    if !installed[index] {
        set_handler(signum)?;
        installed[index] = true;
    }
    Ok(&SLOTS[index])
}

/// The pipe's read end, created on first use.
fn pipe() -> io::Result<&'static OwnedFd> {
    if let Some(fd) = PIPE.get() {
        return Ok(fd);
    }
    let (sender, receiver) = mio::unix::pipe::new()?;
    // The write end is never closed: a handler may run at any time, in any thread.
    WRITE_FD.store(sender.into_raw_fd(), Ordering::Release);
    Ok(PIPE.get_or_init(|| OwnedFd::from(receiver)))
}

/// A new descriptor for the pipe's read end, for one listener to register.
pub(crate) fn pipe_reader() -> io::Result<mio::unix::pipe::Receiver> {
    let fd = pipe()?.try_clone()?;
    Ok(mio::unix::pipe::Receiver::from(fd))
}

/// Installs [`handler`] for `signum` with `sigaction`.
fn set_handler(signum: libc::c_int) -> io::Result<()> {
    // SAFETY: an all-zero `sigaction` is a valid value (no flags, empty mask, SIG_DFL).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action.sa_mask` is a valid, writable sigset_t.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is fully initialized and `handler` only does async-signal-safe work
    // (protocol 1); a null old-action pointer is allowed.
    let rc = unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The signal handler: protocol 1.
extern "C" fn handler(signum: libc::c_int) {
    let saved = errno::get();
    if let Some(slot) = usize::try_from(signum).ok().and_then(|i| SLOTS.get(i)) {
        slot.pending.store(true, Ordering::Release);
    }
    let fd = WRITE_FD.load(Ordering::Acquire);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: `fd` is the pipe's write end, never closed; `byte` is a valid 1-byte
        // buffer. A failed write (a full pipe) is fine: the pipe is readable already.
        unsafe { libc::write(fd, std::ptr::addr_of!(byte).cast(), 1) };
    }
    errno::set(saved);
}

/// Protocol 2: empties the pipe through `reader`, then dispatches pending deliveries.
/// Returns `WouldBlock` if the pipe was empty (the caller then waits for readiness).
pub(crate) fn drain(reader: &mio::unix::pipe::Receiver) -> io::Result<()> {
    let mut buf = [0u8; 128];
    let mut got = false;
    loop {
        match io::Read::read(&mut &*reader, &mut buf) {
            Ok(0) => break,
            Ok(_) => got = true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    dispatch();
    if got {
        Ok(())
    } else {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

/// Bumps the generation of every pending signal and wakes its listeners.
fn dispatch() {
    for slot in &SLOTS {
        if slot.pending.swap(false, Ordering::AcqRel) {
            slot.generation.fetch_add(1, Ordering::Release);
            let wakers: Vec<Waker> = lock(&slot.waiters)
                .iter()
                .filter_map(|(_, w)| w.clone())
                .collect();
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// `errno`, saved and restored around the handler's `write`.
mod errno {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    use libc::__errno_location as location;
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    use libc::__error as location;

    pub(super) fn get() -> libc::c_int {
        // SAFETY: `location` returns this thread's errno, always valid.
        unsafe { *location() }
    }

    pub(super) fn set(value: libc::c_int) {
        // SAFETY: as in `get`.
        unsafe { *location() = value }
    }
}
