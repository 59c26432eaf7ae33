//! Context: propagation down the tree, Go's "ancestor's reason", exact wake counts, lazy
//! deadlines (no runtime needed for `err`/`is_done`), and a threaded cancellation stress.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use futures::FutureExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_support::{scale, Counted};
use waza::context::{CancelHandle, Context, ContextError, Done};

#[test]
fn types_are_send_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Context>();
    check::<CancelHandle>();
    check::<Done>();
    check::<ContextError>();
}

#[test]
fn background_never_ends() {
    let bg = Context::background();
    assert_eq!(bg.err(), None);
    assert!(!bg.is_done());
    assert_eq!(bg.deadline(), None);
    assert!(bg.done().now_or_never().is_none());
}

#[test]
fn cancel_flows_down_not_up_or_sideways() {
    let (parent, cancel_parent) = Context::background().with_cancel();
    let (a, cancel_a) = parent.with_cancel();
    let (b, _cancel_b) = parent.with_cancel();
    let (a1, _h) = a.with_cancel();
    cancel_a.cancel();
    assert_eq!(a.err(), Some(ContextError::Cancelled));
    assert_eq!(a1.err(), Some(ContextError::Cancelled));
    assert_eq!(parent.err(), None);
    assert_eq!(b.err(), None);
    cancel_parent.cancel();
    assert_eq!(b.err(), Some(ContextError::Cancelled));
}

#[test]
fn ancestor_reason_is_reported() {
    // Parent ended by its deadline: a child with a later deadline reports DeadlineExceeded.
    let (parent, _hp) = Context::background().with_deadline(Instant::now());
    let (child, _hc) = parent.with_cancel();
    assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));

    // Parent cancelled: a child with a far deadline reports Cancelled.
    let (parent, cancel) = Context::background().with_cancel();
    let (child, _hc) = parent.with_timeout(Duration::from_secs(3600));
    cancel.cancel();
    assert_eq!(child.err(), Some(ContextError::Cancelled));
}

#[test]
fn first_reason_wins() {
    let (ctx, cancel) = Context::background().with_timeout(Duration::ZERO);
    cancel.cancel();
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    let (ctx, cancel) = Context::background().with_cancel();
    cancel.cancel();
    let (child, child_cancel) = ctx.with_timeout(Duration::ZERO);
    child_cancel.cancel();
    assert_eq!(child.err(), Some(ContextError::Cancelled));
}

#[test]
fn dropping_the_cancel_handle_does_not_cancel() {
    let (ctx, cancel) = Context::background().with_cancel();
    let (child, child_cancel) = ctx.with_cancel();
    drop(cancel);
    drop(child_cancel);
    assert_eq!(ctx.err(), None);
    assert_eq!(child.err(), None);
}

#[test]
fn done_futures_are_woken_exactly_once() {
    let (parent, cancel) = Context::background().with_cancel();
    let (child, _h) = parent.with_cancel();
    let (c1, c2, c3) = (Counted::new(), Counted::new(), Counted::new());
    let mut d1 = parent.done();
    let mut d2 = child.done();
    let mut d3 = child.done();
    assert!(c1.poll(&mut d1).is_pending());
    assert!(c2.poll(&mut d2).is_pending());
    assert!(c3.poll(&mut d3).is_pending());
    assert!(c3.poll(&mut d3).is_pending()); // re-poll does not double-register
    drop(d3);
    cancel.cancel();
    cancel.cancel();
    assert_eq!((c1.wakes(), c2.wakes(), c3.wakes()), (1, 1, 0));
    assert!(c1.poll(&mut d1).is_ready());
    assert!(c2.poll(&mut d2).is_ready());
    // A done() created after the end is ready at once.
    assert!(child.done().now_or_never().is_some());
}

