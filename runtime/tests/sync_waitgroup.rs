//! WaitGroup: exact wake counts, Go's negative-counter panic, reuse, and a threaded stress.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use sync_support::{scale, Counted};
use waza::sync::WaitGroup;

#[test]
fn wait_on_zero_is_ready_at_once() {
    let wg = WaitGroup::new();
    let c = Counted::new();
    assert!(c.poll(&mut wg.wait()).is_ready());
    assert_eq!(c.wakes(), 0);
}

#[test]
fn waiters_wake_exactly_once_when_count_hits_zero() {
    let wg = WaitGroup::new();
    wg.add(2);
    let (c1, c2) = (Counted::new(), Counted::new());
    let (mut w1, mut w2) = (wg.wait(), wg.wait());
    assert!(c1.poll(&mut w1).is_pending());
    assert!(c2.poll(&mut w2).is_pending());
    wg.done();
    assert_eq!((c1.wakes(), c2.wakes()), (0, 0));
    assert!(c1.poll(&mut w1).is_pending());
    wg.done();
    assert_eq!((c1.wakes(), c2.wakes()), (1, 1));
    assert!(c1.poll(&mut w1).is_ready());
    assert!(c2.poll(&mut w2).is_ready());
    assert_eq!(wg.count(), 0);
}

#[test]
fn released_waiter_returns_even_if_count_went_up_again() {
    let wg = WaitGroup::new();
    wg.add(1);
    let c = Counted::new();
    let mut w = wg.wait();
    assert!(c.poll(&mut w).is_pending());
    wg.done();
    wg.add(1); // reused before the waiter ran
    assert!(c.poll(&mut w).is_ready());
    // A new waiter waits for the new round.
    let mut w2 = wg.wait();
    assert!(c.poll(&mut w2).is_pending());
    wg.done();
    assert!(c.poll(&mut w2).is_ready());
    assert_eq!(c.wakes(), 2);
}

#[test]
fn clones_share_one_counter_and_accept_any_integer() {
    let wg = WaitGroup::new();
    let other = wg.clone();
    wg.add(3usize);
    other.add(-1i32);
    other.add(2u8);
    assert_eq!(wg.count(), 4);
    for _ in 0..4 {
        other.done();
    }
    assert_eq!(wg.count(), 0);
}

#[test]
#[should_panic(expected = "sync: negative WaitGroup counter")]
fn done_below_zero_panics_like_go() {
    WaitGroup::new().done();
}

#[test]
fn negative_panic_leaves_counter_unchanged() {
    let wg = WaitGroup::new();
    wg.add(1);
    let wg2 = wg.clone();
    let r = std::panic::catch_unwind(move || wg2.add(-2));
    assert!(r.is_err());
    assert_eq!(wg.count(), 1);
    wg.done(); // still usable: the internal lock is not poisoned
    assert_eq!(wg.count(), 0);
}

#[test]
fn dropped_waiter_does_not_disturb_others() {
    let wg = WaitGroup::new();
    wg.add(1);
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut w1 = wg.wait();
    let mut w2 = wg.wait();
    assert!(c1.poll(&mut w1).is_pending());
    assert!(c2.poll(&mut w2).is_pending());
    drop(w1);
    wg.done();
    assert_eq!((c1.wakes(), c2.wakes()), (0, 1));
    assert!(c2.poll(&mut w2).is_ready());
}

#[test]
fn stress_threads_wait_for_every_job() {
    let rounds = scale(20, 200);
    for _ in 0..rounds {
        let wg = WaitGroup::new();
        let finished = Arc::new(AtomicUsize::new(0));
        let jobs = 16;
        wg.add(jobs);
        let mut threads = Vec::new();
        for _ in 0..jobs {
            let (wg, finished) = (wg.clone(), finished.clone());
            threads.push(std::thread::spawn(move || {
                finished.fetch_add(1, Ordering::SeqCst);
                wg.done();
            }));
        }
        // Several waiters, some async and one blocking, all see every job done.
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let (wg, finished) = (wg.clone(), finished.clone());
                std::thread::spawn(move || {
                    block_on(wg.wait());
                    finished.load(Ordering::SeqCst)
                })
            })
            .collect();
        wg.wait_blocking();
        assert_eq!(finished.load(Ordering::SeqCst), jobs);
        for w in waiters {
            assert_eq!(w.join().unwrap(), jobs);
        }
        for t in threads {
            t.join().unwrap();
        }
    }
}
