//! [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::net::addr::{first_ok, resolve};
use crate::net::ToSocketAddrs;
use crate::reactor::{Direction, PollIo};

/// A UDP socket; every send and receive is async.
///
/// # Examples
///
/// ```
/// use waza::net::UdpSocket;
/// waza::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"hello", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr()?));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct UdpSocket {
    io: PollIo<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (each resolved address is tried in turn).
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `AddrInUse`, or `InvalidInput` if `addr` resolves to nothing.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a literal address completes without waiting; while a host name is being
    /// looked up, a dropped future has bound nothing.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addrs = resolve(&addr).await?;
        let socket = first_ok(&addrs, mio::net::UdpSocket::bind)?;
        Ok(UdpSocket {
            io: PollIo::new(socket)?,
        })
    }

    /// Sets the default peer: `send` goes there and `recv` only accepts datagrams from it.
    ///
    /// # Errors
    ///
    /// The OS error, or `InvalidInput` if `addr` resolves to nothing.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a literal address completes without waiting; while a host name is being
    /// looked up, a dropped future has changed nothing.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let addrs = resolve(&addr).await?;
        first_ok(&addrs, |a| self.io.get_ref().connect(a))
    }

    /// Sends a datagram to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// The OS error (e.g. `NotConnected`, or `ConnectionRefused` reported by an earlier
    /// datagram's ICMP answer).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future sent nothing.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer; returns its length (truncated to `buf`).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future received nothing.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Sends a datagram to `target` (the first address it resolves to).
    ///
    /// # Errors
    ///
    /// The OS error, or `InvalidInput` if `target` resolves to nothing.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future sent nothing.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve(&target).await?.as_slice()[0];
        self.io
            .io(Direction::Write, |s| s.send_to(buf, target))
            .await
    }

    /// Receives a datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future received nothing.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// Like [`UdpSocket::recv_from`], leaving the datagram queued.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.peek_from(buf)).await
    }

    /// Waits until a datagram may be queued for reading (readiness can be spurious).
    ///
    /// # Errors
    ///
    /// If the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until the socket may accept a datagram for sending.
    ///
    /// # Errors
    ///
    /// If the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Sends to the connected peer without waiting: `WouldBlock` if the buffer is full.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// Receives a datagram without waiting: `WouldBlock` if none is queued.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` if [`UdpSocket::connect`] was not called.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Wraps a socket made with the standard library (set to non-blocking here).
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollIo::new(mio::net::UdpSocket::from_std(socket))?,
        })
    }

    /// Unwraps the standard library socket (still in non-blocking mode).
    ///
    /// # Errors
    ///
    /// If deregistering from the driver fails.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner().map(Into::into)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
