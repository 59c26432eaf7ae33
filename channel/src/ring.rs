//! The channel buffer: a FIFO ring of values that also takes values back at the front.
//!
//! `VecDeque` would do, but its `push_back` and `pop_front` stay out-of-line calls in the
//! send and receive fast paths; these are a mask, a slot access and two stores.
//!
//! # Invariants
//!
//! * `slots.len()` is zero or a power of two, so `& mask` wraps an index.
//! * The values are the `len` slots starting at `head` and wrapping: those slots are
//!   initialized, every other slot is not. `len <= slots.len()`.
//!
//! Every `unsafe` block below relies on these two, and each method keeps them.

use core::mem::MaybeUninit;

/// A growable ring buffer (module docs).
pub(crate) struct Ring<T> {
    /// Invariant: length zero or a power of two; exactly the `len` slots from `head`
    /// (wrapping) are initialized.
    slots: Box<[MaybeUninit<T>]>,
    /// Index of the front value. Invariant: `< slots.len()` when `slots` is non-empty.
    head: usize,
    len: usize,
}

impl<T> Ring<T> {
    /// An empty ring; allocates nothing.
    pub(crate) fn new() -> Self {
        Ring {
            slots: Box::new([]),
            head: 0,
            len: 0,
        }
    }

    /// An empty ring with room for at least `n` values.
    pub(crate) fn with_capacity(n: usize) -> Self {
        let mut ring = Ring::new();
        if n > 0 {
            ring.slots = uninit_slots(n.next_power_of_two());
        }
        ring
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// Appends `v` at the back.
    // Always inlined: it is a handful of instructions (growth is out of line), and the
    // send fast path is where it runs.
    #[inline(always)]
    pub(crate) fn push_back(&mut self, v: T) {
        if self.len == self.slots.len() {
            self.grow();
        }
        let i = (self.head + self.len) & self.mask();
        // SAFETY: `slots` is non-empty after the check above, so `i` is in bounds (the
        // mask wraps it), and slot `i` is the one after the last value: uninitialized.
        unsafe { self.slots.get_unchecked_mut(i) }.write(v);
        self.len += 1;
    }

    /// Inserts `v` at the front.
    pub(crate) fn push_front(&mut self, v: T) {
        if self.len == self.slots.len() {
            self.grow();
        }
        self.head = (self.head + self.slots.len() - 1) & self.mask();
        // SAFETY: the new `head` is in bounds (masked, `slots` non-empty) and is the slot
        // before the old front: outside the initialized run, so uninitialized.
        unsafe { self.slots.get_unchecked_mut(self.head) }.write(v);
        self.len += 1;
    }

    /// Removes the front value.
    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        // SAFETY: `len > 0`, so `slots` is non-empty, `head` is in bounds and holds the
        // initialized front value; advancing `head` below marks it uninitialized again,
        // so it is read exactly once.
        let v = unsafe { self.slots.get_unchecked(self.head).assume_init_read() };
        self.head = (self.head + 1) & self.mask();
        self.len -= 1;
        Some(v)
    }

    /// Removes the back value.
    pub(crate) fn pop_back(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let i = (self.head + self.len) & self.mask();
        // SAFETY: slot `i` held the last value (initialized); `len` no longer counts it,
        // so it is read exactly once.
        Some(unsafe { self.slots.get_unchecked(i).assume_init_read() })
    }

    /// Doubles the room (at least 4 slots), keeping the values in order.
    #[cold]
    fn grow(&mut self) {
        let new_cap = (self.slots.len() * 2).max(4);
        let mut slots = uninit_slots(new_cap);
        for (k, slot) in slots.iter_mut().take(self.len).enumerate() {
            let i = (self.head + k) & self.mask();
            // SAFETY: `i` is the `k`-th initialized slot of the run (invariant); it is
            // moved out once and the old slots are then discarded without dropping.
            slot.write(unsafe { self.slots.get_unchecked(i).assume_init_read() });
        }
        self.slots = slots;
        self.head = 0;
    }
}

