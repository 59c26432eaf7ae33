//! Wait queues: FIFO lists of waiter nodes at stable heap addresses, recycled per channel.
//!
//! # Why nodes on the heap and not in the futures
//!
//! The send/recv futures must be `Unpin` (API contract), so a waiter cannot live inside
//! the future. Each node is a separate heap block that never moves; a future keeps only
//! its address (a [`Key`]). Nodes are recycled through per-channel free lists, so once a
//! channel has seen its peak number of simultaneous waiters, waiting allocates nothing.
//! Because a node never moves, its owner can see that it was completed with one atomic
//! load and take the result **without the channel lock** (the point of this design: a
//! woken receiver does not contend for the lock a second time to collect its value), and
//! give the node back with one plain release store (no read-modify-write).
//!
//! # Fields and who touches them
//!
//! A [`Node`] has these parts:
//!
//! * `status` (atomic): [`Status::Waiting`] while the node is in use and not completed;
//!   set to a completed status (`Done`, `DoneClosed`, `Closed`, `Taken`) by the
//!   counterparty that completed it, with a release store after which it no longer
//!   touches the `waiter` part; set to `FREE` by the operation when it is done with a
//!   completed node.
//!   A receive node can also read `Stolen` (another receive took its value under the
//!   lock, protocol 7) and, for an instant, `OWNED` (its operation is taking the value
//!   without the lock).
//! * `recycle` (lock-guarded): the link of the `completed` list (protocol 4).
//! * `links` (lock-guarded): the node's place in a wait queue or free list, or, once
//!   filled, in the in-flight list with the value's delivery number (protocol 7). Kept
//!   apart from `waiter` so that a lock holder may walk the in-flight list while an
//!   operation takes its value without the lock.
//! * `waiter` (a [`TrackedCell`]`<Waiter<T>>`, an `UnsafeCell` whose accesses loom
//!   checks: slot and owner). Accessed
//!   (a) under the channel lock while `status == Waiting`, by anyone holding the lock;
//!   (b) by the node's operation alone, without the lock, after it read `Done`/`Closed`
//!   with an acquire load (nobody else can reach the node then: it is unlinked);
//!   (c) under the channel lock for a node that is reusable: on `completed` once its
//!   status reads `FREE` (acquire).
//!
//! # Invariants and protocols
//!
//! 1. The *operation* (future, blocking call, select arm) takes a node from the free
//!    lists and links it, under the lock ([`Waiters::insert`], [`Waiters::link`]). It alone
//!    gives the node back: under the lock with [`Waiters::remove`], or after completion
//!    without the lock with [`release_sent`] or [`take_filled`]. So a key held by an
//!    operation stays valid.
//! 2. A *counterparty* (holding the lock) claims a linked node, unlinks it, fills or
//!    empties its slot, pushes it on the `completed` list, and then stores the final
//!    status (release). After that store it never touches the `waiter` part again. Nodes
//!    are freed only when the channel is dropped. A counterparty may also unlink nodes of
//!    finished selects ("stale"); those stay `Waiting` until their arm removes them.
//! 3. A linked node has `status == Waiting` (completion unlinks first). The select cell
//!    a linked node points at is alive: the arm future unlinks its node in `Drop` before
//!    the cell goes away.
//! 4. **Recycling**, lock-guarded, inside [`Waiters`]: `completed` (linked through
//!    `recycle`) holds every completed node, pushed at the front by the completing
//!    counterparty, and every node removed before completion, pushed at the front as
//!    `FREE` by its operation. A completed node is reusable once its operation has stored
//!    `FREE` (release): with the lock held, [`Waiters::insert`] looks at the first few
//!    `completed` nodes for one that reads `FREE` (acquire, so the operation's last
//!    accesses happen before reuse), moving each one still in use to the back, and
//!    allocates only if none is free. (Without the move, the newest completions, whose
//!    operations have often not run yet, hid the older free nodes: a 4×4 rendezvous run
//!    allocated a node every five values and kept them all.) A node is in at most one
//!    wait queue, and in `completed` from its first completion or removal on.
//! 5. The channel frees every node when it is dropped: both lists and any node still
//!    linked (only possible if an operation was leaked with `mem::forget`).
//! 6. **In-flight values and close** ("`None` is final"). A filled receive node (`Done`)
//!    holds a value that still counts as in the channel: its operation may give it back.
//!    So a receive on a closed channel whose buffer is empty returns `None` only when no
//!    node on `completed` is `Done`/`DoneClosed` ([`Waiters::any_in_flight`]); otherwise
//!    it waits. `close` turns every `Done` into `DoneClosed` (CAS, under the lock), and
//!    fills after close are `DoneClosed`. The operation takes its value with an exchange
//!    `Done`/`DoneClosed -> OWNED` ([`take_filled`]); taking it from `DoneClosed`, it
//!    locks the channel and lets waiting receivers finish if the channel is now drained.
//!    The exchange and close's CAS are both read-modify-writes on the status word, so one
//!    of them sees the other: either close marked the node first (the exchange starts
//!    from `DoneClosed` and notifies), or the exchange came first (the node no longer
//!    holds a value for every later scan).
//! 7. **Values in flight keep their place** (buffered channels). A value handed to a
//!    receive is older than everything buffered (a receive waits only on an empty
//!    buffer), so it must leave first, whoever receives: otherwise a receive dropped
//!    later would give back a value that another receiver already overtook. Every fill
//!    gets a delivery number (`seq`); filled nodes sit in the in-flight list in that order
//!    (lock-guarded links). Then:
//!    * any receive (under the lock) takes the oldest value in flight before the
//!      buffer, with a CAS `Done* -> Stolen`; the robbed operation reads `Stolen` and
//!      receives again;
//!    * the operation takes its own value without the lock only if no older value was
//!      in flight when it was filled (else the fill set `SHARED` and it goes through the
//!      lock, taking the oldest value in flight and giving its own back in its place),
//!      with a CAS `Done* -> OWNED`, so exactly one of it and a thief wins; `OWNED` is
//!      then stored as `FREE` by the operation alone;
//!    * a given-back value keeps its number: to a waiting receive it goes into its place
//!      in the list; to the buffer front it goes with every newer value in flight pulled
//!      back behind it (stolen from their receives, which receive again).
//!
//!    A node whose value was taken without the lock stays in the list until a lock
//!    holder passes it, or is unlinked when the node is reused. On a rendezvous channel
//!    a value in flight stays with its receive (the send paired with that receive; a
//!    later receive taking it would make the rendezvous a buffer), so nothing there
//!    uses the list.
//!
//! Wakers are never cloned by a counterparty (a solo node's waker is moved out, a select
//! cell's waker is taken) and never dropped under the lock: [`Waiters::remove`] and
//! [`Waiters::set_waker`] hand the old waker back to be dropped after unlocking.

