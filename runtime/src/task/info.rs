//! [`TaskInfo`]: what a task dump says of one task, read from its header.

use super::raw::Header;
use std::fmt;
use std::panic::Location;

/// What a task was doing when the dump was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Waiting to be woken.
    Idle,
    /// Woken, in a run queue.
    Scheduled,
    /// Being polled by a worker.
    Running,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "runnable",
            TaskState::Running => "running",
        })
    }
}

/// One task in a [`TaskDump`](crate::TaskDump).
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: u64,
    location: &'static Location<'static>,
    state: TaskState,
    waiting_on: Option<String>,
    blocked_for: Option<std::time::Duration>,
}

impl TaskInfo {
    pub(crate) fn from_header(header: &Header) -> TaskInfo {
        let s = header.state.load();
        let state = if s.is_running() {
            TaskState::Running
        } else if s.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        TaskInfo {
            id: header.id.0,
            location: header.location,
            state,
            waiting_on: None,
            blocked_for: None,
        }
    }

    /// Sets what the task waits on (the runtime decodes the header's wait reason, which
    /// may name a channel: the task core knows none).
    pub(crate) fn set_waiting_on(&mut self, on: Option<String>) {
        self.waiting_on = on;
    }

    pub(crate) fn set_blocked_for(&mut self, d: Option<std::time::Duration>) {
        self.blocked_for = d;
    }

    /// For a running task that the blocked-worker monitor sees stuck in one poll (longer
    /// than [`Builder::blocked_poll_threshold`](crate::Builder::blocked_poll_threshold)):
    /// how long that poll has run so far.
    pub fn blocked_for(&self) -> Option<std::time::Duration> {
        self.blocked_for
    }

    /// The task's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Where the task was spawned (`spawn`/`go!` are `#[track_caller]`).
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// What the task was doing.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// What the task waits on, such as `"recv on chan#3 (rendezvous)"`: the channel
    /// operation (or `select`) its last poll blocked in; `None` if it is running or waits
    /// on something else (a timer, I/O, a join handle).
    pub fn waiting_on(&self) -> Option<String> {
        self.waiting_on.clone()
    }
}
