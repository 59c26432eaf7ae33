//! The per-worker local run queue: a fixed ring of [`CAPACITY`] slots that only its owner
//! pushes to, and from which any worker may steal the older half.
//!
//! The algorithm is the one of Go's `runqput`/`runqsteal` and tokio's multi-thread queue:
//! a single-producer ring whose head is a packed pair of indices, so that a steal is
//! "claim with one CAS, copy, release with a second CAS" without locks.
//!
//! # Fields
//!
//! - `tail: u32` — next slot the owner writes. Only the owner stores it (Release); stealers
//!   load it (Acquire) to see how many slots hold tasks.
//! - `head: u64` = `(steal << 32) | real`. `real` is the next slot to take; `steal` trails
//!   it while a stealer copies the range `[steal, real)` out. `steal == real` means no
//!   steal is in progress. Indices are `u32` and wrap; a slot is `index % CAPACITY`.
//! - The slots `[steal, tail)` are owned by the queue; the owner may write only slots
//!   outside that range, which is why fullness is `tail - steal == CAPACITY`.
//!
//! # Protocols
//!
//! 1. **Push** (owner): if `tail - steal < CAPACITY`, write slot `tail`, then store
//!    `tail + 1` (Release publishes the slot). If full and no steal is in progress, do
//!    protocol 4; if full while a steal is in progress, send just the new task to the
//!    overflow (the inject queue).
//! 2. **Pop** (owner): CAS `head` from `(s, r)` to `(s', r + 1)` where `s' = r + 1` if no
//!    steal is in progress (`s == r`), else `s` (the stealer still owns `[s, r)`). On
//!    success read slot `r`.
//! 3. **Steal** (any other worker, into its own empty-enough queue): load `(s, r)`; give up
//!    if `s != r` (one stealer at a time). Let `n = ceil((tail - r) / 2)`; CAS `head` to
//!    `(s, r + n)`: the range `[r, r + n)` is now ours to copy and the owner cannot reuse
//!    those slots because `steal` still says `s`. Copy them into the destination ring, then
//!    CAS `head` from `(s, r')` to `(r', r')` (retrying while the owner pops and moves
//!    `r'`), which frees the slots. Publish the destination's tail; return one task.
//! 4. **Overflow** (owner, queue full, no steal in progress): CAS `head` from `(r, r)` to
//!    `(r + CAPACITY/2, r + CAPACITY/2)`, claiming the older half; move that half plus the
//!    new task to the overflow as one batch. If the CAS fails (a stealer or a pop moved
//!    `head`), retry the push from the start.

use crate::loom::{Arc, AtomicU32, AtomicU64, Ordering, UnsafeCell};
use std::mem::MaybeUninit;

/// Slots per local queue (shrunk under loom so models reach the wrap-around cases).
pub(crate) const CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };
const MASK: usize = CAPACITY - 1;
const HALF: u32 = (CAPACITY / 2) as u32;

/// Where a full queue sends half of its tasks (the inject queue).
pub(crate) trait Overflow<T> {
    /// Accepts `tasks` as one batch.
    fn push_batch(&self, tasks: impl Iterator<Item = T>);
}

struct Inner<T> {
    /// Packed `(steal, real)`; see the module docs.
    head: AtomicU64,
    /// Invariant: written only by the owner.
    tail: AtomicU32,
    /// Invariant: slots in `[steal, tail)` are initialized.
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: slots are handed between threads through the Release/Acquire protocol on
// `head`/`tail` above, and `T: Send` values may move between threads.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; concurrent access to one slot is excluded by the protocols.
unsafe impl<T: Send> Sync for Inner<T> {}

/// The owner's end of a local queue.
pub(crate) struct Local<T> {
    inner: Arc<Inner<T>>,
}

/// A stealer's end of someone's local queue.
pub(crate) struct Steal<T>(Arc<Inner<T>>);

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Self {
        Steal(self.0.clone())
    }
}