use core::ptr::{self, NonNull};
use core::task::Waker;

use crate::loom::{AtomicUsize, Ordering, TrackedCell};
use crate::select::{Claim, SelectCell};

/// Which wait queue a node sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queue {
    /// Senders waiting for room or for a receiver.
    Send,
    /// Receivers waiting for a value.
    Recv,
    /// `Stream` receivers waiting to be told that a value may be there (never filled:
    /// an abandoned `next()` must not hold a value).
    Watch,
}

/// Completion status of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Not completed yet.
    Waiting = 0,
    /// A recv node's slot holds its value (the value is "in flight": still counted as in
    /// the channel until the operation takes it or gives it back).
    Done = 1,
    /// The channel closed while the node waited: a send node still holds its value.
    Closed = 2,
    /// A send node's value was taken, or a watch node was notified.
    Taken = 3,
    /// As `Done`, on a closed channel: the operation that takes the value must tell the
    /// channel (receivers waiting to learn whether the channel is drained).
    DoneClosed = 4,
    /// A recv node's value was taken, under the lock, by another receive (protocol 7):
    /// the node holds nothing and its operation receives again.
    Stolen = 6,
}

/// Status word of a completed node its operation is done with (reusable).
const FREE: usize = 5;
/// Status word of a filled recv node whose operation is taking the value without the lock
/// (protocol 7); it stores `FREE` next.
const OWNED: usize = 7;
/// Flag on a `Done`/`DoneClosed` word: the node was filled while an older value was in
/// flight, so its operation takes a value only under the lock (protocol 7).
const SHARED: usize = 8;

/// True for the status word of a node holding an in-flight value.
#[inline]
fn word_holds_value(w: usize) -> bool {
    let w = w & !SHARED;
    w == Status::Done as usize || w == Status::DoneClosed as usize
}

impl Status {
    #[inline]
    fn from_word(w: usize) -> Status {
        match w & !SHARED {
            0 => Status::Waiting,
            1 => Status::Done,
            2 => Status::Closed,
            3 => Status::Taken,
            4 => Status::DoneClosed,
            6 => Status::Stolen,
            _ => unreachable!("a held node is never FREE or OWNED to its holder"),
        }
    }

