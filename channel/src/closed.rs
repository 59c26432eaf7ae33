//! [`Sender::closed`](crate::Sender::closed): waiting for a channel to close.
//!
//! Who waits: tasks holding a `Sender`, for "nobody will ever receive again" (every
//! `Receiver` dropped, or either end called `close()`).
//!
//! The waiters are a small slab of wakers inside the channel state, so they share the
//! channel lock:
//!
//! 1. A [`Closed`] future checks `is_closed()` *under the channel lock*; if the channel is
//!    open it stores its waker in the slab (one slot, found again by key) before unlocking.
//! 2. Closing happens under the same lock (`State::close`) and takes every stored waker
//!    into the channel's wake list, which runs after unlocking.
//!
//! So a registration either happens before the close, which then wakes it, or after,
//! when step 1 already sees the channel closed: no wake-up is lost. The slab is allocated
//! on the first registration only; a channel nobody waits on pays one pointer. A dropped
//! `Closed` frees its slot (under the lock), so cancelled waits leave nothing behind.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::chan::{Chan, Wakes};
use crate::loom::lock;

/// The `closed()` waiters of one channel; guarded by the channel lock.
#[derive(Default)]
pub(crate) struct ClosedWaiters {
    slab: Option<Box<Slab>>,
}

/// Slots owned by pending [`Closed`] futures. A slot's index is owned by exactly one future
/// from registration until that future is dropped; `None` in an owned slot means its waker
/// was taken by the close.
#[derive(Default)]
struct Slab {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl ClosedWaiters {
    /// Stores `waker` in slot `key` (allocating a slot if `key` is `None`).
    fn register(&mut self, key: &mut Option<usize>, waker: &Waker) {
        let slab = self.slab.get_or_insert_with(Box::default);
        match *key {
            Some(k) => match &mut slab.slots[k] {
                Some(w) if w.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            },
            None => {
                let k = match slab.free.pop() {
                    Some(k) => {
                        slab.slots[k] = Some(waker.clone());
                        k
                    }
                    None => {
                        slab.slots.push(Some(waker.clone()));
                        slab.slots.len() - 1
                    }
                };
                *key = Some(k);
            }
        }
    }

    /// Frees slot `key`; returns its waker (if the close has not taken it) for dropping
    /// after unlocking.
    fn remove(&mut self, key: usize) -> Option<Waker> {
        let slab = self.slab.as_mut()?;
        slab.free.push(key);
        slab.slots[key].take()
    }

    /// The channel just closed: every waiter is to be woken.
    pub(crate) fn wake_all(&mut self, wakes: &mut Wakes) {
        if let Some(slab) = &mut self.slab {
            for slot in &mut slab.slots {
                wakes.wake(slot.take());
            }
        }
    }

    /// Number of registered waiters (for tests).
    #[cfg(test)]
    pub(crate) fn registered(&self) -> usize {
        self.slab
            .as_ref()
            .map_or(0, |s| s.slots.len() - s.free.len())
    }
}

/// Future of [`Sender::closed`](crate::Sender::closed): completes once the channel is
/// closed. Always `Unpin`.
#[must_use = "futures do nothing unless polled"]
pub struct Closed<'a, T> {
    chan: &'a Chan<T>,
    /// Our slot in the channel's [`ClosedWaiters`], once registered.
    key: Option<usize>,
}

impl<'a, T> Closed<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>) -> Self {
        Closed { chan, key: None }
    }
}

impl<T> Unpin for Closed<'_, T> {}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.chan.is_closed() {
            return Poll::Ready(());
        }
        let mut st = lock(&this.chan.state);
        // Under the lock the flag cannot change (step 1 of the module protocol).
        if this.chan.is_closed() {
            return Poll::Ready(());
        }
        st.closed_waiters.register(&mut this.key, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let waker = lock(&self.chan.state).closed_waiters.remove(key);
            drop(waker); // after unlocking: a waker's drop is user code
        }
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed")
            .field("closed", &self.chan.is_closed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;

    fn registered<T>(tx: &crate::Sender<T>) -> usize {
        lock(&tx.chan.state).closed_waiters.registered()
    }

    #[test]
    fn slots_are_reused_and_freed_on_drop() {
        let (tx, rx) = crate::bounded::<u8>(1);
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut a = tx.closed();
        let mut b = tx.closed();
        assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut b).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
        assert_eq!(registered(&tx), 2);
        drop(a);
        assert_eq!(registered(&tx), 1);
        let mut c = tx.closed();
        assert!(Pin::new(&mut c).poll(&mut cx).is_pending());
        assert_eq!(registered(&tx), 2);
        assert_eq!(
            lock(&tx.chan.state)
                .closed_waiters
                .slab
                .as_ref()
                .unwrap()
                .slots
                .len(),
            2
        );
        drop(rx);
        assert!(Pin::new(&mut b).poll(&mut cx).is_ready());
        assert!(Pin::new(&mut c).poll(&mut cx).is_ready());
        drop((b, c));
        assert_eq!(registered(&tx), 0);
    }
}
