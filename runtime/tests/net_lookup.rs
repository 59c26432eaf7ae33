//! `lookup_host` and waza's `ToSocketAddrs`: names are resolved on the blocking pool, never
//! on a worker; literal addresses are parsed in place; bad input gets errors that say what
//! was wrong.
//!
//! Every test here shares one process-wide resolver hook, so they run one at a time under
//! `HOOK_LOCK`.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use waza::net::{lookup_host, TcpListener, TcpStream, UdpSocket};

static HOOK_LOCK: Mutex<()> = Mutex::new(());

/// The release the hook waits for, sent by a task on the (only) worker.
static RELEASE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

/// Holds the lookup on the pool until a task on the worker has run, proving that the worker
/// was free while the lookup was under way. Gives up after a long time so that a regression
/// fails the test instead of hanging it.
fn wait_for_release(_host: &str) {
    let rx = RELEASE.lock().unwrap().take();
    if let Some(rx) = rx {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the worker never ran while a lookup was in progress");
    }
}

fn rt(workers: usize) -> waza::Runtime {
    waza::Runtime::builder().workers(workers).build().unwrap()
}

fn serial() -> std::sync::MutexGuard<'static, ()> {
    HOOK_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_lookup_does_not_block_the_only_worker() {
    let _g = serial();
    let (tx, rx) = mpsc::channel();
    *RELEASE.lock().unwrap() = Some(rx);
    waza::net::__set_resolver_hook(Some(wait_for_release));
    let addrs: Vec<SocketAddr> = rt(1).block_on(async move {
        let lookup = waza::spawn(async { lookup_host(("localhost", 8080)).await });
        // Runs on the same single worker: only possible if the lookup left it free.
        let other = waza::spawn(async move {
            waza::yield_now().await;
            tx.send(()).unwrap();
        });
        other.await.unwrap();
        lookup.await.unwrap().unwrap().collect()
    });
    waza::net::__set_resolver_hook(None);
    assert!(!addrs.is_empty());
    assert!(addrs
        .iter()
        .all(|a| a.ip().is_loopback() && a.port() == 8080));
}

#[test]
fn connect_and_bind_by_name_do_not_block_the_only_worker() {
    let _g = serial();
    let (tx, rx) = mpsc::channel();
    *RELEASE.lock().unwrap() = Some(rx);
    waza::net::__set_resolver_hook(Some(wait_for_release));
    let echoed = rt(1).block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = waza::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        let client = waza::spawn(async move {
            // "localhost" may resolve to ::1 first, where nothing listens: connect tries
            // each address in turn.
            let mut c = TcpStream::connect(format!("localhost:{port}"))
                .await
                .unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            c.read_exact(&mut buf).await.unwrap();
            buf
        });
        waza::spawn(async move { tx.send(()).unwrap() })
            .await
            .unwrap();
        server.await.unwrap();
        client.await.unwrap()
    });
    waza::net::__set_resolver_hook(None);
    assert_eq!(&echoed, b"ping");
}

#[test]
fn every_address_form_is_accepted() {
    let _g = serial();
    rt(2).block_on(async {
        let v4 = Ipv4Addr::LOCALHOST;
        let ip = IpAddr::V4(v4);
        let sa = SocketAddr::new(ip, 0);
        let s = String::from("127.0.0.1:0");
        let name = String::from("localhost");
        let slice: &[SocketAddr] = &[sa];
        for l in [
            TcpListener::bind(sa).await.unwrap(),
            TcpListener::bind((ip, 0)).await.unwrap(),
            TcpListener::bind((v4, 0)).await.unwrap(),
            TcpListener::bind(("127.0.0.1", 0)).await.unwrap(),
            TcpListener::bind(("localhost", 0)).await.unwrap(),
            TcpListener::bind((name.clone(), 0)).await.unwrap(),
            TcpListener::bind("127.0.0.1:0").await.unwrap(),
            TcpListener::bind("localhost:0").await.unwrap(),
            TcpListener::bind(&s).await.unwrap(),
            TcpListener::bind(s.clone()).await.unwrap(),
            TcpListener::bind(slice).await.unwrap(),
        ] {
            assert!(l.local_addr().unwrap().ip().is_loopback());
        }
        // bind and send_to both take the resolver's first address, so the families match.
        let u = UdpSocket::bind("localhost:0").await.unwrap();
        let port = u.local_addr().unwrap().port();
        assert_eq!(u.send_to(b"x", ("localhost", port)).await.unwrap(), 1);
        let mut buf = [0u8; 4];
        let (n, from) = u.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from.port()), (&b"x"[..], port));
        let literal: Vec<_> = lookup_host("[::1]:9").await.unwrap().collect();
        assert_eq!(literal, ["[::1]:9".parse::<SocketAddr>().unwrap()]);
    });
}

#[test]
fn bad_input_gets_clear_errors() {
    let _g = serial();
    rt(2).block_on(async {
        let err = lookup_host("no-port-here").await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("no-port-here"), "{err}");

        // `.invalid` never resolves (RFC 2606), with or without a network.
        let err = lookup_host("host.invalid:80").await.err().unwrap();
        assert!(err.to_string().contains("host.invalid"), "{err}");
        let err = TcpStream::connect(("host.invalid", 80)).await.unwrap_err();
        assert!(err.to_string().contains("host.invalid"), "{err}");

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");

        drop(listener);
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

#[test]
fn lookups_and_name_taking_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    send(&lookup_host("localhost:80"));
    send(&TcpStream::connect(("localhost", 80)));
    send(&TcpListener::bind(String::from("localhost:0")));
}
