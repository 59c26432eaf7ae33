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
mod tests {
    use super::*;

    /// Polls tick by tick up to `end`, recording (tick, key) of every firing.
    fn run(wheel: &mut Wheel<u32>, end: u64) -> Vec<(u64, usize)> {
        let mut fired = Vec::new();
        while wheel.elapsed() < end {
            let now = wheel.elapsed() + 1;
            wheel.poll(now, |k, _| fired.push((now, k)));
        }
        fired
    }

    #[test]
    fn positions_follow_the_level_rule() {
        assert_eq!(position(0, 1), (0, 1));
        assert_eq!(position(0, 63), (0, 63));
        assert_eq!(position(0, 64), (1, 1));
        assert_eq!(position(0, 4095), (1, 63));
        assert_eq!(position(0, 4096), (2, 1));
        assert_eq!(position(100, 101), (0, 101 & 63));
        assert_eq!(position(0, MIN_RANGE + TOP_SLOT - 1), (LEVELS - 1, 63));
    }

    #[test]
    fn fires_each_entry_exactly_at_its_tick() {
        let mut wheel = Wheel::new();
        let deadlines = [1u64, 2, 63, 64, 65, 100, 4095, 4096, 4097, 5000, 70_000];
        let keys: Vec<usize> = deadlines
            .iter()
            .map(|&d| {
                let k = wheel.alloc(0);
                wheel.schedule(k, d).unwrap();
                k
            })
            .collect();
        assert_eq!(wheel.scheduled(), deadlines.len());
        let fired = run(&mut wheel, 70_001);
        let expect: Vec<(u64, usize)> = deadlines.iter().copied().zip(keys).collect();
        assert_eq!(fired, expect);
        assert_eq!(wheel.scheduled(), 0);
        assert_eq!(wheel.len(), deadlines.len());
    }

    #[test]
    fn big_jumps_fire_everything_due_and_nothing_else() {
        let mut wheel = Wheel::new();
        for d in [5u64, 300, 9_000, 300_000, 20_000_000] {
            let k = wheel.alloc(0);
            wheel.schedule(k, d).unwrap();
        }
        let mut count = 0;
        wheel.poll(299, |_, _| count += 1);
        assert_eq!(count, 1);
        wheel.poll(300, |_, _| count += 1);
        assert_eq!(count, 2);
        wheel.poll(299_999, |_, _| count += 1);
        assert_eq!(count, 3);
        assert_eq!(wheel.next_expiration().map(|t| t <= 300_000), Some(true));
        wheel.poll(20_000_000, |_, _| count += 1);
        assert_eq!(count, 5);
        assert_eq!(wheel.next_expiration(), None);
    }

