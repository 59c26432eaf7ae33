//! `waza::sync::mpsc`: tokio's names over `waza::chan`; reserved room, cancellation,
//! closing, and conservation across worker threads.

#[path = "support/sync.rs"]
mod sync_support;

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use sync_support::Counted;
use waza::sync::mpsc::{self, error::TryRecvError, error::TrySendError};

#[test]
#[should_panic(expected = "mpsc bounded channel requires buffer > 0")]
fn zero_buffer_panics_like_tokio() {
    let _ = mpsc::channel::<u8>(0);
}

#[test]
fn capacity_counts_buffered_values_and_permits() {
    let (tx, mut rx) = mpsc::channel::<u32>(3);
    assert_eq!((tx.capacity(), tx.max_capacity()), (3, 3));
    tx.try_send(1).unwrap();
    let p = tx.try_reserve().unwrap();
    assert_eq!((tx.capacity(), rx.len()), (1, 1));
    drop(p);
    assert_eq!(tx.capacity(), 2, "an unused permit gives its room back");
    let p = tx.try_reserve().unwrap();
    p.send(2);
    assert_eq!((tx.capacity(), rx.len()), (1, 2));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!((tx.capacity(), rx.capacity()), (2, 2));
    let mut buf = Vec::new();
    tx.try_send(3).unwrap();
    futures::executor::block_on(rx.recv_many(&mut buf, 10));
    assert_eq!(buf, [2, 3]);
    assert_eq!(tx.capacity(), 3);
}

#[test]
fn a_permit_sends_without_waiting_while_other_sends_wait() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let count = Counted::new();
    let mut cx = Context::from_waker(&count.waker);
    let permit = futures::executor::block_on(tx.reserve()).unwrap();
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let mut send = pin!(tx.send(2));
    assert!(
        send.as_mut().poll(&mut cx).is_pending(),
        "the only slot is reserved"
    );
    permit.send(3);
    assert_eq!(count.wakes(), 0, "sending through the permit frees no room");
    assert!(send.as_mut().poll(&mut cx).is_pending());
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(
        count.wakes(),
        1,
        "the receive freed the slot for the waiting send"
    );
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn permits_never_fail_for_lack_of_room() {
    const N: usize = 4;
    let (tx, mut rx) = mpsc::channel::<usize>(N);
    let permits: Vec<_> = (0..N).map(|_| tx.try_reserve().unwrap()).collect();
    assert!(tx.try_reserve().unwrap_err().is_full());
    let mut refused = 0;
    for i in 0..100 {
        if tx.try_send(1000 + i).is_err() {
            refused += 1;
        }
    }
    assert_eq!(refused, 100);
    for (i, p) in permits.into_iter().enumerate() {
        p.send(i);
    }
    assert_eq!(rx.len(), N);
    let got: Vec<usize> = (0..N).map(|_| rx.try_recv().unwrap()).collect();
    assert_eq!(got, [0, 1, 2, 3]);
}

#[test]
fn a_dropped_send_sends_nothing_and_keeps_no_room() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let count = Counted::new();
    let mut cx = Context::from_waker(&count.waker);
    tx.try_send(1).unwrap();
    {
        let mut send = pin!(tx.send(2));
        assert!(send.as_mut().poll(&mut cx).is_pending());
        let mut reserve = pin!(tx.reserve());
        assert!(reserve.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the dropped send sent nothing"
    );
    assert_eq!(tx.capacity(), 1, "no room is held by the dropped futures");
}

#[test]
fn dropping_the_receiver_fails_waiting_senders_with_their_value() {
    let (tx, rx) = mpsc::channel::<String>(1);
    let count = Counted::new();
    let mut cx = Context::from_waker(&count.waker);
    tx.try_send("a".into()).unwrap();
    let mut send = pin!(tx.send("mine".into()));
    assert!(send.as_mut().poll(&mut cx).is_pending());
    let mut closed = pin!(tx.closed());
    assert!(closed.as_mut().poll(&mut cx).is_pending());
    drop(rx);
    assert_eq!(count.wakes(), 2);
    match send.as_mut().poll(&mut cx) {
        Poll::Ready(Err(e)) => assert_eq!(e.0, "mine"),
        other => panic!("expected the value back, got {other:?}"),
    }
    assert!(closed.as_mut().poll(&mut cx).is_ready());
    assert!(tx.is_closed());
    assert!(futures::executor::block_on(tx.reserve()).is_err());
    assert!(tx.try_reserve().unwrap_err().is_closed());
}

