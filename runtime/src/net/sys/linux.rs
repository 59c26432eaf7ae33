//! TCP reads that report whether they drained the socket (Linux's `TCP_INQ`).
//!
//! # Why
//!
//! A stream read that fills the caller's buffer says nothing about what is left in the
//! socket, so the reactor's readiness loop keeps the readable bit and the next read is a
//! `recv` that fails with `WouldBlock`: one wasted system call per message in
//! request/response traffic (the TCP echo bench does two per round trip, one per side).
//! With the `TCP_INQ` socket option set, every `recvmsg` that passes room for ancillary
//! data gets a `TCP_CM_INQ` message: how many bytes were still queued when the read
//! returned. Zero means the read drained the socket, and the readable bit can be cleared
//! at once (tick-guarded, exactly as after a short read: see `PollIo::poll_read_drained`).
//!
//! # Invariants of the unsafe code
//!
//! 1. `setsockopt` gets a pointer to a live `c_int` and that type's size; the descriptor is
//!    borrowed from an open socket for the duration of the call.
//! 2. `recvmsg` gets a `msghdr` whose `msg_iov` points at the caller's `IoSliceMut` array
//!    (`IoSliceMut` is ABI-compatible with `iovec` on Unix, as std documents) and whose
//!    `msg_control` points at [`Control`], a local buffer aligned for `cmsghdr`, with their
//!    true lengths. Every pointed-to buffer outlives the call; the kernel writes at most
//!    the stated lengths.
//! 3. The control messages are walked only with `CMSG_FIRSTHDR`/`CMSG_NXTHDR` over that
//!    same `msghdr` after the kernel set `msg_controllen`, so every header they return lies
//!    inside [`Control`]; a payload is read with `read_unaligned` only after checking that
//!    the header's `cmsg_len` covers a whole `c_int`.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd};

/// Room for the control messages of one `recvmsg`: the `TCP_CM_INQ` integer, plus space
/// for a timestamp message a user may have enabled on the socket (the kernel puts that
/// first). Too little room only sets `MSG_CTRUNC`; the data read is unaffected.
#[repr(C, align(8))]
struct Control([u8; 128]);

/// Asks the kernel to report the bytes left in the receive queue after each `recvmsg`.
///
/// Returns whether the option is now set (it is not on kernels before 4.18).
pub(crate) fn enable_inq(fd: BorrowedFd<'_>) -> bool {
    set_inq(fd, 1)
}

/// Turns the report off again (before a socket goes back to the user).
pub(crate) fn disable_inq(fd: BorrowedFd<'_>) {
    set_inq(fd, 0);
}

fn set_inq(fd: BorrowedFd<'_>, on: libc::c_int) -> bool {
    // SAFETY: invariant 1: `on` is a live c_int and the length is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INQ,
            std::ptr::from_ref(&on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// Reads into `bufs` with one `recvmsg`; returns the byte count and, if the kernel said,
/// how many bytes are still queued (`None` without `TCP_INQ` on the socket).
pub(crate) fn recv_inq(
    fd: BorrowedFd<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<(usize, Option<usize>)> {
    let mut control = Control([0; 128]);
    // SAFETY: an all-zero msghdr is a valid value (null pointers, zero lengths); the fields
    // that matter are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = bufs.as_mut_ptr().cast();
    msg.msg_iovlen = bufs.len() as _;
    msg.msg_control = std::ptr::from_mut(&mut control).cast();
    msg.msg_controllen = size_of::<Control>() as _;
    // SAFETY: invariant 2: the iovecs and the control buffer are live, writable and of the
    // stated lengths for the whole call.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((n as usize, queued_after(&msg)))
}

/// The `TCP_CM_INQ` value among the control messages `recvmsg` filled in, if any.
fn queued_after(msg: &libc::msghdr) -> Option<usize> {
    // SAFETY: invariant 3: `msg` is the header the kernel just filled, its control buffer
    // is still live.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        // SAFETY: invariant 3: a non-null header from CMSG_FIRSTHDR/NXTHDR lies inside the
        // control buffer.
        let header = unsafe { &*cmsg };
        // SAFETY: plain arithmetic on a constant.
        let full = unsafe { libc::CMSG_LEN(size_of::<libc::c_int>() as u32) } as usize;
        if header.cmsg_level == libc::IPPROTO_TCP
            && header.cmsg_type == libc::TCP_CM_INQ
            && header.cmsg_len as usize >= full
        {
            // SAFETY: invariant 3: the length check above puts a whole c_int at CMSG_DATA,
            // inside the control buffer; it may be unaligned.
            let inq = unsafe { libc::CMSG_DATA(cmsg).cast::<libc::c_int>().read_unaligned() };
            return usize::try_from(inq).ok();
        }
        // SAFETY: invariant 3, for the next header.
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
    None
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;

    fn pair() -> (std::net::TcpStream, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    /// Sends `data` and waits until all of it is queued at `server`.
    fn deliver(client: &mut std::net::TcpStream, server: &std::net::TcpStream, data: &[u8]) {
        client.write_all(data).unwrap();
        let mut probe = vec![0; data.len()];
        while server.peek(&mut probe).unwrap() < data.len() {
            std::thread::yield_now();
        }
    }

    #[test]
    fn reports_the_bytes_left_after_each_read() {
        let (mut client, server) = pair();
        assert!(enable_inq(server.as_fd()));
        deliver(&mut client, &server, &[7; 100]);
        let mut buf = [0u8; 64];
        let got = recv_inq(server.as_fd(), &mut [IoSliceMut::new(&mut buf)]).unwrap();
        assert_eq!(got, (64, Some(36)));
        let got = recv_inq(server.as_fd(), &mut [IoSliceMut::new(&mut buf)]).unwrap();
        assert_eq!(got, (36, Some(0)));
        let err = recv_inq(server.as_fd(), &mut [IoSliceMut::new(&mut buf)]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn a_full_read_that_drains_reports_zero_left() {
        let (mut client, server) = pair();
        assert!(enable_inq(server.as_fd()));
        deliver(&mut client, &server, &[1; 64]);
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        let got = recv_inq(
            server.as_fd(),
            &mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)],
        )
        .unwrap();
        assert_eq!(got, (64, Some(0)));
        assert_eq!((a, b), ([1; 32], [1; 32]));
    }

    #[test]
    fn no_report_once_disabled() {
        let (mut client, server) = pair();
        assert!(enable_inq(server.as_fd()));
        disable_inq(server.as_fd());
        deliver(&mut client, &server, &[2; 10]);
        let mut buf = [0u8; 64];
        let got = recv_inq(server.as_fd(), &mut [IoSliceMut::new(&mut buf)]).unwrap();
        assert_eq!(got, (10, None));
    }

    #[test]
    fn end_of_stream_is_a_zero_read() {
        let (client, server) = pair();
        assert!(enable_inq(server.as_fd()));
        drop(client);
        let mut buf = [0u8; 8];
        loop {
            match recv_inq(server.as_fd(), &mut [IoSliceMut::new(&mut buf)]) {
                Ok((n, _)) => break assert_eq!(n, 0),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
    }
}