/// Creates an empty local queue.
pub(crate) fn local<T>() -> (Local<T>, Steal<T>) {
    let buffer = (0..CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (
        Local {
            inner: inner.clone(),
        },
        Steal(inner),
    )
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

fn pack(steal: u32, real: u32) -> u64 {
    ((steal as u64) << 32) | real as u64
}

impl<T> Inner<T> {
    /// Moves a value out of a slot.
    ///
    /// # Safety
    ///
    /// The caller owns slot `index` per the protocols and it is initialized.
    unsafe fn take(&self, index: u32) -> T {
        let slot = &self.buffer[index as usize & MASK];
        // SAFETY: guaranteed by the caller.
        slot.with(|p| unsafe { std::ptr::read(p).assume_init() })
    }

    /// Writes a value into a slot.
    ///
    /// # Safety
    ///
    /// The caller owns slot `index` per the protocols and it holds no value.
    unsafe fn put(&self, index: u32, value: T) {
        let slot = &self.buffer[index as usize & MASK];
        // SAFETY: guaranteed by the caller.
        slot.with_mut(|p| unsafe { std::ptr::write(p, MaybeUninit::new(value)) });
    }

    fn len(&self) -> usize {
        let (_, real) = unpack(self.head.load(Ordering::Acquire));
        let tail = self.tail.load(Ordering::Acquire);
        tail.wrapping_sub(real) as usize
    }
}

impl<T> Local<T> {
    /// Number of tasks in the queue (exact for the owner, modulo concurrent steals).
    pub(crate) fn len(&self) -> usize {
        self.inner.len()
    }

    /// True if the queue holds no task.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots (what a batch refill may push without overflowing).
    pub(crate) fn remaining_slots(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Ordering::Acquire));
        let tail = self.inner.tail.load(Ordering::Relaxed);
        CAPACITY - tail.wrapping_sub(steal) as usize
    }

    /// Protocol 1 without the spill: pushes `task` if a slot is free, else hands it back.
    pub(crate) fn push_back_within_capacity(&mut self, task: T) -> Result<(), T> {
        let (steal, _) = unpack(self.inner.head.load(Ordering::Acquire));
        let tail = self.inner.tail.load(Ordering::Relaxed);
        if tail.wrapping_sub(steal) >= CAPACITY as u32 {
            return Err(task);
        }
        // SAFETY: `tail` is outside `[steal, tail)`, so the owner (us) owns the slot.
        unsafe { self.inner.put(tail, task) };
        self.inner
            .tail
            .store(tail.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Protocol 1: pushes `task`, spilling half the queue into `overflow` when full.
    /// Returns true if it spilled.
    pub(crate) fn push_back_or_overflow(
        &mut self,
        mut task: T,
        overflow: &impl Overflow<T>,
    ) -> bool {
        let tail = loop {
            let (steal, real) = unpack(self.inner.head.load(Ordering::Acquire));
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if tail.wrapping_sub(steal) < CAPACITY as u32 {
                break tail;
            }
            if steal != real {
                overflow.push_batch(std::iter::once(task));
                return true;
            }
            match self.push_overflow(task, real, tail, overflow) {
                Ok(()) => return true,
                Err(back) => task = back,
            }
        };
        // SAFETY: `tail` is outside `[steal, tail)`, so the owner (us) owns the slot.
        unsafe { self.inner.put(tail, task) };
        self.inner
            .tail
            .store(tail.wrapping_add(1), Ordering::Release);
        false
    }

    /// Protocol 4.
    fn push_overflow(
        &mut self,
        task: T,
        head: u32,
        tail: u32,
        overflow: &impl Overflow<T>,
    ) -> Result<(), T> {
        debug_assert_eq!(tail.wrapping_sub(head) as usize, CAPACITY);
        let next_head = head.wrapping_add(HALF);
        let claimed = self.inner.head.compare_exchange(
            pack(head, head),
            pack(next_head, next_head),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        if claimed.is_err() {
            return Err(task);
        }
        let inner = &*self.inner;
        // SAFETY: the CAS moved `[head, head + HALF)` out of the queue and only the owner
        // writes slots, so we own these initialized slots.
        let batch = (0..HALF).map(move |i| unsafe { inner.take(head.wrapping_add(i)) });
        overflow.push_batch(batch.chain(std::iter::once(task)));
        Ok(())
    }

    /// Protocol 2: takes the oldest task.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Ordering::Acquire);
        let index = loop {
            let (steal, real) = unpack(head);
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            match self
                .inner
                .head
                .compare_exchange(head, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS moved slot `index` out of `[real, tail)`; it was initialized and
        // no stealer claims it any more.
        Some(unsafe { self.inner.take(index) })
    }
}

impl<T> Drop for Local<T> {
    fn drop(&mut self) {
        while let Some(task) = self.pop() {
            drop(task);
        }
    }
}

impl<T> Steal<T> {
    /// True if the queue looks empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Protocol 3: steals about half of the tasks into `dst`; returns one of them and the
    /// number stolen.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<(T, usize)> {
        let dst_tail = dst.inner.tail.load(Ordering::Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Ordering::Acquire));
        if dst_tail.wrapping_sub(dst_steal) > HALF {
            return None;
        }
        let n = self.steal_into_slots(dst, dst_tail);
        if n == 0 {
            return None;
        }
        let last = dst_tail.wrapping_add(n - 1);
        // SAFETY: we just wrote slot `last` of our own queue and have not published it.
        let task = unsafe { dst.inner.take(last) };
        if n > 1 {
            dst.inner.tail.store(last, Ordering::Release);
        }
        Some((task, n as usize))
    }

    /// Claims, copies and releases; returns how many tasks were copied into `dst` starting
    /// at `dst_tail` (not yet published).
    fn steal_into_slots(&self, dst: &mut Local<T>, dst_tail: u32) -> u32 {
        let mut prev = self.0.head.load(Ordering::Acquire);
        let (first, n) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                return 0;
            }
            let tail = self.0.tail.load(Ordering::Acquire);
            let avail = tail.wrapping_sub(real);
            let n = avail - avail / 2;
            if n == 0 {
                return 0;
            }
            let next = pack(steal, real.wrapping_add(n));
            match self
                .0
                .head
                .compare_exchange(prev, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break (real, n),
                Err(actual) => prev = actual,
            }
        };
        for i in 0..n {
            // SAFETY: the claim CAS gave us `[first, first + n)` of the source (initialized,
            // and the owner cannot reuse them while `steal` trails); the destination slots
            // beyond its tail are ours since `dst` is our own queue with room (checked).
            unsafe {
                let task = self.0.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), task);
            }
        }
        self.release_claim(pack(first, first.wrapping_add(n)));
        n
    }

    /// Protocol 3, last step: set `steal = real`, freeing the copied slots.
    fn release_claim(&self, mut prev: u64) {
        loop {
            let (_, real) = unpack(prev);
            match self.0.head.compare_exchange(
                prev,
                pack(real, real),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => {
                    debug_assert_ne!(unpack(actual).0, unpack(actual).1);
                    prev = actual;
                }
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[derive(Default)]
    #[allow(clippy::vec_box)] // boxed values make Miri catch double reads and leaks
    struct VecOverflow(RefCell<Vec<Box<u32>>>, RefCell<usize>);

    impl Overflow<Box<u32>> for VecOverflow {
        fn push_batch(&self, tasks: impl Iterator<Item = Box<u32>>) {
            *self.1.borrow_mut() += 1;
            self.0.borrow_mut().extend(tasks);
        }
    }

    #[test]
    fn push_within_capacity_refuses_when_full_and_keeps_the_task() {
        let (mut q, s) = local();
        for i in 0..CAPACITY as u32 {
            assert!(q.push_back_within_capacity(Box::new(i)).is_ok());
        }
        assert_eq!(q.remaining_slots(), 0);
        let back = q.push_back_within_capacity(Box::new(999)).unwrap_err();
        assert_eq!(*back, 999);
        let (mut dst, _) = local();
        let (first, n) = s.steal_into(&mut dst).unwrap();
        assert_eq!((*first, n), (HALF - 1, HALF as usize));
        assert!(q.push_back_within_capacity(back).is_ok());
        let mut seen: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|b| *b).collect();
        seen.extend(std::iter::from_fn(|| dst.pop()).map(|b| *b));
        seen.push(*first);
        seen.sort_unstable();
        let mut want: Vec<u32> = (0..CAPACITY as u32).collect();
        want.push(999);
        assert_eq!(seen, want, "every value once");
    }

    #[test]
    fn push_pop_fifo() {
        let (mut q, _s) = local();
        let of = VecOverflow::default();
        for i in 0..10 {
            assert!(!q.push_back_or_overflow(Box::new(i), &of));
        }
        assert_eq!(q.len(), 10);
        for i in 0..10 {
            assert_eq!(*q.pop().unwrap(), i);
        }
        assert!(q.pop().is_none());
    }

    #[test]
    fn full_queue_spills_half_plus_one_as_one_batch() {
        let (mut q, _s) = local();
        let of = VecOverflow::default();
        for i in 0..CAPACITY as u32 {
            assert!(!q.push_back_or_overflow(Box::new(i), &of));
        }
        assert!(q.push_back_or_overflow(Box::new(999), &of));
        assert_eq!(*of.1.borrow(), 1);
        let spilled: Vec<u32> = of.0.borrow().iter().map(|b| **b).collect();
        let mut expect: Vec<u32> = (0..HALF).collect();
        expect.push(999);
        assert_eq!(spilled, expect);
        assert_eq!(q.len(), CAPACITY / 2);
        assert_eq!(*q.pop().unwrap(), HALF);
    }

    #[test]
    fn steal_takes_older_half() {
        let (mut a, steal_a) = local();
        let (mut b, _) = local();
        let of = VecOverflow::default();
        for i in 0..7 {
            a.push_back_or_overflow(Box::new(i), &of);
        }
        let (t, n) = steal_a.steal_into(&mut b).unwrap();
        assert_eq!(n, 4);
        assert_eq!(*t, 3);
        assert_eq!(b.len(), 3);
        let got: Vec<u32> = std::iter::from_fn(|| b.pop()).map(|b| *b).collect();
        assert_eq!(got, vec![0, 1, 2]);
        let rest: Vec<u32> = std::iter::from_fn(|| a.pop()).map(|b| *b).collect();
        assert_eq!(rest, vec![4, 5, 6]);
        assert!(steal_a.steal_into(&mut b).is_none());
    }

    #[test]
    fn wraps_around_many_times() {
        let (mut q, s) = local();
        let (mut other, _) = local();
        let of = VecOverflow::default();
        let mut seen = 0u64;
        let rounds: u32 = if cfg!(miri) { 300 } else { 20_000 };
        for i in 0..rounds {
            q.push_back_or_overflow(Box::new(i), &of);
            q.push_back_or_overflow(Box::new(i), &of);
            if i % 3 == 0 {
                if let Some((_t, n)) = s.steal_into(&mut other) {
                    seen += n as u64;
                }
                while other.pop().is_some() {}
            }
            if q.pop().is_some() {
                seen += 1;
            }
        }
        seen += std::iter::from_fn(|| q.pop()).count() as u64;
        seen += of.0.borrow().len() as u64;
        // steals count the returned task in `n`; the rest were popped from `other` and
        // are already included in that `n`
        assert_eq!(seen, 2 * rounds as u64);
    }

    #[test]
    fn drop_releases_remaining() {
        struct NoOverflow;
        impl Overflow<std::sync::Arc<()>> for NoOverflow {
            fn push_batch(&self, _: impl Iterator<Item = std::sync::Arc<()>>) {
                unreachable!("five tasks never fill the ring");
            }
        }
        let (mut q, _s) = local();
        let tracker = std::sync::Arc::new(());
        for _ in 0..5 {
            q.push_back_or_overflow(tracker.clone(), &NoOverflow);
        }
        assert_eq!(std::sync::Arc::strong_count(&tracker), 6);
        drop(q);
        assert_eq!(std::sync::Arc::strong_count(&tracker), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;
    use std::sync::Mutex as StdMutex;

    /// Overflow that records every value it receives.
    #[derive(Default)]
    struct Sink(StdMutex<Vec<usize>>);

    impl Overflow<usize> for Sink {
        fn push_batch(&self, tasks: impl Iterator<Item = usize>) {
            self.0.lock().unwrap().extend(tasks);
        }
    }

    fn check_conservation(mut got: Vec<usize>, n: usize) {
        got.sort_unstable();
        assert_eq!(got, (0..n).collect::<Vec<_>>(), "lost or duplicated");
    }

    #[test]
    fn loom_push_pop_steal_overflow() {
        loom::model(|| {
            let (mut owner, steal) = local::<usize>();
            let sink = Arc::new(Sink::default());
            let th = thread::spawn(move || {
                let (mut mine, _) = local::<usize>();
                let mut got = Vec::new();
                if let Some((t, _)) = steal.steal_into(&mut mine) {
                    got.push(t);
                }
                got.extend(std::iter::from_fn(|| mine.pop()));
                got
            });
            let mut got = Vec::new();
            // CAPACITY + 2 pushes: forces an overflow (or a single-task spill mid-steal).
            for i in 0..CAPACITY + 2 {
                owner.push_back_or_overflow(i, &*sink);
            }
            if let Some(t) = owner.pop() {
                got.push(t);
            }
            got.extend(th.join().unwrap());
            got.extend(std::iter::from_fn(|| owner.pop()));
            got.extend(sink.0.lock().unwrap().drain(..));
            check_conservation(got, CAPACITY + 2);
        });
    }

    #[test]
    fn loom_two_stealers() {
        loom::model(|| {
            let (mut owner, steal) = local::<usize>();
            let sink = Sink::default();
            for i in 0..3 {
                owner.push_back_or_overflow(i, &sink);
            }
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let steal = steal.clone();
                    thread::spawn(move || {
                        let (mut mine, _) = local::<usize>();
                        let mut got = Vec::new();
                        if let Some((t, _)) = steal.steal_into(&mut mine) {
                            got.push(t);
                        }
                        got.extend(std::iter::from_fn(|| mine.pop()));
                        got
                    })
                })
                .collect();
            let mut got: Vec<usize> = std::iter::from_fn(|| owner.pop()).collect();
            for th in threads {
                got.extend(th.join().unwrap());
            }
            got.extend(std::iter::from_fn(|| owner.pop()));
            check_conservation(got, 3);
        });
    }
}
