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
//!
//! # Counters and layout
//!
//! Each shard keeps its own `alive` and `spawned` counts next to its mutex, in a slot
//! aligned to 128 bytes (two cache lines, against the adjacent-line prefetcher). Only the
//! holder of the shard lock writes them, with a plain load and store (no locked
//! read-modify-write); metrics read them without the lock and sum the shards, so a
//! reading may be a moment stale but never torn. Consecutive task ids land in different
//! slots, so a worker spawning task `n + 1` and another completing task `n` touch
//! different cache lines: the spawn/complete path has no shared counter.

use super::raw::{Header, RawTask};
use super::schedule::Task;
use crate::loom::{AtomicU64, AtomicUsize, Mutex, Ordering};
use std::ptr::NonNull;

/// One under loom: task ids come from a process-wide counter, so with more shards a
/// model's task would land in another shard in each iteration, and loom needs every
/// iteration of a model to touch the same objects.
const SHARDS: usize = if cfg!(loom) { 1 } else { 64 };

/// Registry of every live task of one runtime.
pub(crate) struct Registry {
    slots: Box<[Slot]>,
}

/// One shard with its counters, alone on its cache lines (see the module docs).
#[repr(align(128))]
struct Slot {
    shard: Mutex<Shard>,
    /// Linked tasks of this shard. Written only under `shard`'s lock.
    alive: AtomicUsize,
    /// Tasks ever inserted into this shard. Written only under `shard`'s lock.
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
        let slots = (0..SHARDS)
            .map(|_| Slot {
                shard: Mutex::new(Shard {
                    head: None,
                    closed: false,
                }),
                alive: AtomicUsize::new(0),
                spawned: AtomicU64::new(0),
            })
            .collect();
        Registry { slots }
    }

    fn slot(&self, task: RawTask) -> &Slot {
        self.slot_of(task.header().id.0)
    }

    /// The shard of task `id`.
    // Under loom `SHARDS` is 1 (see its docs).
    #[cfg_attr(loom, allow(clippy::modulo_one))]
    fn slot_of(&self, id: u64) -> &Slot {
        &self.slots[(id as usize) % SHARDS]
    }

    /// Protocol 1. `Err(task)` if the registry is closed.
    pub(crate) fn insert(&self, task: Task) -> Result<(), Task> {
        let raw = task.raw();
        let slot = self.slot(raw);
        let mut shard = slot.shard.lock().unwrap();
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
        // Under the shard lock: the only writer (see the module docs).
        add(&slot.alive, 1);
        slot.spawned
            .store(slot.spawned.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        Ok(())
    }

    /// Protocol 2: true if the task was linked (its reference now belongs to the caller).
    pub(crate) fn remove(&self, task: RawTask) -> bool {
        let slot = self.slot(task);
        let mut shard = slot.shard.lock().unwrap();
        // SAFETY: shard lock held; `task` belongs to this shard if linked.
        let linked = unsafe { shard.unlink(task.header_ptr()) };
        if linked {
            sub(&slot.alive, 1);
        }
        linked
    }

    /// Protocol 3: closes the registry and shuts down every task still in it.
    pub(crate) fn close_and_shutdown_all(&self) {
        for slot in self.slots.iter() {
            let tasks = {
                let mut shard = slot.shard.lock().unwrap();
                shard.closed = true;
                let tasks = shard.drain();
                sub(&slot.alive, tasks.len());
                tasks
            };
            for task in tasks {
                task.shutdown();
            }
        }
    }

    /// Number of tasks spawned and not yet complete.
    pub(crate) fn alive(&self) -> usize {
        let alive = self.slots.iter().map(|s| s.alive.load(Ordering::Relaxed));
        alive.sum()
    }

    /// Number of tasks ever inserted.
    pub(crate) fn spawned(&self) -> u64 {
        let spawned = self.slots.iter().map(|s| s.spawned.load(Ordering::Relaxed));
        spawned.sum()
    }

    /// True if no live task is scheduled or running.
    pub(crate) fn all_idle(&self) -> bool {
        let mut idle = true;
        self.visit(|header| {
            let s = header.state.load();
            idle &= !s.is_running() && !s.is_notified();
        });
        idle
    }

    /// Calls `f` with the header of every live task (shard by shard, under each shard's
    /// lock: `f` must not spawn or complete tasks).
    pub(crate) fn visit(&self, mut f: impl FnMut(&Header)) {
        for slot in self.slots.iter() {
            let shard = slot.shard.lock().unwrap();
            let mut cur = shard.head;
            while let Some(node) = cur {
                // SAFETY: linked nodes are alive (the link holds a reference) and the
                // shard lock guards the links.
                let header = unsafe { node.as_ref() };
                f(header);
                // SAFETY: as above.
                cur = header.owned_next.with(|n| unsafe { *n });
            }
        }
    }

    /// `f` of the live task `id`'s header, if it is linked (one shard's walk, under its
    /// lock).
    pub(crate) fn find<R>(&self, id: u64, f: impl FnOnce(&Header) -> R) -> Option<R> {
        let slot = self.slot_of(id);
        let shard = slot.shard.lock().unwrap();
        let mut cur = shard.head;
        while let Some(node) = cur {
            // SAFETY: linked nodes are alive (the link holds a reference) and the shard
            // lock guards the links.
            let header = unsafe { node.as_ref() };
            if header.id.0 == id {
                return Some(f(header));
            }
            // SAFETY: as above.
            cur = header.owned_next.with(|n| unsafe { *n });
        }
        None
    }
}

/// Adds to a shard counter; the caller holds the shard lock (the only writer).
fn add(counter: &AtomicUsize, n: usize) {
    counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

/// Subtracts from a shard counter; the caller holds the shard lock (the only writer).
fn sub(counter: &AtomicUsize, n: usize) {
    counter.store(counter.load(Ordering::Relaxed) - n, Ordering::Relaxed);
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
