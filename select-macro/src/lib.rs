//! Proc-macros for waza (work in progress).
