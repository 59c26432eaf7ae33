//! [`TaskDump`]: a Go-style listing of live tasks.

pub use crate::task::info::{TaskInfo, TaskState};
use std::fmt;

/// Every live task of `registry`, by increasing id.
pub(crate) fn snapshot(registry: &crate::task::registry::Registry) -> Vec<TaskInfo> {
    let mut tasks = Vec::new();
    registry.visit(|header| {
        let mut task = TaskInfo::from_header(header);
        if task.state() != TaskState::Running {
            task.set_waiting_on(super::wait::describe(&header.wait));
        }
        tasks.push(task);
    });
    tasks.sort_by_key(TaskInfo::id);
    tasks
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
            let reason = match (t.waiting_on(), t.blocked_for()) {
                (Some(on), _) => on,
                (None, Some(d)) => format!("{} (blocked {} ms)", t.state(), d.as_millis()),
                (None, None) => t.state().to_string(),
            };
            writeln!(f, "task {} [{reason}]:", t.id())?;
            writeln!(f, "\tspawned at {}", t.location())?;
            writeln!(f)?;
        }
        Ok(())
    }
}
