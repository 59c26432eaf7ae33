//! oneshot: every drop path drops the value exactly once; wakes are exact.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{scale, Counted, DropCount};
use waza::sync::oneshot::{self, RecvError, TryRecvError};

#[test]
fn send_then_receive() {
    let (tx, rx) = oneshot::channel();
    assert_eq!(tx.send(5), Ok(()));
    assert_eq!(block_on(rx), Ok(5));
}

#[test]
fn pending_receiver_woken_once_by_send() {
    let (tx, mut rx) = oneshot::channel();
    let c = Counted::new();
    assert!(c.poll(&mut rx).is_pending());
    assert!(c.poll(&mut rx).is_pending());
    tx.send("x").unwrap();
    assert_eq!(c.wakes(), 1);
    assert_eq!(c.poll(&mut rx), Poll::Ready(Ok("x")));
    // Polling after completion reports the channel as finished.
    assert_eq!(c.poll(&mut rx), Poll::Ready(Err(rx_err())));
}

fn rx_err() -> RecvError {
    let (tx, rx) = oneshot::channel::<()>();
    drop(tx);
    block_on(rx).unwrap_err()
}

#[test]
fn dropped_sender_wakes_receiver_with_error() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let c = Counted::new();
    assert!(c.poll(&mut rx).is_pending());
    drop(tx);
    assert_eq!(c.wakes(), 1);
    assert_eq!(c.poll(&mut rx), Poll::Ready(Err(rx_err())));
    assert_eq!(
        rx_err().to_string(),
        "oneshot sender dropped without sending"
    );
}

#[test]
fn dropped_receiver_returns_value_to_sender() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    let back = tx.send(DropCount(drops.clone())).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn unreceived_value_dropped_once_with_receiver() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    tx.send(DropCount(drops.clone())).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn received_value_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    tx.send(DropCount(drops.clone())).unwrap();
    let v = block_on(rx).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(v);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn closed_future_wakes_sender_once() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let c = Counted::new();
    {
        let mut closed = Box::pin(tx.closed());
        assert!(c.poll_pin(closed.as_mut()).is_pending());
        drop(rx);
        assert_eq!(c.wakes(), 1);
        assert!(c.poll_pin(closed.as_mut()).is_ready());
    }
    assert_eq!(tx.send(1), Err(1));
}

#[test]
fn try_recv_and_close() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(3).unwrap();
    rx.close(); // a value sent before close is still there
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(block_on(rx).is_err());
}

#[test]
fn handles_are_send_sync_and_receiver_unpin() {
    fn check<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    check::<oneshot::Sender<Vec<u8>>>();
    check::<oneshot::Receiver<Vec<u8>>>();
    unpin::<oneshot::Receiver<std::marker::PhantomPinned>>();
}

#[test]
fn stress_threads_every_value_dropped_once() {
    let rounds = scale(2_000, 20_000);
    let drops = Arc::new(AtomicUsize::new(0));
    let mut received = 0;
    for i in 0..rounds {
        let (tx, rx) = oneshot::channel();
        let d = drops.clone();
        let sender = std::thread::spawn(move || match i % 3 {
            0 => drop(tx),
            _ => {
                let _ = tx.send(DropCount(d));
            }
        });
        let got = if i % 5 == 0 {
            drop(rx);
            false
        } else {
            rx.blocking_recv().is_ok()
        };
        sender.join().unwrap();
        received += got as usize;
    }
    let sent = (0..rounds).filter(|i| i % 3 != 0).count();
    let expected = (0..rounds).filter(|i| i % 3 != 0 && i % 5 != 0).count();
    assert_eq!(
        received, expected,
        "a waiting receiver gets every value sent"
    );
    assert_eq!(
        drops.load(Ordering::SeqCst),
        sent,
        "every sent value dropped exactly once"
    );
}