    /// A recv node holding a value (`Done` or `DoneClosed`).
    pub(crate) fn holds_value(self) -> bool {
        matches!(self, Status::Done | Status::DoneClosed)
    }
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

/// The payload of a node (module docs: who may touch it when).
pub(crate) struct Waiter<T> {
    /// The value to send, or the value received.
    pub(crate) slot: Option<T>,
    /// Who to notify.
    pub(crate) owner: Owner,
}

/// A node's links, touched only under the lock: its place in a wait queue or a free
/// list, or, once filled, in the in-flight list (protocol 7). Never two at once: a node
/// is filled only after it left its wait queue, and leaves the in-flight list before it
/// is reused.
struct Links<T> {
    /// The wait queue the node is linked in, `None` when it is in none.
    queue: Option<Queue>,
    /// True while the node is on the in-flight list.
    in_flight: bool,
    /// The delivery number of the value the node was filled with (protocol 7); compared
    /// with wrapping arithmetic ([`older`]).
    seq: u32,
    prev: *mut Node<T>,
    /// Next node in the list, or in a free list.
    next: *mut Node<T>,
}

/// True if delivery number `a` comes before `b`. Numbers wrap; the values in flight at
/// once span far fewer than 2^31 numbers.
#[inline]
fn older(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// One waiter node: a stable heap block.
pub(crate) struct Node<T> {
    status: AtomicUsize,
    /// Link of the `completed` list; touched only under the channel lock.
    recycle: TrackedCell<*mut Node<T>>,
    /// Queue and list links; touched only under the channel lock.
    links: TrackedCell<Links<T>>,
    waiter: TrackedCell<Waiter<T>>,
}

impl<T> Node<T> {
    fn alloc() -> *mut Node<T> {
        Box::into_raw(Box::new(Node {
            status: AtomicUsize::new(Status::Waiting as usize),
            recycle: TrackedCell::new(ptr::null_mut()),
            links: TrackedCell::new(Links {
                queue: None,
                in_flight: false,
                seq: 0,
                prev: ptr::null_mut(),
                next: ptr::null_mut(),
            }),
            waiter: TrackedCell::new(Waiter {
                slot: None,
                owner: Owner::Solo(None),
            }),
        }))
    }
}

// A node per parked receive: idle tasks pay for every byte (issue 10's memory row). With
// `u64` values it fits an 80-byte block (96 with malloc's header).
// (Not under the model checkers, whose cells and atomics are larger.)
#[cfg(not(any(loom, shuttle)))]
const _: () = assert!(core::mem::size_of::<Node<u64>>() <= 80);

/// The address of a node, held by the operation that owns it (type-erased so that
/// `RecvOp` needs no type parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key(NonNull<()>);

// SAFETY: a `Key` is an address; nothing can be reached through it without `unsafe` code
// that follows the module protocol (lock held, or the owner after completion).
unsafe impl Send for Key {}
// SAFETY: as above; `&Key` only gives a copy of the address.
unsafe impl Sync for Key {}

impl Key {
    fn new<T>(node: *mut Node<T>) -> Key {
        Key(NonNull::new(node.cast()).expect("node pointers are never null"))
    }

    fn node<T>(self) -> *mut Node<T> {
        self.0.as_ptr().cast()
    }

    /// The node's status, read without the lock (acquire: pairs with the completing
    /// counterparty's release store, so a `Done`/`Closed` result makes the slot readable).
    ///
    /// # Safety
    ///
    /// `self` is a node of a channel of `T` held by the caller's operation (protocol 1).
    #[inline]
    pub(crate) unsafe fn status<T>(self) -> Status {
        // SAFETY: the caller holds the node (protocol 1), so it is allocated; `status` is
        // an atomic, readable by anyone.
        Status::from_word(unsafe { (*self.node::<T>()).status.load(Ordering::Acquire) })
    }
}

/// Frees a node (channel drop only).
///
/// # Safety
///
/// `node` came from `Node::alloc`, is on no list any more, and nobody else can reach it.
unsafe fn free_node<T>(node: *mut Node<T>) {
    // SAFETY: forwarded from the caller's contract.
    drop(unsafe { Box::from_raw(node) });
}

/// Releases a completed *send* node without the lock; returns its slot (the value back
/// if the channel closed first). Receive nodes use [`take_filled`].
///
/// # Safety
///
/// `key` is a send node held by the caller's operation on a channel of `T`, and the
/// caller read a status other than `Waiting` from [`Key::status`] (the node is unlinked
/// and its `waiter` part is the operation's alone: module docs, case b).
#[inline]
pub(crate) unsafe fn release_sent<T>(key: Key) -> Option<T> {
    let node = key.node::<T>();
    // SAFETY: completed nodes belong to their operation alone (module docs, case b).
    let (slot, waker) = unsafe {
        (*node)
            .waiter
            .with_mut(|w| (w.slot.take(), clear_owner(&mut w.owner)))
    };
    // SAFETY: the node is allocated until the channel drops (protocol 2), which cannot
    // happen while an operation holds it. After this store the node is reusable, so it is
    // our last access. A plain store: a completed send node's status (`Taken`/`Closed`)
    // is never changed by anyone else (`close` and thieves change only `Done` words).
    unsafe { (*node).status.store(FREE, Ordering::Release) };
    drop(waker);
    slot
}

/// The operation's lock-free take of its filled recv node (protocol 7): the value and
/// whether the channel must be told (the node was `DoneClosed`: protocol 6), or `None`
/// if the value must be taken under the lock (not filled, filled `SHARED`, or stolen).
/// On `Some` the node is released (`FREE`).
///
/// # Safety
///
/// `key` is a recv node held by the caller's operation on a channel of `T`.
#[inline]
pub(crate) unsafe fn take_filled<T>(key: Key) -> Option<(T, bool)> {
    let node = key.node::<T>();
    // SAFETY: the caller holds the node (protocol 1), so it is allocated.
    let status = unsafe { &(*node).status };
    let mut s = status.load(Ordering::Acquire);
    loop {
        if s != Status::Done as usize && s != Status::DoneClosed as usize {
            return None;
        }
        // Acquire pairs with the filler's release store; the exchange makes the value
        // ours against a receive that would steal it under the lock.
        match status.compare_exchange(s, OWNED, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            // `close` turned `Done` into `DoneClosed`, or a thief won: look again.
            Err(now) => s = now,
        }
    }
    // SAFETY: `OWNED` is ours: nobody else touches a node in that state (protocol 7),
    // so the `waiter` part is ours alone (module docs, case b).
    let (slot, waker) = unsafe {
        (*node)
            .waiter
            .with_mut(|w| (w.slot.take(), clear_owner(&mut w.owner)))
    };
    // SAFETY: allocated (see above). After this store the node is reusable: our last
    // access. A plain store: nobody changes an `OWNED` word.
    unsafe { (*node).status.store(FREE, Ordering::Release) };
    drop(waker);
    let v = slot.expect("a filled recv node holds a value");
    Some((v, s == Status::DoneClosed as usize))
}

/// Takes a node's owner out, keeping the select cell's live-node count right; returns
/// the owner's waker, to be dropped by the caller after it released the channel lock.
#[inline]
fn clear_owner(owner: &mut Owner) -> Option<Waker> {
    match core::mem::replace(owner, Owner::Solo(None)) {
        Owner::Solo(w) => w,
        Owner::Select { cell, .. } => {
            // SAFETY: only the owning arm releases its node, from its poll or its drop;
            // both run before the cell (declared before the arms) is dropped.
            unsafe { (*cell).node_removed() };
            None
        }
    }
}

/// Head and tail of one FIFO list.
struct List<T> {
    head: *mut Node<T>,
    tail: *mut Node<T>,
}

impl<T> List<T> {
    const EMPTY: List<T> = List {
        head: ptr::null_mut(),
        tail: ptr::null_mut(),
    };
}

/// A claimed node: its key and the waker to call once the lock is released.
pub(crate) struct Claimed {
    pub(crate) key: Key,
    pub(crate) waker: Option<Waker>,
}

/// What [`Waiters::remove`] hands back; drop it after releasing the channel lock (the
/// slot's value and the owner's waker may run user code when dropped).
pub(crate) struct Removed<T> {
    /// The node's status when it was removed.
    pub(crate) status: Status,
    /// The node's slot.
    pub(crate) slot: Option<T>,
    /// The owner's waker, if it had one.
    pub(crate) waker: Option<Waker>,
    /// The delivery order of the value in `slot` if the node was in flight (protocol 7).
    pub(crate) seq: Option<u32>,
}

/// A value taken from another operation's node, and its delivery order (protocol 7).
pub(crate) struct Stolen<T> {
    pub(crate) value: T,
    pub(crate) seq: u32,
}

/// Both wait queues of a channel and its recycling lists. Lives under the lock.
pub(crate) struct Waiters<T> {
    sendq: List<T>,
    recvq: List<T>,
    watchq: List<T>,
    /// Completed nodes, linked through `recycle` (protocol 4): newly completed ones at the
    /// front, ones found still in use moved to the back.
    completed: *mut Node<T>,
    /// The last node of `completed` (null when it is empty).
    completed_tail: *mut Node<T>,
    /// Filled recv nodes in delivery order, linked through `links` (protocol 7). Nodes
    /// whose value was taken without the lock stay until a lock holder passes them.
    flight: List<T>,
}

/// How many `completed` nodes [`Waiters::insert`] inspects for a `FREE` one.
const RECYCLE_SCAN: usize = 4;

// SAFETY: the raw pointers are nodes owned by this channel (module docs); they carry `T`
// values between threads exactly like a `Vec<T>` would, so `T: Send` suffices.
unsafe impl<T: Send> Send for Waiters<T> {}

impl<T> Waiters<T> {
    /// Empty queues; allocates nothing.
    pub(crate) const fn new() -> Self {
        Waiters {
            sendq: List::EMPTY,
            recvq: List::EMPTY,
            watchq: List::EMPTY,
            completed: ptr::null_mut(),
            completed_tail: ptr::null_mut(),
            flight: List::EMPTY,
        }
    }

    /// The waiter part of `node`, mutably.
    ///
    /// # Safety
    ///
    /// `node` is an allocated node of this channel (held by the caller's operation, linked
    /// in one of its lists, or just taken from its free lists: protocol 1); the caller
    /// holds the channel lock, so the `waiter` part is ours (module docs, case a); and no
    /// other reference to this node's waiter is alive while the result is.
    #[allow(clippy::mut_from_ref)]
    unsafe fn w(&self, node: *mut Node<T>) -> &mut Waiter<T> {
        // SAFETY: the caller's contract (see above).
        unsafe { (*node).waiter.get_mut() }
    }

    /// Takes a node from the free lists (allocating if both are empty), fills it and
    /// returns its key; the node is not linked yet.
    #[inline]
    pub(crate) fn insert(&mut self, slot: Option<T>, owner: Owner) -> Key {
        let node = match self.take_free_completed() {
            Some(n) => {
                self.flight_unlink(n);
                n
            }
            None => Node::alloc(),
        };
        if let Owner::Select { cell, .. } = owner {
            // SAFETY: the select arm inserting the node runs inside the select's poll,
            // so its pinned cell is alive.
            unsafe { (*cell).node_added() };
        }
        // SAFETY: just taken from the free lists or allocated, under the lock; not linked,
        // so nothing else refers to it.
        let w = unsafe { self.w(node) };
        w.slot = slot;
        w.owner = owner;
        // SAFETY: nodes of this channel's lists or held by the caller's operation are
        // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
        let l = unsafe { self.l(node) };
        l.queue = None;
        l.prev = ptr::null_mut();
        l.next = ptr::null_mut();
        // SAFETY: the node is allocated (just taken or created) and ours.
        unsafe {
            (*node)
                .status
                .store(Status::Waiting as usize, Ordering::Relaxed)
        };
        Key::new(node)
    }

    /// Takes a `FREE` node from the first [`RECYCLE_SCAN`] nodes of `completed`. A node
    /// looked at and still in use moves to the back: the newest completions, whose
    /// operations have often not run yet, then stop hiding the older ones, which have.
    #[inline]
    fn take_free_completed(&mut self) -> Option<*mut Node<T>> {
        for _ in 0..RECYCLE_SCAN {
            let cur = self.completed;
            if cur.is_null() {
                return None;
            }
            // SAFETY: nodes on `completed` are allocated (freed only at channel drop),
            // and `status` is atomic (protocol 4).
            let status = unsafe { (*cur).status.load(Ordering::Acquire) };
            self.pop_completed();
            if status == FREE {
                return Some(cur);
            }
            self.push_completed(cur);
        }
        None
    }

    /// Removes the oldest node of `completed` (which must be non-empty).
    #[inline]
    fn pop_completed(&mut self) {
        let head = self.completed;
        // SAFETY: `head` is on `completed` (the caller checked it is non-empty), so it is
        // allocated, and its `recycle` link is ours under the lock.
        self.completed = unsafe { *(*head).recycle.get_mut() };
        if self.completed.is_null() {
            self.completed_tail = ptr::null_mut();
        }
    }

    /// Puts `node` (on no list) at the front of `completed`.
    #[inline]
    fn push_front_completed(&mut self, node: *mut Node<T>) {
        // SAFETY: `node` is an allocated node whose `recycle` link is ours under the lock.
        unsafe { *(*node).recycle.get_mut() = self.completed };
        if self.completed.is_null() {
            self.completed_tail = node;
        }
        self.completed = node;
    }

    /// Appends `node` (on no list) to `completed`.
    #[inline]
    fn push_completed(&mut self, node: *mut Node<T>) {
        // SAFETY: `node` and the current tail are allocated nodes whose `recycle` links
        // are ours under the lock.
        unsafe {
            *(*node).recycle.get_mut() = ptr::null_mut();
            if self.completed_tail.is_null() {
                self.completed = node;
            } else {
                *(*self.completed_tail).recycle.get_mut() = node;
            }
        }
        self.completed_tail = node;
    }

    /// Unlinks the node if needed and returns its status and slot; the node becomes
    /// reusable (`FREE` on `completed`, at the front if it never completed).
    pub(crate) fn remove(&mut self, key: Key) -> Removed<T> {
        self.unlink(key);
        let node = key.node::<T>();
        // SAFETY: allocated (held by the caller's operation); lock held.
        let status = Status::from_word(unsafe { (*node).status.load(Ordering::Relaxed) });
        let seq = self.flight_unlink(node);
        // SAFETY: as for `status` above; the only reference made here.
        let w = unsafe { self.w(node) };
        let slot = w.slot.take();
        let waker = clear_owner(&mut w.owner);
        if status == Status::Waiting {
            self.push_front_completed(node);
        }
        // SAFETY: allocated; the node is on `completed` (protocol 2, or just above); we
        // hold the lock, under which its next user takes it.
        unsafe { (*node).status.store(FREE, Ordering::Relaxed) };
        Removed {
            status,
            slot,
            waker,
            seq: seq.filter(|_| status.holds_value()),
        }
    }

    /// Makes `owner` (a select arm) the owner of a waiting node that a plain future of
    /// the same operation linked before it was moved into a select, so the node is only
    /// claimable through the select's cell from now on. No-op for nodes already owned by
    /// a select.
    /// Returns the plain future's waker, to be dropped after the lock is released.
    pub(crate) fn adopt(&mut self, key: Key, owner: Owner) -> Option<Waker> {
        // SAFETY: `key` is held by the adopting operation (allocated); lock held.
        let node = unsafe { self.w(key.node()) };
        if let (Owner::Solo(_), Owner::Select { cell, .. }) = (&node.owner, &owner) {
            // SAFETY: the adopting select arm is being polled, so its cell is alive.
            unsafe { (**cell).node_added() };
            if let Owner::Solo(w) = core::mem::replace(&mut node.owner, owner) {
                return w;
            }
        }
        None
    }

    /// The waiter part of the node at `key` (lock held).
    pub(crate) fn get_mut(&mut self, key: Key) -> &mut Waiter<T> {
        // SAFETY: `key` is held by the caller's operation (allocated); lock held; the
        // result borrows `self` mutably, so no other reference can be made meanwhile.
        unsafe { self.w(key.node()) }
    }

    /// The node's status (lock held).
    pub(crate) fn status(&self, key: Key) -> Status {
        // SAFETY: allocated (held by the caller's operation).
        Status::from_word(unsafe { (*key.node::<T>()).status.load(Ordering::Relaxed) })
    }

    /// Completes a claimed (unlinked) node: pushes it on `completed`, then publishes
    /// `status`, the caller's last access to its `waiter` part (protocol 2).
    pub(crate) fn finish(&mut self, key: Key, status: Status) {
        let node = key.node::<T>();
        debug_assert!(
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(node) }.queue.is_none(),
            "completed nodes are unlinked"
        );
        self.push_front_completed(node);
        // SAFETY: allocated (claimed under this lock; nodes are freed only at channel
        // drop); after the release store the operation may take the `waiter` part, which
        // we no longer touch.
        unsafe { (*node).status.store(status as usize, Ordering::Release) };
    }

    /// Completes a claimed (unlinked) node with a status word: [`Waiters::finish`] for
    /// words with flags.
    fn finish_word(&mut self, key: Key, word: usize) {
        let node = key.node::<T>();
        debug_assert!(
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(node) }.queue.is_none(),
            "completed nodes are unlinked"
        );
        self.push_front_completed(node);
        // SAFETY: as in `finish`.
        unsafe { (*node).status.store(word, Ordering::Release) };
    }

