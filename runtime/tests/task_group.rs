//! `waza::task::Group`: Go's errgroup.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

#[test]
fn all_ok() {
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let res: Result<(), String> = rt().block_on(async move {
        let mut g = waza::task::Group::new();
        for _ in 0..20 {
            let d = d.clone();
            g.spawn(async move {
                waza::yield_now().await;
                d.fetch_add(1, SeqCst);
                Ok(())
            });
        }
        g.wait().await
    });
    assert_eq!(res, Ok(()));
    assert_eq!(done.load(SeqCst), 20);
}

/// Counts drops of the futures that never finish.
struct Dropped(Arc<AtomicUsize>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn first_error_cancels_the_others() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let (res, ctx_err) = rt().block_on(async move {
        let mut g = waza::task::Group::new();
        let ctx = g.context();
        for _ in 0..5 {
            let guard = Dropped(d.clone());
            g.spawn(async move {
                let _g = guard;
                std::future::pending::<()>().await;
                Ok(())
            });
        }
        g.spawn(async { Err("boom") });
        let res = g.wait().await;
        (res, ctx.err())
    });
    assert_eq!(res, Err("boom"));
    assert!(ctx_err.is_some(), "context cancelled by the failure");
    assert_eq!(dropped.load(SeqCst), 5, "pending members dropped");
}

#[test]
fn error_returned_is_the_first_produced() {
    let res = rt().block_on(async {
        let mut g = waza::task::Group::new();
        let (tx, rx) = waza::chan::rendezvous::<()>();
        g.spawn(async move {
            // fails second: only after the first failure was recorded
            let _ = rx.recv().await;
            Err(2)
        });
        g.spawn(async move {
            let r = Err(1);
            drop(tx); // lets the other one go after we return
            r
        });
        g.wait().await
    });
    assert_eq!(res, Err(1));
}

#[test]
fn limit_bounds_concurrency() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let res: Result<(), ()> = rt().block_on(async move {
        let mut g = waza::task::Group::with_limit(3);
        for _ in 0..30 {
            let (r, p) = (r.clone(), p.clone());
            g.spawn(async move {
                let now = r.fetch_add(1, SeqCst) + 1;
                p.fetch_max(now, SeqCst);
                for _ in 0..3 {
                    waza::yield_now().await;
                }
                r.fetch_sub(1, SeqCst);
                Ok(())
            });
        }
        g.wait().await
    });
    assert_eq!(res, Ok(()));
    assert!(peak.load(SeqCst) <= 3, "peak {}", peak.load(SeqCst));
    assert_eq!(running.load(SeqCst), 0);
}

#[test]
#[should_panic(expected = "member panicked")]
fn member_panic_propagates_from_wait() {
    rt().block_on(async {
        let mut g = waza::task::Group::<()>::new();
        g.spawn(async { panic!("member panicked") });
        let _ = g.wait().await;
    });
}

/// The usual errgroup pattern: an earlier member waits for the group's context to end, a
/// later one panics. The panic must cancel the group, so `wait` reaches the panicking
/// member and re-raises its panic instead of waiting forever on the first one.
#[test]
#[should_panic(expected = "second member panicked")]
fn member_panic_cancels_the_group_so_wait_returns() {
    rt().block_on(async {
        let mut g = waza::task::Group::<()>::new();
        let ctx = g.context();
        g.spawn(async move {
            ctx.done().await;
            Ok(())
        });
        g.spawn(async {
            waza::yield_now().await;
            panic!("second member panicked")
        });
        // A hang fails the test with a different message than the one expected.
        waza::time::timeout(std::time::Duration::from_secs(5), g.wait())
            .await
            .expect("Group::wait hung after a member panicked")
            .ok();
    });
}

/// When `wait` re-raises a member's panic, the other members are cancelled too (their
/// futures dropped), not left running.
#[test]
fn member_panic_cancels_the_remaining_members() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let (wait_panicked, ctx_err, rest_dropped) = rt().block_on(async move {
        let mut g = waza::task::Group::<()>::new();
        let ctx = g.context();
        let (tx, rx) = waza::chan::bounded::<()>(1);
        for _ in 0..3 {
            let guard = Dropped(d.clone());
            let tx = tx.clone();
            g.spawn(async move {
                let _g = (guard, tx);
                std::future::pending::<()>().await;
                Ok(())
            });
        }
        drop(tx);
        g.spawn(async { panic!("a member panicked") });
        let waited = waza::time::timeout(std::time::Duration::from_secs(5), waza::spawn(g.wait()))
            .await
            .expect("Group::wait hung after a member panicked");
        // Every pending member dropped its sender: the channel closes, or we time out.
        let closed = waza::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .is_ok();
        (
            waited.map_err(|e| e.is_panic()) == Err(true),
            ctx.err(),
            closed,
        )
    });
    assert!(wait_panicked, "wait re-raised the member's panic");
    assert!(ctx_err.is_some(), "the panic cancelled the group's context");
    assert!(rest_dropped, "the pending members were cancelled");
    assert_eq!(dropped.load(SeqCst), 3);
}

/// `with_context`: the group's context is a child of the given one, so cancelling the
/// parent stops the members; a failure cancels only the group's context.
#[test]
fn with_context_follows_the_parent() {
    let res = rt().block_on(async {
        let (parent, cancel) = waza::context::Context::background().with_cancel();
        let mut g = waza::task::Group::<&str>::with_context(&parent);
        g.spawn(async {
            std::future::pending::<()>().await;
            Err("never")
        });
        cancel.cancel();
        let res = waza::time::timeout(std::time::Duration::from_secs(5), g.wait())
            .await
            .expect("Group::wait hung after the parent was cancelled");
        (res, parent.err().is_some())
    });
    assert_eq!(res, (Ok(()), true));

    let (res, parent_err) = rt().block_on(async {
        let (parent, _cancel) = waza::context::Context::background().with_cancel();
        let mut g = waza::task::Group::<&str>::with_context(&parent);
        g.spawn(async { Err("boom") });
        (g.wait().await, parent.err())
    });
    assert_eq!(res, Err("boom"));
    assert!(
        parent_err.is_none(),
        "a member failure does not cancel the parent"
    );
}
