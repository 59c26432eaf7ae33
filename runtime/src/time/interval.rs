//! [`Interval`]: a periodic timer, and its [`MissedTickBehavior`].

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::{sleep_until, Sleep};

/// A timer that ticks immediately, then every `period`.
///
/// Equivalent to `interval_at(Instant::now(), period)`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// waza::block_on(async {
///     let start = Instant::now();
///     let mut iv = waza::time::interval(Duration::from_millis(5));
///     iv.tick().await; // immediately
///     iv.tick().await;
///     iv.tick().await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(super::now(), period)
}

/// A timer whose first tick is at `start`, then every `period`.
///
/// # Panics
///
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "waza::time::interval: period must be non-zero"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed because the consumer was late.
///
/// A tick is *missed* when, at the moment a tick is delivered, the following scheduled tick
/// time has already passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Deliver the missed ticks back to back as fast as possible, then continue on the
    /// original schedule (`start + k * period`).
    Burst,
    /// The default: forget the schedule; the next tick is one `period` after the late
    /// tick was delivered, and every tick after that follows from it.
    #[default]
    Delay,
    /// Skip the missed ticks: the next tick is the next time on the original schedule that
    /// is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after the one scheduled at `scheduled`, delivered at `now`.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        let on_schedule = scheduled + period;
        if on_schedule > now {
            return on_schedule;
        }
        match self {
            MissedTickBehavior::Burst => on_schedule,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = (now - scheduled).as_nanos();
                let period_ns = period.as_nanos();
                let into = u64::try_from(late % period_ns).unwrap_or(0);
                now + (period - Duration::from_nanos(into))
            }
        }
    }
}

/// A periodic timer; see [`interval`]. Also a `Stream` of tick instants.
///
/// `Interval` is `Unpin`, `Send` and `Sync`.
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `tick()` future consumes no tick.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick (see [`Interval::tick`]).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.sleep).poll(cx));
        let scheduled = self.sleep.deadline();
        let next = self.missed.next(scheduled, super::now(), self.period);
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.sleep.reset(super::now() + self.period);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The behaviour on missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the behaviour on missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_tick_rules() {
        let t0 = Instant::now();
        let p = Duration::from_millis(10);
        let ms = Duration::from_millis;
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            assert_eq!(b.next(t0, t0 + ms(3), p), t0 + ms(10), "on time: {b:?}");
        }
        assert_eq!(
            MissedTickBehavior::Burst.next(t0, t0 + ms(35), p),
            t0 + ms(10)
        );
        assert_eq!(
            MissedTickBehavior::Delay.next(t0, t0 + ms(35), p),
            t0 + ms(45)
        );
        assert_eq!(
            MissedTickBehavior::Skip.next(t0, t0 + ms(35), p),
            t0 + ms(40)
        );
        assert_eq!(
            MissedTickBehavior::Skip.next(t0, t0 + ms(40), p),
            t0 + ms(50)
        );
    }
}
