//! Feature `tokio-io`: code written against tokio's io traits (here tokio's own
//! `AsyncReadExt`/`AsyncWriteExt`, `BufReader::lines` and `copy`) runs on waza's sockets,
//! files and pipes, on waza's runtime.

#![cfg(feature = "tokio-io")]

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use waza::net::{TcpListener, TcpStream};

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 % 251) as u8).collect()
}

#[test]
fn tcp_echo_through_tokio_traits() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = waza::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (mut rd, mut wr) = stream.into_split();
            // tokio's copy, from a waza read half to a waza write half.
            let n = tokio::io::copy(&mut rd, &mut wr).await.unwrap();
            wr.shutdown().await.unwrap();
            n
        });
        let data = payload(1 << 20);
        let (mut rd, mut wr) = TcpStream::connect(addr).await.unwrap().into_split();
        let sent = data.clone();
        let writer = waza::spawn(async move {
            wr.write_all(&sent).await.unwrap();
            wr.shutdown().await.unwrap();
        });
        let mut got = Vec::new();
        rd.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(server.await.unwrap(), data.len() as u64);
        assert!(got == data);
    });
}

#[test]
fn whole_streams_and_files_through_tokio_traits() {
    let path = std::env::temp_dir().join(format!("waza-tokio-io-{}", std::process::id()));
    rt().block_on(async {
        // A whole TcpStream, both directions on one value.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = waza::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
            AsyncWriteExt::shutdown(&mut s).await.unwrap();
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"hello").await.unwrap();
        let mut back = String::new();
        c.read_to_string(&mut back).await.unwrap();
        assert_eq!(back, "hello");
        server.await.unwrap();

        // A file: written with tokio's write_all, read back line by line.
        let mut f = waza::fs::File::create(&path).await.unwrap();
        for i in 0..1000 {
            f.write_all(format!("line {i}\n").as_bytes()).await.unwrap();
        }
        f.shutdown().await.unwrap();
        drop(f);
        let mut lines = BufReader::new(waza::fs::File::open(&path).await.unwrap()).lines();
        let mut n = 0;
        while let Some(line) = lines.next_line().await.unwrap() {
            assert_eq!(line, format!("line {n}"));
            n += 1;
        }
        assert_eq!(n, 1000);
        waza::fs::remove_file(&path).await.unwrap();
    });
}

#[cfg(unix)]
#[test]
fn child_pipes_through_tokio_traits() {
    use waza::process::{Command, Stdio};
    rt().block_on(async {
        let mut child = Command::new("tr")
            .args(["a-z", "A-Z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"shout\n").await.unwrap();
        stdin.shutdown().await.unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .await
            .unwrap();
        assert_eq!(out, "SHOUT\n");
        assert!(child.wait().await.unwrap().success());
    });
}
