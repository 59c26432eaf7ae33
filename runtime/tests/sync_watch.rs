//! watch: each receiver sees each change once, changes coalesce, close and `closed()`
//! are reported exactly, and cancelled waits lose nothing and leave no waiter behind.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use futures::FutureExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{scale, Counted, DropCount};
use waza::sync::watch::{self, SendError};
use waza::sync::Barrier;

#[test]
fn each_receiver_sees_a_change_once_and_changes_coalesce() {
    let (tx, mut rx1) = watch::channel(0);
    let mut rx2 = rx1.clone();
    assert!(
        rx1.changed().now_or_never().is_none(),
        "the initial value is seen"
    );
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    tx.send(3).unwrap();
    for rx in [&mut rx1, &mut rx2] {
        assert_eq!(rx.changed().now_or_never(), Some(Ok(())));
        assert_eq!(*rx.borrow(), 3);
        assert!(rx.changed().now_or_never().is_none());
    }
}

#[test]
fn borrow_does_not_mark_seen_but_borrow_and_update_does() {
    let (tx, mut rx) = watch::channel("a");
    assert!(!rx.borrow().has_changed());
    tx.send("b").unwrap();
    assert!(rx.borrow().has_changed());
    assert_eq!(rx.has_changed(), Ok(true));
    let r = rx.borrow_and_update();
    assert!(r.has_changed());
    assert_eq!(*r, "b");
    drop(r);
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(!tx.borrow().has_changed());
}

#[test]
fn mark_changed_and_mark_unchanged() {
    let (tx, mut rx) = watch::channel(0);
    rx.mark_changed();
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(rx.changed().now_or_never(), Some(Ok(())));
    tx.send(1).unwrap();
    rx.mark_unchanged();
    assert!(rx.changed().now_or_never().is_none());
    rx.mark_changed();
    rx.mark_changed();
    assert_eq!(rx.changed().now_or_never(), Some(Ok(())));
    assert!(rx.changed().now_or_never().is_none());
}

#[test]
fn an_unseen_change_is_reported_before_the_close() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    drop(tx);
    assert!(
        rx.has_changed().is_err(),
        "has_changed reports the close first"
    );
    assert_eq!(rx.changed().now_or_never(), Some(Ok(())));
    assert_eq!(*rx.borrow(), 1);
    assert!(rx.changed().now_or_never().unwrap().is_err());
    assert!(rx.changed().now_or_never().unwrap().is_err());
}

#[test]
fn closing_wakes_each_waiting_receiver_once() {
    let (tx, mut rx1) = watch::channel(());
    let mut rx2 = rx1.clone();
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut f1 = rx1.changed();
    let mut f2 = rx2.changed();
    assert!(c1.poll(&mut f1).is_pending());
    assert!(c2.poll(&mut f2).is_pending());
    let tx2 = tx.clone();
    drop(tx);
    assert_eq!((c1.wakes(), c2.wakes()), (0, 0));
    drop(tx2);
    assert_eq!((c1.wakes(), c2.wakes()), (1, 1));
    assert!(matches!(c1.poll(&mut f1), Poll::Ready(Err(_))));
    assert!(matches!(c2.poll(&mut f2), Poll::Ready(Err(_))));
}

#[test]
fn send_without_receivers_fails_but_send_replace_and_modify_work() {
    let (tx, rx) = watch::channel(1);
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(2), Err(SendError(2)));
    assert_eq!(*tx.borrow(), 1);
    assert_eq!(tx.send_replace(3), 1);
    tx.send_modify(|v| *v += 10);
    assert_eq!(*tx.borrow(), 13);
    let rx = tx.subscribe();
    assert_eq!(tx.receiver_count(), 1);
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(tx.send(4).is_ok());
}

#[test]
fn send_if_modified_false_wakes_nobody() {
    let (tx, mut rx) = watch::channel(0);
    let c = Counted::new();
    let mut f = rx.changed();
    assert!(c.poll(&mut f).is_pending());
    assert!(!tx.send_if_modified(|v| {
        *v = 0;
        false
    }));
    assert_eq!(c.wakes(), 0);
    assert!(c.poll(&mut f).is_pending());
    assert!(tx.send_if_modified(|v| {
        *v = 1;
        true
    }));
    assert_eq!(c.wakes(), 1);
    assert_eq!(c.poll(&mut f), Poll::Ready(Ok(())));
}

#[test]
fn cancelled_changed_is_not_woken_and_the_change_is_not_lost() {
    let (tx, mut rx1) = watch::channel(0);
    let mut rx2 = rx1.clone();
    let (c1, c2) = (Counted::new(), Counted::new());
    {
        let mut f1 = rx1.changed();
        assert!(c1.poll(&mut f1).is_pending());
    }
    let mut f2 = rx2.changed();
    assert!(c2.poll(&mut f2).is_pending());
    tx.send(5).unwrap();
    assert_eq!((c1.wakes(), c2.wakes()), (0, 1));
    assert_eq!(c2.poll(&mut f2), Poll::Ready(Ok(())));
    assert_eq!(rx1.changed().now_or_never(), Some(Ok(())));
    assert_eq!(*rx1.borrow(), 5);
}

#[test]
fn wait_for_checks_the_current_value_then_waits() {
    let (tx, mut rx) = watch::channel(3);
    assert_eq!(
        rx.wait_for(|v| *v == 3).now_or_never().unwrap().map(|r| *r),
        Ok(3)
    );
    let c = Counted::new();
    let polls = AtomicUsize::new(0);
    {
        let mut fut = Box::pin(rx.wait_for(|v| {
            polls.fetch_add(1, Ordering::SeqCst);
            *v >= 10
        }));
        assert!(c.poll_pin(fut.as_mut()).is_pending());
        tx.send(5).unwrap();
        assert_eq!(c.wakes(), 1);
        assert!(c.poll_pin(fut.as_mut()).is_pending());
        tx.send(12).unwrap();
        let Poll::Ready(Ok(r)) = c.poll_pin(fut.as_mut()) else {
            panic!("12 satisfies the predicate")
        };
        assert_eq!(*r, 12);
        assert!(r.has_changed());
    }
    assert_eq!(
        polls.load(Ordering::SeqCst),
        3,
        "3, 5 and 12 were each checked once"
    );
    assert_eq!(rx.has_changed(), Ok(false));
}

