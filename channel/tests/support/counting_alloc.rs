//! A counting global allocator shared by the memory tests: it forwards every call to
//! [`System`] and counts, per thread, the allocations (including reallocations) and the
//! bytes they requested. Per-thread counters keep tests that run in parallel from
//! disturbing each other.
//!
//! Include it with `#[path = "support/counting_alloc.rs"] mod counting_alloc;`; it installs
//! itself as the test binary's `#[global_allocator]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting what the current thread allocates.
pub struct Counting;

std::thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    // `try_with`: the allocator can run while thread-locals are being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    let _ = BYTES.try_with(|n| n.set(n.get() + bytes));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; counting touches only const-initialized thread-local
// `Cell`s (no allocation, no re-entrancy).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded contract of `GlobalAlloc::alloc` (non-zero-size `layout`).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded contract of `GlobalAlloc::alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`; `ptr` came from `System`
        // through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`; `ptr` came from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (and reallocations) made so far by the current thread.
pub fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Bytes requested so far by the current thread's allocations and reallocations.
#[allow(dead_code)] // not every test binary measures bytes
pub fn bytes() -> usize {
    BYTES.with(Cell::get)
}
