//! [`File`]: a file on the blocking pool, buffered in both directions, and [`OpenOptions`].
//!
//! # The buffer
//!
//! A `File` is idle, holding its [`Buf`], or busy, the `Buf` lent to one pool job (a read,
//! a write or a seek) whose `JoinHandle` it holds. The `Buf` is in one of two modes:
//!
//! - **read-ahead:** `data[pos..]` are bytes read from the OS but not yet returned. The OS
//!   file position is ahead of the caller's by `data.len() - pos`; a seek subtracts that,
//!   and a write first seeks back by it (`seek_back`).
//! - **write-behind:** `data` are bytes accepted by `poll_write` but not yet written. Small
//!   writes collect until [`COALESCE`] bytes; then (or on flush, read, seek or drop) one job
//!   writes them all. `poll_write` returns as soon as the bytes are in the buffer, so a
//!   write error is reported by the next write or flush, as with tokio.
//!
//! A read asks the OS for at least [`READ_AHEAD`] bytes, so small reads share a job.

use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::{asyncify, with_path};
use crate::JoinHandle;

/// The least a read asks the OS for.
const READ_AHEAD: usize = 16 * 1024;
/// Write-behind bytes collected before a write job starts.
const COALESCE: usize = 16 * 1024;
/// The most one job reads or writes.
const MAX_BUF: usize = 2 * 1024 * 1024;

/// Pool jobs started by every `File` so far (tests count round trips with it).
static JOBS: AtomicU64 = AtomicU64::new(0);

/// How many blocking-pool jobs `File`s have started in this process. For tests that check
/// buffering; not part of the stable API.
#[doc(hidden)]
pub fn __file_jobs() -> u64 {
    JOBS.load(Ordering::Relaxed)
}

/// An open file whose operations run on the blocking pool: futures-io `AsyncRead`,
/// `AsyncWrite` and `AsyncSeek`.
///
/// Writes are buffered: call `flush` (or `close`) to learn whether they reached the OS.
/// Dropping a `File` with buffered bytes still writes them, on the pool, but any error is
/// lost. `sync_all` makes them durable.
///
/// # Examples
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
/// use waza::fs::File;
///
/// waza::block_on(async {
///     let path = std::env::temp_dir().join(format!("waza-doc-file-{}", std::process::id()));
///     let mut f = File::create(&path).await?;
///     f.write_all(b"hello, world").await?;
///     f.flush().await?;
///     drop(f);
///
///     let mut f = File::open(&path).await?;
///     f.seek(SeekFrom::Start(7)).await?;
///     let mut s = String::new();
///     f.read_to_string(&mut s).await?;
///     assert_eq!(s, "world");
///     waza::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    state: State,
    /// The error of a write job that no write or flush has returned yet.
    write_error: Option<io::Error>,
}

enum State {
    /// Invariant: `Some` except inside a method that moves the buffer into a job.
    Idle(Option<Buf>),
    Busy(JoinHandle<(Op, Buf)>),
}

/// The outcome of a pool job.
enum Op {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    /// Read-ahead: bytes before `pos` were returned already. Always 0 in write-behind.
    pos: usize,
    /// Whether `data` is write-behind (else read-ahead).
    writing: bool,
    /// Bytes the OS position is ahead of the caller's, to undo before the next write.
    seek_back: u64,
}

impl Buf {
    /// Unreturned read-ahead bytes.
    fn unread(&self) -> usize {
        if self.writing {
            0
        } else {
            self.data.len() - self.pos
        }
    }

    /// Unwritten write-behind bytes.
    fn unwritten(&self) -> usize {
        if self.writing {
            self.data.len()
        } else {
            0
        }
    }

    /// Drops read-ahead (remembering to seek back over it) and switches to write-behind.
    fn start_writing(&mut self) {
        if !self.writing {
            self.seek_back += self.unread() as u64;
            self.data.clear();
            self.pos = 0;
            self.writing = true;
        }
    }

    /// Copies read-ahead into `dst`.
    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.unread().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    /// Read job: fills the buffer with up to `len` bytes from the file.
    fn read_from(&mut self, file: &std::fs::File, len: usize) -> io::Result<usize> {
        self.data.clear();
        self.data.resize(len, 0);
        self.pos = 0;
        self.writing = false;
        let res = loop {
            match (&mut &*file).read(&mut self.data) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                res => break res,
            }
        };
        self.data.truncate(*res.as_ref().unwrap_or(&0));
        res
    }

    /// Write job: undoes read-ahead, then writes every buffered byte.
    fn write_to(&mut self, file: &std::fs::File) -> io::Result<()> {
        let res = self
            .undo_read_ahead(file)
            .and_then(|()| (&mut &*file).write_all(&self.data));
        self.data.clear();
        res
    }

    fn undo_read_ahead(&mut self, file: &std::fs::File) -> io::Result<()> {
        if self.seek_back > 0 {
            let back = i64::try_from(self.seek_back).unwrap_or(i64::MAX);
            (&mut &*file).seek(SeekFrom::Current(-back))?;
            self.seek_back = 0;
        }
        Ok(())
    }
}

