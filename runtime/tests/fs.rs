//! `waza::fs` on real files in a temp directory: contents round-trip exactly, the File
//! buffer saves pool round trips (counted), positions stay right across reads, writes and
//! seeks, and bad paths get errors that name them.
//!
//! The tests share the process-wide job counter, so they run one at a time (`serial`).

use std::collections::BTreeSet;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use futures::StreamExt;
use waza::fs::{self, File, OpenOptions};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("waza-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn assert_names(err: &std::io::Error, path: &Path) {
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "error does not name {}: {err}",
        path.display()
    );
}

#[test]
fn whole_file_functions_round_trip() {
    let _g = serial();
    let dir = TempDir::new("whole");
    rt().block_on(async {
        let data = pattern(64 * 1024);
        fs::write(dir.join("a"), &data).await.unwrap();
        assert_eq!(fs::read(dir.join("a")).await.unwrap(), data);
        assert_eq!(fs::metadata(dir.join("a")).await.unwrap().len(), 65536);

        fs::write(dir.join("t"), "héllo").await.unwrap();
        assert_eq!(fs::read_to_string(dir.join("t")).await.unwrap(), "héllo");
        let err = fs::read_to_string(dir.join("a")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);

        assert_eq!(fs::copy(dir.join("a"), dir.join("b")).await.unwrap(), 65536);
        fs::rename(dir.join("b"), dir.join("c")).await.unwrap();
        assert!(!fs::try_exists(dir.join("b")).await.unwrap());
        assert_eq!(fs::read(dir.join("c")).await.unwrap(), data);
        fs::remove_file(dir.join("c")).await.unwrap();
        assert!(!fs::try_exists(dir.join("c")).await.unwrap());
    });
}

#[test]
fn directories_are_created_listed_and_removed() {
    let _g = serial();
    let dir = TempDir::new("dirs");
    rt().block_on(async {
        let deep = dir.join("x/y/z");
        fs::create_dir_all(&deep).await.unwrap();
        assert!(fs::metadata(&deep).await.unwrap().is_dir());
        // More entries than one batch, so the listing takes several pool round trips.
        for i in 0..100 {
            fs::write(deep.join(format!("f{i:03}")), [i as u8])
                .await
                .unwrap();
        }
        let mut names = BTreeSet::new();
        let mut entries = fs::read_dir(&deep).await.unwrap();
        while let Some(entry) = entries.next().await {
            let entry = entry.unwrap();
            assert!(entry.file_type().await.unwrap().is_file());
            assert_eq!(entry.metadata().await.unwrap().len(), 1);
            assert_eq!(entry.path(), deep.join(entry.file_name()));
            assert!(names.insert(entry.file_name().into_string().unwrap()));
        }
        let expected: BTreeSet<String> = (0..100).map(|i| format!("f{i:03}")).collect();
        assert_eq!(names, expected);
        // next_entry after the end keeps saying so.
        assert!(entries.next_entry().await.unwrap().is_none());

        fs::remove_dir_all(dir.join("x")).await.unwrap();
        assert!(!fs::try_exists(dir.join("x")).await.unwrap());
    });
}

#[test]
fn small_reads_share_pool_round_trips() {
    let _g = serial();
    let dir = TempDir::new("reads");
    let data = pattern(64 * 1024);
    std::fs::write(dir.join("a"), &data).unwrap();
    rt().block_on(async {
        let mut f = File::open(dir.join("a")).await.unwrap();
        let before = fs::__file_jobs();
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match f.read(&mut byte).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&byte[..n]),
            }
        }
        assert_eq!(got, data);
        // Four 16 KiB read-aheads, and one read that finds the end.
        assert_eq!(fs::__file_jobs() - before, 5);
    });
}

