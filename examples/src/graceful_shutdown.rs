//! Graceful shutdown: on Ctrl-C (SIGINT) an HTTP server stops accepting, lets the requests
//! in flight finish within a deadline, and exits 0.
//!
//! ```go
//! srv := &http.Server{Addr: addr, Handler: work}
//! go srv.ListenAndServe()
//! sig := make(chan os.Signal, 1)
//! signal.Notify(sig, os.Interrupt)
//! <-sig
//! ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//! defer cancel()
//! srv.Shutdown(ctx) // stop accepting; wait for in-flight requests or the deadline
//! ```
//!
//! Every request takes 20-80 ms of simulated work, so under load some are always in
//! flight. The demo puts the server under load from hyper clients on waza, sends the
//! process a real SIGINT in the middle, and checks that every request the server accepted
//! was answered completely: none dropped.

use std::convert::Infallible;
use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use waza::context::Context;
use waza::net::TcpListener;
use waza::signal::unix::{signal, Signal, SignalKind};

use crate::cli::ensure;
use crate::http_client::Client;
use crate::Out;

/// How long the requests in flight may take to finish after Ctrl-C.
pub const GRACE: Duration = Duration::from_secs(10);

/// What the server counts: requests that reached the handler, and those it answered.
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests the handler started on.
    pub accepted: AtomicUsize,
    /// Requests the handler answered.
    pub completed: AtomicUsize,
}

/// The service: simulated work, then `done PATH`.
async fn work(
    req: Request<Incoming>,
    counts: Arc<Counts>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let n = counts.accepted.fetch_add(1, Ordering::SeqCst) as u64;
    waza::time::sleep(Duration::from_millis(20 + n * 7 % 60)).await;
    let body = format!("done {}", req.uri().path());
    counts.completed.fetch_add(1, Ordering::SeqCst);
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// A running server, and the moment its Ctrl-C arrived.
pub struct Server {
    task: waza::JoinHandle<io::Result<()>>,
    interrupted: waza::sync::oneshot::Receiver<()>,
}

impl Server {
    /// Starts serving on `listener`; SIGINT (delivered to `sigint`) starts the shutdown.
    pub fn start(listener: TcpListener, mut sigint: Signal, counts: Arc<Counts>) -> Server {
        let (interrupted_tx, interrupted) = waza::sync::oneshot::channel();
        let shutdown = async move {
            sigint.recv().await;
            println!("graceful_shutdown: Ctrl-C: no new connections; finishing requests in flight");
            let _ = interrupted_tx.send(());
        };
        let svc = service_fn(move |req| work(req, counts.clone()));
        let task = waza::spawn(
            waza::hyper::serve(listener, svc)
                .with_graceful_shutdown(shutdown)
                .into_future(),
        );
        Server { task, interrupted }
    }

    /// Waits for Ctrl-C, then for the server to drain, within [`GRACE`] of the signal (a
    /// `Context` deadline, as Go's `srv.Shutdown(ctx)`).
    ///
    /// # Errors
    ///
    /// A listener error, or requests still running at the deadline.
    pub async fn finish(self) -> Result<(), String> {
        let Server { task, interrupted } = self;
        let mut task = std::pin::pin!(task);
        waza::select! {
            res = task.as_mut() => return flatten(res),
            _ = interrupted => {}
        }
        let (ctx, _cancel) = Context::background().with_timeout(GRACE);
        waza::select! {
            res = task.as_mut() => flatten(res),
            _ = ctx.done() => Err(format!("requests still in flight {GRACE:?} after Ctrl-C")),
        }
    }
}

fn flatten(res: Result<io::Result<()>, waza::JoinError>) -> Result<(), String> {
    match res {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("server: {e}")),
        Err(e) => Err(format!("server task: {e}")),
    }
}

/// Listens for SIGINT (first, so that it can never kill the process half-way), then binds
/// 127.0.0.1:`port`.
///
/// # Errors
///
/// If the handler cannot be installed, or the bind error (naming the address).
pub async fn setup(port: u16) -> io::Result<(Signal, TcpListener)> {
    let sigint = signal(SignalKind::interrupt())?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    Ok((sigint, listener))
}

