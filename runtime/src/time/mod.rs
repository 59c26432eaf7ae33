//! Timers: [`sleep`](fn@sleep), [`timeout`](fn@timeout), [`interval`](fn@interval), and
//! Go's [`after`] and [`tick`] channels.
//!
//! Every worker of a runtime has its own hierarchical timer wheel (8 levels × 64 slots,
//! 62.5 µs ticks; `driver.rs`): the worker that parks on the I/O driver fires the due
//! timers, and busy workers turn the driver every 61 polls. Deadlines are rounded up to the next tick, so
//! a timer never fires early; it fires at most one tick late, plus the driver's wake-up and
//! scheduling delay. A pending timer costs one wheel entry (a few dozen bytes); a timer
//! future that has not been polled yet costs nothing in the wheel.
//!
//! | Go | waza |
//! |---|---|
//! | `time.Sleep(d)` | `sleep(d).await` |
//! | `time.After(d)` | `after(d)` (a `chan::Receiver<Instant>`) |
//! | `time.Tick(d)` / `time.NewTicker(d).C` | `tick(d)`, or `interval(d)` |
//! | `context.WithTimeout` around a call | `timeout(d, fut).await` |
//!
//! # Test time
//!
//! On a current-thread runtime, [`pause`] stops the runtime's clock ([`now`]): timers then
//! move only by [`advance`], or jump to the next timer when every task is idle, so tests of
//! long timeouts run in microseconds (`#[waza::test(start_paused = true)]`).

mod chan;
mod clock;
mod driver;
mod interval;
mod sleep;
mod timeout;
mod wheel;

pub use chan::{after, tick};
pub use clock::{advance, now, pause, resume};
#[cfg(all(test, not(loom)))]
pub(crate) use driver::Inserted;
pub(crate) use driver::TimerRef;
pub(crate) use driver::Timers;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::{Duration, Instant};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
