//! I/O plumbing beyond sockets: on unix, [`unix::AsyncFd`] drives any file descriptor
//! through the runtime's reactor.

#[cfg(unix)]
pub mod unix;
