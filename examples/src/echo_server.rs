//! A TCP echo server: one task per connection, each copying what it reads back to the
//! sender. `--demo` starts a few clients against it, checks every echo, and shuts it down.
//!
//! The Go original (the `net` package's classic example):
//!
//! ```go
//! l, err := net.Listen("tcp", "127.0.0.1:0")
//! if err != nil {
//!     log.Fatal(err)
//! }
//! for {
//!     conn, err := l.Accept()
//!     if err != nil {
//!         log.Fatal(err)
//!     }
//!     go func(c net.Conn) {
//!         io.Copy(c, c)
//!         c.Close()
//!     }(conn)
//! }
//! ```
//!
//! `&TcpStream` is both `AsyncRead` and `AsyncWrite`, so `io::copy(&conn, &mut &conn)` is
//! Go's `io.Copy(c, c)`. The accept loop also selects on a context, so the demo can stop it.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use waza::context::Context;
use waza::net::{TcpListener, TcpStream};
use waza::sync::WaitGroup;
use waza::time;

use crate::cli::ensure;
use crate::Out;

/// Accepts connections until `ctx` ends, echoing each on a task of its own; returns how
/// many connections it accepted. The connection tasks are counted in `wg`.
///
/// # Errors
///
/// An error from `accept`.
///
/// # Cancel safety
///
/// Cancel safe: the listener stops accepting; running connections keep echoing.
pub async fn serve(listener: TcpListener, ctx: Context, wg: &WaitGroup) -> io::Result<u64> {
    let mut accepted = 0;
    loop {
        let (conn, _peer) = waza::select! {
            res = listener.accept() => res?,
            _ = ctx.done() => return Ok(accepted),
        };
        accepted += 1;
        wg.go(async move {
            let mut writer = &conn;
            let _ = futures::io::copy(&conn, &mut writer).await; // io.Copy(c, c)
        }); // the task drops `conn`: c.Close()
    }
}

/// One client: sends `lines`, closes its writing half, reads the echo to the end.
///
/// # Errors
///
/// An I/O error, or `InvalidData` if the echo differs from what was sent.
pub async fn client(addr: SocketAddr, lines: &[String]) -> io::Result<String> {
    let mut conn = TcpStream::connect(addr).await?;
    let sent: String = lines.iter().map(|l| format!("{l}\n")).collect();
    conn.write_all(sent.as_bytes()).await?;
    conn.shutdown(Shutdown::Write)?;
    let mut echo = String::new();
    conn.read_to_string(&mut echo).await?;
    if echo != sent {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sent {sent:?}, echo {echo:?}"),
        ));
    }
    Ok(echo)
}

/// The demo: a server on 127.0.0.1 (any free port) and `clients` concurrent clients of 5
/// lines each; then the server is stopped. Checks every echo byte for byte, the accept
/// count, and that every connection task finished (each wait bounded by 10 s).
///
/// # Errors
///
/// A description of the first check that failed (or of an I/O error).
///
/// # Cancel safety
///
/// Dropping the future leaves the server running until its tasks end by themselves.
pub async fn demo(clients: usize, out: &Out) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    out.line(format!("echo server listening on {addr}"));
    let (ctx, cancel) = Context::background().with_cancel();
    let wg = WaitGroup::new();
    let conns = wg.clone();
    let server = waza::go!(async move { serve(listener, ctx, &conns).await });
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let lines: Vec<String> = (0..5).map(|i| format!("client {c} line {i}")).collect();
            waza::go!(async move { client(addr, &lines).await })
        })
        .collect();
    let limit = Duration::from_secs(10);
    for (c, t) in tasks.into_iter().enumerate() {
        let echo = time::timeout(limit, t)
            .await
            .map_err(|_| format!("client {c} timed out"))?
            .map_err(|e| e.to_string())?;
        let echo = echo.map_err(|e| format!("client {c}: {e}"))?;
        out.line(format!(
            "client {c}: {} lines echoed intact",
            echo.lines().count()
        ));
    }
    cancel.cancel();
    let accepted = server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    time::timeout(limit, wg.wait())
        .await
        .map_err(|_| "a connection task did not finish")?;
    out.line(format!("server stopped after {accepted} connections"));
    ensure(accepted == clients as u64, || {
        format!("accepted {accepted}, expected {clients}")
    })
}

/// Serves on 127.0.0.1 (any free port) until the process is killed.
///
/// # Errors
///
/// An error from binding or accepting.
pub async fn serve_forever() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "echo server listening on {}; try: nc 127.0.0.1 {}",
        listener.local_addr()?,
        listener.local_addr()?.port()
    );
    serve(listener, Context::background(), &WaitGroup::new()).await?;
    Ok(())
}
