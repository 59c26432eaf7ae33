//! The registry of live tasks: sharded intrusive lists that shutdown, metrics and task
//! dumps walk.
//!
//! # Handles and fields
//!
//! Each spawned task is linked into the shard `id % SHARDS` through
//! `Header::{owned_prev, owned_next}`, and the link holds one reference (the `Task`).
//! Only this module touches those two fields, and only under the shard's mutex.
//! A node is linked iff it is the shard head or its `owned_prev` is set.
//!
//! # Protocols
//!
//! 1. **Insert** (spawn): lock the shard; if it is closed, hand the task back so the
//!    spawner shuts it down at once (a spawn racing shutdown cannot slip in and leak);
//!    otherwise push it at the head.
//! 2. **Remove** (completion): lock the shard; unlink the node if it is linked and return
//!    whether it was, so the completer knows whether to release the registry's reference.
//! 3. **Close** (shutdown): for each shard, lock, set `closed`, unlink every node, unlock,
//!    then shut every unlinked task down outside the lock (their completion calls
//!    protocol 2, which finds them unlinked). Closed shards stay closed.

use super::raw::{Header, RawTask};
use super::Task;
use crate::loom::{AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::runtime::TaskInfo;
use std::ptr::NonNull;

const SHARDS: usize = if cfg!(loom) { 2 } else { 64 };

/// Registry of every live task of one runtime.
pub(crate) struct Registry {
    shards: Box<[Mutex<Shard>]>,
    alive: AtomicUsize,
    spawned: AtomicU64,
}

struct Shard {
    head: Option<NonNull<Header>>,
    closed: bool,
}

// SAFETY: the raw pointers are only dereferenced under the shard lock, and the tasks they
// point at are `Send`.
unsafe impl Send for Shard {}

impl Registry {
    pub(crate) fn new() -> Registry {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    head: None,
                    closed: false,
                })
            })
            .collect();
        Registry {
            shards,
            alive: AtomicUsize::new(0),
            spawned: AtomicU64::new(0),
        }
    }

    fn shard(&self, task: RawTask) -> &Mutex<Shard> {
        &self.shards[(task.header().id.0 as usize) % SHARDS]
    }

    /// Protocol 1. `Err(task)` if the registry is closed.
    pub(crate) fn insert(&self, task: Task) -> Result<(), Task> {
        let raw = task.raw();
        let mut shard = self.shard(raw).lock().unwrap();
        if shard.closed {
            return Err(task);
        }
        std::mem::forget(task);
        let node = raw.header_ptr();
        let header = raw.header();
        // SAFETY: we hold the shard lock, which guards the link fields of every node in
        // this shard, and `node` is not linked yet.
        unsafe {
            header.owned_prev.with_mut(|p| *p = None);
            header.owned_next.with_mut(|n| *n = shard.head);
            if let Some(old) = shard.head {
                old.as_ref().owned_prev.with_mut(|p| *p = Some(node));
            }
        }
        shard.head = Some(node);
        self.alive.fetch_add(1, Ordering::Relaxed);
        self.spawned.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Protocol 2: true if the task was linked (its reference now belongs to the caller).
    pub(crate) fn remove(&self, task: RawTask) -> bool {
        let mut shard = self.shard(task).lock().unwrap();
        // SAFETY: shard lock held; `task` belongs to this shard if linked.
        let linked = unsafe { shard.unlink(task.header_ptr()) };
        if linked {
            self.alive.fetch_sub(1, Ordering::Relaxed);
        }
        linked
    }

    /// Protocol 3: closes the registry and shuts down every task still in it.
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            let tasks = {
                let mut shard = shard.lock().unwrap();
                shard.closed = true;
                shard.drain()
            };
            self.alive.fetch_sub(tasks.len(), Ordering::Relaxed);
            for task in tasks {
                task.shutdown();
            }
        }
    }

    /// Number of tasks spawned and not yet complete.
    pub(crate) fn alive(&self) -> usize {
        self.alive.load(Ordering::Relaxed)
    }

    /// Number of tasks ever inserted.
    pub(crate) fn spawned(&self) -> u64 {
        self.spawned.load(Ordering::Relaxed)
    }

    /// True if no live task is scheduled or running.
    pub(crate) fn all_idle(&self) -> bool {
        self.snapshot()
            .iter()
            .all(|t| t.state() == crate::runtime::TaskState::Idle)
    }

    /// A snapshot of every live task.
    pub(crate) fn snapshot(&self) -> Vec<TaskInfo> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap();
            let mut cur = shard.head;
            while let Some(node) = cur {
                // SAFETY: linked nodes are alive (the link holds a reference) and the
                // shard lock guards the links.
                let header = unsafe { node.as_ref() };
                out.push(TaskInfo::from_header(header));
                // SAFETY: as above.
                cur = header.owned_next.with(|n| unsafe { *n });
            }
        }
        out.sort_by_key(|t| t.id());
        out
    }
}

impl Shard {
    /// Unlinks `node` if linked.
    ///
    /// # Safety
    ///
    /// The shard lock is held (we are called through `&mut Shard` from a guard) and `node`
    /// is alive and either unlinked or linked into this shard.
    unsafe fn unlink(&mut self, node: NonNull<Header>) -> bool {
        // SAFETY: the caller guarantees liveness; the lock guards the links.
        let header = unsafe { node.as_ref() };
        // SAFETY: lock held.
        let (prev, next) = unsafe {
            (
                header.owned_prev.with(|p| *p),
                header.owned_next.with(|n| *n),
            )
        };
        match prev {
            // SAFETY: a linked neighbour is alive; lock held.
            Some(prev) => unsafe { prev.as_ref().owned_next.with_mut(|n| *n = next) },
            None if self.head == Some(node) => self.head = next,
            None => return false,
        }
        if let Some(next) = next {
            // SAFETY: a linked neighbour is alive; lock held.
            unsafe { next.as_ref().owned_prev.with_mut(|p| *p = prev) };
        }
        // SAFETY: lock held.
        unsafe {
            header.owned_prev.with_mut(|p| *p = None);
            header.owned_next.with_mut(|n| *n = None);
        }
        true
    }

    /// Unlinks every node, returning the references the links held.
    fn drain(&mut self) -> Vec<Task> {
        let mut out = Vec::new();
        while let Some(node) = self.head {
            // SAFETY: `node` is the linked head of this shard and we hold the lock.
            let linked = unsafe { self.unlink(node) };
            debug_assert!(linked);
            // SAFETY: the link's reference is transferred to the returned `Task`.
            out.push(Task::from_raw(unsafe { RawTask::from_raw(node) }));
        }
        out
    }
}
