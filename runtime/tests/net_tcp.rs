//! TCP on a live runtime: echo under concurrency, half-close, split halves, errors.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use waza::net::{TcpListener, TcpStream};

#[path = "support/request_rounds.rs"]
mod request_rounds;

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

/// Deterministic payload for connection `i`: distinct per connection and per byte.
fn payload(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| ((i * 31 + j * 7) % 251) as u8).collect()
}

/// An echo server that serves every accepted connection on its own task.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    waza::spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(c) => c,
                Err(_) => return,
            };
            waza::spawn(async move {
                let (mut r, mut w) = (&stream, &stream);
                futures::io::copy(&mut r, &mut w).await.unwrap();
                stream.shutdown(Shutdown::Write).unwrap();
            });
        }
    });
    addr
}

#[test]
fn echo_100_concurrent_connections_byte_exact() {
    const CONNS: usize = 100;
    const LEN: usize = 64 * 1024;
    let verified = Arc::new(AtomicUsize::new(0));
    rt().block_on(async {
        let addr = echo_server().await;
        let mut clients = Vec::new();
        for i in 0..CONNS {
            let verified = verified.clone();
            clients.push(waza::spawn(async move {
                let stream = TcpStream::connect(addr).await.unwrap();
                let data = payload(i, LEN);
                let (mut r, mut w) = stream.into_split();
                let writer = waza::spawn({
                    let data = data.clone();
                    async move {
                        w.write_all(&data).await.unwrap();
                        w.close().await.unwrap();
                    }
                });
                let mut back = Vec::new();
                r.read_to_end(&mut back).await.unwrap();
                writer.await.unwrap();
                assert_eq!(back.len(), LEN);
                assert!(back == data, "connection {i} corrupted");
                verified.fetch_add(1, Ordering::SeqCst);
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
    });
    assert_eq!(verified.load(Ordering::SeqCst), CONNS);
}

#[test]
fn half_close_lets_the_peer_finish_its_reply() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = waza::spawn(async move {
            let (mut s, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, s.peer_addr().unwrap());
            let mut req = Vec::new();
            s.read_to_end(&mut req).await.unwrap(); // ends because the client half-closed
            s.write_all(format!("got {} bytes", req.len()).as_bytes())
                .await
                .unwrap();
            s.close().await.unwrap();
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        assert_eq!(c.peer_addr().unwrap(), addr);
        c.write_all(&[7; 1000]).await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut reply = String::new();
        c.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "got 1000 bytes");
        // Writing after our own shutdown is an error, not a hang or panic.
        assert!(c.write_all(b"x").await.is_err());
        server.await.unwrap();
    });
}

#[test]
fn connection_refused_is_an_error() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn address_in_use_is_an_error() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
    });
}

#[test]
fn unresolvable_address_is_an_error() {
    rt().block_on(async {
        let none: &[SocketAddr] = &[];
        let err = TcpStream::connect(none).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = TcpListener::bind("not an address").await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Other),
            "{err}"
        );
    });
}

#[test]
fn read_and_write_through_shared_references_concurrently() {
    rt().block_on(async {
        let addr = echo_server().await;
        let stream = Arc::new(TcpStream::connect(addr).await.unwrap());
        let writer = waza::spawn({
            let stream = stream.clone();
            async move {
                for i in 0..100u8 {
                    (&*stream).write_all(&[i; 100]).await.unwrap();
                }
                stream.shutdown(Shutdown::Write).unwrap();
            }
        });
        let mut back = Vec::new();
        (&*stream).read_to_end(&mut back).await.unwrap();
        writer.await.unwrap();
        let expect: Vec<u8> = (0..100u8).flat_map(|i| [i; 100]).collect();
        assert!(back == expect);
    });
}

#[test]
fn reunite_and_std_round_trips() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let std_listener = listener.into_std().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (r, w) = client.into_split();
        let (r2, w2) = server.into_split();
        let e = r.reunite(w2).unwrap_err();
        let (r, w2) = (e.0, e.1);
        let mut client = r.reunite(w).unwrap();
        let mut server = r2.reunite(w2).unwrap();
        client.write_all(b"still open").await.unwrap();
        let mut buf = [0; 10];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"still open");
        let std_stream = server.into_std().unwrap();
        let mut server = TcpStream::from_std(std_stream).unwrap();
        server.write_all(b"ok").await.unwrap();
        let mut buf = [0; 2];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    });
}

#[test]
fn pending_accept_ends_when_the_runtime_shuts_down() {
    let rt = rt();
    let addr = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        waza::spawn(async move {
            let _ = listener.accept().await;
        });
        addr
    });
    // Dropping the runtime with a task parked in accept must not hang.
    drop(rt);
    // The listener was closed with the task: connecting now is refused.
    let err = std::net::TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn readiness_then_try_read_and_try_write() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut buf = [0; 16];
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"abc").unwrap(), 3);
        let mut got = Vec::new();
        while got.len() < 3 {
            server.readable().await.unwrap();
            match server.try_read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, b"abc");
    });
}

#[test]
fn sockets_and_their_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<TcpListener>();
    send_sync::<TcpStream>();
    send_sync::<waza::net::OwnedReadHalf>();
    send_sync::<waza::net::OwnedWriteHalf>();
    send_sync::<waza::net::UdpSocket>();
    send_sync::<waza::net::UnixListener>();
    send_sync::<waza::net::UnixStream>();
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        send(&TcpListener::bind("127.0.0.1:0"));
        send(&TcpStream::connect(addr));
        send(&listener.accept());
        let udp = waza::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0; 4];
        send(&udp.recv_from(&mut buf));
        send(&udp.send_to(b"x", addr));
    });
}

#[test]
fn full_and_short_reads_never_strand_queued_data() {
    let rounds = if cfg!(debug_assertions) { 300 } else { 3000 };
    let checked = rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        request_rounds::run(client, server, rounds).await
    });
    assert_eq!(checked, rounds);
}
