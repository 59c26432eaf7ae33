//! A request/response workload for stream sockets that mixes full reads (the buffer is
//! filled and more data stays queued) with short reads (the kernel buffer is drained), to
//! check that no read ever waits for a readiness edge that will not come.
//!
//! Include with `#[path = "support/request_rounds.rs"] mod request_rounds;`.

use std::time::Duration;

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes in one request: two 8-byte halves sent with one write.
const REQUEST: usize = 16;

/// Request `i`: distinct per round and per byte.
fn request(i: usize) -> [u8; REQUEST] {
    std::array::from_fn(|j| ((i * 31 + j * 7) % 251) as u8)
}

/// Runs `rounds` rounds between `client` and `server` on the current runtime and returns
/// how many replies the client checked.
///
/// Each round the client sends 16 bytes at once. The server reads the first 8 with an
/// 8-byte buffer (a full read: the other 8 are already queued, so no new edge will announce
/// them), then the rest with a 4 KiB buffer (a short read that drains the socket), and
/// replies with the first half. The client's next request is only sent after that reply,
/// so the server's next read always has to wait for a fresh edge.
///
/// # Panics
///
/// If a reply differs from its request, on an I/O error, or if the rounds take more than
/// 10 s (a lost wake-up fails the test instead of hanging it).
pub async fn run<C, S>(mut client: C, mut server: S, rounds: usize) -> usize
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let server = waza::spawn(async move {
        for i in 0..rounds {
            let mut first = [0u8; 8];
            server.read_exact(&mut first).await.unwrap();
            let mut rest = Vec::new();
            while rest.len() < REQUEST - 8 {
                let mut big = [0u8; 4096];
                let n = server.read(&mut big).await.unwrap();
                assert!(n > 0, "client closed early in round {i}");
                rest.extend_from_slice(&big[..n]);
            }
            assert_eq!(rest, request(i)[8..], "second half of request {i}");
            server.write_all(&first).await.unwrap();
        }
    });
    let client = waza::spawn(async move {
        let mut checked = 0;
        for i in 0..rounds {
            client.write_all(&request(i)).await.unwrap();
            let mut reply = [0u8; 8];
            client.read_exact(&mut reply).await.unwrap();
            assert_eq!(reply, request(i)[..8], "reply to request {i}");
            checked += 1;
        }
        checked
    });
    let both = async {
        server.await.unwrap();
        client.await.unwrap()
    };
    waza::time::timeout(Duration::from_secs(10), both)
        .await
        .expect("request/response rounds stalled (lost wake-up?)")
}
