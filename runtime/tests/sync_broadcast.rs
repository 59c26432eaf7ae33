//! broadcast: every receiver sees every value once, lag is reported exactly, values are
//! cloned per receiver and dropped once, and cancelled receives lose nothing.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use sync_support::{scale, Counted};
use waza::sync::broadcast::{self, RecvError, SendError, TryRecvError};
use waza::sync::Barrier;

/// Counts its clones and drops.
#[derive(Debug)]
struct Tracked {
    id: u64,
    clones: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Tracked {
            id: self.id,
            clones: self.clones.clone(),
            drops: self.drops.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Counts {
    clones: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Counts {
    fn make(&self, id: u64) -> Tracked {
        Tracked {
            id,
            clones: self.clones.clone(),
            drops: self.drops.clone(),
        }
    }
    fn get(&self) -> (usize, usize) {
        (
            self.clones.load(Ordering::SeqCst),
            self.drops.load(Ordering::SeqCst),
        )
    }
}

#[test]
fn every_receiver_gets_every_value_in_order() {
    let (tx, mut rx1) = broadcast::channel(8);
    let mut rx2 = tx.subscribe();
    for i in 0..5 {
        assert_eq!(tx.send(i), Ok(2));
    }
    for rx in [&mut rx1, &mut rx2] {
        let got: Vec<i32> = (0..5).map(|_| rx.try_recv().unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn send_without_receivers_gives_the_value_back() {
    let (tx, rx) = broadcast::channel(2);
    drop(rx);
    assert_eq!(tx.send(7), Err(SendError(7)));
    assert_eq!(tx.receiver_count(), 0);
    let mut rx = tx.subscribe();
    assert_eq!(tx.send(8), Ok(1));
    assert_eq!(rx.try_recv(), Ok(8));
}

#[test]
#[should_panic(expected = "broadcast channel capacity cannot be zero")]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<u8>(0);
}

#[test]
fn lag_is_reported_once_with_the_exact_count() {
    // Capacity 3 rounds up to 4.
    let (tx, mut rx) = broadcast::channel(3);
    let mut fresh = tx.subscribe();
    for i in 0..10u32 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 4);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
    let rest: Vec<u32> = (0..4).map(|_| rx.try_recv().unwrap()).collect();
    assert_eq!(rest, [6, 7, 8, 9]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // A receiver that read part of the ring, then fell behind again.
    assert_eq!(fresh.try_recv(), Err(TryRecvError::Lagged(6)));
    assert_eq!(fresh.try_recv(), Ok(6));
    for i in 10..13 {
        tx.send(i).unwrap(); // overwrites 6, 7, 8
    }
    assert_eq!(
        block_on(fresh.recv()),
        Err(RecvError::Lagged(2)),
        "7 and 8 were overwritten"
    );
    let rest: Vec<u32> = (0..4).map(|_| block_on(fresh.recv()).unwrap()).collect();
    assert_eq!(rest, [9, 10, 11, 12]);
}

#[test]
fn closing_delivers_the_buffer_then_closed() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    tx2.send(2).unwrap();
    drop(tx2);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.resubscribe().try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn last_sender_drop_wakes_each_waiting_receiver_once() {
    let (tx, mut rx1) = broadcast::channel::<u8>(4);
    let mut rx2 = tx.subscribe();
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut f1 = rx1.recv();
    let mut f2 = rx2.recv();
    assert!(c1.poll(&mut f1).is_pending());
    assert!(c2.poll(&mut f2).is_pending());
    let tx2 = tx.clone();
    drop(tx);
    assert_eq!((c1.wakes(), c2.wakes()), (0, 0));
    drop(tx2);
    assert_eq!((c1.wakes(), c2.wakes()), (1, 1));
    assert!(c1.poll(&mut f1) == std::task::Poll::Ready(Err(RecvError::Closed)));
    assert!(c2.poll(&mut f2) == std::task::Poll::Ready(Err(RecvError::Closed)));
}

#[test]
fn a_send_wakes_every_waiting_receiver_exactly_once() {
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut f1 = rx1.recv();
    let mut f2 = rx2.recv();
    assert!(c1.poll(&mut f1).is_pending());
    assert!(c1.poll(&mut f1).is_pending()); // re-registers, still one node
    assert!(c2.poll(&mut f2).is_pending());
    tx.send(5).unwrap();
    tx.send(6).unwrap();
    assert_eq!((c1.wakes(), c2.wakes()), (1, 1));
    assert_eq!(c1.poll(&mut f1), std::task::Poll::Ready(Ok(5)));
    assert_eq!(c2.poll(&mut f2), std::task::Poll::Ready(Ok(5)));
}

#[test]
fn cancelled_recv_loses_nothing_and_is_not_woken() {
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    let (c1, c2) = (Counted::new(), Counted::new());
    {
        let mut f1 = rx1.recv();
        assert!(c1.poll(&mut f1).is_pending());
    } // dropped while waiting
    let mut f2 = rx2.recv();
    assert!(c2.poll(&mut f2).is_pending());
    tx.send(9).unwrap();
    assert_eq!((c1.wakes(), c2.wakes()), (0, 1));
    assert_eq!(c2.poll(&mut f2), std::task::Poll::Ready(Ok(9)));
    // The cancelled receiver still gets the value.
    assert_eq!(rx1.try_recv(), Ok(9));
    assert_eq!(tx.len(), 0);
}

#[test]
fn values_are_cloned_per_receiver_and_dropped_once() {
    let counts = Counts::default();
    let (tx, mut rx1) = broadcast::channel(8);
    let mut rx2 = tx.subscribe();
    let mut rx3 = tx.subscribe();
    for i in 0..5 {
        tx.send(counts.make(i)).unwrap();
    }
    assert_eq!(counts.get(), (0, 0));
    for rx in [&mut rx1, &mut rx2] {
        for i in 0..5 {
            assert_eq!(rx.try_recv().unwrap().id, i); // dropped at once
        }
    }
    assert_eq!(counts.get(), (10, 10));
    assert_eq!(tx.len(), 5);
    // The last receiver to see a value takes the original: no clone.
    for i in 0..5 {
        assert_eq!(rx3.try_recv().unwrap().id, i);
    }
    assert_eq!(counts.get(), (10, 15));
    assert_eq!(tx.len(), 0);
    drop((tx, rx1, rx2, rx3));
    assert_eq!(counts.get(), (10, 15));
}

#[test]
fn overwritten_values_are_dropped_when_overwritten() {
    let counts = Counts::default();
    let (tx, mut rx) = broadcast::channel(2);
    for i in 0..5 {
        tx.send(counts.make(i)).unwrap();
    }
    assert_eq!(counts.get(), (0, 3));
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Lagged(3));
    assert_eq!(rx.try_recv().unwrap().id, 3);
    assert_eq!(counts.get(), (0, 4));
    drop(tx);
    assert_eq!(counts.get(), (0, 4), "value 4 is still owed to rx");
    drop(rx);
    assert_eq!(counts.get(), (0, 5));
}

#[test]
fn dropping_a_receiver_releases_what_it_had_not_read() {
    let counts = Counts::default();
    let (tx, mut rx1) = broadcast::channel(4);
    let rx2 = tx.subscribe();
    for i in 0..3 {
        tx.send(counts.make(i)).unwrap();
    }
    for _ in 0..3 {
        drop(rx1.try_recv().unwrap());
    }
    assert_eq!(counts.get(), (3, 3));
    assert_eq!(tx.len(), 3);
    drop(rx2);
    assert_eq!(counts.get(), (3, 6));
    assert!(tx.is_empty());
}

#[test]
fn resubscribe_starts_at_the_newest_position() {
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut rx2 = rx.resubscribe();
    assert_eq!(tx.receiver_count(), 2);
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx2.try_recv(), Ok(2));
}

#[test]
fn a_panicking_clone_leaves_the_value_for_a_retry() {
    #[derive(Debug)]
    struct Fussy(Arc<AtomicUsize>);
    impl Clone for Fussy {
        fn clone(&self) -> Self {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("first clone fails");
            }
            Fussy(self.0.clone())
        }
    }
    let (tx, mut rx1) = broadcast::channel(2);
    let mut rx2 = tx.subscribe();
    tx.send(Fussy(Arc::new(AtomicUsize::new(0)))).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx1.try_recv()));
    assert!(r.is_err());
    assert!(rx1.try_recv().is_ok(), "the value is still there");
    assert!(rx2.try_recv().is_ok());
    assert_eq!(rx2.try_recv().unwrap_err(), TryRecvError::Empty);
}