    #[test]
    fn next_expiration_is_never_after_the_earliest_deadline() {
        let mut wheel = Wheel::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut deadlines = Vec::new();
        for _ in 0..500 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let d = 1 + seed % 200_000;
            let k = wheel.alloc(0);
            wheel.schedule(k, d).unwrap();
            deadlines.push(d);
        }
        deadlines.sort_unstable();
        let mut fired = Vec::new();
        while let Some(next) = wheel.next_expiration() {
            let pending_min = deadlines[fired.len()];
            assert!(next <= pending_min, "next {next} > earliest {pending_min}");
            let now = next;
            wheel.poll(now, |k, _| fired.push((now, k)));
        }
        let ticks: Vec<u64> = fired.iter().map(|f| f.0).collect();
        assert_eq!(ticks, deadlines);
    }

    #[test]
    fn cancel_and_free_remove_entries() {
        let mut wheel = Wheel::new();
        let a = wheel.alloc(1);
        let b = wheel.alloc(2);
        let c = wheel.alloc(3);
        for k in [a, b, c] {
            wheel.schedule(k, 10).unwrap();
        }
        wheel.cancel(b);
        assert!(!wheel.is_scheduled(b));
        assert_eq!(wheel.free(c), 3);
        let fired = run(&mut wheel, 20);
        assert_eq!(fired, vec![(10, a)]);
        assert_eq!(wheel.free(a), 1);
        assert_eq!(wheel.free(b), 2);
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn cancels_inside_one_crowded_slot_keep_the_others() {
        // Cancel swaps the slot's last key into the hole: the moved entry must stay
        // cancellable and due, whichever order the cancels come in.
        let mut wheel = Wheel::new();
        let keys: Vec<usize> = (0..300)
            .map(|_| {
                let k = wheel.alloc(0u32);
                wheel.schedule(k, 7).unwrap();
                k
            })
            .collect();
        let cancelled: Vec<usize> = keys.iter().copied().filter(|k| k % 3 != 1).collect();
        for &k in cancelled
            .iter()
            .rev()
            .step_by(2)
            .chain(cancelled.iter().step_by(2))
        {
            wheel.cancel(k);
            wheel.cancel(k); // a second cancel is a no-op
        }
        assert_eq!(wheel.scheduled(), 100);
        let mut fired: Vec<usize> = run(&mut wheel, 10).into_iter().map(|f| f.1).collect();
        fired.sort_unstable();
        let expect: Vec<usize> = keys.iter().copied().filter(|k| k % 3 == 1).collect();
        assert_eq!(fired, expect);
        assert_eq!(wheel.next_expiration(), None);
    }

    #[test]
    fn a_burst_does_not_stay_allocated_in_its_slot() {
        let mut wheel = Wheel::new();
        for _ in 0..10_000 {
            let k = wheel.alloc(0u32);
            wheel.schedule(k, 3).unwrap();
        }
        assert!(wheel.slot_capacity() >= 10_000);
        assert_eq!(run(&mut wheel, 3).len(), 10_000);
        assert_eq!(wheel.slot_capacity(), 0, "the burst's vector was dropped");
        // Small slots keep their vector for the next entries.
        for _ in 0..10 {
            let k = wheel.alloc(0u32);
            wheel.schedule(k, 5).unwrap();
        }
        assert_eq!(run(&mut wheel, 5).len(), 10);
        let kept = wheel.slot_capacity();
        assert!((10..=RETAINED_SLOT_CAPACITY).contains(&kept), "kept {kept}");
    }

    #[test]
    fn reset_later_is_lazy_and_reset_earlier_moves() {
        let mut wheel = Wheel::new();
        let a = wheel.alloc(0);
        let b = wheel.alloc(0);
        wheel.schedule(a, 10).unwrap();
        wheel.schedule(a, 500).unwrap();
        wheel.schedule(b, 400).unwrap();
        wheel.schedule(b, 20).unwrap();
        assert_eq!(wheel.next_expiration(), Some(10));
        let fired = run(&mut wheel, 1000);
        assert_eq!(fired, vec![(20, b), (500, a)]);
    }

    #[test]
    fn due_deadlines_are_reported_and_backwards_clock_is_clamped() {
        let mut wheel: Wheel<u32> = Wheel::new();
        wheel.poll(100, |_, _| unreachable!());
        let k = wheel.alloc(0);
        assert_eq!(wheel.schedule(k, 100), Err(AlreadyDue));
        assert_eq!(wheel.schedule(k, 50), Err(AlreadyDue));
        wheel.schedule(k, 101).unwrap();
        wheel.poll(40, |_, _| unreachable!());
        assert_eq!(wheel.elapsed(), 100);
        let mut n = 0;
        wheel.poll(101, |_, _| n += 1);
        assert_eq!(n, 1);
    }

    #[test]
    fn far_deadlines_are_clamped_not_fired_early() {
        let mut wheel = Wheel::new();
        wheel.poll(12_345, |_, _: &mut u32| {});
        let k = wheel.alloc(0);
        wheel.schedule(k, u64::MAX).unwrap();
        let clamped = wheel.deadline(k);
        assert_eq!(clamped, 64 * TOP_SLOT - 1);
        assert!(clamped >= 12_345 + MIN_RANGE);
        let mut n = 0;
        wheel.poll(clamped - 1, |_, _| n += 1);
        assert_eq!(n, 0);
        wheel.poll(clamped, |_, _| n += 1);
        assert_eq!(n, 1);
        let k = wheel.alloc(0);
        wheel.schedule(k, u64::MAX).unwrap();
        assert!(wheel.next_expiration().unwrap() > wheel.elapsed());
    }

    #[test]
    fn drain_unschedules_everything() {
        let mut wheel = Wheel::new();
        for d in 1..=300u64 {
            let k = wheel.alloc(0);
            wheel.schedule(k, d * 97).unwrap();
        }
        let mut n = 0;
        wheel.drain_scheduled(|_, _| n += 1);
        assert_eq!(n, 300);
        assert_eq!(wheel.next_expiration(), None);
        assert_eq!(wheel.scheduled(), 0);
    }

    /// Random inserts, cancels, resets and polls against a reference model: every entry
    /// fires exactly once, in the poll whose window `(previous now, now]` holds its deadline.
    #[test]
    fn matches_a_reference_model_under_random_operations() {
        use std::collections::BTreeMap;
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut wheel = Wheel::new();
        let mut model: BTreeMap<usize, u64> = BTreeMap::new(); // key -> pending deadline
        let mut idle: Vec<usize> = Vec::new(); // stored, not scheduled
        let spans = [1u64, 64, 4096, 262_144, 16_777_216];
        for _ in 0..20_000 {
            let now = wheel.elapsed();
            match rand(10) {
                0..=3 => {
                    let span = spans[rand(5) as usize];
                    let when = now + 1 + rand(span);
                    let key = idle.pop().unwrap_or_else(|| wheel.alloc(0u32));
                    wheel.schedule(key, when).unwrap();
                    model.insert(key, when);
                }
                4 if !model.is_empty() => {
                    let key = *model.keys().nth(rand(model.len() as u64) as usize).unwrap();
                    wheel.cancel(key);
                    model.remove(&key);
                    idle.push(key);
                }
                5 if !model.is_empty() => {
                    let key = *model.keys().nth(rand(model.len() as u64) as usize).unwrap();
                    let span = spans[rand(5) as usize];
                    let when = now + 1 + rand(span);
                    wheel.schedule(key, when).unwrap();
                    model.insert(key, when);
                }
                _ => {
                    let span = spans[rand(4) as usize];
                    // Often stop exactly at a slot boundary, where early firing would show.
                    let to = match wheel.next_expiration() {
                        Some(next) if rand(2) == 0 => next,
                        _ => now + rand(span),
                    };
                    if let Some(next) = wheel.next_expiration() {
                        let earliest = model.values().min().copied();
                        assert!(Some(next) <= earliest, "next {next} after {earliest:?}");
                    }
                    let mut fired = Vec::new();
                    wheel.poll(to, |k, _| fired.push(k));
                    fired.sort_unstable();
                    let mut expect: Vec<usize> = model
                        .iter()
                        .filter(|(_, &d)| d <= to)
                        .map(|(&k, _)| k)
                        .collect();
                    expect.sort_unstable();
                    assert_eq!(fired, expect, "poll to {to}");
                    for k in fired {
                        model.remove(&k);
                        idle.push(k);
                    }
                }
            }
        }
        assert_eq!(wheel.scheduled(), model.len());
    }
}