#[test]
fn small_writes_share_pool_round_trips() {
    let _g = serial();
    let dir = TempDir::new("writes");
    rt().block_on(async {
        let mut f = File::create(dir.join("w")).await.unwrap();
        let before = fs::__file_jobs();
        let mut expected = Vec::new();
        for i in 0..10_000u32 {
            let chunk = [(i % 256) as u8; 7];
            f.write_all(&chunk).await.unwrap();
            expected.extend_from_slice(&chunk);
        }
        f.flush().await.unwrap();
        // 16380-byte batches (the most 7-byte writes that fit 16 KiB): four, plus the rest
        // at flush.
        assert_eq!(fs::__file_jobs() - before, 5);
        assert_eq!(std::fs::read(dir.join("w")).unwrap(), expected);

        // A write larger than the buffer goes out in one job.
        let big = pattern(100_000);
        let before = fs::__file_jobs();
        f.write_all(&big).await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(fs::__file_jobs() - before, 1);
        expected.extend_from_slice(&big);
        assert_eq!(std::fs::read(dir.join("w")).unwrap(), expected);
    });
}

#[test]
fn positions_stay_right_across_read_write_and_seek() {
    let _g = serial();
    let dir = TempDir::new("seek");
    std::fs::write(dir.join("s"), b"abcdefghij").unwrap();
    rt().block_on(async {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join("s"))
            .await
            .unwrap();
        let mut two = [0u8; 2];
        f.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"ab");
        // The read-ahead took the whole file; the write still lands at offset 2.
        f.write_all(b"XY").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::read(dir.join("s")).unwrap(), b"abXYefghij");
        assert_eq!(f.stream_position().await.unwrap(), 4);
        f.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"ef");
        assert_eq!(f.seek(SeekFrom::Current(1)).await.unwrap(), 7);
        f.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"hi");
        assert_eq!(f.seek(SeekFrom::End(-1)).await.unwrap(), 9);
        f.write_all(b"J!").await.unwrap();
        assert_eq!(f.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        let mut all = String::new();
        f.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "abXYefghiJ!");
        f.set_len(3).await.unwrap();
        f.sync_all().await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 3);
        let std = f.into_std().await.unwrap();
        assert_eq!(std.metadata().unwrap().len(), 3);
    });
}

#[test]
fn dropping_a_file_still_writes_its_buffer() {
    let _g = serial();
    let dir = TempDir::new("drop");
    rt().block_on(async {
        let mut f = File::create(dir.join("d")).await.unwrap();
        f.write_all(b"buffered").await.unwrap();
        drop(f);
    });
    // The runtime is gone: the pool job ran, or the bytes were written at its discard.
    assert_eq!(std::fs::read(dir.join("d")).unwrap(), b"buffered");
}

#[test]
fn bad_paths_get_errors_that_name_them() {
    let _g = serial();
    let dir = TempDir::new("errors");
    std::fs::write(dir.join("file"), b"").unwrap();
    rt().block_on(async {
        let missing = dir.join("missing");
        let errs = [
            fs::read(&missing).await.unwrap_err(),
            fs::read_to_string(&missing).await.unwrap_err(),
            fs::metadata(&missing).await.unwrap_err(),
            fs::remove_file(&missing).await.unwrap_err(),
            fs::read_dir(&missing).await.unwrap_err(),
            File::open(&missing).await.unwrap_err(),
        ];
        for err in errs {
            assert_eq!(err.kind(), ErrorKind::NotFound);
            assert_names(&err, &missing);
        }
        let err = fs::rename(&missing, dir.join("to")).await.unwrap_err();
        assert_names(&err, &missing);
        let err = fs::read_dir(dir.join("file")).await.unwrap_err();
        assert_names(&err, &dir.join("file"));
        let err = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join("file"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);

        // A write to a read-only handle fails at flush, not silently.
        let mut ro = File::open(dir.join("file")).await.unwrap();
        ro.write_all(b"x").await.unwrap();
        assert!(ro.flush().await.is_err());
        assert!(ro.flush().await.is_ok(), "the error is reported once");
    });
}

/// Handles and futures can move between workers.
#[test]
fn handles_and_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<File>();
    send_sync::<fs::ReadDir>();
    send_sync::<fs::DirEntry>();
    send_sync::<OpenOptions>();
    send(&fs::read("x"));
    send(&fs::write("x", b""));
    send(&fs::read_dir("x"));
    send(&File::open("x"));
    send(&fs::copy("x", "y"));
}
