//! Tasks: spawning, joining, yielding and the cooperative budget; Go's errgroup
//! ([`Group`]) and tokio's [`JoinSet`].

// This file is the public face of `waza::task`. The task core is the files of `task/`:
// one allocation per task, its state word, `JoinHandle`, wakers, the registry of live
// tasks. `Group` and `JoinSet` live above the core (`group.rs`, `join_set.rs`) and this
// file only re-exports them: no file of the core imports anything above the scheduler's
// interface (`schedule.rs`: `Schedule`, `Handoff`), and none imports this file.
//
// A task is one heap allocation (see `raw.rs` for the layout) with one atomic state word
// (see `state.rs` for the bits and the numbered protocols). Three kinds of owned handles
// point at it, each holding one reference:
//
// - `Task`: the registry's entry, alive until the task completes or shutdown takes it;
// - `Notified`: permission to run the task once, sitting in a run queue;
// - `JoinHandle`: the right to the output.
//
// Wakers hold references too. `harness.rs` runs tasks (poll, cancel, complete), and
// `registry.rs` keeps the sharded list of live tasks.
//
// Handing a `Notified` to the scheduler is in two steps (`Schedule::handoff`, then
// `Handoff`) because the scheduler is stored in the task's own cell, which may be freed
// as soon as the task is in a queue; `raw.rs` ("Freeing") explains the shape and its cost.

pub(crate) mod abort;
pub(crate) mod error;
mod harness;
pub(crate) mod info;
pub(crate) mod join;
pub(crate) mod local;
pub(crate) mod raw;
pub(crate) mod registry;
pub(crate) mod schedule;
pub(crate) mod spawn;
pub(crate) mod state;
mod task_local;
pub(crate) mod wait;

pub use crate::group::Group;
pub use crate::join_set::JoinSet;
pub use crate::scheduler::coop::consume_budget;
pub use abort::AbortHandle;
pub use error::JoinError;
pub use join::JoinHandle;
pub use local::{spawn_local, LocalEnterGuard, LocalSet, RunUntil};
pub use spawn::{block_in_place, spawn, spawn_blocking, yield_now, YieldNow};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
