//! I/O plumbing beyond sockets: on unix, [`unix::AsyncFd`] drives any file descriptor
//! through the runtime's reactor. With the `tokio-io` feature, waza's sockets, pipes and
//! files also implement tokio's `AsyncRead`/`AsyncWrite`.

#[cfg(unix)]
pub mod unix;

#[cfg(feature = "tokio-io")]
mod tokio_io;
