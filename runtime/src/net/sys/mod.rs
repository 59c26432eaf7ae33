//! The one boundary for platform-specific sockets: every OS `cfg` of `waza::net` is here.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(unix)]
mod unix;

#[cfg(unix)]
pub use unix::{UnixListener, UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixStream};

use std::io::{self, IoSliceMut};

/// Readies a TCP stream for [`tcp_read_reporting`]: on Linux, asks the kernel to report the bytes
/// left after each read (`TCP_INQ`); elsewhere nothing.
pub(crate) fn tcp_prepare(stream: &mio::net::TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsFd;
        // Refused (a kernel before 4.18): reads then just carry no report.
        let _ = linux::enable_inq(stream.as_fd());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

/// Undoes [`tcp_prepare`] before the socket goes back to the user.
pub(crate) fn tcp_release(stream: &mio::net::TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsFd;
        linux::disable_inq(stream.as_fd());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

/// One read from a TCP stream: the byte count and, where the OS reports it, how many bytes
/// are still queued in the socket after it (a little dearer than a plain read).
pub(crate) fn tcp_read_reporting(
    stream: &mio::net::TcpStream,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<(usize, Option<usize>)> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsFd;
        linux::recv_inq(stream.as_fd(), bufs)
    }
    #[cfg(not(target_os = "linux"))]
    {
        use std::io::Read;
        let mut stream = stream;
        Ok((stream.read_vectored(bufs)?, None))
    }
}
