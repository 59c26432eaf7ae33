//! Semaphore: permits conserved through grants, cancellations and close; never more than n
//! holders under stress.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use futures::FutureExt;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{scale, Counted};
use waza::sync::{AcquireError, Permit, Semaphore, TryAcquireError};

#[test]
fn permits_come_back_on_drop_and_forget_shrinks() {
    let sem = Semaphore::new(3);
    let a: Permit<'_> = sem.try_acquire().unwrap();
    let b = sem.try_acquire_many(2).unwrap();
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.try_acquire().err(), Some(TryAcquireError::NoPermits));
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    a.forget();
    assert_eq!(sem.available_permits(), 2);
    sem.add_permits(5);
    assert_eq!(sem.available_permits(), 7);
}

#[test]
fn waiters_are_woken_once_in_order() {
    let sem = Semaphore::new(0);
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut a = pin!(sem.acquire());
    let mut b = pin!(sem.acquire_many(2));
    assert!(c1.poll_pin(a.as_mut()).is_pending());
    assert!(c2.poll_pin(b.as_mut()).is_pending());
    sem.add_permits(2);
    // One for `a`; `b` needs two and only one is left.
    assert_eq!((c1.wakes(), c2.wakes()), (1, 0));
    assert_eq!(sem.available_permits(), 1);
    let Poll::Ready(Ok(pa)) = c1.poll_pin(a.as_mut()) else {
        panic!("a granted")
    };
    drop(pa);
    assert_eq!(c2.wakes(), 1);
    let Poll::Ready(Ok(pb)) = c2.poll_pin(b.as_mut()) else {
        panic!("b granted")
    };
    assert_eq!(pb.num_permits(), 2);
    assert_eq!(sem.available_permits(), 0);
    drop(pb);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn cancelled_grant_is_passed_on_and_nothing_leaks() {
    let sem = Semaphore::new(0);
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut a = Box::pin(sem.acquire());
    let mut b = pin!(sem.acquire());
    assert!(c1.poll_pin(a.as_mut()).is_pending());
    assert!(c2.poll_pin(b.as_mut()).is_pending());
    sem.add_permits(1);
    assert_eq!((c1.wakes(), c2.wakes()), (1, 0));
    drop(a);
    assert_eq!(c2.wakes(), 1);
    let Poll::Ready(Ok(p)) = c2.poll_pin(b.as_mut()) else {
        panic!("b granted")
    };
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn close_fails_waiters_but_held_permits_stay_valid() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let c = Counted::new();
    let mut w = pin!(sem.acquire());
    assert!(c.poll_pin(w.as_mut()).is_pending());
    assert!(sem.close());
    assert!(!sem.close());
    assert!(sem.is_closed());
    assert_eq!(c.wakes(), 1);
    assert!(matches!(
        c.poll_pin(w.as_mut()),
        Poll::Ready(Err(AcquireError { .. }))
    ));
    assert_eq!(sem.try_acquire().err(), Some(TryAcquireError::Closed));
    assert!(block_on(sem.acquire()).is_err());
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    let e = block_on(sem.acquire()).unwrap_err();
    assert_eq!(e.to_string(), "semaphore closed");
}

#[test]
fn owned_permits_move_across_threads() {
    let sem = Arc::new(Semaphore::new(2));
    let p = block_on(sem.clone().acquire_many_owned(2)).unwrap();
    assert_eq!(p.num_permits(), 2);
    assert!(Arc::ptr_eq(p.semaphore(), &sem));
    std::thread::spawn(move || drop(p)).join().unwrap();
    assert_eq!(sem.available_permits(), 2);
}

#[test]
#[should_panic(expected = "overflow")]
fn add_permits_overflow_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.add_permits(1);
}

/// A request for more permits than a semaphore can ever hold is rejected instead of queueing
/// forever (and blocking every later waiter behind it).
#[test]
fn acquiring_more_than_max_permits_panics_instead_of_hanging() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    let w = Counted::new();
    // One poll (not `block_on`), so that a regression shows up as `Pending`, not a hang.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        w.poll_pin(pin!(sem.acquire_many(Semaphore::MAX_PERMITS + 1)))
            .is_pending()
    }));
    let msg = caught.err().and_then(|e| e.downcast::<String>().ok());
    assert!(
        msg.as_deref()
            .is_some_and(|m| m.contains("could never be served")),
        "{msg:?}"
    );
    // Nothing was queued: the semaphore is still fully usable.
    assert_eq!(
        block_on(sem.acquire_many(Semaphore::MAX_PERMITS))
            .unwrap()
            .num_permits(),
        Semaphore::MAX_PERMITS
    );
}

#[test]
fn stress_never_more_than_n_holders() {
    let n = 3;
    let threads = 8;
    let iters = scale(1_500, 15_000);
    let sem = Arc::new(Semaphore::new(n));
    let holders = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (sem, holders, max_seen) = (sem.clone(), holders.clone(), max_seen.clone());
            std::thread::spawn(move || {
                let mut got = 0usize;
                for k in 0..iters {
                    let permit = if (i + k) % 4 == 0 {
                        // Sometimes give up after one poll (cancellation path).
                        match sem.acquire().now_or_never() {
                            Some(p) => p.unwrap(),
                            None => continue,
                        }
                    } else {
                        block_on(sem.acquire()).unwrap()
                    };
                    let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(now <= n, "{now} holders with {n} permits");
                    max_seen.fetch_max(now, Ordering::SeqCst);
                    holders.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                    got += 1;
                }
                got
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(total >= threads * iters * 3 / 4);
    assert!(max_seen.load(Ordering::SeqCst) <= n);
    assert_eq!(sem.available_permits(), n, "permits conserved");
}

#[test]
fn stress_close_during_contention_conserves_permits() {
    let rounds = scale(30, 300);
    for _ in 0..rounds {
        let n = 2;
        let sem = Arc::new(Semaphore::new(n));
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let sem = sem.clone();
                std::thread::spawn(move || {
                    let (mut ok, mut closed) = (0usize, 0usize);
                    loop {
                        match block_on(sem.acquire()) {
                            Ok(p) => {
                                ok += 1;
                                if let Ok(p2) = sem.try_acquire() {
                                    drop(p2);
                                }
                                drop(p);
                            }
                            Err(_) => {
                                closed += 1;
                                break;
                            }
                        }
                    }
                    (ok, closed)
                })
            })
            .collect();
        std::thread::yield_now();
        sem.close();
        let mut closed_total = 0;
        for h in handles {
            let (_, closed) = h.join().unwrap();
            closed_total += closed;
        }
        assert_eq!(closed_total, 6, "every thread saw the close exactly once");
        assert_eq!(
            sem.available_permits(),
            n,
            "permits conserved through close"
        );
    }
}
