//! I/O traits and helpers: the futures-io vocabulary a tokio program reaches for, plus
//! waza's own plumbing.
//!
//! waza's sockets, pipes and files implement the `futures-io` traits ([`AsyncRead`],
//! [`AsyncWrite`], [`AsyncBufRead`], [`AsyncSeek`]); the extension traits and adapters
//! re-exported here (from `futures-util`) give them tokio's everyday methods, so a port
//! mostly changes `use tokio::io::…` into `use waza::io::…`:
//!
//! | tokio | waza |
//! |---|---|
//! | `AsyncReadExt::read`, `read_exact`, `read_to_end`, `read_to_string` | the same, on [`AsyncReadExt`] |
//! | `AsyncWriteExt::write_all`, `flush`, `shutdown` | `write_all`, `flush`, **`close`** on [`AsyncWriteExt`] |
//! | `BufReader::new(r).lines()` + `next_line().await` | `BufReader::new(r).lines()` is a `Stream`: `lines.next().await` (`futures::StreamExt`) |
//! | `read_line`, `read_until` | the same, on [`AsyncBufReadExt`] |
//! | `copy(&mut r, &mut w)`, `copy_buf`, `split(s)` | [`copy`]`(r, &mut w)`, [`copy_buf`], [`split`] |
//! | `empty()`, `sink()`, `repeat(b)` | [`empty`], [`sink`], [`repeat`] |
//!
//! Beyond these, on unix, [`unix::AsyncFd`] drives any file descriptor through the
//! runtime's reactor. With the `tokio-io` feature, waza's sockets, pipes and files also
//! implement tokio's `AsyncRead`/`AsyncWrite`.
//!
//! # Examples
//!
//! ```
//! use waza::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Cursor};
//!
//! waza::block_on(async {
//!     let mut out = Cursor::new(Vec::new());
//!     out.write_all(b"one\ntwo\n").await?;
//!     let mut reader = BufReader::new(Cursor::new(out.into_inner()));
//!     let mut first = String::new();
//!     reader.read_line(&mut first).await?;
//!     let mut rest = String::new();
//!     reader.read_to_string(&mut rest).await?;
//!     assert_eq!((first.as_str(), rest.as_str()), ("one\n", "two\n"));
//!     Ok::<_, waza::io::Error>(())
//! })
//! .unwrap();
//! ```

#[cfg(unix)]
pub mod unix;

#[cfg(feature = "tokio-io")]
mod tokio_io;

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_util::io::{
    copy, copy_buf, empty, repeat, sink, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt,
    AsyncWriteExt, BufReader, BufWriter, Cursor, Lines, ReadHalf, ReuniteError, WriteHalf,
};
pub use std::io::{Error, ErrorKind, Result};

/// Splits a stream into a read half and a write half (tokio's `io::split`).
///
/// The halves share the stream through a lock and may be used from different tasks;
/// [`ReadHalf::reunite`] puts them back together. For a `TcpStream`, the lock-free
/// [`TcpStream::into_split`](crate::net::TcpStream::into_split) or two `&TcpStream`s do
/// the same without sharing.
///
/// # Examples
///
/// ```
/// use waza::io::{split, AsyncReadExt, AsyncWriteExt, Cursor};
///
/// waza::block_on(async {
///     let (mut r, mut w) = split(Cursor::new(vec![0u8; 4]));
///     w.write_all(b"hi").await?;
///     let mut rest = Vec::new();
///     r.read_to_end(&mut rest).await?;
///     assert_eq!(rest, [0, 0]); // the cursor advanced past what was written
///     assert_eq!(r.reunite(w).unwrap().into_inner(), [b'h', b'i', 0, 0]);
///     Ok::<_, waza::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn split<T: AsyncRead + AsyncWrite>(stream: T) -> (ReadHalf<T>, WriteHalf<T>) {
    AsyncReadExt::split(stream)
}
