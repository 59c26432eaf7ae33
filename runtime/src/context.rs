//! Go's context: cancellation and deadlines that flow down a tree (work in progress).