impl File {
    /// Opens an existing file for reading.
    ///
    /// # Errors
    ///
    /// The OS error (e.g. `NotFound`), naming the path.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a file opened for a dropped call is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let err = waza::fs::File::open("/no/such/file").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(err.to_string().contains("/no/such/file"));
    /// });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates (or truncates) a file for writing.
    ///
    /// # Errors
    ///
    /// The OS error, naming the path.
    ///
    /// # Cancel safety
    ///
    /// A dropped call may still create the file.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("waza-doc-create-{}", std::process::id()));
    ///     let f = waza::fs::File::create(&path).await?;
    ///     assert_eq!(f.metadata().await?.len(), 0);
    ///     waza::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// A new [`OpenOptions`] builder.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file.
    pub fn from_std(file: std::fs::File) -> File {
        File {
            std: Arc::new(file),
            state: State::Idle(Some(Buf::default())),
            write_error: None,
        }
    }

    /// Flushes buffered writes, moves the OS position back to the caller's, and returns
    /// the std file.
    ///
    /// # Errors
    ///
    /// The error of a buffered write or of the seek.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call leaves the `File` usable.
    pub async fn into_std(mut self) -> io::Result<std::fs::File> {
        self.settle().await?;
        let std = self.std.clone();
        // Settled: no job holds a clone, and dropping `self` starts none.
        drop(self);
        Ok(Arc::try_unwrap(std).expect("no pool job holds the file once it is settled"))
    }

