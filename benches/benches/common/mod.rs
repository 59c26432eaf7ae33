//! Workloads shared by the bench targets. Each target uses a subset, hence the
//! `allow(dead_code)` where the targets include this module.

pub mod chans;
pub mod exec;
pub mod io;
pub mod select;
pub mod tasks;

use std::time::Duration;

use criterion::Criterion;

/// Worker threads given to every executor.
pub const WORKERS: usize = 2;

/// The criterion settings every bench uses, so a full run stays short on 2 cores.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}
