//! `waza::hyper`: hyper's server through `serve`, real hyper clients on waza (and `curl`
//! where installed), and graceful shutdown with requests in flight.

#![cfg(feature = "hyper")]

use std::convert::Infallible;
use std::future::IntoFuture;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use waza::hyper::Io;
use waza::net::{TcpListener, TcpStream};

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// A hyper HTTP/1 client connection on waza.
async fn client(addr: SocketAddr) -> Sender {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .unwrap();
    drop(waza::spawn(conn));
    sender
}

async fn get(sender: &mut Sender, path: &str) -> (u16, String) {
    let req = Request::get(path)
        .header("host", "test")
        .body(Empty::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn echo_path(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(format!(
        "path={}",
        req.uri().path()
    )))))
}

#[test]
fn serves_many_requests_on_keep_alive_connections() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(waza::spawn(
            waza::hyper::serve(listener, service_fn(echo_path)).into_future(),
        ));
        let clients: Vec<_> = (0..4)
            .map(|c| {
                waza::spawn(async move {
                    let mut sender = client(addr).await;
                    for i in 0..25 {
                        let (status, body) = get(&mut sender, &format!("/c{c}/r{i}")).await;
                        assert_eq!(status, 200);
                        assert_eq!(body, format!("path=/c{c}/r{i}"));
                    }
                    25
                })
            })
            .collect();
        let mut total = 0;
        for c in clients {
            total += c.await.unwrap();
        }
        assert_eq!(total, 100);
    });
}

#[test]
fn graceful_shutdown_finishes_requests_in_flight() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The handler reports that it started, then waits for the test's release.
        let (started_tx, started_rx) = waza::chan::unbounded::<()>();
        let (release_tx, release_rx) = waza::chan::unbounded::<()>();
        let svc = service_fn(move |_req: Request<Incoming>| {
            let (started_tx, release_rx) = (started_tx.clone(), release_rx.clone());
            async move {
                started_tx.send(()).await.unwrap();
                release_rx.recv().await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"done"))))
            }
        });
        let (stop_tx, stop_rx) = waza::sync::oneshot::channel::<()>();
        let server = waza::spawn(
            waza::hyper::serve(listener, svc)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .into_future(),
        );

        // One idle keep-alive connection (it must not hold the shutdown up), and three
        // requests in flight.
        let mut idle = client(addr).await;
        let in_flight: Vec<_> = (0..3)
            .map(|_| waza::spawn(async move { get(&mut client(addr).await, "/").await }))
            .collect();
        for _ in 0..3 {
            started_rx.recv().await.unwrap();
        }
        let _ = stop_tx.send(());
        // The listener is closed once the accept loop saw the signal; wait for that.
        let mut refused = false;
        for _ in 0..1000 {
            if TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            waza::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(refused, "the listener still accepts after shutdown");
        assert!(!server.is_finished(), "finished with requests in flight");

        for _ in 0..3 {
            release_tx.send(()).await.unwrap();
        }
        for r in in_flight {
            assert_eq!(r.await.unwrap(), (200, "done".to_string()));
        }
        server.await.unwrap().unwrap();
        // The idle connection was closed by the server.
        assert!(idle
            .send_request(Request::get("/").body(Empty::new()).unwrap())
            .await
            .is_err());
    });
}

#[test]
fn curl_gets_an_answer() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("curl not installed: skipped");
        return;
    }
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(waza::spawn(
            waza::hyper::serve(listener, service_fn(echo_path)).into_future(),
        ));
        let out = waza::process::Command::new("curl")
            .args(["-sS", &format!("http://{addr}/from-curl")])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"path=/from-curl");
    });
}

#[cfg(feature = "hyper-http2")]
#[test]
fn http2_clients_are_served_next_to_http1_clients() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(waza::spawn(
            waza::hyper::serve(listener, service_fn(echo_path)).into_future(),
        ));
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut h2, conn) =
            hyper::client::conn::http2::handshake(waza::hyper::Executor::new(), Io::new(stream))
                .await
                .unwrap();
        drop(waza::spawn(conn));
        // Concurrent streams on one HTTP/2 connection.
        let requests: Vec<_> = (0..10)
            .map(|i| {
                let req = Request::get(format!("http://test/h2/{i}"))
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let fut = h2.send_request(req);
                waza::spawn(async move {
                    let res = fut.await.unwrap();
                    assert_eq!(res.version(), hyper::Version::HTTP_2);
                    res.into_body().collect().await.unwrap().to_bytes()
                })
            })
            .collect();
        for (i, r) in requests.into_iter().enumerate() {
            assert_eq!(r.await.unwrap(), format!("path=/h2/{i}"));
        }
        h2.ready().await.unwrap();
        let (status, body) = get(&mut client(addr).await, "/h1").await;
        assert_eq!((status, body.as_str()), (200, "path=/h1"));
    });
}

#[test]
fn io_rejects_a_reader_that_claims_more_than_it_was_given() {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A broken futures-io reader: reports more bytes than the buffer holds.
    struct Liar;
    impl futures::io::AsyncRead for Liar {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<std::io::Result<usize>> {
            Poll::Ready(Ok(buf.len() + 1))
        }
    }

    let mut storage = [0u8; 64];
    let mut buf = hyper::rt::ReadBuf::new(&mut storage);
    let mut io = Io::new(Liar);
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let res = hyper::rt::Read::poll_read(Pin::new(&mut io), &mut cx, buf.unfilled());
    match res {
        Poll::Ready(Err(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidData),
        other => panic!("expected an InvalidData error, got {other:?}"),
    }
    assert_eq!(buf.filled().len(), 0);
}

#[test]
fn timer_sleeps_fire_and_reset_moves_them() {
    use hyper::rt::Timer as _;
    use std::time::{Duration, Instant};
    rt().block_on(async {
        let timer = waza::hyper::Timer;
        let mut sleep = timer.sleep(Duration::from_secs(3600));
        let deadline = Instant::now() + Duration::from_millis(5);
        timer.reset(&mut sleep, deadline);
        let res = waza::time::timeout(Duration::from_secs(30), sleep).await;
        assert!(res.is_ok(), "the reset sleep never fired");
        assert!(Instant::now() >= deadline);
    });
}
