//! [`TaskDump`]: a Go-style listing of live tasks.

use crate::task_core::raw::Header;
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

/// One task in a [`TaskDump`].
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: u64,
    location: &'static Location<'static>,
    state: TaskState,
    waiting_on: Option<String>,
    blocked_for: Option<std::time::Duration>,
}

/// Every live task of `registry`, by increasing id.
pub(crate) fn snapshot(registry: &crate::task_core::registry::Registry) -> Vec<TaskInfo> {
    let mut tasks = Vec::new();
    registry.visit(|header| tasks.push(TaskInfo::from_header(header)));
    tasks.sort_by_key(|t| t.id);
    tasks
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
        let waiting_on = match state {
            TaskState::Running => None,
            _ => super::wait::describe(&header.wait),
        };
        TaskInfo {
            id: header.id.0,
            location: header.location,
            state,
            waiting_on,
            blocked_for: None,
        }
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

/// A snapshot of the live tasks of a runtime, printed like Go's goroutine dump.
///
/// # Examples
///
/// ```
/// let rt = waza::Runtime::new().unwrap();
/// let _h = rt.spawn(std::future::pending::<()>());
/// let text = rt.handle().dump().to_string();
/// assert!(text.contains("task "));
/// ```
#[derive(Clone, Debug)]
pub struct TaskDump {
    tasks: Vec<TaskInfo>,
}

impl TaskDump {
    pub(crate) fn new(tasks: Vec<TaskInfo>) -> TaskDump {
        TaskDump { tasks }
    }

    /// The tasks, by increasing id.
    pub fn tasks(&self) -> &[TaskInfo] {
        &self.tasks
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tasks {
            let reason = match (&t.waiting_on, t.blocked_for) {
                (Some(on), _) => on.clone(),
                (None, Some(d)) => format!("{} (blocked {} ms)", t.state, d.as_millis()),
                (None, None) => t.state.to_string(),
            };
            writeln!(f, "task {} [{reason}]:", t.id)?;
            writeln!(f, "\tspawned at {}", t.location)?;
            writeln!(f)?;
        }
        Ok(())
    }
}