    /// Completes a claimed receive node with a value of delivery order `seq` (a fresh
    /// value, or one given back): it takes its place in the in-flight list, and is
    /// `SHARED` unless no value in flight is older or the channel is not `ordered`
    /// (protocol 7).
    #[inline]
    pub(crate) fn refill(&mut self, key: Key, v: T, closed: bool, seq: u32, ordered: bool) {
        let node = key.node::<T>();
        // SAFETY: `key` is held by the caller's operation (allocated); lock held.
        unsafe { self.w(node) }.slot = Some(v);
        // Only buffered channels keep values in flight in order; a rendezvous leaves
        // each with its receive (chan.rs, `ordered`).
        let older = ordered && self.flight_push(node, seq);
        let mut word = if closed {
            Status::DoneClosed as usize
        } else {
            Status::Done as usize
        };
        if older {
            word |= SHARED;
        }
        self.finish_word(key, word);
    }

    /// The links of `node`, mutably.
    ///
    /// # Safety
    ///
    /// As for [`Waiters::w`]: an allocated node of this channel, the channel lock held
    /// (links are only ever touched under it), and no other reference to this node's
    /// links alive while the result is.
    #[allow(clippy::mut_from_ref)]
    unsafe fn l(&self, node: *mut Node<T>) -> &mut Links<T> {
        // SAFETY: the caller's contract (see above).
        unsafe { (*node).links.get_mut() }
    }

