//! A hierarchical timing wheel: 8 levels × 64 slots, O(1) insert and cancel.
//!
//! # Layout
//!
//! Time is counted in whole ticks since the wheel was created (the driver's tick is 62.5 µs).
//! `elapsed` is the tick up to which every due entry has been handed out; it only moves
//! forward.
//!
//! Level `L` has 64 slots, each `64^L` ticks wide, so level 0 covers 64 ticks (4 ms) at
//! one-tick granularity and level 7 covers 64^8 ticks (about 557 years) at 64^7-tick
//! granularity. An entry
//! due at tick `when` lives at the level of the highest 6-bit group in which `when` and
//! `elapsed` differ, in slot `(when >> 6L) & 63`. Consequences (the invariants the code
//! relies on):
//!
//! 1. Every entry at level `L` is due within the current level-`L+1` block of `elapsed`, in a
//!    slot after the current one; so every level-0 entry is due before every level-1 entry,
//!    and so on. The next deadline is therefore found at the lowest level with an occupied
//!    slot, by rotating that level's 64-bit occupancy bitmap and counting trailing zeros.
//! 2. Deadlines further out than the wheel's range are clamped to the last tick of the 63rd
//!    top-level slot after the current one (at least 63 × 64^7 ticks, about 548 years, away);
//!    such an entry fires at the clamped tick, never earlier. The clamp keeps every top-level
//!    entry out of the current top-level slot, so the rotation in rule 1 stays unambiguous.
//!
//! # Processing (`poll`)
//!
//! While the next occupied slot starts at or before `now`: take the whole slot, advance
//! `elapsed` to the slot's start, and for each entry either report it as fired (its deadline
//! has passed) or re-insert it relative to the new `elapsed`, which puts it at a lower level
//! (cascading; never back into the slot being processed, which covers `elapsed` onwards).
//! Finally `elapsed = now`.
//!
//! # Lazy reset
//!
//! Moving an entry to a *later* deadline only rewrites its `deadline` field; it stays in the
//! slot chosen for the old `slot_tick`. When that slot is processed the entry is found not yet
//! due and cascades to its true position. Moving it *earlier* unlinks and re-inserts it.
//!
//! Entries live in a slab owned by the wheel and are addressed by key. The wheel never frees
//! an entry on its own: firing only unlinks it, and the owner (a `Sleep`, a channel timer)
//! frees the key. A key therefore always belongs to exactly one owner, so there is no ABA.
//!
//! # Slots are vectors of keys
//!
//! A slot is a `Vec<u32>` of keys, and a linked node records its index there (`pos`), so
//! cancelling is a `swap_remove` plus fixing the `pos` of the entry moved into the hole:
//! O(1). Processing a slot reads its keys in order and loads each node independently;
//! with linked lists every node load waited for the previous one (the next link lives in
//! the node), and with a slot of thousands of cold nodes (a burst of sleeps) that chain of
//! cache misses dominated the driver's time. Inserting only appends to the slot's vector
//! (a linked list also had to touch the old head node). A processed slot's vector is kept
//! for reuse unless it grew beyond [`RETAINED_SLOT_CAPACITY`], so idle wheels stay small.
//! No `unsafe` here.

use slab::Slab;

/// Number of levels.
const LEVELS: usize = 8;
/// Bits of a tick consumed by one level (64 slots).
const SLOT_BITS: u32 = 6;
/// Slot index mask within a level.
const SLOT_MASK: u64 = 63;
/// Width of one slot of the top level, in ticks (64^7).
const TOP_SLOT: u64 = 1 << (SLOT_BITS as u64 * (LEVELS as u64 - 1));
/// A deadline at least this far from `elapsed` may be clamped (63 top-level slots).
#[cfg(test)]
const MIN_RANGE: u64 = 63 * TOP_SLOT;
/// Keys are stored as `u32` to keep slots and entries small; this one is never used.
const MAX_KEY: u32 = u32::MAX;
/// A processed slot keeps its vector (for the next entries) only up to this capacity.
const RETAINED_SLOT_CAPACITY: usize = 256;

/// The deadline was not in the future of the wheel: the caller should fire it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AlreadyDue;

/// One timer in the wheel.
struct Node<T> {
    /// The tick at which the entry is due (after lazy resets, maybe later than `slot_tick`).
    deadline: u64,
    /// The tick used to choose the slot it is linked in.
    slot_tick: u64,
    /// The level it is linked at; meaningful only while `linked`.
    level: u8,
    /// Whether the node is in a slot.
    linked: bool,
    /// Its index in the slot's key vector; meaningful only while `linked`.
    pos: u32,
    data: T,
}

