//! Barrier: one leader per round, rounds reuse the barrier, and a cancelled waiter is not
//! counted (unlike tokio's, whose `wait` is not cancel-safe).

#[path = "support/sync.rs"]
mod sync_support;

use futures::FutureExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{scale, Counted};
use waza::sync::Barrier;

#[test]
fn the_last_arrival_leads_and_wakes_each_follower_once() {
    let b = Barrier::new(3);
    let (c1, c2, c3) = (Counted::new(), Counted::new(), Counted::new());
    let (mut w1, mut w2, mut w3) = (b.wait(), b.wait(), b.wait());
    assert!(c1.poll(&mut w1).is_pending());
    assert!(c1.poll(&mut w1).is_pending()); // a re-poll does not arrive twice
    assert!(c2.poll(&mut w2).is_pending());
    let Poll::Ready(r3) = c3.poll(&mut w3) else {
        panic!("the third arrival completes the round")
    };
    assert!(r3.is_leader());
    assert_eq!((c1.wakes(), c2.wakes(), c3.wakes()), (1, 1, 0));
    let Poll::Ready(r1) = c1.poll(&mut w1) else {
        panic!("released")
    };
    let Poll::Ready(r2) = c2.poll(&mut w2) else {
        panic!("released")
    };
    assert!(!r1.is_leader() && !r2.is_leader());
}

#[test]
fn a_cancelled_waiter_is_not_counted() {
    let b = Barrier::new(3);
    let (c1, c2, c3) = (Counted::new(), Counted::new(), Counted::new());
    let mut a = b.wait();
    assert!(c1.poll(&mut a).is_pending());
    {
        let mut cancelled = b.wait();
        assert!(c2.poll(&mut cancelled).is_pending());
    }
    // Only `a` is waiting now: one more arrival is not enough.
    let mut c = b.wait();
    assert!(c3.poll(&mut c).is_pending());
    assert_eq!((c1.wakes(), c2.wakes(), c3.wakes()), (0, 0, 0));
    let last = b
        .wait()
        .now_or_never()
        .expect("third waiting task completes the round");
    assert!(last.is_leader());
    assert_eq!((c1.wakes(), c2.wakes(), c3.wakes()), (1, 0, 1));
    assert!(c1.poll(&mut a).is_ready());
    assert!(c3.poll(&mut c).is_ready());
}

#[test]
fn a_released_waiter_dropped_before_returning_changes_nothing() {
    let b = Barrier::new(2);
    let c = Counted::new();
    let mut a = b.wait();
    assert!(c.poll(&mut a).is_pending());
    assert!(b.wait().now_or_never().unwrap().is_leader());
    drop(a); // released, never returned
             // The next round still needs two fresh arrivals.
    let mut x = b.wait();
    assert!(c.poll(&mut x).is_pending());
    assert!(b.wait().now_or_never().unwrap().is_leader());
    assert!(!c.poll(&mut x).map(|r| r.is_leader()).is_pending());
}

#[test]
fn zero_behaves_as_one() {
    let b = Barrier::new(0);
    for _ in 0..3 {
        assert!(b.wait().now_or_never().unwrap().is_leader());
    }
}

/// Many rounds on 2 workers: in every round all `n` tasks arrive before any leaves, and
/// exactly one of them leads.
#[waza::test(workers = 2)]
async fn exactly_one_leader_per_round_over_many_rounds() {
    let n = 8;
    let rounds = scale(300, 3_000);
    let barrier = Arc::new(Barrier::new(n));
    let arrivals: Arc<Vec<AtomicUsize>> = Arc::new((0..rounds).map(|_| 0.into()).collect());
    let leaders: Arc<Vec<AtomicUsize>> = Arc::new((0..rounds).map(|_| 0.into()).collect());
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (b, arrivals, leaders) = (barrier.clone(), arrivals.clone(), leaders.clone());
            waza::spawn(async move {
                for g in 0..rounds {
                    arrivals[g].fetch_add(1, Ordering::SeqCst);
                    let r = b.wait().await;
                    assert_eq!(
                        arrivals[g].load(Ordering::SeqCst),
                        n,
                        "left round {g} early"
                    );
                    if r.is_leader() {
                        leaders[g].fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for (g, l) in leaders.iter().enumerate() {
        assert_eq!(l.load(Ordering::SeqCst), 1, "round {g}");
    }
}

/// Tasks that sometimes arrive and give up at once (a `select!` with `default`), yield,
/// then wait for real: every task completes exactly `rounds` waits, so if a cancelled wait were counted
/// a round would release early and the leader count would come out wrong (or hang).
///
/// One worker: a wait released by a leader on another thread between its last poll and
/// its drop is (by design) counted in that round although its task never learns it, which
/// would break this test's bookkeeping; on one worker nothing runs in between.
#[waza::test(workers = 1)]
async fn cancellations_under_contention_never_release_a_round_early() {
    let n = 5;
    let rounds = scale(200, 2_000);
    let barrier = Arc::new(Barrier::new(n));
    let leaders = Arc::new(AtomicUsize::new(0));
    let cancels = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (b, leaders, cancels) = (barrier.clone(), leaders.clone(), cancels.clone());
            waza::spawn(async move {
                for g in 0..rounds {
                    // Each round, some tasks try once and give up before waiting for real.
                    if (g + i) % 3 == 0 {
                        waza::select! {
                            r = b.wait() => {
                                if r.is_leader() {
                                    leaders.fetch_add(1, Ordering::SeqCst);
                                }
                                continue;
                            },
                            default => {
                                cancels.fetch_add(1, Ordering::SeqCst);
                            },
                        }
                        waza::yield_now().await;
                    }
                    if b.wait().await.is_leader() {
                        leaders.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(leaders.load(Ordering::SeqCst), rounds);
    assert!(
        cancels.load(Ordering::SeqCst) > 0,
        "some waits were cancelled"
    );
    assert!(format!("{barrier:?}").contains("arrived: 0"));
}
