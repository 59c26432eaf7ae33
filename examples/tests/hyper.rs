//! hyper 1.x on waza, end to end over 127.0.0.1: the hello server of
//! `waza_examples::http_hello` (on waza's `hyper` feature) answering hyper's own HTTP/1
//! client, also running on waza; and the HTTP example binaries serving real clients until
//! a real SIGINT stops them.

use std::future::Future;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::rt::Executor;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use waza::hyper::{Executor as WazaExecutor, Io, Timer as WazaTimer};
use waza::net::{TcpListener, TcpStream};
use waza_examples::http_hello::{self, HELLO};

/// Every test gives up after this long instead of hanging.
const LIMIT: Duration = Duration::from_secs(20);

fn run<F: Future>(fut: F) -> F::Output {
    let rt = waza::Runtime::builder()
        .workers(2)
        .build()
        .expect("runtime builds");
    rt.block_on(async {
        waza::time::timeout(LIMIT, fut)
            .await
            .expect("test did not finish in time")
    })
}

/// Starts the hello server on an ephemeral port; returns its address.
async fn start_hello_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    drop(waza::spawn(http_hello::serve(listener)));
    addr
}

/// Opens an HTTP/1 client connection to `addr`; its connection task runs on waza.
async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .expect("handshake");
    WazaExecutor::new().execute(async move {
        let _ = conn.await;
    });
    sender
}

fn get(addr: SocketAddr, path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header(hyper::header::HOST, addr.to_string())
        .body(Full::new(Bytes::new()))
        .expect("request builds")
}

/// Sends `req` and checks for a byte-exact hello response.
async fn expect_hello(sender: &mut SendRequest<Full<Bytes>>, req: Request<Full<Bytes>>) {
    sender.ready().await.expect("connection ready");
    let res = sender.send_request(req).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-length"], "13");
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], HELLO);
}

#[test]
fn keep_alive_connection_serves_many_requests() {
    run(async {
        let addr = start_hello_server().await;
        let mut sender = connect(addr).await;
        for i in 0..50 {
            expect_hello(&mut sender, get(addr, &format!("/{i}"))).await;
        }
        // A large body the service never reads still gets its answer (hyper may then close
        // that connection rather than drain the body); the server keeps serving others.
        let post = Request::builder()
            .method(Method::POST)
            .uri("/ignored")
            .header(hyper::header::HOST, addr.to_string())
            .body(Full::new(Bytes::from(vec![b'x'; 100_000])))
            .expect("request builds");
        expect_hello(&mut sender, post).await;
        let mut fresh = connect(addr).await;
        expect_hello(&mut fresh, get(addr, "/after-post")).await;
    });
}

#[test]
fn concurrent_clients_all_get_exact_answers() {
    const CONNS: usize = 16;
    const PER_CONN: usize = 25;
    let done = Arc::new(AtomicUsize::new(0));
    run({
        let done = done.clone();
        async move {
            let addr = start_hello_server().await;
            let clients: Vec<_> = (0..CONNS)
                .map(|_| {
                    let done = done.clone();
                    waza::spawn(async move {
                        let mut sender = connect(addr).await;
                        for _ in 0..PER_CONN {
                            expect_hello(&mut sender, get(addr, "/")).await;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for client in clients {
                client.await.expect("client task");
            }
        }
    });
    assert_eq!(done.load(Ordering::Relaxed), CONNS * PER_CONN);
}

/// Echoes the request body back.
async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let body = req.into_body().collect().await?.to_bytes();
    Ok(Response::new(Full::new(body)))
}

#[test]
fn large_bodies_cross_intact_both_ways() {
    // Several times MAX_READ, so reads are split; the server writes vectored.
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let server = waza::spawn(async move {
            let (stream, _) = listener.accept().await.expect("accept");
            hyper::server::conn::http1::Builder::new()
                .timer(WazaTimer)
                .serve_connection(Io::new(stream).vectored(true), service_fn(echo))
                .await
        });
        let mut sender = connect(addr).await;
        for round in 0..3 {
            let req = Request::post("/echo")
                .header(hyper::header::HOST, addr.to_string())
                .body(Full::new(Bytes::from(payload.clone())))
                .expect("request builds");
            sender.ready().await.expect("connection ready");
            let res = sender.send_request(req).await.expect("response");
            assert_eq!(res.status(), StatusCode::OK, "round {round}");
            let body = res.into_body().collect().await.expect("body").to_bytes();
            assert_eq!(body.len(), payload.len(), "round {round}");
            assert!(body[..] == payload[..], "round {round}: body differs");
        }
        drop(sender);
        // The client hung up cleanly, so the server's connection ends without error.
        server
            .await
            .expect("server task")
            .expect("server connection");
    });
}

#[test]
fn header_read_timeout_fires_on_the_waza_timer() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let server = waza::spawn(async move {
            let (stream, _) = listener.accept().await.expect("accept");
            hyper::server::conn::http1::Builder::new()
                .timer(WazaTimer)
                .header_read_timeout(Duration::from_millis(100))
                .serve_connection(Io::new(stream), service_fn(http_hello::hello::<Incoming>))
                .await
        });
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        // Half a request head, then silence.
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        let err = server
            .await
            .expect("server task")
            .expect_err("a stalled head must time out");
        assert!(err.is_timeout(), "unexpected error: {err}");
        // The server closed the connection without answering.
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.expect("read to EOF");
        assert!(rest.is_empty(), "unexpected bytes: {rest:?}");
    });
}

