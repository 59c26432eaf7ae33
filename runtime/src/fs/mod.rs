//! Files and directories: tokio::fs's everyday set, run on the blocking pool.
//!
//! Operating systems offer no readiness for regular files, so each operation runs as a
//! [`spawn_blocking`](crate::spawn_blocking) call and the task waits for it without holding
//! a worker. [`File`] buffers in both directions so that many small reads or writes share
//! one pool round trip. Errors keep their `io::ErrorKind` and name the path they are about.
//!
//! | Go | waza |
//! |---|---|
//! | `os.ReadFile(p)` | `waza::fs::read(p).await` |
//! | `os.WriteFile(p, b, 0o644)` | `waza::fs::write(p, b).await` |
//! | `os.MkdirAll(p, 0o755)` | `waza::fs::create_dir_all(p).await` |
//! | `os.Remove(p)` / `os.RemoveAll(p)` | `waza::fs::remove_file(p)` / `remove_dir_all(p)` |
//! | `os.Stat(p)` | `waza::fs::metadata(p).await` |
//! | `os.ReadDir(p)` | `waza::fs::read_dir(p).await` (a `Stream` of entries) |
//! | `os.Open(p)` / `os.Create(p)` | `File::open(p)` / `File::create(p)` |

mod file;
mod read_dir;

pub use file::{__file_jobs, File, OpenOptions};
pub use read_dir::{read_dir, DirEntry, ReadDir};

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// Runs `f` on the blocking pool and returns its result.
///
/// A panic in `f` resumes on the awaiting task; a call the pool never ran because the
/// runtime shut down is an error.
pub(crate) async fn asyncify<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match crate::spawn_blocking(f).await {
        Ok(res) => res,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(io::Error::other("the waza runtime has shut down")),
    }
}

/// `e` with `path` in its message; the kind is kept.
pub(crate) fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Runs `f(path)` on the blocking pool; errors name the path.
async fn on_path<T, F>(path: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_owned();
    asyncify(move || f(&path).map_err(|e| with_path(e, &path))).await
}

/// Reads a whole file.
///
/// # Errors
///
/// The OS error (e.g. `NotFound`), naming the path.
///
/// # Panics
///
/// Outside a waza runtime (as every function of this module).
///
/// # Cancel safety
///
/// Cancel safe: a dropped call finishes on the pool and its result is discarded.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let path = std::env::temp_dir().join(format!("waza-doc-read-{}", std::process::id()));
///     waza::fs::write(&path, b"hello").await?;
///     assert_eq!(waza::fs::read(&path).await?, b"hello");
///     waza::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_path(path.as_ref(), |p| std::fs::read(p)).await
}

/// Reads a whole file as UTF-8.
///
/// # Errors
///
/// The OS error naming the path, or `InvalidData` if the file is not UTF-8.
///
/// # Cancel safety
///
/// Cancel safe (see [`read`]).
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let err = waza::fs::read_to_string("/no/such/file").await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
///     assert!(err.to_string().contains("/no/such/file"));
/// });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_path(path.as_ref(), |p| std::fs::read_to_string(p)).await
}

/// Writes `contents` as the whole file, creating or truncating it.
///
/// # Errors
///
/// The OS error, naming the path.
///
/// # Cancel safety
///
/// Not cancel safe in the sense that a dropped call still writes: the write runs to the
/// end on the pool.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let path = std::env::temp_dir().join(format!("waza-doc-write-{}", std::process::id()));
///     waza::fs::write(&path, "text").await?;
///     assert_eq!(waza::fs::read_to_string(&path).await?, "text");
///     waza::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_owned();
    on_path(path.as_ref(), move |p| std::fs::write(p, contents)).await
}

/// Creates a directory and every missing parent (`mkdir -p`).
///
/// # Errors
///
/// The OS error, naming the path.
///
/// # Cancel safety
///
/// A dropped call may still create the directories.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let dir = std::env::temp_dir().join(format!("waza-doc-mkdir-{}", std::process::id()));
///     waza::fs::create_dir_all(dir.join("a/b")).await?;
///     assert!(waza::fs::metadata(dir.join("a/b")).await?.is_dir());
///     waza::fs::remove_dir_all(&dir).await
/// })
/// .unwrap();
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path.as_ref(), |p| std::fs::create_dir_all(p)).await
}

/// Creates one directory; its parent must exist.
///
/// # Errors
///
/// The OS error (e.g. `AlreadyExists`), naming the path.
///
/// # Cancel safety
///
/// A dropped call may still create the directory.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let dir = std::env::temp_dir().join(format!("waza-doc-dir-{}", std::process::id()));
///     waza::fs::create_dir(&dir).await?;
///     waza::fs::remove_dir(&dir).await
/// })
/// .unwrap();
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path.as_ref(), |p| std::fs::create_dir(p)).await
}

