//! `Sender::closed` and `Receiver::recv_many`: exact wake counts, cancellation, every
//! flavour (rendezvous included) and threads.

use std::collections::HashSet;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;

use tokio_test::assert_pending;
use tokio_test::task::spawn;
use waza_channel::{bounded, rendezvous, unbounded, Receiver, Sender};

#[path = "support/count_waker.rs"]
mod count_waker;

use count_waker::CountWaker;

fn poll_once<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(waker))
}

type Flavour = (&'static str, fn() -> (Sender<u32>, Receiver<u32>));

const FLAVOURS: [Flavour; 3] = [
    ("bounded", || bounded(2)),
    ("unbounded", unbounded),
    ("rendezvous", rendezvous),
];

#[test]
fn closed_completes_when_the_last_receiver_drops() {
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let rx2 = rx.clone();
        let (count, waker) = CountWaker::new();
        let mut fut = tx.closed();
        assert!(poll_once(&mut fut, &waker).is_pending(), "{name}");
        assert!(poll_once(&mut fut, &waker).is_pending(), "{name}");
        drop(rx);
        assert_eq!(count.wakes(), 0, "{name}: a receiver is left");
        assert!(poll_once(&mut fut, &waker).is_pending(), "{name}");
        drop(rx2);
        assert_eq!(count.wakes(), 1, "{name}: woken exactly once");
        assert_eq!(poll_once(&mut fut, &waker), Poll::Ready(()), "{name}");
        drop(fut);
        assert_eq!(
            Arc::strong_count(&count),
            2,
            "{name}: only `waker` holds it"
        );
    }
}

#[test]
fn closed_completes_on_close_from_either_end() {
    for (name, make) in FLAVOURS {
        for by_sender in [false, true] {
            let (tx, rx) = make();
            let (count, waker) = CountWaker::new();
            let mut a = tx.closed();
            let mut b = tx.closed();
            assert!(poll_once(&mut a, &waker).is_pending());
            assert!(poll_once(&mut b, &waker).is_pending());
            let closed = if by_sender { tx.close() } else { rx.close() };
            assert!(closed, "{name}");
            assert_eq!(count.wakes(), 2, "{name}, by_sender {by_sender}");
            assert!(poll_once(&mut a, &waker).is_ready());
            assert!(poll_once(&mut b, &waker).is_ready());
            // Already closed: ready on the first poll, no registration.
            let mut c = tx.closed();
            assert!(poll_once(&mut c, &waker).is_ready());
            assert_eq!(count.wakes(), 2);
        }
    }
}

#[test]
fn closed_ignores_sends_receives_and_dropped_senders() {
    let (tx, rx) = bounded::<u32>(1);
    let tx2 = tx.clone();
    let (count, waker) = CountWaker::new();
    let mut fut = tx.closed();
    assert!(poll_once(&mut fut, &waker).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    drop(tx2);
    assert_eq!(count.wakes(), 0);
    assert!(poll_once(&mut fut, &waker).is_pending());
    drop(rx);
    assert_eq!(count.wakes(), 1);
}

#[test]
fn a_dropped_closed_future_leaves_no_registration() {
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let (old, old_waker) = CountWaker::new();
        let (new, new_waker) = CountWaker::new();
        let mut dropped = tx.closed();
        assert!(poll_once(&mut dropped, &old_waker).is_pending());
        drop(dropped);
        assert_eq!(
            Arc::strong_count(&old),
            2,
            "{name}: the registration let go of the waker"
        );
        // Re-polling with another waker replaces the first one.
        let mut fut = tx.closed();
        assert!(poll_once(&mut fut, &old_waker).is_pending());
        assert!(poll_once(&mut fut, &new_waker).is_pending());
        assert_eq!(
            Arc::strong_count(&old),
            2,
            "{name}: the replaced waker was released"
        );
        drop(rx);
        assert_eq!((old.wakes(), new.wakes()), (0, 1), "{name}");
        assert!(poll_once(&mut fut, &new_waker).is_ready());
    }
}