/// One sender task, many receiver tasks on 2 workers, a small ring: every receiver's
/// received + lagged equals what was sent, and what it got is strictly increasing.
#[waza::test(workers = 2)]
async fn contention_accounts_for_every_value_received_or_lagged() {
    let n = scale(5_000, 50_000) as u64;
    let receivers = 16;
    let (tx, _) = broadcast::channel::<u64>(16);
    let tasks: Vec<_> = (0..receivers)
        .map(|_| {
            let mut rx = tx.subscribe();
            waza::spawn(async move {
                let (mut got, mut lagged, mut last) = (0u64, 0u64, None);
                loop {
                    match rx.recv().await {
                        Ok(v) => {
                            assert!(last.map_or(true, |l| v > l), "{v} after {last:?}");
                            last = Some(v);
                            got += 1;
                        }
                        Err(RecvError::Lagged(k)) => lagged += k,
                        Err(RecvError::Closed) => return (got, lagged, last),
                    }
                }
            })
        })
        .collect();
    let sender = waza::spawn(async move {
        for i in 0..n {
            assert_eq!(tx.send(i), Ok(receivers));
            if i % 64 == 0 {
                waza::yield_now().await;
            }
        }
    });
    sender.await.unwrap();
    for t in tasks {
        let (got, lagged, last) = t.await.unwrap();
        assert_eq!(got + lagged, n);
        assert_eq!(last, Some(n - 1));
    }
}

