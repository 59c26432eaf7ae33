//! Unix domain sockets on a live runtime.
#![cfg(unix)]

use std::net::Shutdown;
use std::path::PathBuf;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use waza::net::{UnixListener, UnixStream};

#[path = "support/request_rounds.rs"]
mod request_rounds;

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

/// A fresh socket path under the temp dir, unique per test.
fn sock_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("waza-net-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn echo_over_a_socket_file() {
    let path = sock_path("echo");
    rt().block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = waza::spawn(async move {
            for _ in 0..10 {
                let (s, _) = listener.accept().await.unwrap();
                waza::spawn(async move {
                    let (mut r, mut w) = (&s, &s);
                    futures::io::copy(&mut r, &mut w).await.unwrap();
                    s.shutdown(Shutdown::Write).unwrap();
                });
            }
        });
        let mut clients = Vec::new();
        for i in 0..10u8 {
            let path = path.clone();
            clients.push(waza::spawn(async move {
                let mut c = UnixStream::connect(&path).await.unwrap();
                let data = vec![i; 10_000];
                c.write_all(&data).await.unwrap();
                c.shutdown(Shutdown::Write).unwrap();
                let mut back = Vec::new();
                c.read_to_end(&mut back).await.unwrap();
                assert!(back == data);
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn pair_and_split_halves() {
    rt().block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (mut r, mut w) = a.into_split();
        w.write_all(b"hello").await.unwrap();
        drop(w); // shuts down writing
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello");
        b.write_all(b"back").await.unwrap();
        let mut buf = [0; 4];
        r.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");
    });
}

#[test]
fn unix_errors_are_io_errors() {
    let path = sock_path("missing");
    rt().block_on(async {
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        let _l = UnixListener::bind(&path).unwrap();
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn full_and_short_reads_never_strand_queued_data() {
    let rounds = if cfg!(debug_assertions) { 300 } else { 3000 };
    let checked = rt().block_on(async {
        let (client, server) = UnixStream::pair().unwrap();
        request_rounds::run(client, server, rounds).await
    });
    assert_eq!(checked, rounds);
}
