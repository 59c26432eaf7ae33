//! UDP on a live runtime.

use std::io::ErrorKind;

use waza::net::UdpSocket;

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

#[test]
fn send_to_and_recv_from_in_lockstep_conserve_every_datagram() {
    rt().block_on(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = waza::spawn(async move {
            let mut buf = [0; 64];
            for _ in 0..500 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let mut buf = [0; 64];
        for i in 0..500u32 {
            client.send_to(&i.to_le_bytes(), server_addr).await.unwrap();
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server_addr);
            assert_eq!(&buf[..n], &i.to_le_bytes());
        }
        echo.await.unwrap();
    });
}

#[test]
fn connected_send_and_recv() {
    rt().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        assert_eq!(a.send(b"ping").await.unwrap(), 4);
        let mut buf = [0; 8];
        let (n, _) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");
        b.send(b"pong").await.unwrap();
        assert_eq!(a.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..4], b"pong");
    });
}

#[test]
fn a_waiting_recv_is_woken_by_a_later_datagram() {
    rt().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = a.local_addr().unwrap();
        let receiver = waza::spawn(async move {
            let mut buf = [0; 8];
            let (n, _) = a.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        waza::time::sleep(std::time::Duration::from_millis(20)).await;
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        b.send_to(b"late", addr).await.unwrap();
        assert_eq!(receiver.await.unwrap(), b"late");
    });
}

#[test]
fn udp_errors_are_io_errors() {
    rt().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = UdpSocket::bind(a.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert_eq!(a.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
        assert!(a.send(b"x").await.is_err(), "send without connect fails");
        let std = a.into_std().unwrap();
        let a = UdpSocket::from_std(std).unwrap();
        a.set_broadcast(true).unwrap();
    });
}

#[test]
fn try_recv_from_would_block_until_a_datagram_arrives() {
    rt().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0; 8];
        let err = a.try_recv_from(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        b.connect(a.local_addr().unwrap()).await.unwrap();
        b.writable().await.unwrap();
        assert_eq!(b.try_send(b"now").unwrap(), 3);
        // Wait for it with the async form, then the queue is empty again.
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"now"[..], b.local_addr().unwrap()));
        let err = a.try_recv_from(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
    });
}
