//! A UDP echo server: one task answers every datagram with the same bytes. `--demo` sends
//! it numbered datagrams from a client and checks every reply.
//!
//! The Go original (the `net` package's `ListenPacket` idiom):
//!
//! ```go
//! pc, err := net.ListenPacket("udp", "127.0.0.1:0")
//! if err != nil {
//!     log.Fatal(err)
//! }
//! buf := make([]byte, 1500)
//! for {
//!     n, addr, err := pc.ReadFrom(buf)
//!     if err != nil {
//!         log.Fatal(err)
//!     }
//!     pc.WriteTo(buf[:n], addr)
//! }
//! ```
//!
//! UDP may drop datagrams, even on loopback under load, so the client resends a datagram
//! whose reply does not come within a second (up to three times) and ignores stale replies.

use std::io;
use std::time::Duration;

use waza::context::Context;
use waza::net::UdpSocket;
use waza::time;

use crate::cli::ensure;
use crate::Out;

/// Echoes datagrams on `sock` until `ctx` ends; returns how many it echoed.
///
/// # Errors
///
/// An error from receiving or sending.
///
/// # Cancel safety
///
/// Cancel safe: a datagram is either echoed or not yet received.
pub async fn serve(sock: UdpSocket, ctx: Context) -> io::Result<u64> {
    let mut buf = vec![0u8; 1500];
    let mut echoed = 0;
    loop {
        let (n, peer) = waza::select! {
            res = sock.recv_from(&mut buf) => res?,
            _ = ctx.done() => return Ok(echoed),
        };
        sock.send_to(&buf[..n], peer).await?;
        echoed += 1;
    }
}

/// Sends `ping {i}` for each `i` in `0..count` to `server` and waits for its echo; returns
/// how many datagrams had to be sent again.
///
/// # Errors
///
/// An I/O error, or `TimedOut` when a datagram got no echo after three tries.
pub async fn client(server: std::net::SocketAddr, count: u32) -> io::Result<u32> {
    let sock = UdpSocket::bind("127.0.0.1:0").await?;
    sock.connect(server).await?;
    let mut buf = [0u8; 64];
    let mut resent = 0;
    for i in 0..count {
        let ping = format!("ping {i}");
        let mut tries = 0;
        'retry: loop {
            tries += 1;
            if tries > 3 {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{ping}: no echo"),
                ));
            }
            resent += u32::from(tries > 1);
            sock.send(ping.as_bytes()).await?;
            let deadline = time::after(Duration::from_secs(1));
            loop {
                waza::select! {
                    // A stale echo of an earlier try is skipped.
                    res = sock.recv(&mut buf) => if &buf[..res?] == ping.as_bytes() {
                        break 'retry;
                    },
                    _ = deadline.recv() => continue 'retry,
                }
            }
        }
    }
    Ok(resent)
}

/// The demo: a server on 127.0.0.1 (any free port), a client sending 20 datagrams; then
/// the server is stopped. Checks every echo and that the server echoed every datagram sent
/// (the count includes resends).
///
/// # Errors
///
/// A description of the first check that failed (or of an I/O error).
///
/// # Cancel safety
///
/// Dropping the future leaves the server running until it is dropped with the runtime.
pub async fn demo(out: &Out) -> Result<(), String> {
    let sock = UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = sock.local_addr().map_err(|e| e.to_string())?;
    out.line(format!("udp echo server on {addr}"));
    let (ctx, cancel) = Context::background().with_cancel();
    let server = waza::go!(serve(sock, ctx));
    let count = 20;
    let resent = client(addr, count).await.map_err(|e| e.to_string())?;
    cancel.cancel();
    let echoed = server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    out.line(format!(
        "{count} datagrams echoed intact ({resent} resent); the server echoed {echoed}"
    ));
    // A resent datagram may have been echoed twice (the first reply was only late).
    ensure(
        (u64::from(count)..=u64::from(count + resent)).contains(&echoed),
        || format!("the server echoed {echoed} for {count} sent + {resent} resent"),
    )
}

/// Serves on 127.0.0.1 (any free port) until the process is killed.
///
/// # Errors
///
/// An error from binding, receiving or sending.
pub async fn serve_forever() -> io::Result<()> {
    let sock = UdpSocket::bind("127.0.0.1:0").await?;
    let port = sock.local_addr()?.port();
    println!("udp echo server on 127.0.0.1:{port}; try: nc -u 127.0.0.1 {port}");
    serve(sock, Context::background()).await?;
    Ok(())
}