#[test]
fn raw_request_gets_a_well_formed_response() {
    let response = run(async {
        let addr = start_hello_server().await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        String::from_utf8(response).expect("utf-8 response")
    });
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a blank line ends the head");
    assert_eq!(body, "Hello, world!");
    let mut lines = head.split("\r\n");
    assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
    let mut headers: Vec<String> = lines.map(|l| l.to_ascii_lowercase()).collect();
    headers.sort();
    assert_eq!(headers.len(), 3, "{headers:?}");
    assert_eq!(headers[0], "connection: close");
    assert_eq!(headers[1], "content-length: 13");
    assert!(headers[2].starts_with("date: "), "{headers:?}");
}

#[test]
fn executor_on_a_handle_spawns_from_a_plain_thread() {
    let rt = waza::Runtime::builder()
        .workers(2)
        .build()
        .expect("runtime builds");
    let exec = WazaExecutor::on(rt.handle().clone());
    let (tx, rx) = waza::chan::unbounded();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (exec, tx) = (exec.clone(), tx.clone());
            s.spawn(move || {
                for i in 0..25 {
                    let tx = tx.clone();
                    exec.execute(async move { tx.send(t * 100 + i).await.expect("send") });
                }
            });
        }
    });
    drop(tx);
    let mut got: Vec<i32> = std::iter::from_fn(|| rx.recv_blocking()).collect();
    got.sort_unstable();
    let want: Vec<i32> = (0..4)
        .flat_map(|t| (0..25).map(move |i| t * 100 + i))
        .collect();
    assert_eq!(got, want);
}

/// Reads the "PROGRAM: listening on http://ADDR/ …" line a server binary prints first;
/// returns the address and the rest of its output (kept open: the server prints again when
/// it stops).
fn read_listen_line(
    child: &mut std::process::Child,
) -> (SocketAddr, std::io::BufReader<std::process::ChildStdout>) {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).expect("read stdout");
    let addr = line
        .split_once("listening on http://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(addr, _)| addr)
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (addr.parse().expect("an address"), reader)
}

/// A server child process, killed if the test fails before it stopped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `exe 0` (any free port), checks `path`'s answer from hyper's client and from
/// curl (when installed), then sends SIGINT and expects a clean exit.
fn serves_until_sigint(exe: &str, path: &str, check: impl Fn(&str)) {
    let mut child = KillOnDrop(
        Command::new(exe)
            .arg("0")
            .env("WAZA_MAXPROCS", "2")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server"),
    );
    let (addr, mut rest) = read_listen_line(&mut child.0);
    let bodies = run(async {
        let mut sender = connect(addr).await;
        let mut bodies = Vec::new();
        for _ in 0..10 {
            sender.ready().await.expect("connection ready");
            let res = sender.send_request(get(addr, path)).await.expect("request");
            assert_eq!(res.status(), StatusCode::OK);
            let body = res.into_body().collect().await.expect("body").to_bytes();
            bodies.push(String::from_utf8(body.to_vec()).expect("utf-8"));
        }
        bodies
    });
    bodies.iter().for_each(|b| check(b));
    if let Ok(out) = Command::new("curl")
        .args(["-sS", "--max-time", "20", &format!("http://{addr}{path}")])
        .output()
    {
        assert!(out.status.success(), "curl: {out:?}");
        check(&String::from_utf8_lossy(&out.stdout));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = child.0.wait().expect("wait");
    let mut output = String::new();
    std::io::Read::read_to_string(&mut rest, &mut output).expect("read stdout");
    assert!(status.success(), "{exe} after SIGINT: {status}; {output}");
    assert!(output.contains("Ctrl-C"), "{exe}: {output:?}");
}

#[test]
fn http_hello_binary_serves_until_sigint() {
    serves_until_sigint(env!("CARGO_BIN_EXE_http_hello"), "/", |body| {
        assert_eq!(body.as_bytes(), HELLO)
    });
}

#[test]
fn axum_hello_binary_serves_until_sigint() {
    serves_until_sigint(env!("CARGO_BIN_EXE_axum_hello"), "/hello/tester", |body| {
        assert_eq!(body, r#"{"hello":"tester","letters":6}"#)
    });
}

#[test]
fn graceful_shutdown_binary_serves_until_sigint() {
    serves_until_sigint(env!("CARGO_BIN_EXE_graceful_shutdown"), "/x", |body| {
        assert_eq!(body, "done /x")
    });
}

#[test]
fn http_binaries_reject_bad_arguments() {
    for exe in [
        env!("CARGO_BIN_EXE_http_hello"),
        env!("CARGO_BIN_EXE_axum_hello"),
        env!("CARGO_BIN_EXE_graceful_shutdown"),
    ] {
        for args in [
            &["--bogus"][..],
            &["x"],
            &["70000"],
            &["--quick"],
            &["1", "2"],
        ] {
            let out = Command::new(exe).args(args).output().expect("run");
            assert_eq!(out.status.code(), Some(2), "{exe} {args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("usage: "), "{exe} {args:?}: {err}");
        }
    }
}

#[test]
fn a_port_in_use_is_named_in_the_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let out = Command::new(env!("CARGO_BIN_EXE_http_hello"))
        .arg(port.to_string())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.to_lowercase().contains("in use"), "{err}");
}

/// Compile-time check: the adapters can move between worker threads.
#[allow(dead_code)]
fn adapters_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<WazaExecutor>();
    check::<WazaTimer>();
    check::<Io<TcpStream>>();
}
