//! Wait queues: FIFO lists of waiter nodes stored in a slab inside the channel state.
//!
//! # Why a slab and not intrusive nodes
//!
//! The send/recv futures must be `Unpin` (API contract), so a waiter cannot live inside
//! the future. Instead each channel owns a [`slab::Slab`] of [`Waiter`]s; a future keeps
//! only the slab key. Once the slab has grown to the peak number of simultaneous waiters,
//! waiting allocates nothing.
//!
//! # Who touches what
//!
//! Everything here is reached only through the channel's mutex; no field needs atomics.
//! The one shared thing a node points at is the [`SelectCell`] of a select owner, which
//! is touched only through its own atomic protocol (see `select.rs`).
//!
//! 1. The *operation* (future, blocking call, select arm) inserts its node, links it at
//!    the tail of `sendq` or `recvq`, and alone removes the node from the slab (when it
//!    completes or is dropped). So a key held by an operation stays valid.
//! 2. A *counterparty* walking a queue may complete a node (fill or empty its slot, set
//!    [`Status::Done`], unlink it) or, when the channel closes, set [`Status::Closed`] and
//!    unlink it. It may also unlink nodes of finished selects ("stale"). It never removes
//!    a node from the slab.
//! 3. A node is linked iff `queue.is_some()`. The select cell a linked node points at is
//!    alive: the arm future unlinks its node in `Drop` before the cell goes away.

use core::task::Waker;

use slab::Slab;

use crate::select::{Claim, SelectCell};

/// End of a list.
const NIL: usize = usize::MAX;

/// Which wait queue a node sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queue {
    /// Senders waiting for room or for a receiver.
    Send,
    /// Receivers waiting for a value.
    Recv,
}

/// Completion status of a node; written only under the channel lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Not completed yet.
    Waiting,
    /// Completed: a send node's value was taken, a recv node's slot holds its value.
    Done,
    /// The channel closed while the node waited: a send node still holds its value.
    Closed,
}

/// Who is waiting on a node.
#[derive(Debug)]
pub(crate) enum Owner {
    /// A plain send/recv future or a blocking call. Always claimable.
    Solo(Option<Waker>),
    /// Arm `arm` of a select whose cell is at `cell`.
    ///
    /// Invariant: while the node is linked, `cell` points to a live, pinned cell.
    Select {
        /// The select's cell.
        cell: *const SelectCell,
        /// The arm index this node belongs to.
        arm: usize,
    },
}

// SAFETY: `Owner` is only a `Waker` (Send) or a pointer to a `SelectCell`, which is
// `Sync`; the pointer is dereferenced only while the node is linked (cell alive).
unsafe impl Send for Owner {}

/// One waiting operation.
#[derive(Debug)]
pub(crate) struct Waiter<T> {
    /// The value to send, or the value received.
    pub(crate) slot: Option<T>,
    /// Completion status.
    pub(crate) status: Status,
    /// Who to notify.
    pub(crate) owner: Owner,
    /// The queue the node is linked in, `None` when unlinked.
    queue: Option<Queue>,
    prev: usize,
    next: usize,
}

/// Head and tail of one FIFO list.
#[derive(Debug, Clone, Copy)]
struct List {
    head: usize,
    tail: usize,
}

impl List {
    const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };
}

/// A claimed node: its key and the waker to call once the lock is released.
pub(crate) struct Claimed {
    pub(crate) key: usize,
    pub(crate) waker: Option<Waker>,
}

/// Both wait queues of a channel and the slab holding their nodes.
#[derive(Debug)]
pub(crate) struct Waiters<T> {
    slab: Slab<Waiter<T>>,
    sendq: List,
    recvq: List,
}

impl<T> Waiters<T> {
    /// Empty queues; allocates nothing.
    pub(crate) const fn new() -> Self {
        Waiters {
            slab: Slab::new(),
            sendq: List::EMPTY,
            recvq: List::EMPTY,
        }
    }

    /// Inserts an unlinked node and returns its key.
    pub(crate) fn insert(&mut self, slot: Option<T>, owner: Owner) -> usize {
        if let Owner::Select { cell, .. } = owner {
            // SAFETY: the select arm inserting the node runs inside the select's poll,
            // so its pinned cell is alive.
            unsafe { (*cell).node_added() };
        }
        self.slab.insert(Waiter {
            slot,
            status: Status::Waiting,
            owner,
            queue: None,
            prev: NIL,
            next: NIL,
        })
    }

    /// Removes a node (unlinking it first) and returns it.
    pub(crate) fn remove(&mut self, key: usize) -> Waiter<T> {
        self.unlink(key);
        let node = self.slab.remove(key);
        if let Owner::Select { cell, .. } = node.owner {
            // SAFETY: only the owning arm removes its node, from its poll or its drop;
            // both run before the cell (declared before the arms) is dropped.
            unsafe { (*cell).node_removed() };
        }
        node
    }

