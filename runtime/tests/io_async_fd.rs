//! `waza::io::unix::AsyncFd` driving a user's own descriptors (a std Unix socket pair)
//! through the reactor.

#![cfg(unix)]

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;

use futures::FutureExt;
use waza::io::unix::{AsyncFd, Interest};

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

#[test]
fn readiness_guards_drive_reads_and_writes() {
    rt().block_on(async {
        let (a, b) = pair();
        let a = AsyncFd::new(a).unwrap();
        let b = AsyncFd::new(b).unwrap();
        // Nothing to read yet: the wait does not complete.
        assert!(a.readable().now_or_never().is_none());

        let reader = waza::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let mut guard = a.readable().await.unwrap();
                match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
                    Ok(Ok(0)) => break got,
                    Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                    Ok(Err(e)) => panic!("{e}"),
                    Err(_would_block) => continue,
                }
            }
        });
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
        let mut off = 0;
        while off < data.len() {
            let mut guard = b.writable().await.unwrap();
            if let Ok(res) = guard.try_io(|fd| fd.get_ref().write(&data[off..])) {
                off += res.unwrap();
            }
        }
        drop(b.into_inner());
        let got = reader.await.unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data);
    });
}

#[test]
fn async_io_retries_until_ready_and_clear_ready_rearms() {
    rt().block_on(async {
        let (a, mut b) = pair();
        let a = AsyncFd::new(a).unwrap();
        let waiter = waza::spawn(async move {
            let mut buf = [0u8; 8];
            let n = a
                .async_io(Interest::READABLE, |s| (&*s).read(&mut buf))
                .await
                .unwrap();
            let first = buf[..n].to_vec();
            // Drained: after clearing, the next wait waits for new data.
            let mut guard = a.readable().await.unwrap();
            let err = guard.get_inner().read(&mut buf).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WouldBlock);
            guard.clear_ready();
            assert!(a.readable().now_or_never().is_none());
            first
        });
        b.write_all(b"hello").unwrap();
        assert_eq!(waiter.await.unwrap(), b"hello");
    });
}

#[cfg(target_os = "linux")]
#[test]
fn a_regular_file_is_refused_with_an_error() {
    rt().block_on(async {
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let err = AsyncFd::new(file).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(1)); // EPERM: epoll does not poll regular files
    });
}