    /// Puts `node` into the in-flight list by `seq`; returns `true` if a node holding a
    /// value may be in front of it. The common case first: no other value in flight.
    #[inline]
    fn flight_push(&mut self, node: *mut Node<T>, seq: u32) -> bool {
        if !self.flight_clean().is_null() {
            return self.flight_insert(node, seq);
        }
        // SAFETY: nodes of this channel's lists or held by the caller's operation are
        // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
        let l = unsafe { self.l(node) };
        debug_assert!(!l.in_flight && l.queue.is_none(), "in one list at a time");
        l.in_flight = true;
        l.seq = seq;
        l.prev = ptr::null_mut();
        l.next = ptr::null_mut();
        self.flight.head = node;
        self.flight.tail = node;
        false
    }

    /// Puts `node` into the in-flight list by `seq` (usually at the back); returns `true`
    /// if a node stays in front of it.
    #[inline(never)]
    fn flight_insert(&mut self, node: *mut Node<T>, seq: u32) -> bool {
        debug_assert!(
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            !unsafe { self.l(node) }.in_flight && unsafe { self.l(node) }.queue.is_none(),
            "a node is in one list at a time"
        );
        // Walk back from the tail past newer values (only a given-back value is older
        // than the tail).
        let mut after = self.flight.tail;
        // SAFETY: nodes of this channel's lists or held by the caller's operation are
        // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
        while !after.is_null() && older(seq, unsafe { self.l(after) }.seq) {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            after = unsafe { self.l(after) }.prev;
        }
        let before = if after.is_null() {
            self.flight.head
        } else {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(after) }.next
        };
        {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            let l = unsafe { self.l(node) };
            l.in_flight = true;
            l.seq = seq;
            l.prev = after;
            l.next = before;
        }
        if after.is_null() {
            self.flight.head = node;
        } else {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(after) }.next = node;
        }
        if before.is_null() {
            self.flight.tail = node;
        } else {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(before) }.prev = node;
        }
        !after.is_null()
    }

    /// Takes `node` out of the in-flight list if it is there; returns its `seq` then.
    fn flight_unlink(&mut self, node: *mut Node<T>) -> Option<u32> {
        let (prev, next, seq) = {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            let l = unsafe { self.l(node) };
            if !l.in_flight {
                return None;
            }
            l.in_flight = false;
            (l.prev, l.next, l.seq)
        };
        if prev.is_null() {
            self.flight.head = next;
        } else {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(prev) }.next = next;
        }
        if next.is_null() {
            self.flight.tail = prev;
        } else {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(next) }.prev = prev;
        }
        Some(seq)
    }

    /// Drops nodes that no longer hold a value from the front of the in-flight list;
    /// returns the oldest node still holding one (or null).
    #[inline]
    fn flight_clean(&mut self) -> *mut Node<T> {
        loop {
            let head = self.flight.head;
            if head.is_null() || Self::holds(head) {
                return head;
            }
            // Pop the head (whose value was taken without the lock).
            let next = {
                // SAFETY: nodes of this channel's lists or held by the caller's operation are
                // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
                let l = unsafe { self.l(head) };
                l.in_flight = false;
                l.next
            };
            self.flight.head = next;
            if next.is_null() {
                self.flight.tail = ptr::null_mut();
            } else {
                // SAFETY: nodes of this channel's lists or held by the caller's operation are
                // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
                unsafe { self.l(next) }.prev = ptr::null_mut();
            }
        }
    }

    /// The node's status word says it holds an in-flight value (acquire: a lock-free
    /// taker's last accesses happen before the caller's).
    #[inline]
    fn holds(node: *mut Node<T>) -> bool {
        // SAFETY: nodes on the in-flight list are allocated (freed only at channel drop).
        word_holds_value(unsafe { (*node).status.load(Ordering::Acquire) })
    }

    /// Returns `true` if no value is in flight (cleaning the list's front on the way).
    #[inline]
    pub(crate) fn flight_empty(&mut self) -> bool {
        self.flight.head.is_null() || self.flight_clean().is_null()
    }

    /// Takes the value out of `node` if it still holds one (its operation may be taking
    /// it without the lock at the same moment: one of the two exchanges wins), and
    /// unlinks the node from the in-flight list either way.
    fn steal(&mut self, node: *mut Node<T>) -> Option<Stolen<T>> {
        // SAFETY: allocated (on the in-flight list, freed only at channel drop).
        let status = unsafe { &(*node).status };
        let mut s = status.load(Ordering::Acquire);
        let won = loop {
            if !word_holds_value(s) {
                break false;
            }
            match status.compare_exchange(
                s,
                Status::Stolen as usize,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break true,
                Err(now) => s = now,
            }
        };
        let seq = self.flight_unlink(node).unwrap_or_default();
        if !won {
            return None;
        }
        // The node's operation reads `Stolen` and takes the lock before it touches the
        // node again, so the slot is ours under the lock (module docs, case a).
        // SAFETY: a node of the in-flight list (allocated), lock held, as said above.
        let value = unsafe { self.w(node) }
            .slot
            .take()
            .expect("a filled recv node holds a value");
        Some(Stolen { value, seq })
    }

    /// Takes the oldest value in flight, if it is older than `than` (protocol 7).
    pub(crate) fn steal_oldest(&mut self, than: Option<u32>) -> Option<Stolen<T>> {
        loop {
            let head = self.flight_clean();
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            if head.is_null() || than.is_some_and(|t| !older(unsafe { self.l(head) }.seq, t)) {
                return None;
            }
            if let Some(v) = self.steal(head) {
                return Some(v);
            }
        }
    }

    /// Takes the newest value in flight if it is newer than `than` (a given-back value
    /// going to the front pulls these back behind it: protocol 7).
    pub(crate) fn steal_newest(&mut self, than: u32) -> Option<Stolen<T>> {
        loop {
            let tail = self.flight.tail;
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            if tail.is_null() || !older(than, unsafe { self.l(tail) }.seq) {
                return None;
            }
            if let Some(v) = self.steal(tail) {
                return Some(v);
            }
        }
    }

    /// The delivery order of the value in the caller's filled node (lock held).
    pub(crate) fn flight_seq(&self, key: Key) -> u32 {
        // SAFETY: nodes of this channel's lists or held by the caller's operation are
        // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
        unsafe { self.l(key.node()) }.seq
    }

    /// Returns `true` if a completed receive node still holds a value its operation has
    /// not taken yet (protocol 6). Walks the whole `completed` list (every filled node
    /// is there, on any channel): only called on a closed, empty channel.
    pub(crate) fn any_in_flight(&self) -> bool {
        let mut cur = self.completed;
        while !cur.is_null() {
            if Self::holds(cur) {
                return true;
            }
            // SAFETY: nodes on `completed` are allocated; `recycle` is ours under the lock.
            cur = unsafe { *(*cur).recycle.get_mut() };
        }
        false
    }

    /// On close: turns every `Done` node into `DoneClosed`, so that its operation tells
    /// the channel when it takes the value (protocol 6).
    pub(crate) fn mark_closed(&mut self) {
        let mut cur = self.completed;
        while !cur.is_null() {
            // SAFETY: nodes on `completed` are allocated; `recycle` is ours under the
            // lock. A failed exchange means the operation took the value (or a thief
            // did) meanwhile.
            unsafe {
                let status = &(*cur).status;
                let s = status.load(Ordering::Acquire);
                if s & !SHARED == Status::Done as usize {
                    let closed = (s & SHARED) | Status::DoneClosed as usize;
                    let _ = status.compare_exchange(s, closed, Ordering::AcqRel, Ordering::Acquire);
                }
                cur = *(*cur).recycle.get_mut();
            }
        }
    }

    /// Replaces the waker of a waiting solo node; returns the old one, to be dropped
    /// after the lock is released.
    pub(crate) fn set_waker(&mut self, key: Key, waker: Waker) -> Option<Waker> {
        // SAFETY: `key` is held by the caller's operation (allocated); lock held.
        match &mut unsafe { self.w(key.node()) }.owner {
            Owner::Solo(slot) => slot.replace(waker),
            Owner::Select { .. } => Some(waker),
        }
    }

    /// Returns `true` if the solo node's stored waker wakes the same task as `waker`.
    pub(crate) fn wakes_same(&self, key: Key, waker: &Waker) -> bool {
        // SAFETY: `key` is held by the caller's operation (allocated); lock held.
        match &unsafe { self.w(key.node()) }.owner {
            Owner::Solo(Some(old)) => old.will_wake(waker),
            _ => false,
        }
    }

    /// Returns `true` if the node is linked in a queue.
    pub(crate) fn is_linked(&self, key: Key) -> bool {
        // SAFETY: nodes of this channel's lists or held by the caller's operation are
        // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
        unsafe { self.l(key.node()) }.queue.is_some()
    }

    /// Returns `true` if no node is linked in `q`.
    #[inline]
    pub(crate) fn is_empty(&self, q: Queue) -> bool {
        self.list(q).head.is_null()
    }

    /// Links an unlinked node at the tail of `q`.
    pub(crate) fn link(&mut self, key: Key, q: Queue) {
        let node = key.node::<T>();
        debug_assert!(
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(node) }.queue.is_none() && !unsafe { self.l(node) }.in_flight
        );
        let tail = self.list(q).tail;
        {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            let l = unsafe { self.l(node) };
            l.queue = Some(q);
            l.prev = tail;
            l.next = ptr::null_mut();
        }
        if tail.is_null() {
            self.list_mut(q).head = node;
        } else {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(tail) }.next = node;
        }
        self.list_mut(q).tail = node;
    }

    /// Unlinks a node if it is linked.
    pub(crate) fn unlink(&mut self, key: Key) {
        self.unlink_node(key.node());
    }

    fn unlink_node(&mut self, node: *mut Node<T>) {
        let (q, prev, next) = {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            let l = unsafe { self.l(node) };
            let Some(q) = l.queue.take() else { return };
            (q, l.prev, l.next)
        };
        if prev.is_null() {
            self.list_mut(q).head = next;
        } else {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(prev) }.next = next;
        }
        if next.is_null() {
            self.list_mut(q).tail = prev;
        } else {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            unsafe { self.l(next) }.prev = prev;
        }
    }

    /// Claims the first claimable node of `q`, skipping nodes of `me` (the caller's own
    /// select cell, or null). The claimed node is unlinked; the caller completes it and
    /// then calls [`Waiters::finish`].
    #[inline]
    pub(crate) fn claim_first(&mut self, q: Queue, me: *const SelectCell) -> Option<Claimed> {
        // Most operations find the opposite queue empty: decide that without a call.
        let head = self.list(q).head;
        if head.is_null() {
            return None;
        }
        // A plain future or blocking call at the head is always claimable: pop it here.
        // SAFETY: the head of a queue (linked, so allocated); lock held.
        if let Owner::Solo(waker) = &mut unsafe { self.w(head) }.owner {
            let waker = waker.take();
            let next = {
                // SAFETY: nodes of this channel's lists or held by the caller's operation are
                // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
                let l = unsafe { self.l(head) };
                l.queue = None;
                l.next
            };
            self.list_mut(q).head = next;
            if next.is_null() {
                self.list_mut(q).tail = ptr::null_mut();
            } else {
                // SAFETY: nodes of this channel's lists or held by the caller's operation are
                // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
                unsafe { self.l(next) }.prev = ptr::null_mut();
            }
            return Some(Claimed {
                key: Key::new(head),
                waker,
            });
        }
        self.claim_first_slow(q, me)
    }

    fn claim_first_slow(&mut self, q: Queue, me: *const SelectCell) -> Option<Claimed> {
        let mut cur = self.list(q).head;
        while !cur.is_null() {
            // SAFETY: nodes of this channel's lists or held by the caller's operation are
            // allocated, and the lock is held (`&mut self` or under it): `l`'s contract.
            let next = unsafe { self.l(cur) }.next;
            // SAFETY: a linked node of the queue (allocated); lock held.
            match claim(&mut unsafe { self.w(cur) }.owner, me) {
                NodeClaim::Won(waker) => {
                    self.unlink_node(cur);
                    return Some(Claimed {
                        key: Key::new(cur),
                        waker,
                    });
                }
                NodeClaim::Skip => {}
                NodeClaim::Stale => self.unlink_node(cur),
            }
            cur = next;
        }
        None
    }

    /// Frees every node this structure can reach: both lists and any node still linked
    /// (protocol 5). Only for the channel's `Drop`, when no operation holds a node.
    pub(crate) fn free_all(&mut self) {
        for q in [Queue::Send, Queue::Recv, Queue::Watch] {
            while !self.is_empty(q) {
                let head = self.list(q).head;
                self.unlink_node(head);
                // SAFETY: the node just unlinked from the queue (allocated); lock held.
                drop(clear_owner(&mut unsafe { self.w(head) }.owner));
                self.push_front_completed(head);
            }
        }
        while !self.completed.is_null() {
            let n = self.completed;
            self.pop_completed();
            // SAFETY: channel drop: nobody else holds the node, and it left every list;
            // a completed node's owner cell count is settled by its operation, which is
            // gone.
            unsafe { free_node(n) };
        }
    }

    fn list(&self, q: Queue) -> &List<T> {
        match q {
            Queue::Send => &self.sendq,
            Queue::Recv => &self.recvq,
            Queue::Watch => &self.watchq,
        }
    }

    fn list_mut(&mut self, q: Queue) -> &mut List<T> {
        match q {
            Queue::Send => &mut self.sendq,
            Queue::Recv => &mut self.recvq,
            Queue::Watch => &mut self.watchq,
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

#[inline]
fn claim(owner: &mut Owner, me: *const SelectCell) -> NodeClaim {
    match owner {
        Owner::Solo(waker) => NodeClaim::Won(waker.take()),
        Owner::Select { cell, .. } if core::ptr::eq(*cell, me) => NodeClaim::Skip,
        Owner::Select { cell, arm } => {
            // SAFETY: the node is linked, so its cell is alive (module invariant 3).
            let cell = unsafe { &**cell };
            match cell.try_claim(*arm) {
                // SAFETY: we won the WAITING -> SELECTED CAS and hold the channel lock,
                // so the owner does not touch its waker until it takes this lock.
                Claim::Won => NodeClaim::Won(unsafe { cell.take_waker() }),
                Claim::Busy => NodeClaim::Skip,
                Claim::Finished => NodeClaim::Stale,
            }
        }
    }
}