/// Removes a file.
///
/// # Errors
///
/// The OS error (e.g. `NotFound`), naming the path.
///
/// # Cancel safety
///
/// A dropped call may still remove the file.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let err = waza::fs::remove_file("/no/such/file").await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// });
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path.as_ref(), |p| std::fs::remove_file(p)).await
}

/// Removes an empty directory.
///
/// # Errors
///
/// The OS error, naming the path.
///
/// # Cancel safety
///
/// A dropped call may still remove the directory.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     assert!(waza::fs::remove_dir("/no/such/dir").await.is_err());
/// });
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path.as_ref(), |p| std::fs::remove_dir(p)).await
}

/// Removes a directory and everything in it (`rm -r`).
///
/// # Errors
///
/// The OS error, naming the path.
///
/// # Cancel safety
///
/// A dropped call runs to the end on the pool.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let dir = std::env::temp_dir().join(format!("waza-doc-rmrf-{}", std::process::id()));
///     waza::fs::create_dir_all(dir.join("x")).await?;
///     waza::fs::write(dir.join("x/f"), b"1").await?;
///     waza::fs::remove_dir_all(&dir).await?;
///     assert!(!waza::fs::try_exists(&dir).await?);
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path.as_ref(), |p| std::fs::remove_dir_all(p)).await
}

/// Renames `from` to `to`, replacing `to` if it is a file.
///
/// # Errors
///
/// The OS error, naming both paths.
///
/// # Cancel safety
///
/// A dropped call may still rename.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let a = std::env::temp_dir().join(format!("waza-doc-mv-a-{}", std::process::id()));
///     let b = a.with_extension("b");
///     waza::fs::write(&a, b"x").await?;
///     waza::fs::rename(&a, &b).await?;
///     assert_eq!(waza::fs::read(&b).await?, b"x");
///     waza::fs::remove_file(&b).await
/// })
/// .unwrap();
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || {
        std::fs::rename(&from, &to).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} -> {}: {e}", from.display(), to.display()),
            )
        })
    })
    .await
}

/// Copies the contents (and permissions) of file `from` to `to`; returns the bytes copied.
///
/// # Errors
///
/// The OS error, naming both paths.
///
/// # Cancel safety
///
/// A dropped call runs to the end on the pool.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let a = std::env::temp_dir().join(format!("waza-doc-cp-{}", std::process::id()));
///     let b = a.with_extension("copy");
///     waza::fs::write(&a, b"abc").await?;
///     assert_eq!(waza::fs::copy(&a, &b).await?, 3);
///     waza::fs::remove_file(&a).await?;
///     waza::fs::remove_file(&b).await
/// })
/// .unwrap();
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || {
        std::fs::copy(&from, &to).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} -> {}: {e}", from.display(), to.display()),
            )
        })
    })
    .await
}

/// The metadata of `path`, following symbolic links.
///
/// # Errors
///
/// The OS error (e.g. `NotFound`), naming the path.
///
/// # Cancel safety
///
/// Cancel safe.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     assert!(waza::fs::metadata("/").await?.is_dir());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path(path.as_ref(), |p| std::fs::metadata(p)).await
}

/// The metadata of `path` itself, not following a symbolic link.
///
/// # Errors
///
/// The OS error, naming the path.
///
/// # Cancel safety
///
/// Cancel safe.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     assert!(waza::fs::symlink_metadata("/").await?.is_dir());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path(path.as_ref(), |p| std::fs::symlink_metadata(p)).await
}

/// Whether `path` exists (`Ok(false)` for a missing file, an error if it cannot be told).
///
/// # Errors
///
/// The OS error other than `NotFound` (e.g. permission denied), naming the path.
///
/// # Cancel safety
///
/// Cancel safe.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     assert!(!waza::fs::try_exists("/no/such/file").await?);
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_path(path.as_ref(), |p| p.try_exists()).await
}

/// The absolute path of `path`, with every symbolic link resolved.
///
/// # Errors
///
/// The OS error, naming the path.
///
/// # Cancel safety
///
/// Cancel safe.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     assert_eq!(waza::fs::canonicalize("/").await?, std::path::PathBuf::from("/"));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path(path.as_ref(), |p| std::fs::canonicalize(p)).await
}

/// Sets the permissions of `path`.
///
/// # Errors
///
/// The OS error, naming the path.
///
/// # Cancel safety
///
/// A dropped call may still change the permissions.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let path = std::env::temp_dir().join(format!("waza-doc-perm-{}", std::process::id()));
///     waza::fs::write(&path, b"").await?;
///     let mut perms = waza::fs::metadata(&path).await?.permissions();
///     perms.set_readonly(true);
///     waza::fs::set_permissions(&path, perms).await?;
///     assert!(waza::fs::metadata(&path).await?.permissions().readonly());
///     waza::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    on_path(path.as_ref(), move |p| std::fs::set_permissions(p, perm)).await
}
