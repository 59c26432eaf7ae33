//! Heap cost of a pending sleep: a task parked in `sleep` costs its task cell plus one
//! timer-wheel entry, so a million of them fit in bounded memory. Measured with a counting
//! global allocator over many concurrent sleeps (1,000,000 in release builds).

#[path = "support/counting_alloc.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

#[global_allocator]
static GLOBAL: support::Counting = support::Counting;

static SLEEPING: AtomicUsize = AtomicUsize::new(0);

#[test]
fn a_pending_sleep_costs_a_task_plus_one_small_wheel_entry() {
    let n: usize = if cfg!(debug_assertions) {
        50_000
    } else {
        1_000_000
    };
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    // Warm up lazily allocated state (thread-locals, queues, the wheel's first slab page).
    rt.block_on(waza::time::sleep(Duration::from_millis(1)));
    let mut handles = Vec::with_capacity(n);
    let before = support::live_bytes();
    for _ in 0..n {
        handles.push(rt.spawn(async {
            let sleep = waza::time::sleep(Duration::from_secs(3600));
            SLEEPING.fetch_add(1, SeqCst);
            sleep.await;
        }));
    }
    while SLEEPING.load(SeqCst) < n {
        std::thread::yield_now();
    }
    // The counter is bumped just before the first poll of the sleep: let those polls land.
    std::thread::sleep(Duration::from_millis(50));
    let after = support::live_bytes();
    let per_sleep = (after - before) as f64 / n as f64;
    println!("heap per task pending in sleep: {per_sleep:.1} bytes ({n} sleeps)");
    // Task cell + future (<= 192 for a 64-byte future) + wheel entry (64 B, slab growth up
    // to 2x) + the JoinHandle vector (8 B).
    assert!(per_sleep <= 320.0, "{per_sleep} bytes per pending sleep");
    drop(handles);
    drop(rt);
}