    /// The file's metadata.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// Flushes buffered writes, then truncates or extends the file to `size` bytes.
    ///
    /// # Errors
    ///
    /// The error of a buffered write, or the OS error.
    ///
    /// # Cancel safety
    ///
    /// A dropped call may have flushed, and may still resize.
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.settle().await?;
        let std = self.std.clone();
        asyncify(move || std.set_len(size)).await
    }

    /// Flushes buffered writes, then waits until data and metadata are on disk (`fsync`).
    ///
    /// # Errors
    ///
    /// The error of a buffered write, or the OS error.
    ///
    /// # Cancel safety
    ///
    /// A dropped call may still sync.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_flush_inner(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.sync_all()).await
    }

    /// Like [`File::sync_all`] without waiting for metadata (`fdatasync`).
    ///
    /// # Errors
    ///
    /// The error of a buffered write, or the OS error.
    ///
    /// # Cancel safety
    ///
    /// A dropped call may still sync.
    pub async fn sync_data(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_flush_inner(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.sync_data()).await
    }

    /// Sets the file's permissions.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// A dropped call may still change them.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        asyncify(move || std.set_permissions(perm)).await
    }

    /// Flushes writes and undoes read-ahead: the OS position is then the caller's.
    async fn settle(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_flush_inner(cx)).await?;
        std::future::poll_fn(|cx| self.poll_seek_inner(cx, SeekFrom::Current(0))).await?;
        Ok(())
    }

    /// The idle buffer.
    fn buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(Some(buf)) => buf,
            _ => unreachable!("File::buf called while busy"),
        }
    }

    /// Lends the buffer to `job` on the pool.
    fn start<F>(&mut self, job: F)
    where
        F: FnOnce(&std::fs::File, &mut Buf) -> Op + Send + 'static,
    {
        let State::Idle(slot) = &mut self.state else {
            unreachable!("File::start called while busy")
        };
        let mut buf = slot.take().expect("File buffer present when idle");
        JOBS.fetch_add(1, Ordering::Relaxed);
        let std = self.std.clone();
        self.state = State::Busy(crate::spawn_blocking(move || {
            let op = job(&std, &mut buf);
            (op, buf)
        }));
    }

    /// Starts a job writing the write-behind bytes.
    fn start_write(&mut self) {
        self.start(|file, buf| Op::Write(buf.write_to(file)));
    }

    /// If busy, waits for the job and returns its outcome (the buffer is idle again).
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Op>>> {
        let State::Busy(handle) = &mut self.state else {
            return Poll::Ready(Ok(None));
        };
        let (op, buf) = match ready!(Pin::new(handle).poll(cx)) {
            Ok(done) => done,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {
                return Poll::Ready(Err(io::Error::other("the waza runtime has shut down")));
            }
        };
        self.state = State::Idle(Some(buf));
        if let Op::Write(Err(e)) = op {
            self.write_error = Some(e);
            return Poll::Ready(Ok(Some(Op::Write(Ok(())))));
        }
        Poll::Ready(Ok(Some(op)))
    }

    fn poll_read_inner(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match ready!(self.poll_job(cx))? {
                Some(Op::Read(Ok(0))) => return Poll::Ready(Ok(0)),
                Some(Op::Read(Err(e))) => return Poll::Ready(Err(e)),
                Some(_) | None => {}
            }
            let buf = self.buf();
            if buf.unread() > 0 || dst.is_empty() {
                return Poll::Ready(Ok(buf.copy_to(dst)));
            }
            if buf.unwritten() > 0 {
                self.start_write();
                continue;
            }
            let len = dst.len().clamp(READ_AHEAD, MAX_BUF);
            self.start(move |file, buf| {
                Op::Read(
                    buf.undo_read_ahead(file)
                        .and_then(|()| buf.read_from(file, len)),
                )
            });
        }
    }

    fn poll_write_inner(&mut self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.poll_job(cx))?;
            if let Some(e) = self.write_error.take() {
                return Poll::Ready(Err(e));
            }
            let buf = self.buf();
            buf.start_writing();
            if buf.data.len() + src.len() <= COALESCE {
                buf.data.extend_from_slice(src);
                return Poll::Ready(Ok(src.len()));
            }
            if buf.data.is_empty() {
                let n = src.len().min(MAX_BUF);
                buf.data.extend_from_slice(&src[..n]);
                self.start_write();
                return Poll::Ready(Ok(n));
            }
            self.start_write();
        }
    }

    fn poll_flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_job(cx))?;
            if self.buf().unwritten() == 0 {
                return Poll::Ready(self.write_error.take().map_or(Ok(()), Err));
            }
            self.start_write();
        }
    }

    fn poll_seek_inner(&mut self, cx: &mut Context<'_>, pos: SeekFrom) -> Poll<io::Result<u64>> {
        loop {
            if let Some(Op::Seek(res)) = ready!(self.poll_job(cx))? {
                return Poll::Ready(res);
            }
            let buf = self.buf();
            if buf.unwritten() > 0 {
                self.start_write();
                continue;
            }
            let unread = buf.unread() as i64;
            buf.data.clear();
            buf.pos = 0;
            let pos = match pos {
                SeekFrom::Current(n) => SeekFrom::Current(n - unread),
                other => other,
            };
            self.start(move |file, buf| {
                Op::Seek(
                    buf.undo_read_ahead(file)
                        .and_then(|()| (&mut &*file).seek(pos)),
                )
            });
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_inner(cx, buf)
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_inner(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_inner(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_inner(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.get_mut().poll_seek_inner(cx, pos)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let State::Idle(Some(buf)) = &mut self.state else {
            return; // a running job keeps the file open until it ends
        };
        if buf.unwritten() == 0 {
            return;
        }
        let pending = PendingWrite(Some((std::mem::take(buf), self.std.clone())));
        match crate::Handle::try_current() {
            Some(handle) => drop(handle.spawn_blocking(move || drop(pending))),
            None => drop(pending),
        }
    }
}

/// Write-behind bytes of a dropped [`File`]: written when this is dropped, which is on the
/// pool, or right where the job is discarded if the pool no longer runs jobs (shutdown),
/// so the bytes are never silently lost.
struct PendingWrite(Option<(Buf, Arc<std::fs::File>)>);

impl Drop for PendingWrite {
    fn drop(&mut self) {
        if let Some((mut buf, file)) = self.0.take() {
            // Nobody is left to report an error to.
            let _ = buf.write_to(&file);
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("std", &self.std).finish()
    }
}

/// Options for opening a file, as `std::fs::OpenOptions`, with an async `open`.
///
/// # Examples
///
/// ```
/// use futures::io::AsyncWriteExt;
///
/// waza::block_on(async {
///     let path = std::env::temp_dir().join(format!("waza-doc-append-{}", std::process::id()));
///     waza::fs::write(&path, b"a").await?;
///     let mut f = waza::fs::OpenOptions::new().append(true).open(&path).await?;
///     f.write_all(b"b").await?;
///     f.flush().await?;
///     assert_eq!(waza::fs::read(&path).await?, b"ab");
///     waza::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Options with every flag off.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Every write goes to the end of the file.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate the file to 0 bytes when opening it.
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    ///
    /// The OS error, naming the path.
    ///
    /// # Cancel safety
    ///
    /// A file opened for a dropped call is closed (but may have been created).
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let (opts, path) = (self.0.clone(), path.as_ref().to_owned());
        let std = asyncify(move || opts.open(&path).map_err(|e| with_path(e, &path))).await?;
        Ok(File::from_std(std))
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

#[cfg(unix)]
impl std::os::unix::fs::OpenOptionsExt for OpenOptions {
    fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.0.mode(mode);
        self
    }

    fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.0.custom_flags(flags);
        self
    }
}