#[test]
fn wait_for_fails_on_close_unless_the_last_value_matches() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(7).unwrap();
    drop(tx);
    assert_eq!(
        block_on(rx.wait_for(|v| *v == 7)).map(|r| *r),
        Ok(7),
        "the unseen last value is still checked"
    );
    assert!(block_on(rx.wait_for(|v| *v == 8)).is_err());
}

#[test]
fn cancelled_wait_for_leaves_no_waiter() {
    let (tx, mut rx) = watch::channel(0);
    let c = Counted::new();
    {
        let mut fut = Box::pin(rx.wait_for(|v| *v > 100));
        assert!(c.poll_pin(fut.as_mut()).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(c.wakes(), 0);
    assert_eq!(rx.has_changed(), Ok(true));
}

#[test]
fn sender_closed_completes_when_the_last_receiver_goes() {
    let (tx, rx) = watch::channel(());
    let rx2 = tx.subscribe();
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut f1 = tx.closed();
    assert!(c1.poll(&mut f1).is_pending());
    {
        let mut cancelled = tx.closed();
        assert!(c2.poll(&mut cancelled).is_pending());
    }
    drop(rx);
    assert_eq!(c1.wakes(), 0);
    assert!(c1.poll(&mut f1).is_pending());
    drop(rx2);
    assert_eq!((c1.wakes(), c2.wakes()), (1, 0));
    assert_eq!(c1.poll(&mut f1), Poll::Ready(()));
    assert!(tx.closed().now_or_never().is_some());
}

#[test]
fn a_panicking_modify_notifies_nobody_and_keeps_the_channel_usable() {
    let (tx, mut rx) = watch::channel(vec![1]);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.send_modify(|v| {
            v.push(2);
            panic!("modify failed halfway");
        })
    }));
    assert!(r.is_err());
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(*rx.borrow(), [1, 2]);
    tx.send(vec![3]).unwrap();
    assert_eq!(rx.changed().now_or_never(), Some(Ok(())));
    assert_eq!(*rx.borrow_and_update(), [3]);
}

#[test]
fn replaced_values_are_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = watch::channel(DropCount(drops.clone()));
    for _ in 0..5 {
        tx.send(DropCount(drops.clone())).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    let old = tx.send_replace(DropCount(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    drop(old);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 6);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 7);
}

/// Many receiver tasks on 2 workers loop on `changed()`: each sees a strictly increasing
/// sequence ending at the last value, then the close.
#[waza::test(workers = 2)]
async fn many_waiters_see_increasing_values_and_the_last_one() {
    let n = scale(2_000, 20_000) as u64;
    let (tx, rx) = watch::channel(0u64);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let mut rx = rx.clone();
            waza::spawn(async move {
                let (mut last, mut wakeups) = (0, 0u64);
                while rx.changed().await.is_ok() {
                    let v = *rx.borrow_and_update();
                    assert!(v > last, "{v} after {last}");
                    last = v;
                    wakeups += 1;
                }
                (last, wakeups)
            })
        })
        .collect();
    drop(rx);
    for i in 1..=n {
        tx.send(i).unwrap();
        if i % 16 == 0 {
            waza::yield_now().await;
        }
    }
    drop(tx);
    for t in tasks {
        let (last, wakeups) = t.await.unwrap();
        assert_eq!(last, n);
        assert!((1..=n).contains(&wakeups));
    }
}

/// Receivers that cancel waits (a `select!` with `default` before the start, then against
/// `yield_now`) still see
/// a strictly increasing sequence up to the last value; a sender clone waiting in
/// `closed()` completes exactly when they are all gone.
#[waza::test(workers = 2)]
async fn cancelled_changed_under_contention() {
    let n = scale(2_000, 20_000) as u64;
    let (tx, rx) = watch::channel(0u64);
    let cancels = Arc::new(AtomicUsize::new(0));
    // Nothing is sent before every receiver has cancelled one pending `changed`.
    let start = Arc::new(Barrier::new(9));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (mut rx, cancels, start) = (rx.clone(), cancels.clone(), start.clone());
            waza::spawn(async move {
                waza::select! {
                    _ = rx.changed() => panic!("nothing was sent yet"),
                    default => {
                        cancels.fetch_add(1, Ordering::SeqCst);
                    }
                }
                start.wait().await;
                let mut last = 0;
                while last < n {
                    waza::select! {
                        biased;
                        r = rx.changed() => {
                            r.expect("the sender outlives the receivers");
                            let v = *rx.borrow_and_update();
                            assert!(v > last);
                            last = v;
                        },
                        _ = waza::yield_now() => {
                            cancels.fetch_add(1, Ordering::SeqCst);
                        },
                    }
                }
            })
        })
        .collect();
    drop(rx);
    let watcher = tx.clone();
    let closer = waza::spawn(async move { watcher.closed().await });
    start.wait().await;
    for i in 1..=n {
        tx.send(i).unwrap();
        waza::yield_now().await; // let receivers catch up, so they wait (and cancel)
    }
    for t in tasks {
        t.await.unwrap();
    }
    closer.await.unwrap();
    assert_eq!(tx.receiver_count(), 0);
    assert!(cancels.load(Ordering::SeqCst) >= 8);
}
