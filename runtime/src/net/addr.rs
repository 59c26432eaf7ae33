//! Address resolution shared by every socket type.
//!
//! Resolution goes through `std::net::ToSocketAddrs`, which may block the calling worker on
//! DNS for host names; literal addresses such as `"127.0.0.1:0"` never block. (A resolver on
//! the blocking pool is a planned improvement.)

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Every address `addr` resolves to; an error if there are none.
pub(crate) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// Tries `op` on each address in turn: the first success, or the last error.
pub(crate) fn first_ok<T>(
    addrs: &[SocketAddr],
    mut op: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for &addr in addrs {
        match op(addr) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses")))
}
