//! "Hello, world!" over HTTP/1.1 with hyper 1.x on waza.
//!
//! ```go
//! func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello, world!") }
//!
//! func main() { log.Fatal(http.ListenAndServe(":3000", http.HandlerFunc(hello))) }
//! ```
//!
//! The adapters hyper needs (executor, timer, I/O) and the server loop with graceful
//! shutdown are waza's own `hyper` feature ([`waza::hyper`]); this module is the program:
//! the service, and the demo that checks it. The `http` bench in `waza-benches` measures
//! [`serve`].

use std::convert::Infallible;
use std::future::IntoFuture;
use std::io;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use waza::net::TcpListener;

use crate::cli::ensure;
use crate::http_client::{self, Answer, Client};
use crate::Out;

/// The body of every answer.
pub const HELLO: &[u8] = b"Hello, world!";

/// The service: `200 OK` and [`HELLO`] for every request.
///
/// # Errors
///
/// Never.
///
/// # Examples
///
/// ```
/// let res = waza::block_on(waza_examples::http_hello::hello(hyper::Request::new(()))).unwrap();
/// assert_eq!(res.status(), 200);
/// ```
pub async fn hello<B>(_req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(HELLO))))
}

/// Serves [`hello`] on `listener` until the listener fails; returns that error.
pub async fn serve(listener: TcpListener) -> io::Error {
    match waza::hyper::serve(listener, service_fn(hello::<Incoming>)).await {
        Err(e) => e,
        Ok(()) => io::Error::other("the server stopped without a shutdown signal"),
    }
}

/// Serves on 127.0.0.1:`port` until Ctrl-C, then finishes the requests in flight.
///
/// # Errors
///
/// The bind error (naming the address) or a listener error.
pub async fn serve_until_ctrl_c(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "http_hello: listening on http://{}/ (Ctrl-C to stop)",
        listener.local_addr()?
    );
    waza::hyper::serve(listener, service_fn(hello::<Incoming>))
        .with_graceful_shutdown(http_client::ctrl_c("http_hello"))
        .await
}

/// Concurrent clients in the demo.
pub const CLIENTS: usize = 8;
/// Requests per client in the demo, on one keep-alive connection.
pub const REQUESTS: usize = 50;

/// Serves on a free port of 127.0.0.1, sends [`CLIENTS`] × [`REQUESTS`] requests from
/// hyper clients (and one from `curl` when installed), checks every answer, then stops the
/// server gracefully.
///
/// # Errors
///
/// The first wrong answer or failed request.
pub async fn demo(out: &Out) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    out.line(format!("http_hello listening on http://{addr}/"));
    let (stop_tx, stop_rx) = waza::sync::oneshot::channel::<()>();
    let server = waza::spawn(
        waza::hyper::serve(listener, service_fn(hello::<Incoming>))
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .into_future(),
    );
    let want = Answer {
        status: 200,
        body: String::from_utf8_lossy(HELLO).into_owned(),
    };
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let want = want.clone();
            waza::spawn(async move {
                let mut client = Client::connect(addr).await?;
                for i in 0..REQUESTS {
                    let answer = client.get(&format!("/{i}")).await?;
                    ensure(answer == want, || format!("GET /{i}: got {answer:?}"))?;
                }
                Ok::<usize, String>(REQUESTS)
            })
        })
        .collect();
    let mut answered = 0;
    for c in clients {
        answered += c.await.map_err(|e| e.to_string())??;
    }
    out.line(format!(
        "{answered} of {} hyper requests answered \"Hello, world!\"",
        CLIENTS * REQUESTS
    ));
    match http_client::curl(addr, "/").await {
        None => out.line("curl is not installed: skipped"),
        Some(Ok(body)) => {
            ensure(body.as_bytes() == HELLO, || format!("curl got {body:?}"))?;
            out.line("curl: answered \"Hello, world!\"");
        }
        Some(Err(e)) => return Err(e),
    }
    let _ = stop_tx.send(());
    server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("server: {e}"))?;
    out.line("server stopped");
    ensure(answered == CLIENTS * REQUESTS, || {
        "requests went unanswered"
    })
}
