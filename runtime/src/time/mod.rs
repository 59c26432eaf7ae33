//! Timers: sleep, timeout, interval, after, tick (work in progress).
