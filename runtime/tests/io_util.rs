//! `waza::io`: a small tokio-style program ported by changing its imports.

use futures::StreamExt;
use waza::io::{
    copy, split, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter, Cursor,
    ErrorKind,
};
use waza::net::{TcpListener, TcpStream};

/// A line server: reads lines with `BufReader::lines()` and answers each with its length.
async fn serve_one(listener: TcpListener) -> waza::io::Result<usize> {
    let (stream, _) = listener.accept().await?;
    let (reader, mut writer) = split(stream);
    let mut lines = BufReader::new(reader).lines();
    let mut served = 0;
    while let Some(line) = lines.next().await {
        let line = line?;
        writer
            .write_all(format!("{}\n", line.len()).as_bytes())
            .await?;
        served += 1;
    }
    writer.close().await?;
    Ok(served)
}

#[waza::test]
async fn lines_from_a_tcp_stream() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = waza::spawn(serve_one(listener));

    let stream = TcpStream::connect(addr).await.unwrap();
    let sent = ["a", "", "three", "ünï"];
    let mut writer = BufWriter::new(&stream);
    for s in sent {
        writer.write_all(s.as_bytes()).await.unwrap();
        writer.write_all(b"\n").await.unwrap();
    }
    writer.flush().await.unwrap();
    // Half-close: the server's `lines()` ends after the last line.
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let answers: Vec<String> = BufReader::new(&stream)
        .lines()
        .map(Result::unwrap)
        .collect()
        .await;
    let expected: Vec<String> = sent.iter().map(|s| s.len().to_string()).collect();
    assert_eq!(answers, expected);
    assert_eq!(server.await.unwrap().unwrap(), sent.len());
}

#[waza::test]
async fn copy_and_in_memory_readers() {
    let mut out = Vec::new();
    let n = copy(Cursor::new(b"hello".to_vec()), &mut out)
        .await
        .unwrap();
    assert_eq!((n, out.as_slice()), (5, &b"hello"[..]));

    let mut buf = Vec::new();
    waza::io::empty().read_to_end(&mut buf).await.unwrap();
    assert!(buf.is_empty());
    let mut five = [0u8; 5];
    waza::io::repeat(7).read_exact(&mut five).await.unwrap();
    assert_eq!(five, [7; 5]);
    let written = waza::io::sink().write(b"gone").await.unwrap();
    assert_eq!(written, 4);

    let mut short = [0u8; 4];
    let err = Cursor::new(b"ab".to_vec())
        .read_exact(&mut short)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
}