/// One level: 64 slots of keys and a bitmap of the non-empty ones.
struct Level {
    occupied: u64,
    slots: [Vec<u32>; 64],
}

impl Level {
    fn new() -> Self {
        Level {
            occupied: 0,
            slots: std::array::from_fn(|_| Vec::new()),
        }
    }
}

/// The hierarchical timing wheel, generic over the per-entry payload.
pub(crate) struct Wheel<T> {
    /// Invariant: every linked entry has `slot_tick > elapsed` and satisfies the level rule.
    elapsed: u64,
    levels: [Level; LEVELS],
    nodes: Slab<Node<T>>,
    /// Number of linked entries.
    linked: usize,
}

/// Where an entry belongs relative to `elapsed`: its level and slot.
fn position(elapsed: u64, when: u64) -> (usize, usize) {
    let masked = (elapsed ^ when) | SLOT_MASK;
    let significant = 63 - masked.leading_zeros();
    let level = ((significant / SLOT_BITS) as usize).min(LEVELS - 1);
    let slot = ((when >> (level as u32 * SLOT_BITS)) & SLOT_MASK) as usize;
    (level, slot)
}

impl<T> Wheel<T> {
    /// An empty wheel at tick 0.
    pub(crate) fn new() -> Self {
        Wheel {
            elapsed: 0,
            levels: std::array::from_fn(|_| Level::new()),
            nodes: Slab::new(),
            linked: 0,
        }
    }

    /// The tick up to which every due entry has been handed out.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of entries stored (scheduled or not).
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Number of entries currently scheduled.
    #[cfg(test)]
    pub(crate) fn scheduled(&self) -> usize {
        self.linked
    }

    /// Stores `data` unscheduled and returns its key.
    ///
    /// # Panics
    ///
    /// With more than `u32::MAX - 1` entries (links are 32-bit).
    pub(crate) fn alloc(&mut self, data: T) -> usize {
        assert!(self.nodes.len() < MAX_KEY as usize, "timer wheel full");
        self.nodes.insert(Node {
            deadline: 0,
            slot_tick: 0,
            level: 0,
            linked: false,
            pos: 0,
            data,
        })
    }

    /// Unschedules and removes an entry, returning its payload.
    ///
    /// # Panics
    ///
    /// If `key` is not a live entry (an owner bug).
    pub(crate) fn free(&mut self, key: usize) -> T {
        self.cancel(key);
        self.nodes.remove(key).data
    }

    /// The payload of an entry.
    pub(crate) fn data_mut(&mut self, key: usize) -> &mut T {
        &mut self.nodes[key].data
    }

    /// Whether an entry is scheduled (not fired, not cancelled).
    #[cfg(test)]
    pub(crate) fn is_scheduled(&self, key: usize) -> bool {
        self.nodes[key].linked
    }

    /// The deadline an entry was last scheduled for.
    pub(crate) fn deadline(&self, key: usize) -> u64 {
        self.nodes[key].deadline
    }

    /// Schedules (or reschedules) an entry for tick `when`.
    ///
    /// A later deadline for a scheduled entry is applied lazily (see the module docs).
    ///
    /// # Errors
    ///
    /// [`AlreadyDue`] if `when <= elapsed`: the entry is left unscheduled and the caller
    /// should treat it as fired.
    pub(crate) fn schedule(&mut self, key: usize, when: u64) -> Result<(), AlreadyDue> {
        let when = when.min(self.max_tick());
        let node = &mut self.nodes[key];
        if node.linked && when >= node.slot_tick {
            node.deadline = when;
            return Ok(());
        }
        self.cancel(key);
        if when <= self.elapsed {
            self.nodes[key].deadline = when;
            return Err(AlreadyDue);
        }
        self.link(key, when, when);
        Ok(())
    }

    /// Unschedules an entry if it is scheduled; its payload stays stored.
    pub(crate) fn cancel(&mut self, key: usize) {
        if self.nodes[key].linked {
            self.unlink(key);
        }
    }

    /// The farthest tick the wheel can hold right now (see rule 2).
    fn max_tick(&self) -> u64 {
        ((self.elapsed / TOP_SLOT).saturating_add(64))
            .saturating_mul(TOP_SLOT)
            .saturating_sub(1)
    }

