//! Helpers shared by the memory-measuring integration tests (`task_memory`, `time_memory`).
//!
//! Include with `#[path = "support/counting_alloc.rs"] mod support;` and install the
//! allocator in the test crate:
//! `#[global_allocator] static GLOBAL: support::Counting = support::Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::SeqCst};

/// A global allocator that forwards to [`System`] and keeps a running total of live heap
/// bytes (requested sizes, not the allocator's rounding) in one process-wide counter.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

/// Heap bytes currently allocated through [`Counting`] (allocations minus frees since start).
pub fn live_bytes() -> isize {
    LIVE.load(SeqCst)
}

// SAFETY: every method forwards to the system allocator with the caller's arguments
// unchanged and only adds bookkeeping on an atomic counter, which cannot allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, SeqCst);
        // SAFETY: our caller upholds `GlobalAlloc::alloc`'s contract, which is System's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, SeqCst);
        // SAFETY: `ptr` came from `System` via this allocator with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, SeqCst);
        // SAFETY: `ptr`/`layout` came from `System` via this allocator; the caller upholds
        // `realloc`'s contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
