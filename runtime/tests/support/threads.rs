//! Reading this process's threads from `/proc` (Linux): names and wake-ups.
//!
//! Include with `#[path = "support/threads.rs"] mod threads;`.

#![allow(dead_code)] // each test crate uses what it needs

use std::fs;
use std::path::PathBuf;

/// `(comm, the thread's /proc directory)` of every thread of this process.
fn threads() -> impl Iterator<Item = (String, PathBuf)> {
    fs::read_dir("/proc/self/task").unwrap().filter_map(|e| {
        let dir = e.ok()?.path();
        let comm = fs::read_to_string(dir.join("comm")).ok()?;
        Some((comm.trim_end().to_owned(), dir))
    })
}

/// Threads whose name starts with `prefix`.
pub fn count_named(prefix: &str) -> usize {
    threads()
        .filter(|(comm, _)| comm.starts_with(prefix))
        .count()
}

/// Voluntary context switches of the threads named exactly `name`, summed.
pub fn wakeups_of(name: &str) -> u64 {
    threads()
        .filter(|(comm, _)| comm == name)
        .filter_map(|(_, dir)| {
            let status = fs::read_to_string(dir.join("status")).ok()?;
            let line = status
                .lines()
                .find(|l| l.starts_with("voluntary_ctxt_switches"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}