/// Four senders, receivers that cancel receives (a `select!` with `default` before the
/// start, then against `yield_now`), and senders that never outruns the ring: every receiver gets every value
/// exactly once, in each sender's order, and the values are all dropped at the end.
#[waza::test(workers = 2)]
async fn cancelled_receives_under_contention_lose_and_duplicate_nothing() {
    let per = scale(500, 5_000) as u64;
    let senders = 4u64;
    let receivers = 6;
    let counts = Arc::new(Counts::default());
    let (tx, _) = broadcast::channel::<Tracked>(64);
    // Nothing is sent before every receiver has cancelled one pending receive.
    let start = Arc::new(Barrier::new(receivers + senders as usize));
    let tasks: Vec<_> = (0..receivers)
        .map(|_| {
            let (mut rx, start) = (tx.subscribe(), start.clone());
            waza::spawn(async move {
                let mut last = vec![None::<u64>; senders as usize];
                let (mut got, mut cancelled) = (0u64, 0u64);
                waza::select! {
                    _ = rx.recv() => panic!("nothing was sent yet"),
                    default => cancelled += 1,
                }
                start.wait().await;
                loop {
                    waza::select! {
                        biased;
                        r = rx.recv() => match r {
                            Ok(v) => {
                                let (s, seq) = (v.id / 1_000_000, v.id % 1_000_000);
                                let l = &mut last[s as usize];
                                assert!(l.map_or(seq == 0, |l| seq == l + 1), "gap or repeat");
                                *l = Some(seq);
                                got += 1;
                            }
                            Err(RecvError::Closed) => return (got, cancelled),
                            Err(e) => panic!("unexpected {e}"),
                        },
                        _ = waza::yield_now() => cancelled += 1,
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..senders)
        .map(|s| {
            let (tx, counts, start) = (tx.clone(), counts.clone(), start.clone());
            waza::spawn(async move {
                start.wait().await;
                for i in 0..per {
                    // Stay well inside the ring so nobody lags.
                    while tx.len() >= 32 {
                        waza::yield_now().await;
                    }
                    tx.send(counts.make(s * 1_000_000 + i)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    for p in producers {
        p.await.unwrap();
    }
    let total = senders * per;
    let mut cancelled_total = 0;
    for t in tasks {
        let (got, cancelled) = t.await.unwrap();
        assert_eq!(got, total);
        cancelled_total += cancelled;
    }
    assert!(cancelled_total >= receivers as u64);
    // Every original and clone is gone: clones = (receivers - 1) per value.
    let (clones, drops) = counts.get();
    assert_eq!(clones as u64, total * (receivers as u64 - 1));
    assert_eq!(drops as u64, total * receivers as u64);
}

/// Receivers dropped while the sender runs: sends count the survivors, and once all are
/// gone sends fail with the value.
#[waza::test(workers = 2)]
async fn receivers_dropping_mid_stream() {
    let counts = Arc::new(Counts::default());
    let (tx, rx) = broadcast::channel::<Tracked>(8);
    let quitters: Vec<_> = (0..4)
        .map(|k| {
            let mut rx = tx.subscribe();
            waza::spawn(async move {
                for _ in 0..(k + 1) * 10 {
                    let _ = rx.recv().await;
                }
            })
        })
        .collect();
    drop(rx);
    let mut sent = 0;
    let mut i = 0;
    loop {
        match tx.send(counts.make(i)) {
            Ok(_) => sent += 1,
            Err(SendError(v)) => {
                assert_eq!(v.id, i);
                break;
            }
        }
        i += 1;
        waza::yield_now().await;
    }
    for q in quitters {
        q.await.unwrap();
    }
    assert!(sent >= 40);
    assert_eq!(tx.receiver_count(), 0);
    assert!(tx.is_empty());
    let (clones, drops) = counts.get();
    assert_eq!(
        drops,
        sent + 1 + clones,
        "every value and clone dropped once"
    );
}
