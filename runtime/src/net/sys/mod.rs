//! The one boundary for platform-specific sockets: every OS `cfg` of `waza::net` is here.

#[cfg(unix)]
mod unix;

#[cfg(unix)]
pub use unix::{UnixListener, UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixStream};
