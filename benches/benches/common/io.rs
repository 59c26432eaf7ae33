//! The I/O and timer workloads, waza vs tokio, each on its own 2-worker runtime.
//!
//! - TCP echo: a server task accepts [`CONNECTIONS`] connections on 127.0.0.1 and echoes
//!   each on its own task; one client task per connection makes [`ROUND_TRIPS`] round
//!   trips of a [`MESSAGE`]-byte message, checking every echo. The time includes the
//!   connects.
//! - Sleeps: [`SLEEPS`] tasks each sleep a pseudo-random 0–50 ms and record how late they
//!   woke (actual minus requested); the workload returns the lateness samples so the caller
//!   can report percentiles.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::exec::{Exec, Tokio, Waza};

/// Concurrent connections in the echo workload.
pub const CONNECTIONS: usize = 64;
/// Round trips per connection.
pub const ROUND_TRIPS: usize = 100;
/// Bytes per message.
pub const MESSAGE: usize = 64;
/// Sleeping tasks in the sleep workload.
pub const SLEEPS: usize = 200_000;
/// Upper bound of a sleep, in microseconds.
const MAX_SLEEP_US: u64 = 50_000;

/// The message a client sends in round trip `r`: every byte tagged with `r` and `i`.
fn message(r: usize) -> [u8; MESSAGE] {
    std::array::from_fn(|i| (r * 31 + i) as u8)
}

/// The requested sleep of task `i`: a fixed pseudo-random spread over 0..50 ms.
fn sleep_of(i: usize) -> Duration {
    let h = (i as u64 ^ 0x5DEE_CE66).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    Duration::from_micros(h % MAX_SLEEP_US)
}

/// Sums the round trips of every client task.
async fn total<J: std::future::Future<Output = usize>>(clients: Vec<J>) -> usize {
    let mut n = 0;
    for c in clients {
        n += c.await;
    }
    n
}

/// TCP echo on waza's `net`; returns the number of verified round trips.
pub fn waza_echo(ex: &Waza) -> usize {
    use futures::{AsyncReadExt, AsyncWriteExt};
    use waza::net::{TcpListener, TcpStream};

    async fn serve(mut s: TcpStream) {
        let mut buf = [0u8; MESSAGE];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) if s.write_all(&buf[..n]).await.is_err() => return,
                Ok(_) => {}
            }
        }
    }

    async fn client(addr: SocketAddr) -> usize {
        let mut s = TcpStream::connect(addr).await.expect("connects");
        s.set_nodelay(true).expect("nodelay");
        let mut buf = [0u8; MESSAGE];
        for r in 0..ROUND_TRIPS {
            s.write_all(&message(r)).await.expect("writes");
            s.read_exact(&mut buf).await.expect("reads the echo");
            assert_eq!(buf, message(r), "echo differs");
        }
        ROUND_TRIPS
    }

    let inner = ex.clone();
    ex.run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let acceptor = inner.clone();
        inner.go(async move {
            for _ in 0..CONNECTIONS {
                let (s, _) = listener.accept().await.expect("accepts");
                s.set_nodelay(true).expect("nodelay");
                acceptor.go(serve(s));
            }
        });
        total(
            (0..CONNECTIONS)
                .map(|_| inner.spawn(client(addr)))
                .collect(),
        )
        .await
    })
}

/// TCP echo on tokio's `net`; returns the number of verified round trips.
pub fn tokio_echo(ex: &Tokio) -> usize {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn serve(mut s: TcpStream) {
        let mut buf = [0u8; MESSAGE];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) if s.write_all(&buf[..n]).await.is_err() => return,
                Ok(_) => {}
            }
        }
    }

    async fn client(addr: SocketAddr) -> usize {
        let mut s = TcpStream::connect(addr).await.expect("connects");
        s.set_nodelay(true).expect("nodelay");
        let mut buf = [0u8; MESSAGE];
        for r in 0..ROUND_TRIPS {
            s.write_all(&message(r)).await.expect("writes");
            s.read_exact(&mut buf).await.expect("reads the echo");
            assert_eq!(buf, message(r), "echo differs");
        }
        ROUND_TRIPS
    }

    let inner = ex.clone();
    ex.run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let acceptor = inner.clone();
        inner.go(async move {
            for _ in 0..CONNECTIONS {
                let (s, _) = listener.accept().await.expect("accepts");
                s.set_nodelay(true).expect("nodelay");
                acceptor.go(serve(s));
            }
        });
        total(
            (0..CONNECTIONS)
                .map(|_| inner.spawn(client(addr)))
                .collect(),
        )
        .await
    })
}

/// [`SLEEPS`] sleeping tasks on waza; every task's lateness in microseconds.
pub fn waza_sleeps(ex: &Waza) -> Vec<u64> {
    let inner = ex.clone();
    ex.run(async move {
        let tasks: Vec<_> = (0..SLEEPS)
            .map(|i| {
                inner.spawn(async move {
                    let (d, start) = (sleep_of(i), Instant::now());
                    waza::time::sleep(d).await;
                    start.elapsed().saturating_sub(d).as_micros() as u64
                })
            })
            .collect();
        let mut late = Vec::with_capacity(SLEEPS);
        for t in tasks {
            late.push(t.await);
        }
        late
    })
}

/// [`SLEEPS`] sleeping tasks on tokio; every task's lateness in microseconds.
pub fn tokio_sleeps(ex: &Tokio) -> Vec<u64> {
    let inner = ex.clone();
    ex.run(async move {
        let tasks: Vec<_> = (0..SLEEPS)
            .map(|i| {
                inner.spawn(async move {
                    let (d, start) = (sleep_of(i), Instant::now());
                    tokio::time::sleep(d).await;
                    start.elapsed().saturating_sub(d).as_micros() as u64
                })
            })
            .collect();
        let mut late = Vec::with_capacity(SLEEPS);
        for t in tasks {
            late.push(t.await);
        }
        late
    })
}
