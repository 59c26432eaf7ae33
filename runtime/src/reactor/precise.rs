//! Sub-millisecond park deadlines on Linux: a `timerfd` registered with the poller.
//!
//! `mio` hands `epoll_wait` a timeout in whole milliseconds, rounded up, so a driver that
//! parks until the next timer tick (62.5 µs apart) would sleep up to a millisecond past it.
//! Before such a park the driver arms this timer for the exact deadline; its expiry makes
//! `epoll_wait` return on time, and the millisecond timeout stays only as the fallback.
//!
//! # Handles and protocol
//!
//! The [`PreciseTimer`] is owned by the `Driver` (only the thread holding the driver arms
//! it) and registered with the driver's poller under its own token. It is one-shot and
//! relative (`timerfd_settime` with a zero interval): an expiry is an `EPOLLIN` edge that
//! the driver ignores; it never reads the expiration count (each arming resets it, and the
//! registration is edge-triggered, so every expiry is a new edge). `armed_for` remembers the
//! deadline last armed, so a park that keeps the same deadline (a wake-up before it) makes no
//! system call. An armed deadline that no park waits for any more (its timer was cancelled)
//! expires into a spurious driver wake-up, which the driver tolerates.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// A one-shot monotonic timer whose expiry wakes the poller it is registered with.
pub(crate) struct PreciseTimer {
    fd: OwnedFd,
    /// The deadline last armed (it may have passed).
    armed_for: Option<Instant>,
    /// Number of `timerfd_settime` calls made (tests).
    arms: u64,
}

impl PreciseTimer {
    /// Creates the timer and registers it with `registry` under `token`.
    ///
    /// # Errors
    ///
    /// If the OS refuses a timer file descriptor or its registration.
    pub(crate) fn new(registry: &mio::Registry, token: mio::Token) -> io::Result<Self> {
        // SAFETY: plain system call with constant arguments; no pointers.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a freshly created descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        registry.register(
            &mut mio::unix::SourceFd(&fd.as_raw_fd()),
            token,
            mio::Interest::READABLE,
        )?;
        Ok(PreciseTimer {
            fd,
            armed_for: None,
            arms: 0,
        })
    }

    /// Makes the poller wake at `deadline` (`timeout` from now), unless that is already
    /// arranged. Timeouts of whole milliseconds are left to `epoll_wait` itself.
    pub(crate) fn arm(&mut self, deadline: Instant, timeout: Duration) {
        if timeout.is_zero() || timeout.subsec_nanos() % 1_000_000 == 0 {
            return;
        }
        if self.armed_for == Some(deadline) {
            return;
        }
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: timeout.as_secs().try_into().unwrap_or(libc::time_t::MAX),
                tv_nsec: timeout.subsec_nanos().into(),
            },
        };
        // SAFETY: `fd` is our open timer; `spec` is a valid itimerspec for the call's
        // duration and the old-value pointer may be null.
        let rc =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        self.arms += 1;
        // On failure the park just falls back to the millisecond timeout.
        self.armed_for = (rc == 0).then_some(deadline);
    }

    /// Number of times the timer was armed (tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn arms(&self) -> u64 {
        self.arms
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn arms_only_for_new_sub_millisecond_deadlines() {
        let poll = mio::Poll::new().unwrap();
        let mut timer = PreciseTimer::new(poll.registry(), mio::Token(9)).unwrap();
        let now = Instant::now();
        let ms = Duration::from_millis;
        timer.arm(now + ms(3), ms(3));
        timer.arm(now, Duration::ZERO);
        assert_eq!(
            timer.arms(),
            0,
            "whole milliseconds and zero are epoll's job"
        );
        let sub = Duration::from_micros(2_250);
        timer.arm(now + sub, sub);
        timer.arm(now + sub, sub - Duration::from_micros(10));
        assert_eq!(timer.arms(), 1, "the same deadline is armed once");
        let later = Duration::from_micros(2_500);
        timer.arm(now + later, later);
        assert_eq!(timer.arms(), 2);
    }

    #[test]
    fn an_armed_deadline_wakes_the_poller() {
        let mut poll = mio::Poll::new().unwrap();
        let token = mio::Token(9);
        let mut timer = PreciseTimer::new(poll.registry(), token).unwrap();
        let mut events = mio::Events::with_capacity(4);
        for round in 0..3 {
            let d = Duration::from_micros(300 + round * 100);
            timer.arm(Instant::now() + d, d);
            // Without the timer this would wait the whole fallback timeout and see nothing.
            poll.poll(&mut events, Some(Duration::from_secs(10)))
                .unwrap();
            let tokens: Vec<_> = events.iter().map(|e| e.token()).collect();
            assert_eq!(tokens, [token], "round {round}: every arming is a new edge");
        }
    }
}
