//! A FIFO queue of waiting futures, stored in a slab: the one wait queue every primitive in
//! [`crate::sync`] and [`crate::context`] builds on.
//!
//! # Shape
//!
//! Each waiting future owns one *node*, addressed by its slab key. A node carries the
//! future's [`Waker`] and a small payload `W` (what the waiter needs, and how its wait
//! ended). Nodes are chained by key into a doubly linked list, so a waiter leaves from the
//! middle in O(1) and the owner of the lock pops from the front in O(1).
//!
//! A node is *linked* (waiting in the queue) or *unlinked* (its wait has ended but its
//! future has not yet looked). Only the future that created a node removes it from the slab,
//! so its key can never be reused under its feet:
//!
//! 1. The future pushes its node (`push_back`) and keeps the key.
//! 2. A waker-side operation (`pop_front` or `unlink`) takes the node out of the queue,
//!    writes the outcome into its payload and takes its waker; the node stays in the slab.
//! 3. The future, when polled or dropped, reads the payload and `remove`s the node.
//!
//! The list lives inside the owning primitive's `std::sync::Mutex`; it has no locking or
//! `unsafe` of its own.

use slab::Slab;
use std::task::Waker;

/// A FIFO queue of waiter nodes; see the module docs.
#[derive(Debug)]
pub(crate) struct WaitList<W> {
    nodes: Slab<Node<W>>,
    /// Key of the oldest linked node.
    head: Option<usize>,
    /// Key of the newest linked node.
    tail: Option<usize>,
}

/// One waiter: its waker, its payload and its place in the queue.
#[derive(Debug)]
pub(crate) struct Node<W> {
    prev: Option<usize>,
    next: Option<usize>,
    /// Invariant: true exactly while the node is reachable from `head`.
    linked: bool,
    waker: Option<Waker>,
    /// The waiter's payload (request and outcome).
    pub(crate) data: W,
}

impl<W> WaitList<W> {
    /// An empty list; does not allocate.
    pub(crate) const fn new() -> Self {
        WaitList {
            nodes: Slab::new(),
            head: None,
            tail: None,
        }
    }

    /// True when no node is linked (unlinked nodes awaiting removal do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Links a new node at the back of the queue and returns its key.
    pub(crate) fn push_back(&mut self, data: W, waker: &Waker) -> usize {
        let key = self.nodes.insert(Node {
            prev: self.tail,
            next: None,
            linked: true,
            waker: Some(waker.clone()),
            data,
        });
        match self.tail {
            Some(tail) => self.nodes[tail].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        key
    }

    /// Number of linked nodes (walks the list; for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let mut n = 0;
        let mut cur = self.head;
        while let Some(k) = cur {
            n += 1;
            cur = self.nodes[k].next;
        }
        n
    }

    /// Key of the oldest linked node.
    pub(crate) fn front(&self) -> Option<usize> {
        self.head
    }

    /// Unlinks the oldest node (it stays in the slab) and returns its key.
    pub(crate) fn pop_front(&mut self) -> Option<usize> {
        let key = self.head?;
        self.unlink(key);
        Some(key)
    }

    /// Takes `key` out of the queue if it is linked; returns whether it was.
    pub(crate) fn unlink(&mut self, key: usize) -> bool {
        let node = &mut self.nodes[key];
        if !node.linked {
            return false;
        }
        node.linked = false;
        let (prev, next) = (node.prev.take(), node.next.take());
        match prev {
            Some(p) => self.nodes[p].next = next,
            None => self.head = next,
        }
        match next {
            Some(n) => self.nodes[n].prev = prev,
            None => self.tail = prev,
        }
        true
    }

    /// Removes the node for good (unlinking it first if needed) and returns its payload and
    /// whether it was still linked.
    pub(crate) fn remove(&mut self, key: usize) -> (W, bool) {
        let was_linked = self.unlink(key);
        (self.nodes.remove(key).data, was_linked)
    }

    /// The node's payload.
    pub(crate) fn data(&self, key: usize) -> &W {
        &self.nodes[key].data
    }

    /// The node's payload, mutably.
    pub(crate) fn data_mut(&mut self, key: usize) -> &mut W {
        &mut self.nodes[key].data
    }

    /// Stores `waker` in the node unless an equivalent one is already there.
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) {
        let slot = &mut self.nodes[key].waker;
        match slot {
            Some(old) if old.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Takes the node's waker (to be called after the lock is released).
    pub(crate) fn take_waker(&mut self, key: usize) -> Option<Waker> {
        self.nodes[key].waker.take()
    }

    /// Unlinks every node, oldest first, calling `f` with each payload and collecting the
    /// wakers into `wakers`.
    pub(crate) fn drain(&mut self, wakers: &mut Vec<Waker>, mut f: impl FnMut(&mut W)) {
        while let Some(key) = self.pop_front() {
            f(&mut self.nodes[key].data);
            wakers.extend(self.nodes[key].waker.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    fn order(list: &WaitList<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = list.head;
        while let Some(k) = cur {
            out.push(list.nodes[k].data);
            cur = list.nodes[k].next;
        }
        out
    }

    #[test]
    fn fifo_and_unlink_from_middle() {
        let w = noop_waker();
        let mut list = WaitList::new();
        let keys: Vec<usize> = (0..5).map(|i| list.push_back(i, &w)).collect();
        assert_eq!(order(&list), [0, 1, 2, 3, 4]);
        assert!(list.unlink(keys[2]));
        assert!(!list.unlink(keys[2]));
        assert_eq!(order(&list), [0, 1, 3, 4]);
        assert_eq!(list.pop_front(), Some(keys[0]));
        assert_eq!(list.remove(keys[4]), (4, true));
        assert_eq!(order(&list), [1, 3]);
        assert_eq!(list.remove(keys[0]), (0, false));
        let mut wakers = Vec::new();
        let mut seen = Vec::new();
        list.drain(&mut wakers, |d| seen.push(*d));
        assert_eq!(seen, [1, 3]);
        assert_eq!(wakers.len(), 2);
        assert!(list.is_empty());
    }
}
