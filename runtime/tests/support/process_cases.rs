//! Process tests shared by `process.rs` (pidfd on Linux) and `process_sigchld.rs` (the
//! SIGCHLD path): real `sh -c` children, exact statuses and bytes.

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use futures::io::{AsyncReadExt, AsyncWriteExt};
use waza::process::{Command, Stdio};

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Tests of one binary run one at a time: some count the process's open descriptors.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

fn sh(script: &str) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", script]);
    c
}

/// Whether `pid` names no process at all (not even a zombie): it was reaped.
fn is_reaped(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits (bounded) for `pid` to be reaped by someone else.
fn wait_reaped(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if is_reaped(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

pub fn output_and_status() {
    let _g = serial();
    rt().block_on(async {
        let out = sh("printf out; printf err >&2; exit 3")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"out");
        assert_eq!(out.stderr, b"err");
        assert_eq!(out.status.code(), Some(3));
        // output() gives the child an empty stdin: `cat` ends at once.
        let out = Command::new("cat").output().await.unwrap();
        assert_eq!((out.stdout.len(), out.status.success()), (0, true));
        for code in 0..5 {
            let status = sh(&format!("exit {code}")).status().await.unwrap();
            assert_eq!(status.code(), Some(code));
        }
    });
}

pub fn many_children_at_once() {
    let _g = serial();
    let rt = rt();
    rt.block_on(async {
        let handles: Vec<_> = (0..40)
            .map(|i| waza::spawn(async move { sh(&format!("exit {}", i % 7)).status().await }))
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap().unwrap().code(), Some(i as i32 % 7));
        }
    });
    // Waiting took no pool thread (no thread per child).
    assert_eq!(rt.handle().metrics().blocking_threads_count(), 0);
}

pub fn piped_stdin_and_stdout_stream() {
    let _g = serial();
    rt().block_on(async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // More than a pipe buffer holds, so writing and reading must overlap.
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut stdin = child.stdin.take().unwrap();
        let input = data.clone();
        let writer = waza::spawn(async move {
            stdin.write_all(&input).await.unwrap();
            stdin.close().await.unwrap();
        });
        let mut got = Vec::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_end(&mut got)
            .await
            .unwrap();
        writer.await.unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data);
        assert!(child.wait().await.unwrap().success());
    });
}

pub fn try_wait_id_and_wait() {
    let _g = serial();
    rt().block_on(async {
        // Waits for a line on stdin: runs until we say so.
        let mut child = sh("read line; exit 4")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        assert_eq!(child.id(), Some(pid));
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"go\n")
            .await
            .unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(4));
        assert_eq!(child.id(), None);
        assert_eq!(child.try_wait().unwrap().map(|s| s.code()), Some(Some(4)));
        assert!(is_reaped(pid));
    });
}

pub fn kill_and_kill_on_drop() {
    let _g = serial();
    rt().block_on(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        child.kill().await.unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(9));
        let err = child.start_kill().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);

        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        drop(child);
        waza::spawn_blocking(move || assert!(wait_reaped(pid), "killed child {pid} not reaped"))
            .await
            .unwrap();
    });
}

pub fn dropped_children_are_reaped() {
    let _g = serial();
    rt().block_on(async {
        // Exits once its stdin closes, which dropping the Child does.
        let child = sh("read line").stdin(Stdio::piped()).spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        waza::spawn_blocking(move || assert!(wait_reaped(pid), "orphan {pid} not reaped"))
            .await
            .unwrap();
    });
}

pub fn bad_commands_get_clear_errors() {
    let _g = serial();
    rt().block_on(async {
        let err = Command::new("waza-no-such-program").spawn().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("waza-no-such-program"), "{err}");
        let err = Command::new("/").status().await.unwrap_err();
        assert!(err.to_string().contains("\"/\""), "{err}");
    });
}

pub fn children_dropped_outside_a_runtime_are_reaped_at_the_next_spawn() {
    let _g = serial();
    let rt1 = rt();
    let child = rt1.block_on(async { sh("read line").stdin(Stdio::piped()).spawn().unwrap() });
    let pid = child.id().unwrap();
    drop(rt1);
    drop(child); // no runtime here: the child is queued, and its stdin closes
    let rt2 = rt();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !is_reaped(pid) {
        assert!(Instant::now() < deadline, "orphan {pid} never reaped");
        std::thread::sleep(Duration::from_millis(10));
        rt2.block_on(async { sh("exit 0").status().await.unwrap() });
    }
}
