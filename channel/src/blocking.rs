//! Blocking waits for plain threads: a thread parker wrapped as a `Waker`.
//!
//! A blocking call runs the same operation state machine as the futures, with a waker
//! that unparks the calling thread, and waits between polls.
//!
//! # Why wait briefly before parking
//!
//! When a bounded channel stays full (several producers, one consumer), every receive
//! hands a waiting sender's value into the buffer and wakes that sender. If the sender
//! is asleep in the kernel, that wake is a `futex` wake on the receiver's critical path
//! and the sender's park a `futex` wait. `Thread::unpark` of a thread that is not yet
//! parked is only an atomic swap, so a blocked call first yields the CPU a few times
//! ([`YIELD_ROUNDS`]) watching its wake flag, which lets the counterparty run on a busy
//! machine, and parks only if no wake came by then.
//!
//! Before the yields comes a short spin ([`SPIN_ROUNDS`], a few µs): on an idle machine
//! it keeps hand-offs between two running threads out of the kernel; on a loaded one the
//! yields matter more. What each step bought (futex calls per value, times against
//! crossbeam-channel) is in `benches/RESULTS.md`, "Numbers that left the code comments".
//!
//! # The wake flag (protocol)
//!
//! Each thread has one [`Unparker`]: its `Thread` and a `woken` flag.
//!
//! 1. **Wake** (any thread): store `woken = true` (release), then `unpark` the thread.
//! 2. **Wait** (the owning thread, after a `Pending` poll): swap `woken` to `false`
//!    (acquire); if it was `true`, poll again. Else spin, then yield, retrying the swap a
//!    bounded number of times, then `park` until the swap returns `true`.
//!
//! A wake between the `Pending` poll and the wait leaves `woken = true` (seen by the
//! swap) and an unpark token (the next `park` returns at once), so none is lost. A wake
//! seen by the swap during the bounded wait may leave an unpark token behind; the next
//! `park` then returns early, the swap reads `false`, and the thread parks again: one
//! extra loop, no extra poll. A stale wake (from an earlier operation whose node was
//! already completed) only costs one extra poll, which is always allowed.
//!
//! # Under shuttle
//!
//! With `--cfg shuttle` the thread handle, `park`, the thread-local and the wake flag come
//! from shuttle (its threads are coroutines sharing one OS thread, so std's would be
//! shared by all of them and invisible to its scheduler), and the wait parks at once.

#[cfg(not(shuttle))]
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};
#[cfg(shuttle)]
use shuttle::sync::atomic::{AtomicBool, Ordering};
#[cfg(shuttle)]
use shuttle::thread::{self as thread_impl, Thread};
use std::sync::Arc;
use std::task::Wake;
#[cfg(not(shuttle))]
use std::thread::{self as thread_impl, Thread};

/// `yield_now` calls before parking (module docs).
/// Spin rounds before the yields: round `i` spins `2^i` hints (127 in all, a few µs), so a
/// counterparty running on another core can answer before this thread gives up its core.
#[cfg(not(any(loom, shuttle)))]
const SPIN_ROUNDS: u32 = 7;
#[cfg(not(any(loom, shuttle)))]
const YIELD_ROUNDS: u32 = 3;

/// The waker of one thread's blocking calls (protocol in the module docs).
struct Unparker {
    thread: Thread,
    /// Set by a wake (step 1), cleared by the owning thread's swap (step 2).
    woken: AtomicBool,
}

