//! Support code for waza's benches: the workloads ([`workloads`]), written once for every
//! library under comparison; the HTTP harness ([`http`]); sample statistics; the report
//! table of the `compare` program ([`report`]); and a counting allocator for memory
//! measurements.
//!
//! The criterion benches (`benches/`) and the `compare` program (`src/bin/compare/`) both
//! use this library, so there is one copy of each workload; the bench targets also share
//! their criterion settings from here ([`criterion_config`]).

pub mod http;
pub mod report;
pub mod workloads;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::Duration;

/// The criterion settings every bench target uses, so a full run stays short on 2 cores.
pub fn criterion_config() -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}

/// The median of `samples` (the mean of the middle two for an even count).
///
/// # Panics
///
/// Panics if `samples` is empty.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let ms = Duration::from_millis;
/// assert_eq!(waza_benches::median(&[ms(3), ms(1), ms(2)]), ms(2));
/// assert_eq!(waza_benches::median(&[ms(4), ms(1), ms(2), ms(3)]), Duration::from_micros(2500));
/// ```
pub fn median(samples: &[Duration]) -> Duration {
    assert!(!samples.is_empty(), "median of no samples");
    let mut s = samples.to_vec();
    s.sort_unstable();
    let mid = s.len() / 2;
    if s.len() % 2 == 1 {
        s[mid]
    } else {
        (s[mid - 1] + s[mid]) / 2
    }
}

/// The `p`-th percentile (0.0..=100.0) of `samples` by the nearest-rank method.
///
/// # Panics
///
/// Panics if `samples` is empty or `p` is outside `0.0..=100.0`.
///
/// # Examples
///
/// ```
/// let v: Vec<u64> = (1..=100).collect();
/// assert_eq!(waza_benches::percentile(&v, 99.0), 99);
/// assert_eq!(waza_benches::percentile(&v, 100.0), 100);
/// ```
pub fn percentile<T: Copy + Ord>(samples: &[T], p: f64) -> T {
    assert!(!samples.is_empty(), "percentile of no samples");
    assert!(
        (0.0..=100.0).contains(&p),
        "percentile {p} is not in 0..=100"
    );
    let mut s = samples.to_vec();
    s.sort_unstable();
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// Formats a duration with three significant digits and a unit (`"812 ns"`, `"1.25 ms"`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// assert_eq!(waza_benches::human(Duration::from_nanos(812)), "812 ns");
/// assert_eq!(waza_benches::human(Duration::from_micros(1250)), "1.25 ms");
/// ```
pub fn human(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    let (v, unit) = match ns {
        n if n < 1e3 => (n, "ns"),
        n if n < 1e6 => (n / 1e3, "µs"),
        n if n < 1e9 => (n / 1e6, "ms"),
        n => (n / 1e9, "s"),
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// A global allocator that counts live heap bytes and allocations, for memory-per-task and
/// memory-per-channel measurements.
///
/// Install it in a bench binary with `#[global_allocator]`, then read [`CountingAlloc::live_bytes`]
/// before and after creating many idle objects.
#[derive(Debug)]
pub struct CountingAlloc {
    live: AtomicIsize,
    allocations: AtomicUsize,
}

impl CountingAlloc {
    /// A counter at zero.
    pub const fn new() -> Self {
        CountingAlloc {
            live: AtomicIsize::new(0),
            allocations: AtomicUsize::new(0),
        }
    }

    /// Bytes currently allocated through this allocator.
    pub fn live_bytes(&self) -> isize {
        self.live.load(Ordering::Relaxed)
    }

    /// Number of allocations made so far.
    pub fn allocations(&self) -> usize {
        self.allocations.load(Ordering::Relaxed)
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; the counters are plain atomics and never fail.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we forward.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            self.live
                .fetch_add(layout.size() as isize, Ordering::Relaxed);
            self.allocations.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (through `alloc` above).
        unsafe { System.dealloc(ptr, layout) };
        self.live
            .fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which we forward.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let delta = new_size as isize - layout.size() as isize;
            self.live.fetch_add(delta, Ordering::Relaxed);
            self.allocations.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
}
