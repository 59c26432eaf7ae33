//! [`Sleep`], the future behind `sleep` and `sleep_until`.
//!
//! A `Sleep` costs nothing until its first poll: creating one only computes the deadline. The
//! first poll that finds the deadline in the future takes a keyed entry in the runtime's timer
//! wheel (see `time::driver`); the entry is reused across resets while it is pending, and freed
//! by the poll that sees it fired (one lock acquisition for both) or by drop. A deadline
//! already in the past completes without touching the wheel.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use super::driver::{Inserted, TimerRef};

/// Waits until `duration` has elapsed.
///
/// The timer starts when `sleep` is called, not when the future is first polled. It never
/// completes early; it may complete later than asked by up to the runtime's timer resolution
/// (62.5 µs; 250 µs when the runtime sleeps, whose wake-ups are coalesced) plus scheduling
/// delay.
///
/// # Panics
///
/// The returned future panics when polled outside a waza runtime (unless its deadline has
/// already passed).
///
/// # Cancel safety
///
/// Cancel safe: dropping the future just cancels the timer.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// waza::block_on(waza::time::sleep(Duration::from_millis(10)));
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let now = super::now();
    let deadline = now.checked_add(duration).unwrap_or_else(far_future);
    Sleep::new(deadline)
}

/// Waits until `deadline` is reached.
///
/// # Panics
///
/// The returned future panics when polled outside a waza runtime (unless `deadline` has
/// already passed).
///
/// # Cancel safety
///
/// Cancel safe: dropping the future just cancels the timer.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// let deadline = Instant::now() + Duration::from_millis(5);
/// waza::block_on(waza::time::sleep_until(deadline));
/// assert!(Instant::now() >= deadline);
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// An instant about 30 years from now: "never" for practical purposes.
pub(crate) fn far_future() -> Instant {
    super::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// A future that completes at a deadline; returned by [`sleep`] and [`sleep_until`].
///
/// `Sleep` is `Unpin`, `Send` and `Sync`. Once complete it stays complete (polling again
/// returns `Ready`) until [`Sleep::reset`] gives it a new deadline.
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    deadline: Instant,
    /// The wheel entry, taken on the first poll that has to wait.
    entry: Option<(Arc<TimerRef>, usize)>,
    /// Whether the current deadline has been reached and reported.
    done: bool,
}

impl Sleep {
    fn new(deadline: Instant) -> Self {
        Sleep {
            deadline,
            entry: None,
            done: false,
        }
    }

    /// The instant at which the future completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let at = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(waza::time::sleep_until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached and reported by a poll.
    pub fn is_elapsed(&self) -> bool {
        self.done
    }

    /// Gives the sleep a new deadline (earlier or later), even if it already completed.
    ///
    /// Reuses the timer entry; moving a pending timer later is O(1) and lazy.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// waza::block_on(async {
    ///     let mut s = waza::time::sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now() + Duration::from_millis(1));
    ///     (&mut s).await;
    ///     assert!(s.is_elapsed());
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.done = false;
        if let Some((handle, key)) = &self.entry {
            if handle.reset(*key, deadline) {
                handle.unpark();
            }
        }
    }

    /// Polls the timer without spending cooperative budget; `true` once it has fired.
    ///
    /// A fired entry is freed by the same lock acquisition that observes it, so a
    /// completed `Sleep` holds no entry and its drop takes no lock; a later
    /// [`Sleep::reset`] takes a fresh entry on the next poll that has to wait.
    fn poll_fired(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some((handle, key)) = &self.entry {
            if !handle.poll_entry_or_free(*key, cx.waker()) {
                return false;
            }
            self.entry = None;
            return true;
        }
        if self.deadline <= super::now() {
            return true;
        }
        let handle = current_timer_ref();
        match handle.insert(self.deadline, cx.waker()) {
            Inserted::Waiting { key, unpark } => {
                if unpark {
                    handle.unpark();
                }
                self.entry = Some((handle, key));
                false
            }
            Inserted::Due | Inserted::Shutdown => true,
        }
    }
}

/// This thread's reference to the current runtime's timers (see [`TimerRef`]).
///
/// # Panics
///
/// Outside a waza runtime.
#[track_caller]
pub(super) fn current_timer_ref() -> Arc<TimerRef> {
    match crate::scheduler::current::timer_ref() {
        Some(timers) => timers,
        // Not in a closure: `#[track_caller]` reaches `Location::caller` only directly.
        None => crate::scheduler::current::panic_outside_runtime(std::panic::Location::caller()),
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        if !this.poll_fired(cx) {
            return Poll::Pending;
        }
        ready!(crate::scheduler::coop::poll_proceed(cx));
        this.done = true;
        Poll::Ready(())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((handle, key)) = self.entry.take() {
            handle.remove(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("elapsed", &self.done)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Polls `s` once; true if it is still pending.
    async fn pending_after_one_poll(s: &mut Sleep) -> bool {
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *s).poll(cx).is_pending())).await
    }

    #[test]
    fn a_pending_sleep_holds_its_workers_timer_reference() {
        let rt = crate::Runtime::builder().workers(1).build().unwrap();
        let shared_ref = rt.handle().shared.timer_ref.clone();
        let counts = rt.spawn(async {
            let own = crate::scheduler::current::timer_ref().unwrap();
            let before = Arc::strong_count(&own);
            let mut s = sleep(Duration::from_secs(60));
            assert!(pending_after_one_poll(&mut s).await);
            let during = Arc::strong_count(&own);
            drop(s);
            (before, during, Arc::strong_count(&own))
        });
        let (before, during, after) = rt.block_on(counts).unwrap();
        assert_eq!(
            (during, after),
            (before + 1, before),
            "the worker's own reference"
        );
        // Off the workers (block_on), the runtime's shared reference is the one held.
        let idle = Arc::strong_count(&shared_ref);
        rt.block_on(async {
            let mut s = sleep(Duration::from_secs(60));
            assert!(pending_after_one_poll(&mut s).await);
            assert_eq!(Arc::strong_count(&shared_ref), idle + 1);
        });
        assert_eq!(Arc::strong_count(&shared_ref), idle);
    }

    #[test]
    fn the_poll_that_sees_the_timer_fired_frees_its_entry() {
        let rt = crate::Runtime::builder().workers(1).build().unwrap();
        rt.block_on(async {
            let entries = || current_timer_ref().entries();
            let mut s = sleep(Duration::from_millis(2));
            let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut s).poll(cx))).await;
            assert!(first.is_pending());
            assert_eq!(entries(), 1);
            (&mut s).await;
            assert_eq!(entries(), 0, "completed, still alive, no entry");
            s.reset(Instant::now() + Duration::from_millis(2));
            assert!(!s.is_elapsed());
            (&mut s).await;
            assert_eq!(entries(), 0);
            let mut far = sleep(Duration::from_secs(60));
            let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut far).poll(cx))).await;
            assert!(first.is_pending());
            assert_eq!(entries(), 1);
            drop(far);
            assert_eq!(entries(), 0, "drop frees a pending entry");
        });
    }
}
