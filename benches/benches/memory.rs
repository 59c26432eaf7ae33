//! Memory per idle task and per idle channel, measured with a counting global allocator:
//! waza vs tokio vs smol tasks (each holding a never-ready zero-sized future), and empty
//! channels of every library; plus Go's goroutines and channels when `go` is on PATH.
//!
//! Run: `cargo bench -p waza-benches --bench memory`

use std::process::Command;
use std::time::Duration;

use waza_benches::workloads::exec::{Exec, Smol, Tokio, Waza};
use waza_benches::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

/// Objects created per measurement.
const N: usize = 10_000;

/// Heap bytes per idle task on executor `E`: spawns [`N`] tasks that never finish from
/// inside a task, lets the workers poll them, and divides the growth of the heap by `N`.
fn bytes_per_task<E: Exec>() -> f64 {
    let (ex, owner) = E::start(waza_benches::workloads::WORKERS);
    ex.run(async {}); // let the executor allocate its lazily created parts
    let handles_size = N * std::mem::size_of::<E::Join<()>>();
    let before = ALLOC.live_bytes();
    let inner = ex.clone();
    let handles = ex.run(async move {
        let mut handles = Vec::with_capacity(N);
        for _ in 0..N {
            handles.push(inner.spawn(std::future::pending::<()>()));
        }
        handles
    });
    std::thread::sleep(Duration::from_millis(200)); // every task polled once by now
    let grown = ALLOC.live_bytes() - before - handles_size as isize;
    drop(handles);
    drop(owner);
    grown as f64 / N as f64
}

/// Heap bytes per empty channel made by `make`.
fn bytes_per_channel<T>(make: impl Fn() -> T) -> f64 {
    let mut keep = Vec::with_capacity(N);
    let before = ALLOC.live_bytes();
    for _ in 0..N {
        keep.push(make());
    }
    let grown = ALLOC.live_bytes() - before;
    drop(keep);
    grown as f64 / N as f64
}

/// Go's numbers (`MEM <what> <bytes>` lines), if Go is available.
fn go_memory() -> Vec<(String, f64)> {
    let output = Command::new("go")
        .args(["run", ".", "-mem"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/go"))
        .env("GOMAXPROCS", waza_benches::workloads::WORKERS.to_string())
        .output();
    let Ok(output) = output else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            let mut p = l.strip_prefix("MEM ")?.split_whitespace();
            Some((p.next()?.to_owned(), p.next()?.parse().ok()?))
        })
        .collect()
}

fn main() {
    println!("# Memory (heap bytes per object, {N} objects)\n");
    println!("| idle task | bytes |\n|---|---:|");
    println!("| waza | {:.0} |", bytes_per_task::<Waza>());
    println!("| tokio | {:.0} |", bytes_per_task::<Tokio>());
    println!("| smol | {:.0} |", bytes_per_task::<Smol>());
    let go = go_memory();
    for (what, bytes) in &go {
        if what == "goroutine" {
            println!("| Go goroutine (stack + heap) | {bytes:.0} |");
        }
    }

    println!("\n| empty channel of u64 | bytes |\n|---|---:|");
    let rows: [(&str, f64); 13] = [
        (
            "waza rendezvous",
            bytes_per_channel(waza::chan::rendezvous::<u64>),
        ),
        (
            "waza bounded(1)",
            bytes_per_channel(|| waza::chan::bounded::<u64>(1)),
        ),
        (
            "waza unbounded",
            bytes_per_channel(waza::chan::unbounded::<u64>),
        ),
        (
            "async-channel bounded(1)",
            bytes_per_channel(|| async_channel::bounded::<u64>(1)),
        ),
        (
            "async-channel unbounded",
            bytes_per_channel(async_channel::unbounded::<u64>),
        ),
        (
            "flume rendezvous",
            bytes_per_channel(|| flume::bounded::<u64>(0)),
        ),
        (
            "flume unbounded",
            bytes_per_channel(flume::unbounded::<u64>),
        ),
        (
            "kanal rendezvous",
            bytes_per_channel(|| kanal::bounded_async::<u64>(0)),
        ),
        (
            "kanal unbounded",
            bytes_per_channel(kanal::unbounded_async::<u64>),
        ),
        (
            "tokio mpsc(1)",
            bytes_per_channel(|| tokio::sync::mpsc::channel::<u64>(1)),
        ),
        (
            "tokio mpsc unbounded",
            bytes_per_channel(tokio::sync::mpsc::unbounded_channel::<u64>),
        ),
        (
            "crossbeam rendezvous",
            bytes_per_channel(|| crossbeam_channel::bounded::<u64>(0)),
        ),
        (
            "crossbeam unbounded",
            bytes_per_channel(crossbeam_channel::unbounded::<u64>),
        ),
    ];
    for (name, bytes) in rows {
        println!("| {name} | {bytes:.0} |");
    }
    for (what, bytes) in &go {
        if let Some(kind) = what.strip_prefix("chan_") {
            println!("| Go chan {kind} | {bytes:.0} |");
        }
    }
}