/// `n` uninitialized slots.
fn uninit_slots<T>(n: usize) -> Box<[MaybeUninit<T>]> {
    let mut v = Vec::with_capacity(n);
    v.resize_with(n, MaybeUninit::uninit);
    v.into_boxed_slice()
}

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Ring::new()
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // Drop the values in order; a panicking `T::drop` leaks the rest (no double drop:
        // `pop_front` has already taken each value out).
        while let Some(v) = self.pop_front() {
            drop(v);
        }
    }
}

/// A [`Ring`] that costs one word until it is first used: for values that rarely need a
/// place (the channel's given-back overflow).
pub(crate) struct ColdRing<T>(Option<Box<Ring<T>>>);

impl<T> ColdRing<T> {
    pub(crate) const fn new() -> Self {
        ColdRing(None)
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.as_ref().map_or(true, |r| r.is_empty())
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        self.0.as_mut()?.pop_front()
    }

    pub(crate) fn push_front(&mut self, v: T) {
        self.0
            .get_or_insert_with(|| Box::new(Ring::new()))
            .push_front(v);
    }
}

impl<T> Default for ColdRing<T> {
    fn default() -> Self {
        ColdRing::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// A random mix of every operation agrees with `VecDeque` at each step, across
    /// wrap-around and growth.
    #[test]
    fn matches_vecdeque() {
        let mut ring = Ring::with_capacity(3);
        let mut model = VecDeque::new();
        let mut x: u32 = 0x9E37_79B9;
        for n in 0..5000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            match x % 5 {
                0 | 1 => {
                    ring.push_back(n);
                    model.push_back(n);
                }
                2 => assert_eq!(ring.pop_front(), model.pop_front()),
                3 => {
                    ring.push_front(n);
                    model.push_front(n);
                }
                _ => assert_eq!(ring.pop_back(), model.pop_back()),
            }
            assert_eq!(ring.len(), model.len());
            assert_eq!(ring.is_empty(), model.is_empty());
        }
        while let Some(v) = model.pop_front() {
            assert_eq!(ring.pop_front(), Some(v));
        }
        assert_eq!(ring.pop_front(), None);
        assert_eq!(ring.pop_back(), None);
    }

    /// Growth keeps the order of a wrapped run.
    #[test]
    fn grows_a_wrapped_ring_in_order() {
        let mut ring = Ring::with_capacity(4);
        for i in 0..4 {
            ring.push_back(i);
        }
        assert_eq!(ring.pop_front(), Some(0));
        assert_eq!(ring.pop_front(), Some(1));
        ring.push_back(4);
        ring.push_back(5); // wrapped: slots hold 4 5 2 3
        ring.push_back(6); // grows
        ring.push_front(1);
        let got: Vec<_> = std::iter::from_fn(|| ring.pop_front()).collect();
        assert_eq!(got, [1, 2, 3, 4, 5, 6]);
    }

    /// A cold ring allocates on first use and behaves as a ring from then on.
    #[test]
    fn cold_ring() {
        let mut cold = super::ColdRing::new();
        assert!(cold.is_empty());
        assert_eq!(cold.pop_front(), None);
        cold.push_front(2);
        cold.push_front(1);
        assert!(!cold.is_empty());
        assert_eq!(cold.pop_front(), Some(1));
        assert_eq!(cold.pop_front(), Some(2));
        assert!(cold.is_empty());
    }

    /// Every value is dropped exactly once: by pops, and by the ring's own drop.
    #[test]
    fn drops_each_value_once() {
        let token = Rc::new(());
        let mut ring = Ring::new();
        for _ in 0..10 {
            ring.push_back(token.clone());
        }
        ring.pop_front();
        ring.push_front(token.clone());
        ring.pop_back();
        assert_eq!(Rc::strong_count(&token), 10);
        drop(ring);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    /// A zero-sized type goes through the same paths.
    #[test]
    fn zero_sized_values() {
        let mut ring = Ring::new();
        for _ in 0..100 {
            ring.push_back(());
        }
        assert_eq!(ring.len(), 100);
        assert_eq!(ring.pop_back(), Some(()));
        assert_eq!(ring.pop_front(), Some(()));
        assert_eq!(ring.len(), 98);
    }
}