    /// The start tick of the next slot that holds entries, if any.
    ///
    /// The entries there may turn out not to be due yet (lazy reset, cascading); then the
    /// caller simply asks again after [`Wheel::poll`].
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.levels.iter().enumerate().find_map(|(level, lvl)| {
            if lvl.occupied == 0 {
                return None;
            }
            let shift = level as u32 * SLOT_BITS;
            let current = (self.elapsed >> shift) & SLOT_MASK;
            let distance = lvl.occupied.rotate_right(current as u32).trailing_zeros() as u64;
            Some(((self.elapsed >> shift) + distance) << shift)
        })
    }

    /// Advances the wheel to tick `now`, calling `fire(key, payload)` for every entry that
    /// became due. Fired entries are unscheduled but stay stored until freed.
    ///
    /// A `now` earlier than `elapsed` (a clock that seems to go backwards) is clamped.
    pub(crate) fn poll(&mut self, now: u64, mut fire: impl FnMut(usize, &mut T)) {
        while let Some(start) = self.next_expiration() {
            if start > now {
                break;
            }
            self.process_slot(start, &mut fire);
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// Takes the slot that starts at `start`, moves `elapsed` there and fires or cascades
    /// its entries.
    fn process_slot(&mut self, start: u64, fire: &mut impl FnMut(usize, &mut T)) {
        let (level, slot) = self.lowest_occupied();
        debug_assert!(start >= self.elapsed);
        self.elapsed = start;
        let mut keys = std::mem::take(&mut self.levels[level].slots[slot]);
        self.levels[level].occupied &= !(1 << slot);
        self.linked -= keys.len();
        for &key in &keys {
            let key = key as usize;
            let node = &mut self.nodes[key];
            node.linked = false;
            let deadline = node.deadline;
            if deadline <= self.elapsed {
                fire(key, &mut node.data);
            } else {
                // Lands at a lower level: never in the slot being processed.
                self.link(key, deadline, deadline);
            }
        }
        keys.clear();
        let spare = &mut self.levels[level].slots[slot];
        if keys.capacity() <= RETAINED_SLOT_CAPACITY && spare.capacity() == 0 {
            *spare = keys;
        }
    }

    /// The (level, slot) that `next_expiration` reported.
    fn lowest_occupied(&self) -> (usize, usize) {
        let level = self
            .levels
            .iter()
            .position(|l| l.occupied != 0)
            .expect("called with an occupied wheel");
        let shift = level as u32 * SLOT_BITS;
        let current = (self.elapsed >> shift) & SLOT_MASK;
        let occupied = self.levels[level].occupied;
        let distance = occupied.rotate_right(current as u32).trailing_zeros() as u64;
        (level, ((current + distance) & SLOT_MASK) as usize)
    }

    /// Links an unlinked entry into the slot for `slot_tick` (which is `> elapsed`).
    fn link(&mut self, key: usize, deadline: u64, slot_tick: u64) {
        debug_assert!(slot_tick > self.elapsed);
        let (level, slot) = position(self.elapsed, slot_tick);
        let keys = &mut self.levels[level].slots[slot];
        let pos = keys.len() as u32;
        keys.push(key as u32);
        let node = &mut self.nodes[key];
        node.deadline = deadline;
        node.slot_tick = slot_tick;
        node.level = level as u8;
        node.linked = true;
        node.pos = pos;
        self.levels[level].occupied |= 1 << slot;
        self.linked += 1;
    }

    /// Removes a linked entry from its slot (see "Slots are vectors of keys").
    fn unlink(&mut self, key: usize) {
        let node = &mut self.nodes[key];
        let (pos, level) = (node.pos as usize, node.level as usize);
        let slot = ((node.slot_tick >> (level as u32 * SLOT_BITS)) & SLOT_MASK) as usize;
        node.linked = false;
        self.linked -= 1;
        let keys = &mut self.levels[level].slots[slot];
        let removed = keys.swap_remove(pos);
        debug_assert_eq!(removed as usize, key);
        if let Some(&moved) = keys.get(pos) {
            self.nodes[moved as usize].pos = pos as u32;
        } else if keys.is_empty() {
            self.levels[level].occupied &= !(1 << slot);
        }
    }

    /// Key capacity held by all slot vectors (memory accounting in tests).
    #[cfg(test)]
    fn slot_capacity(&self) -> usize {
        let slots = self.levels.iter().flat_map(|l| l.slots.iter());
        slots.map(Vec::capacity).sum()
    }

    /// Bytes one stored entry takes in the slab (memory accounting in tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn entry_size() -> usize {
        // Slab slots are an enum of a free-list link or the node, like this `Option`.
        std::mem::size_of::<Option<Node<T>>>()
    }

    /// Unschedules every entry and calls `f` on each stored payload (used at shutdown).
    pub(crate) fn drain_scheduled(&mut self, mut f: impl FnMut(usize, &mut T)) {
        for level in 0..LEVELS {
            self.levels[level].occupied = 0;
            for slot in 0..64 {
                for key in std::mem::take(&mut self.levels[level].slots[slot]) {
                    let node = &mut self.nodes[key as usize];
                    node.linked = false;
                    self.linked -= 1;
                    f(key as usize, &mut node.data);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
