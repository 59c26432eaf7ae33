//! The I/O and timer driver (interface stub; the mio reactor replaces the body).
//!
//! Interface used by the scheduler (kept stable while the body changes):
//! - `Driver::new() -> io::Result<(Driver, Arc<DriverHandle>)>`
//! - `Driver::park(&mut self, timeout: Option<Duration>)`: block until an I/O event, a timer
//!   deadline, the timeout, or `DriverHandle::unpark`; wake the tasks that became ready
//!   (wakers are called after every internal lock is released).
//! - `Driver::shutdown(&mut self)`: wake every registered waiter so nothing hangs.
//! - `DriverHandle::unpark(&self)`: make a concurrent or the next `park` return promptly.

#![allow(dead_code)] // interface stub: used once the scheduler lands

use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The owned half of the driver: whoever holds it may block in [`Driver::park`].
pub(crate) struct Driver {
    handle: Arc<DriverHandle>,
}

/// The shared half: `Send + Sync`, reachable from every thread of the runtime.
pub(crate) struct DriverHandle {
    notified: Mutex<bool>,
    cond: Condvar,
}

impl Driver {
    pub(crate) fn new() -> io::Result<(Driver, Arc<DriverHandle>)> {
        let handle = Arc::new(DriverHandle {
            notified: Mutex::new(false),
            cond: Condvar::new(),
        });
        Ok((
            Driver {
                handle: handle.clone(),
            },
            handle,
        ))
    }

    pub(crate) fn park(&mut self, timeout: Option<Duration>) {
        let mut notified = self.handle.notified.lock().unwrap();
        if !*notified {
            notified = match timeout {
                Some(t) => self.handle.cond.wait_timeout(notified, t).unwrap().0,
                None => self.handle.cond.wait(notified).unwrap(),
            };
        }
        *notified = false;
    }

    pub(crate) fn shutdown(&mut self) {}
}

impl DriverHandle {
    pub(crate) fn unpark(&self) {
        *self.notified.lock().unwrap() = true;
        self.cond.notify_one();
    }
}