/// Serves on 127.0.0.1:`port` until Ctrl-C, then shuts down gracefully.
///
/// # Errors
///
/// As [`setup`] and [`Server::finish`].
pub async fn serve_until_ctrl_c(port: u16) -> Result<(), String> {
    let (sigint, listener) = setup(port).await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("graceful_shutdown: listening on http://{addr}/ (Ctrl-C to stop)");
    let counts = Arc::new(Counts::default());
    Server::start(listener, sigint, counts.clone())
        .finish()
        .await?;
    println!(
        "graceful_shutdown: stopped; {} requests answered",
        counts.completed.load(Ordering::SeqCst)
    );
    Ok(())
}

/// Concurrent clients in the demo.
pub const CLIENTS: usize = 16;
/// Requests the demo lets the server answer before it sends SIGINT.
pub const BEFORE_SIGNAL: usize = 60;

/// Serves on a free port, loads the server from [`CLIENTS`] keep-alive clients, sends the
/// process SIGINT (with `kill -INT`, a waza child process) once [`BEFORE_SIGNAL`] requests
/// were answered, and checks that every accepted request was answered to its client.
///
/// # Errors
///
/// A dropped request, a wrong answer, or a shutdown past the deadline.
pub async fn demo(out: &Out) -> Result<(), String> {
    let (sigint, listener) = setup(0).await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    out.line(format!("graceful_shutdown listening on http://{addr}/"));
    let counts = Arc::new(Counts::default());
    let server = Server::start(listener, sigint, counts.clone());
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let answered = answered.clone();
            waza::spawn(async move { load(addr, c, &answered).await })
        })
        .collect();
    // Mid-load: many requests are in flight, far from all are done.
    while counts.completed.load(Ordering::SeqCst) < BEFORE_SIGNAL {
        waza::time::sleep(Duration::from_millis(2)).await;
    }
    let pid = std::process::id().to_string();
    let kill = waza::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .map_err(|e| format!("kill -INT: {e}"))?;
    ensure(kill.success(), || format!("kill -INT {pid}: {kill}"))?;
    let in_flight =
        counts.accepted.load(Ordering::SeqCst) - counts.completed.load(Ordering::SeqCst);
    out.line(format!(
        "sent SIGINT with about {in_flight} requests in flight"
    ));
    server.finish().await?;
    for c in clients {
        c.await.map_err(|e| e.to_string())??;
    }
    let accepted = counts.accepted.load(Ordering::SeqCst);
    let completed = counts.completed.load(Ordering::SeqCst);
    let answered = answered.load(Ordering::SeqCst);
    out.line(format!(
        "{accepted} requests accepted, {completed} completed, {answered} answered to clients"
    ));
    ensure(accepted > BEFORE_SIGNAL, || {
        "no request was in flight at the signal"
    })?;
    ensure(accepted == completed && completed == answered, || {
        format!("requests were dropped: {accepted} accepted, {completed} completed, {answered} answered")
    })?;
    out.line("no accepted request was dropped");
    Ok(())
}

/// One client: requests on a keep-alive connection until the server closes it. A
/// connection closed before an answer is the server going away, not a dropped request (the
/// server counts what it accepted); a wrong answer is an error.
async fn load(addr: SocketAddr, c: usize, answered: &AtomicUsize) -> Result<(), String> {
    let Ok(mut client) = Client::connect(addr).await else {
        return Ok(());
    };
    for i in 0.. {
        let path = format!("/c{c}/r{i}");
        match client.get(&path).await {
            Ok(a) if a.status == 200 && a.body == format!("done {path}") => {
                answered.fetch_add(1, Ordering::SeqCst);
            }
            Ok(a) => return Err(format!("GET {path}: {a:?}")),
            Err(_) => break,
        }
    }
    Ok(())
}