#[test]
fn deadlines_take_the_earlier_of_own_and_parent() {
    let now = Instant::now();
    let near = now + Duration::from_secs(10);
    let far = now + Duration::from_secs(100);
    let (p, _h1) = Context::background().with_deadline(far);
    assert_eq!(p.deadline(), Some(far));
    let (c, _h2) = p.with_deadline(near);
    assert_eq!(c.deadline(), Some(near));
    let (c2, _h3) = p.with_deadline(far + Duration::from_secs(1));
    assert_eq!(c2.deadline(), Some(far));
    let (c3, _h4) = c.with_cancel();
    assert_eq!(c3.deadline(), Some(near));
    let (c4, _h5) = Context::background().with_timeout(Duration::MAX);
    assert_eq!(c4.deadline(), None);
}

#[test]
fn passed_deadline_is_seen_without_a_runtime() {
    let (parent, _hp) = Context::background().with_timeout(Duration::from_millis(20));
    let (child, _hc) = parent.with_cancel();
    let (sibling, _hs) = parent.with_cancel();
    assert_eq!(child.err(), None);
    std::thread::sleep(Duration::from_millis(30));
    // Observed through a child: the parent (the deadline's owner) ends, and with it all.
    assert!(child.is_done());
    assert_eq!(parent.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(sibling.err(), Some(ContextError::DeadlineExceeded));
    block_on(child.done());
    assert!(child.is_done());
}

#[test]
fn error_display_matches_go() {
    assert_eq!(ContextError::Cancelled.to_string(), "context canceled");
    assert_eq!(
        ContextError::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
}

#[test]
fn stress_concurrent_cancel_reaches_every_descendant_once() {
    let rounds = scale(30, 300);
    for _ in 0..rounds {
        let (root, cancel) = Context::background().with_cancel();
        let woken = Arc::new(AtomicUsize::new(0));
        let threads = 6;
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (root, woken) = (root.clone(), woken.clone());
                std::thread::spawn(move || {
                    // Build a small subtree, churning short-lived children meanwhile.
                    let (mid, _hm) = root.with_cancel();
                    // No deadline here: awaiting done() on a deadline needs the runtime.
                    let (leaf, _hl) = mid.with_cancel();
                    for _ in 0..20 {
                        let (tmp, _ht) = leaf.with_cancel();
                        drop(tmp);
                    }
                    if i == 0 {
                        // A thread that cancels while others are still building.
                        std::thread::yield_now();
                    }
                    block_on(leaf.done());
                    woken.fetch_add(1, Ordering::SeqCst);
                    (mid.err(), leaf.err())
                })
            })
            .collect();
        cancel.cancel();
        for h in handles {
            let (m, l) = h.join().unwrap();
            assert_eq!(m, Some(ContextError::Cancelled));
            assert_eq!(l, Some(ContextError::Cancelled));
        }
        assert_eq!(woken.load(Ordering::SeqCst), threads);
    }
}

#[test]
#[should_panic(expected = "within a waza runtime")]
fn awaiting_a_future_deadline_outside_the_runtime_panics_clearly() {
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_secs(3600));
    let _ = ctx.done().now_or_never();
}

#[test]
fn values_flow_down_and_share_cancellation() {
    #[derive(Debug, PartialEq)]
    struct User(&'static str);
    let (ctx, cancel) = Context::background().with_cancel();
    let with_user = ctx.with_value(User("ann"));
    let (child, _h) = with_user.with_cancel();
    let shadowed = child.with_value(User("bob"));
    assert_eq!(child.value::<User>(), Some(&User("ann")));
    assert_eq!(shadowed.value::<User>(), Some(&User("bob")));
    assert_eq!(ctx.value::<User>(), None);
    let c = Counted::new();
    let mut done = with_user.done();
    assert!(c.poll(&mut done).is_pending());
    cancel.cancel();
    assert_eq!(c.wakes(), 1);
    assert!(c.poll(&mut done).is_ready());
    assert_eq!(shadowed.err(), Some(ContextError::Cancelled));
}
