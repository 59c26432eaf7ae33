//! [`JoinError`]: why a task produced no output.

use super::schedule::TaskId;
use std::any::Any;
use std::fmt;
use std::sync::Mutex;

/// A task did not produce its output: it was cancelled (aborted, or the runtime shut
/// down) or it panicked.
///
/// # Examples
///
/// ```
/// let err = waza::block_on(async {
///     waza::spawn(async { panic!("boom") }).await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// ```
pub struct JoinError {
    id: TaskId,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// The `Mutex` only makes the payload `Sync`; it is never contended.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(Mutex::new(payload)),
        }
    }

    /// True if the task was cancelled by [`JoinHandle::abort`](crate::JoinHandle::abort)
    /// or by runtime shutdown.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to re-raise with [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the error is not a panic (see [`JoinError::is_panic`]).
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` called on a cancelled task's error")
    }

    /// The panic payload, or the error itself if the task was cancelled.
    ///
    /// # Errors
    ///
    /// Returns `self` if the task was cancelled rather than panicked.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the task (the number shown in a [`TaskDump`](crate::TaskDump)).
    pub fn task_id(&self) -> u64 {
        self.id.0
    }

    fn panic_message(&self) -> Option<String> {
        let Repr::Panic(p) = &self.repr else {
            return None;
        };
        let p = p.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = p.downcast_ref::<&'static str>() {
            Some((*s).to_string())
        } else {
            p.downcast_ref::<String>().cloned()
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {} was cancelled", self.id.0),
            (Repr::Panic(_), Some(msg)) => {
                write!(f, "task {} panicked with message {msg:?}", self.id.0)
            }
            (Repr::Panic(_), None) => write!(f, "task {} panicked", self.id.0),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({})", self.id.0),
            (Repr::Panic(_), Some(msg)) => {
                write!(f, "JoinError::Panic({}, {msg:?}, ..)", self.id.0)
            }
            (Repr::Panic(_), None) => write!(f, "JoinError::Panic({}, ..)", self.id.0),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
