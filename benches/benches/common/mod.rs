//! What the criterion bench targets share besides the workloads (which live in the library,
//! `src/workloads/`, so that the `compare` program runs the same code).

pub use waza_benches::workloads::WORKERS;

use std::time::Duration;

use criterion::Criterion;

/// The criterion settings every bench uses, so a full run stays short on 2 cores.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}
