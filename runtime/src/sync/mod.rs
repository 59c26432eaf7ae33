//! Synchronization primitives for tasks (work in progress).