#[test]
fn close_lets_the_receiver_drain() {
    let (tx, mut rx) = mpsc::channel::<u32>(4);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert_eq!(futures::executor::block_on(tx.send(4)).unwrap_err().0, 4);
    futures::executor::block_on(async {
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
    });
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn unbounded_send_is_synchronous() {
    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 1000);
    let mut buf = Vec::new();
    let n = futures::executor::block_on(rx.recv_many(&mut buf, 600));
    assert_eq!((n, buf.len(), rx.len()), (600, 600, 400));
    rx.close();
    assert_eq!(tx.send(7).unwrap_err().0, 7);
    futures::executor::block_on(tx.closed());
    let n = futures::executor::block_on(rx.recv_many(&mut buf, 1000));
    assert_eq!(n, 400);
    assert_eq!(buf, (0..1000).collect::<Vec<_>>());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn in_select_unbounded_recv_gives_a_refuted_value_back() {
    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
    tx.send(5).unwrap();
    futures::executor::block_on(async {
        let r = waza::select! {
            Some(0) = rx.recv() => "zero",
            else => "no arm left",
        };
        assert_eq!(r, "no arm left");
    });
    assert_eq!(
        rx.try_recv(),
        Ok(5),
        "a channel arm's refuted value goes back"
    );
}

#[test]
fn in_select_bounded_recv_is_a_future_arm() {
    let (tx, mut rx) = mpsc::channel::<u32>(2);
    let (_other_tx, other_rx) = waza::chan::unbounded::<u32>();
    tx.try_send(9).unwrap();
    let got = futures::executor::block_on(async {
        waza::select! {
            Some(v) = rx.recv() => v,
            _ = other_rx.recv() => 0,
        }
    });
    assert_eq!(got, 9);
    assert_eq!(tx.capacity(), 2, "the room came back with the value");
}

/// Producers on worker threads mix `send`, `try_send` and `reserve`; the consumer uses
/// `recv` and `recv_many`. Every value arrives exactly once, in order per producer, and
/// the buffer never holds more than its size.
#[test]
fn conservation_across_workers() {
    const PRODUCERS: u64 = 4;
    const PER: u64 = 2_000;
    const CAP: usize = 3;
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let (mut got, max_len) = rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<u64>(CAP);
        for p in 0..PRODUCERS {
            let tx = tx.clone();
            waza::spawn(async move {
                for i in 0..PER {
                    let v = p * PER + i;
                    match i % 3 {
                        0 => tx.send(v).await.unwrap(),
                        1 => tx.reserve().await.unwrap().send(v),
                        _ => {
                            if let Err(TrySendError::Full(v)) = tx.try_send(v) {
                                tx.send(v).await.unwrap();
                            }
                        }
                    }
                }
            });
        }
        drop(tx);
        let (mut got, mut max_len, mut buf) = (Vec::new(), 0, Vec::new());
        loop {
            max_len = max_len.max(rx.len());
            if got.len() % 2 == 0 {
                match rx.recv().await {
                    Some(v) => got.push(v),
                    None => break,
                }
            } else {
                if rx.recv_many(&mut buf, 5).await == 0 {
                    break;
                }
                got.append(&mut buf);
            }
        }
        (got, max_len)
    });
    assert!(max_len <= CAP, "buffer held {max_len} values");
    let mut last = vec![None; PRODUCERS as usize];
    for &v in &got {
        let p = (v / PER) as usize;
        assert!(last[p] < Some(v), "producer {p} out of order");
        last[p] = Some(v);
    }
    let n = got.len();
    got.sort_unstable();
    got.dedup();
    assert_eq!(
        (n, got.len()),
        ((PRODUCERS * PER) as usize, n),
        "exactly once"
    );
    let all: HashSet<u64> = got.into_iter().collect();
    assert_eq!(all.len() as u64, PRODUCERS * PER);
}