    /// Makes `owner` (a select arm) the owner of a waiting node that a plain future of
    /// the same operation linked before it was moved into a select, so the node is only
    /// claimable through the select's cell from now on. No-op for nodes already owned by
    /// a select.
    pub(crate) fn adopt(&mut self, key: usize, owner: Owner) {
        let node = &mut self.slab[key];
        if let (Owner::Solo(_), Owner::Select { cell, .. }) = (&node.owner, &owner) {
            // SAFETY: the adopting select arm is being polled, so its cell is alive.
            unsafe { (**cell).node_added() };
            node.owner = owner;
        }
    }

    /// The node at `key`.
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut Waiter<T> {
        &mut self.slab[key]
    }

    /// Returns `true` if the node is linked in a queue.
    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.slab[key].queue.is_some()
    }

    /// Returns `true` if no node is linked in `q`.
    #[inline]
    pub(crate) fn is_empty(&self, q: Queue) -> bool {
        self.list(q).head == NIL
    }

    /// Links an unlinked node at the tail of `q`.
    pub(crate) fn link(&mut self, key: usize, q: Queue) {
        debug_assert!(self.slab[key].queue.is_none());
        let tail = self.list(q).tail;
        {
            let node = &mut self.slab[key];
            node.queue = Some(q);
            node.prev = tail;
            node.next = NIL;
        }
        match tail {
            NIL => self.list_mut(q).head = key,
            t => self.slab[t].next = key,
        }
        self.list_mut(q).tail = key;
    }

    /// Unlinks a node if it is linked.
    pub(crate) fn unlink(&mut self, key: usize) {
        let (q, prev, next) = {
            let node = &mut self.slab[key];
            let Some(q) = node.queue.take() else { return };
            (q, node.prev, node.next)
        };
        match prev {
            NIL => self.list_mut(q).head = next,
            p => self.slab[p].next = next,
        }
        match next {
            NIL => self.list_mut(q).tail = prev,
            n => self.slab[n].prev = prev,
        }
    }

    /// Claims the first claimable node of `q`, skipping nodes of `me` (the caller's own
    /// select cell, or null). The claimed node is unlinked; the caller completes it.
    #[inline]
    pub(crate) fn claim_first(&mut self, q: Queue, me: *const SelectCell) -> Option<Claimed> {
        // Most operations find the opposite queue empty: decide that without a call.
        if self.is_empty(q) {
            return None;
        }
        self.claim_first_slow(q, me)
    }

    fn claim_first_slow(&mut self, q: Queue, me: *const SelectCell) -> Option<Claimed> {
        let mut cur = self.list(q).head;
        while cur != NIL {
            let next = self.slab[cur].next;
            match claim(&mut self.slab[cur].owner, me) {
                NodeClaim::Won(waker) => {
                    self.unlink(cur);
                    return Some(Claimed { key: cur, waker });
                }
                NodeClaim::Skip => {}
                NodeClaim::Stale => self.unlink(cur),
            }
            cur = next;
        }
        None
    }

    /// Claims every claimable node of `q` (used by close); returns their keys and wakers.
    pub(crate) fn claim_all(&mut self, q: Queue, out: &mut Vec<Claimed>) {
        while let Some(c) = self.claim_first(q, core::ptr::null()) {
            out.push(c);
        }
    }

    fn list(&self, q: Queue) -> &List {
        match q {
            Queue::Send => &self.sendq,
            Queue::Recv => &self.recvq,
        }
    }

    fn list_mut(&mut self, q: Queue) -> &mut List {
        match q {
            Queue::Send => &mut self.sendq,
            Queue::Recv => &mut self.recvq,
        }
    }
}

/// Result of trying to claim one node.
enum NodeClaim {
    /// The caller now owns the completion of the node.
    Won(Option<Waker>),
    /// Leave the node linked (own cell, or the owner is busy polling).
    Skip,
    /// The node's select already finished another way: unlink it and move on.
    Stale,
}

fn claim(owner: &mut Owner, me: *const SelectCell) -> NodeClaim {
    match owner {
        Owner::Solo(waker) => NodeClaim::Won(waker.take()),
        Owner::Select { cell, .. } if core::ptr::eq(*cell, me) => NodeClaim::Skip,
        Owner::Select { cell, arm } => {
            // SAFETY: the node is linked, so its cell is alive (module invariant 3).
            let cell = unsafe { &**cell };
            match cell.try_claim(*arm) {
                // SAFETY: we won the WAITING -> SELECTED CAS and hold the channel lock,
                // so the owner does not write its waker until it takes this lock.
                Claim::Won => NodeClaim::Won(unsafe { cell.waker() }),
                Claim::Busy => NodeClaim::Skip,
                Claim::Finished => NodeClaim::Stale,
            }
        }
    }
}
