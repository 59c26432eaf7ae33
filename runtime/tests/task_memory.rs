//! Heap cost of a task: a spawned task whose future is 64 bytes must cost at most 192
//! bytes of heap in total (task cell, queue slots, registry: everything the runtime keeps
//! for it). Measured with a counting global allocator over many idle tasks.

#[path = "support/counting_alloc.rs"]
mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

#[global_allocator]
static GLOBAL: support::Counting = support::Counting;

static POLLED: AtomicUsize = AtomicUsize::new(0);

/// The tests measure the whole process heap: run them one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Exactly 64 bytes; pending forever after counting its first poll.
struct Idle64 {
    _pad: [u64; 7],
    polled: bool,
}

impl Future for Idle64 {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if !self.polled {
            self.polled = true;
            POLLED.fetch_add(1, SeqCst);
        }
        Poll::Pending
    }
}

#[test]
fn idle_task_costs_at_most_192_bytes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(std::mem::size_of::<Idle64>(), 64);
    const N: usize = 20_000;
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let mut handles = Vec::with_capacity(N);
    // warm up lazily allocated runtime state (thread-locals, queues)
    rt.block_on(async { waza::spawn(async {}).await.unwrap() });
    let before = support::live_bytes();
    for _ in 0..N {
        handles.push(rt.spawn(Idle64 {
            _pad: [0; 7],
            polled: false,
        }));
    }
    while POLLED.load(SeqCst) < N {
        std::thread::yield_now();
    }
    let after = support::live_bytes();
    let per_task = (after - before) as f64 / N as f64;
    println!("heap per idle task with a 64-byte future: {per_task:.1} bytes");
    assert!(per_task <= 192.0, "{per_task} bytes per task");
    assert_eq!(rt.handle().metrics().num_alive_tasks(), N);
    drop(handles);
    drop(rt);
}

#[test]
fn dropping_the_runtime_frees_every_task() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Build and drop once first so one-time process state (thread-locals of this thread,
    // std's lazy statics) is not counted.
    drop(waza::Runtime::builder().workers(2).build().unwrap());
    let before = support::live_bytes();
    {
        let rt = waza::Runtime::builder().workers(2).build().unwrap();
        let done: Vec<_> = (0..100).map(|i| rt.spawn(async move { i })).collect();
        for _ in 0..1000 {
            drop(rt.spawn(std::future::pending::<()>()));
        }
        let held: Vec<_> = (0..100)
            .map(|_| rt.spawn(std::future::pending::<()>()))
            .collect();
        rt.block_on(async {
            for h in done {
                h.await.unwrap();
            }
        });
        drop(rt);
        drop(held);
    }
    let after = support::live_bytes();
    // The slack covers allocations of the test harness itself (output capture).
    println!("heap before {before}, after {after}");
    assert!(after - before < 4096, "leaked {} bytes", after - before);
}
