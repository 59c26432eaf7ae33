//! Context deadlines that fire while a task awaits `done()` (needs the waza runtime's
//! timers), and cancellation observed from spawned tasks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use waza::context::{Context, ContextError};

#[test]
fn done_wakes_at_the_deadline() {
    waza::block_on(async {
        let start = Instant::now();
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(20));
        ctx.done().await;
        // A timer never fires early.
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    });
}

#[test]
fn child_waiting_on_parent_deadline_reports_deadline_exceeded() {
    waza::block_on(async {
        let (parent, _p) = Context::background().with_timeout(Duration::from_millis(10));
        let (child, _c) = parent.with_timeout(Duration::from_secs(3600));
        assert_eq!(child.deadline(), parent.deadline());
        child.done().await;
        assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
        assert_eq!(parent.err(), Some(ContextError::DeadlineExceeded));
    });
}

#[test]
fn cancel_beats_a_far_deadline_and_wakes_spawned_tasks() {
    waza::block_on(async {
        let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(3600));
        let woke = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (ctx, woke) = (ctx.clone(), woke.clone());
                waza::spawn(async move {
                    ctx.done().await;
                    woke.fetch_add(1, Ordering::SeqCst);
                    ctx.err()
                })
            })
            .collect();
        waza::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(woke.load(Ordering::SeqCst), 0);
        cancel.cancel();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Some(ContextError::Cancelled));
        }
        assert_eq!(woke.load(Ordering::SeqCst), 8);
    });
}

#[test]
fn done_in_select_with_work() {
    waza::block_on(async {
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(15));
        let (tx, rx) = waza::chan::unbounded::<u32>();
        let mut got = 0;
        let mut timed_out = false;
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        while !timed_out {
            waza::select! {
                biased;
                _ = ctx.done() => timed_out = true,
                Some(v) = rx.recv() => got += v,
            }
        }
        assert_eq!(got, 3);
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        drop(tx);
    });
}

/// Deadlines racing explicit cancels across a tree, with tasks awaiting `done()` on every
/// node: every waiter wakes exactly once, and each context reports one stable reason that
/// its whole subtree agrees with (the first to happen wins).
#[test]
fn deadline_racing_cancel_storm() {
    waza::block_on(async {
        let woke = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        let mut cancels = Vec::new();
        for i in 0..20u64 {
            let (parent, cancel) =
                Context::background().with_timeout(Duration::from_micros(200 * (i % 7)));
            cancels.push(cancel);
            for j in 0..5u64 {
                let (child, _c) = parent.with_timeout(Duration::from_millis(1 + j));
                let (parent, woke) = (parent.clone(), woke.clone());
                tasks.push(waza::spawn(async move {
                    let _keep = _c;
                    child.done().await;
                    woke.fetch_add(1, Ordering::SeqCst);
                    let (p, c) = (parent.err(), child.err());
                    assert!(c.is_some());
                    if let Some(p) = p {
                        // An ended parent decides for the child unless the child ended first
                        // by its own deadline.
                        assert!(c == Some(p) || c == Some(ContextError::DeadlineExceeded));
                    }
                    assert_eq!(child.err(), c, "the reason never changes");
                }));
            }
        }
        for (k, c) in cancels.iter().enumerate() {
            if k % 2 == 0 {
                c.cancel();
            }
            waza::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(woke.load(Ordering::SeqCst), 100);
    });
}
