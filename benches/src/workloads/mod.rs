//! The workloads, each written once against small traits ([`exec::Exec`] for runtimes,
//! [`chans::AsyncChan`] for channels, [`select::Select2`] for select macros, [`io::Net`] for
//! TCP) so that every library runs the same code. Both the criterion benches and the
//! `compare` program use them. Every workload returns a result that the caller checks (a
//! count or the sum of every value sent), so a fast but wrong run fails.

pub mod chans;
pub mod exec;
pub mod io;
pub mod select;
pub mod tasks;

/// Worker threads given to every executor in the criterion benches.
pub const WORKERS: usize = 2;
