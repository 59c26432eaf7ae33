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