impl Unparker {
    /// Step 1.
    fn notify(&self) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }

    /// Step 2: consumes a wake; `true` if there was one.
    fn take(&self) -> bool {
        self.woken.swap(false, Ordering::Acquire)
    }

    /// Step 2: returns once a wake has been consumed.
    #[cfg(not(any(loom, shuttle)))]
    fn wait(&self) {
        for step in 0..SPIN_ROUNDS {
            if self.take() {
                return;
            }
            for _ in 0..1u32 << step {
                core::hint::spin_loop();
            }
        }
        for _ in 0..YIELD_ROUNDS {
            if self.take() {
                return;
            }
            thread_impl::yield_now();
        }
        while !self.take() {
            thread_impl::park();
        }
    }

    /// Under loom the thread yields to the model's scheduler and polls again (a spurious
    /// poll is allowed), so a model never spins on this flag, which loom does not track.
    #[cfg(loom)]
    fn wait(&self) {
        self.take();
        loom::thread::yield_now();
    }

    /// Under shuttle the flag is a shuttle atomic and `park` a scheduling point, so the
    /// plain protocol (no spinning, which would only add schedule steps) is checked.
    #[cfg(shuttle)]
    fn wait(&self) {
        while !self.take() {
            thread_impl::park();
        }
    }
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.notify();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.notify();
    }
}

#[cfg(not(shuttle))]
std::thread_local! {
    static UNPARKER: (Arc<Unparker>, Waker) = new_unparker();
}
#[cfg(shuttle)]
shuttle::thread_local! {
    static UNPARKER: (Arc<Unparker>, Waker) = new_unparker();
}

/// An unparker for the current thread and a waker that calls it.
fn new_unparker() -> (Arc<Unparker>, Waker) {
    let unparker = Arc::new(Unparker {
        thread: thread_impl::current(),
        woken: AtomicBool::new(false),
    });
    (unparker.clone(), Waker::from(unparker))
}

/// Polls `f` until it is ready, waiting for a wake in between.
pub(crate) fn block_on<R>(mut f: impl FnMut(&mut Context<'_>) -> Poll<R>) -> R {
    fn run<R>(
        unparker: &Unparker,
        waker: &Waker,
        f: &mut impl FnMut(&mut Context<'_>) -> Poll<R>,
    ) -> R {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(r) = f(&mut cx) {
                return r;
            }
            unparker.wait();
        }
    }
    match UNPARKER.try_with(|(unparker, waker)| run(unparker, waker, &mut f)) {
        Ok(r) => r,
        // The thread-local is already destroyed (a blocking call from another
        // thread-local's destructor): use a one-off unparker.
        Err(_) => {
            let (unparker, waker) = new_unparker();
            run(&unparker, &waker, &mut f)
        }
    }
}

#[cfg(all(test, not(loom), not(shuttle)))]
mod tests {
    use super::block_on;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use core::task::{Poll, Waker};
    use std::sync::{Arc, Mutex};

    /// A wake that lands before the thread waits is kept: exactly one more poll follows.
    #[test]
    fn wake_before_wait_is_kept() {
        let mut polls = 0;
        let r = std::thread::spawn(move || {
            block_on(|cx| {
                polls += 1;
                if polls == 1 {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(polls)
                }
            })
        })
        .join()
        .unwrap();
        assert_eq!(r, 2);
    }

    /// A wake from another thread, after the waiter may have parked, ends the wait; each
    /// of the 200 hand-offs is seen once.
    #[test]
    fn wake_from_other_thread_ends_wait() {
        const ROUNDS: usize = 200;
        let value = Arc::new(AtomicUsize::new(0));
        let waker: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let (v2, w2) = (value.clone(), waker.clone());
        let waiter = std::thread::spawn(move || {
            let mut seen = 0;
            for round in 1..=ROUNDS {
                seen += block_on(|cx| {
                    *w2.lock().unwrap() = Some(cx.waker().clone());
                    if v2.load(Ordering::Acquire) >= round {
                        Poll::Ready(1)
                    } else {
                        Poll::Pending
                    }
                });
            }
            seen
        });
        for round in 1..=ROUNDS {
            value.store(round, Ordering::Release);
            loop {
                if let Some(w) = waker.lock().unwrap().take() {
                    w.wake();
                    break;
                }
                // The waiter may have seen the last value without a fresh waker.
                if waiter.is_finished() {
                    break;
                }
                std::thread::yield_now();
            }
        }
        assert_eq!(waiter.join().unwrap(), ROUNDS);
    }
}
