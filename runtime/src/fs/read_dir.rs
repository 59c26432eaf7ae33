//! [`read_dir`]: directory entries fetched from the blocking pool in batches.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::{asyncify, on_path, with_path};
use crate::JoinHandle;

/// Entries fetched per pool round trip.
const BATCH: usize = 32;

/// Opens the directory `path` for listing; entries come from the returned [`ReadDir`]
/// (a `Stream` of `io::Result<DirEntry>`, or `next_entry().await`). `.` and `..` are
/// skipped; the order is the file system's.
///
/// # Errors
///
/// The OS error (e.g. `NotFound`, `NotADirectory`), naming the path.
///
/// # Cancel safety
///
/// Cancel safe.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
///
/// waza::block_on(async {
///     let dir = std::env::temp_dir().join(format!("waza-doc-ls-{}", std::process::id()));
///     waza::fs::create_dir_all(&dir).await?;
///     waza::fs::write(dir.join("a"), b"").await?;
///     let mut names = Vec::new();
///     let mut entries = waza::fs::read_dir(&dir).await?;
///     while let Some(entry) = entries.next().await {
///         names.push(entry?.file_name());
///     }
///     assert_eq!(names, ["a"]);
///     waza::fs::remove_dir_all(&dir).await
/// })
/// .unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let dir = on_path(&path, |p| std::fs::read_dir(p)).await?;
    Ok(ReadDir {
        path: Arc::new(path),
        state: State::Idle(Some(Batch {
            entries: VecDeque::new(),
            dir,
            done: false,
        })),
    })
}

/// A directory listing; see [`read_dir`].
pub struct ReadDir {
    path: Arc<PathBuf>,
    state: State,
}

enum State {
    /// `None` only while a poll moves the batch into the pool.
    Idle(Option<Batch>),
    Busy(JoinHandle<Batch>),
}

struct Batch {
    entries: VecDeque<io::Result<std::fs::DirEntry>>,
    dir: std::fs::ReadDir,
    /// The OS listing is exhausted.
    done: bool,
}

impl Batch {
    /// Fetches up to [`BATCH`] entries (blocking).
    fn fill(mut self) -> Batch {
        for _ in 0..BATCH {
            match self.dir.next() {
                Some(entry) => self.entries.push_back(entry),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        self
    }
}

impl ReadDir {
    /// The next entry, or `None` at the end.
    ///
    /// # Errors
    ///
    /// The OS error while listing, naming the directory.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an entry fetched for a dropped call is returned by the next one.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        std::future::poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry (see [`ReadDir::next_entry`]).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(slot) => {
                    let mut batch = slot.take().expect("ReadDir batch is present when idle");
                    if let Some(entry) = batch.entries.pop_front() {
                        *slot = Some(batch);
                        return Poll::Ready(match entry {
                            Ok(std) => Ok(Some(DirEntry(Arc::new(std)))),
                            Err(e) => Err(with_path(e, &self.path)),
                        });
                    }
                    if batch.done {
                        *slot = Some(batch);
                        return Poll::Ready(Ok(None));
                    }
                    self.state = State::Busy(crate::spawn_blocking(move || batch.fill()));
                }
                State::Busy(handle) => {
                    let batch = match ready!(Pin::new(handle).poll(cx)) {
                        Ok(batch) => batch,
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        Err(_) => {
                            return Poll::Ready(Err(io::Error::other(
                                "the waza runtime has shut down",
                            )))
                        }
                    };
                    self.state = State::Idle(Some(batch));
                }
            }
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").field("path", &self.path).finish()
    }
}

/// One entry of a [`ReadDir`] listing.
#[derive(Debug, Clone)]
pub struct DirEntry(Arc<std::fs::DirEntry>);

impl DirEntry {
    /// The entry's full path (the directory's path joined with the file name).
    pub fn path(&self) -> PathBuf {
        self.0.path()
    }

    /// The entry's file name.
    pub fn file_name(&self) -> OsString {
        self.0.file_name()
    }

    /// The entry's metadata (not following a final symbolic link), on the blocking pool.
    ///
    /// # Errors
    ///
    /// The OS error, naming the entry's path.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let entry = self.0.clone();
        asyncify(move || entry.metadata().map_err(|e| with_path(e, &entry.path()))).await
    }

    /// The entry's file type, on the blocking pool (most file systems answer without I/O).
    ///
    /// # Errors
    ///
    /// The OS error, naming the entry's path.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn file_type(&self) -> io::Result<FileType> {
        let entry = self.0.clone();
        asyncify(move || entry.file_type().map_err(|e| with_path(e, &entry.path()))).await
    }
}
