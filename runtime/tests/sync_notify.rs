//! Notify: tokio's permit semantics, notify_waiters epochs, cancel pass-on, and a threaded
//! ping-pong that would hang if a notification were ever lost.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use futures::FutureExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use sync_support::{scale, Counted};
use waza::sync::Notify;

#[test]
fn notify_one_without_waiter_stores_one_permit() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    assert!(n.notified().now_or_never().is_some());
    assert!(
        n.notified().now_or_never().is_none(),
        "permits must not stack"
    );
}

#[test]
fn notify_one_wakes_oldest_waiter_only() {
    let n = Notify::new();
    let (c1, c2) = (Counted::new(), Counted::new());
    let (mut a, mut b) = (n.notified(), n.notified());
    assert!(c1.poll(&mut a).is_pending());
    assert!(c2.poll(&mut b).is_pending());
    n.notify_one();
    assert_eq!((c1.wakes(), c2.wakes()), (1, 0));
    assert!(c1.poll(&mut a).is_ready());
    assert!(c2.poll(&mut b).is_pending());
    n.notify_one();
    assert_eq!(c2.wakes(), 1);
    assert!(c2.poll(&mut b).is_ready());
    assert!(n.notified().now_or_never().is_none());
}

#[test]
fn notify_waiters_wakes_all_including_unpolled_and_stores_nothing() {
    let n = Notify::new();
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut polled = n.notified();
    let mut unpolled = n.notified();
    assert!(c1.poll(&mut polled).is_pending());
    n.notify_waiters();
    assert_eq!(c1.wakes(), 1);
    assert!(c1.poll(&mut polled).is_ready());
    assert!(c2.poll(&mut unpolled).is_ready());
    // Created after the call: not covered.
    assert!(n.notified().now_or_never().is_none());
}

#[test]
fn dropped_notified_passes_notify_one_on() {
    let n = Notify::new();
    let (c1, c2) = (Counted::new(), Counted::new());
    let (mut a, mut b) = (n.notified(), n.notified());
    assert!(c1.poll(&mut a).is_pending());
    assert!(c2.poll(&mut b).is_pending());
    n.notify_one(); // delivered to `a`
    drop(a); // never returned: `b` gets it
    assert_eq!(c2.wakes(), 1);
    assert!(c2.poll(&mut b).is_ready());
}

#[test]
fn dropped_notified_with_nobody_else_restores_the_permit() {
    let n = Notify::new();
    let c = Counted::new();
    let mut a = n.notified();
    assert!(c.poll(&mut a).is_pending());
    n.notify_one();
    drop(a);
    assert!(n.notified().now_or_never().is_some());
}

#[test]
fn dropped_notify_waiters_delivery_is_not_passed_on() {
    let n = Notify::new();
    let c = Counted::new();
    let mut a = n.notified();
    assert!(c.poll(&mut a).is_pending());
    n.notify_waiters();
    drop(a);
    assert!(n.notified().now_or_never().is_none());
}

#[test]
fn stress_ping_pong_loses_no_notification() {
    let rounds = scale(5_000, 50_000);
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let counter = Arc::new(AtomicUsize::new(0));
    let t = {
        let (ping, pong, counter) = (ping.clone(), pong.clone(), counter.clone());
        std::thread::spawn(move || {
            block_on(async {
                for _ in 0..rounds {
                    ping.notified().await;
                    counter.fetch_add(1, Ordering::SeqCst);
                    pong.notify_one();
                }
            })
        })
    };
    block_on(async {
        for i in 0..rounds {
            ping.notify_one();
            pong.notified().await;
            assert_eq!(counter.load(Ordering::SeqCst), i + 1);
        }
    });
    t.join().unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), rounds);
}

#[test]
fn stress_many_waiters_each_notify_one_wakes_one() {
    let waiters = 8;
    let per = scale(300, 3_000);
    let n = Arc::new(Notify::new());
    let woken = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..waiters)
        .map(|_| {
            let (n, woken) = (n.clone(), woken.clone());
            std::thread::spawn(move || {
                block_on(async {
                    for _ in 0..per {
                        n.notified().await;
                        woken.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
        })
        .collect();
    // Each notify_one either wakes one waiter or is stored; send one at a time and wait
    // until it is consumed, so none can be merged with another.
    for i in 0..waiters * per {
        n.notify_one();
        while woken.load(Ordering::SeqCst) <= i {
            std::thread::yield_now();
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(woken.load(Ordering::SeqCst), waiters * per);
}
