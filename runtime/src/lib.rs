//! waza: Go's concurrency model in Rust (work in progress).
//!
//! Module ownership while the foundation is built: `task`, `scheduler`, `blocking`,
//! `runtime` (and this file) belong to the executor; `reactor`, `time`, `net` to the driver;
//! `sync`, `context` to the sync primitives.

pub use waza_channel as chan;

pub mod context;
pub mod net;
pub(crate) mod reactor;
pub mod sync;
pub mod time;
