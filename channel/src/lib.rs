//! Go-style MPMC channels for async Rust (work in progress).