#[test]
fn closed_wakes_tasks_on_other_threads() {
    const WAITERS: usize = 8;
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let done = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(std::sync::Barrier::new(WAITERS + 1));
        let threads: Vec<_> = (0..WAITERS)
            .map(|_| {
                let (tx, done, started) = (tx.clone(), done.clone(), started.clone());
                thread::spawn(move || {
                    started.wait();
                    futures::executor::block_on(tx.closed());
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        started.wait();
        assert!(!tx.is_closed(), "{name}");
        let rx2 = rx.clone();
        thread::spawn(move || drop(rx2)).join().unwrap();
        drop(rx);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), WAITERS, "{name}");
    }
}

#[test]
fn recv_many_takes_what_is_there_up_to_the_limit() {
    for (name, make) in [FLAVOURS[0], FLAVOURS[1]] {
        let (tx, rx) = make();
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        let mut buf = vec![0];
        futures::executor::block_on(async {
            assert_eq!(rx.recv_many(&mut buf, 0).await, 0, "{name}: limit 0");
            assert_eq!(rx.len(), 2, "{name}: limit 0 takes nothing");
            assert_eq!(rx.recv_many(&mut buf, 1).await, 1, "{name}");
            assert_eq!(
                rx.recv_many(&mut buf, 10).await,
                1,
                "{name}: does not wait for more"
            );
        });
        assert_eq!(buf, [0, 1, 2], "{name}: appended in channel order");
        tx.try_send(3).unwrap();
        drop(tx);
        futures::executor::block_on(async {
            assert_eq!(rx.recv_many(&mut buf, 10).await, 1, "{name}");
            assert_eq!(
                rx.recv_many(&mut buf, 10).await,
                0,
                "{name}: closed and drained"
            );
            assert_eq!(rx.recv_many(&mut buf, 0).await, 0, "{name}");
        });
        assert_eq!(buf, [0, 1, 2, 3], "{name}");
    }
}

#[test]
fn recv_many_waits_for_the_first_value() {
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let (count, waker) = CountWaker::new();
        let mut buf = Vec::new();
        {
            let mut fut = pin!(rx.recv_many(&mut buf, 4));
            let mut cx = Context::from_waker(&waker);
            assert!(fut.as_mut().poll(&mut cx).is_pending(), "{name}");
            assert_eq!(count.wakes(), 0);
            // A receiver is waiting: this succeeds on every flavour, rendezvous included.
            tx.try_send(7).unwrap();
            assert_eq!(count.wakes(), 1, "{name}");
            assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(1), "{name}");
        }
        assert_eq!(buf, [7], "{name}");
    }
}

#[test]
fn recv_many_on_rendezvous_takes_every_waiting_sender() {
    const SENDERS: u32 = 5;
    let (tx, rx) = rendezvous::<u32>();
    let threads: Vec<_> = (0..SENDERS)
        .map(|i| {
            let tx = tx.clone();
            thread::spawn(move || tx.send_blocking(i).unwrap())
        })
        .collect();
    drop(tx);
    let mut buf = Vec::new();
    futures::executor::block_on(async { while rx.recv_many(&mut buf, 3).await > 0 {} });
    for t in threads {
        t.join().unwrap();
    }
    buf.sort_unstable();
    assert_eq!(buf, (0..SENDERS).collect::<Vec<_>>());
}

#[test]
fn a_dropped_recv_many_loses_no_value() {
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let mut buf = Vec::new();
        {
            let mut fut = spawn(rx.recv_many(&mut buf, 4));
            assert_pending!(fut.poll(), "{name}");
            // Handed straight to the pending receive, which is then dropped unpolled.
            tx.try_send(11).unwrap();
            assert!(fut.is_woken(), "{name}: the handoff woke the receive");
        }
        assert!(buf.is_empty(), "{name}");
        assert_eq!(
            rx.try_recv(),
            Ok(11),
            "{name}: the value went back to the channel"
        );
        assert!(rx.try_recv().is_err(), "{name}: exactly once");
    }
}

/// Producers on threads, consumers on threads that use `recv_many` inside a `select!` with
/// `default` (so most calls are dropped after one poll): every value arrives exactly once,
/// in order per producer. (Rendezvous: in order per producer with one consumer only. With
/// several, a value given back by a dropped receive is a waiting sender again, and another
/// consumer may have taken a later value of its sender meanwhile; see the crate docs.)
#[test]
fn recv_many_conservation_under_cancellation_across_threads() {
    conservation_under_cancellation(1);
    conservation_under_cancellation(3);
}

fn conservation_under_cancellation(consumers: usize) {
    const PRODUCERS: u32 = 3;
    const PER: u32 = 2_000;
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..PER {
                        tx.send_blocking(p * PER + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let handles: Vec<_> = (0..consumers)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    futures::executor::block_on(async move {
                        let (mut got, mut cancelled) = (Vec::new(), 0usize);
                        loop {
                            let mut batch = Vec::new();
                            let n = waza_channel::select! {
                                n = rx.recv_many(&mut batch, 7) => n,
                                default => { cancelled += 1; usize::MAX }
                            };
                            match n {
                                0 => break,
                                usize::MAX => thread::yield_now(),
                                n => {
                                    assert!((1..=7).contains(&n));
                                    assert_eq!(batch.len(), n);
                                    got.extend(batch);
                                }
                            }
                        }
                        (got, cancelled)
                    })
                })
            })
            .collect();
        drop(rx);
        for p in producers {
            p.join().unwrap();
        }
        let mut all = HashSet::new();
        let mut total = 0;
        for c in handles {
            let (got, _cancelled) = c.join().unwrap();
            let mut last = vec![None; PRODUCERS as usize];
            for v in got {
                let p = (v / PER) as usize;
                if name != "rendezvous" || consumers == 1 {
                    assert!(last[p] < Some(v), "{name}: producer {p} out of order");
                }
                last[p] = Some(v);
                assert!(all.insert(v), "{name}: {v} received twice");
                total += 1;
            }
        }
        assert_eq!(total, PRODUCERS * PER, "{name}: every value exactly once");
    }
}
