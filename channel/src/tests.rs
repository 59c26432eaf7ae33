//! Unit tests: each flavour with `tokio-test`, wake counts, cancellation, and the
//! select driver through a hand-expanded `select!` (exactly what the macro generates).

use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use core::task::{Context, Poll, Waker};
use std::sync::Arc;
use std::task::Wake;

use futures::SinkExt;
use futures_core::FusedStream;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready, assert_ready_eq};

use crate::*;

mod select_driver;

/// A waker that counts its wakes: the one counting waker of the unit tests, for exact
/// counts ("woken exactly once") that `tokio_test`'s mock task cannot tell from "woken".
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<CountWaker>, Waker) {
    let c = Arc::new(CountWaker(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

/// A value that counts its drops.
#[derive(Debug)]
struct Tracked(u32, Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_add(1, SeqCst);
    }
}

fn assert_send_sync<T: core::marker::Send + Sync>() {}
fn assert_unpin<T: Unpin>() {}

#[test]
fn handles_and_futures_are_send_sync_unpin() {
    assert_send_sync::<Sender<String>>();
    assert_send_sync::<Receiver<String>>();
    assert_send_sync::<crate::Send<'static, String>>();
    assert_send_sync::<Recv<'static, String>>();
    assert_send_sync::<SendSink<String>>();
    assert_unpin::<Receiver<core::marker::PhantomPinned>>();
    assert_unpin::<Recv<'static, core::marker::PhantomPinned>>();
    assert_unpin::<crate::Send<'static, u8>>();
}

#[test]
fn bounded_try_ops_are_fifo_and_respect_capacity() {
    let (tx, rx) = bounded(2);
    assert_eq!(tx.try_send(1), Ok(()));
    assert_eq!(tx.try_send(2), Ok(()));
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    assert_eq!((tx.len(), rx.is_full(), rx.is_empty()), (2, true, false));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!((tx.capacity(), rx.is_empty()), (Some(2), true));
}

#[test]
fn bounded_full_send_waits_and_recv_moves_it_into_the_buffer() {
    let (tx, rx) = bounded(1);
    assert_ready_eq!(spawn(tx.send(1)).poll(), Ok(()));
    let mut send2 = spawn(tx.send(2));
    assert_pending!(send2.poll());
    assert_pending!(send2.poll()); // re-poll with the same waker: still one waiter
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(send2.is_woken());
    assert_eq!(
        rx.len(),
        1,
        "the waiting sender's value was moved into the buffer"
    );
    assert_ready_eq!(send2.poll(), Ok(()));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn waiting_receiver_gets_direct_handoff_and_exactly_one_wake() {
    let (tx, rx) = bounded::<u32>(4);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut recv = rx.recv();
    assert!(Pin::new(&mut recv).poll(&mut cx).is_pending());
    assert!(Pin::new(&mut recv).poll(&mut cx).is_pending());
    assert_eq!(tx.try_send(5), Ok(()));
    assert_eq!(rx.len(), 0, "handed straight to the waiting receiver");
    assert_eq!(tx.try_send(6), Ok(()));
    assert_eq!(count.0.load(SeqCst), 1);
    assert_eq!(Pin::new(&mut recv).poll(&mut cx), Poll::Ready(Some(5)));
    assert_eq!(rx.try_recv(), Ok(6));
    assert_eq!(count.0.load(SeqCst), 1);
}

use core::future::Future;
use core::pin::Pin;

#[test]
fn close_wakes_receivers_and_returns_senders_values() {
    let (tx, rx) = bounded(1);
    tx.try_send(1).unwrap();
    let mut send2 = spawn(tx.send(2));
    assert_pending!(send2.poll());
    assert!(rx.close());
    assert!(!tx.close());
    assert!(send2.is_woken() && tx.is_closed() && rx.is_closed());
    assert_ready_eq!(send2.poll(), Err(SendError(2)));
    assert_eq!(rx.try_recv(), Ok(1), "buffered values survive close");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));

    let (tx, rx) = unbounded::<u8>();
    let mut r = spawn(rx.recv());
    assert_pending!(r.poll());
    assert!(tx.close());
    assert!(r.is_woken());
    assert_ready_eq!(r.poll(), None);
}

#[test]
fn dropping_all_senders_or_all_receivers_closes() {
    let (tx, rx) = unbounded::<u8>();
    let tx2 = tx.clone();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());

    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = bounded(3);
    tx.try_send(Tracked(1, drops.clone())).unwrap();
    tx.try_send(Tracked(2, drops.clone())).unwrap();
    let rx2 = rx.clone();
    drop(rx);
    assert!(!tx.is_closed());
    drop(rx2);
    assert!(tx.is_closed());
    assert_eq!(
        drops.load(SeqCst),
        2,
        "buffered values dropped with the last receiver"
    );
    let e = tx.try_send(Tracked(3, drops.clone())).unwrap_err();
    assert!(e.is_closed());
}

#[test]
fn cancelled_recv_gives_its_value_back_to_the_next_receiver() {
    let (tx, rx) = unbounded();
    let mut r1 = spawn(rx.recv());
    let mut r2 = spawn(rx.recv());
    assert_pending!(r1.poll());
    assert_pending!(r2.poll());
    tx.try_send(1).unwrap();
    assert!(r1.is_woken() && !r2.is_woken());
    drop(r1); // handed 1, never returned it
    assert!(r2.is_woken());
    assert_ready_eq!(r2.poll(), Some(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn cancelled_recv_gives_back_to_the_buffer_front() {
    let (tx, rx) = bounded(1);
    let mut r = spawn(rx.recv());
    assert_pending!(r.poll());
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    drop(r);
    // 1 goes back ahead of 2 without the buffer holding more than its capacity: the
    // value that does not fit waits like a sender would.
    assert_eq!(rx.len(), 1, "len() <= capacity() after a give-back");
    assert!(rx.is_full());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

/// Protocol 7 (waiters.rs): a later receive takes the value in flight to an earlier one
/// (the oldest first); the robbed receive receives again: the next value, or it waits
/// and the next send wakes it.
#[test]
fn the_value_in_flight_leaves_first_and_its_receive_receives_again() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = bounded(2);
    let mut r1 = spawn(rx.recv());
    assert_pending!(r1.poll());
    tx.try_send(Tracked(1, drops.clone())).unwrap(); // in flight to r1
    tx.try_send(Tracked(2, drops.clone())).unwrap(); // buffered
    assert_eq!(rx.try_recv().map(|t| t.0), Ok(1), "oldest first");
    assert_eq!(r1.poll().map(|o| o.map(|t| t.0)), Poll::Ready(Some(2)));
    let mut r2 = spawn(rx.recv());
    assert_pending!(r2.poll());
    tx.try_send(Tracked(3, drops.clone())).unwrap(); // in flight to r2
    let mut r3 = spawn(rx.recv());
    assert_eq!(r3.poll().map(|o| o.map(|t| t.0)), Poll::Ready(Some(3)));
    assert_pending!(r2.poll()); // robbed, nothing left: waits again
    tx.try_send(Tracked(4, drops.clone())).unwrap();
    assert!(r2.is_woken());
    assert_eq!(r2.poll().map(|o| o.map(|t| t.0)), Poll::Ready(Some(4)));
    assert_eq!(drops.load(SeqCst), 4, "each value dropped once");
}

/// Protocol 7: the receive handed the newer value takes the older one (and gives its
/// own back); a dropped receive's give-back pulls newer values back behind it.
#[test]
fn takes_and_give_backs_keep_the_order_of_values_in_flight() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = unbounded();
    let mut a = spawn(rx.recv());
    let mut b = spawn(rx.recv());
    let mut c = spawn(rx.recv());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    for v in 1..=3 {
        tx.try_send(Tracked(v, drops.clone())).unwrap(); // to a, b, c
    }
    assert_eq!(c.poll().map(|o| o.map(|t| t.0)), Poll::Ready(Some(1)));
    drop(b); // 2 goes back ahead of 3 (which c gave back when it took 1)
    drop(a); // robbed by c: nothing to give back
    let got: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok())
        .map(|t| t.0)
        .collect();
    assert_eq!(got, [2, 3]);
    assert_eq!(drops.load(SeqCst), 3);
}

#[test]
fn cancelled_send_is_dropped_not_delivered() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = bounded(1);
    tx.try_send(Tracked(1, drops.clone())).unwrap();
    let mut s = spawn(tx.send(Tracked(2, drops.clone())));
    assert_pending!(s.poll());
    drop(s);
    assert_eq!(drops.load(SeqCst), 1);
    assert_eq!(rx.try_recv().unwrap().0, 1);
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
    assert_eq!(drops.load(SeqCst), 2);
}

#[test]
fn cancelled_send_after_delivery_is_not_duplicated() {
    let (tx, rx) = rendezvous();
    let mut s = spawn(tx.send(7));
    assert_pending!(s.poll());
    assert_eq!(rx.try_recv(), Ok(7));
    drop(s); // delivered but never polled to completion
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn rendezvous_needs_a_waiting_partner() {
    let (tx, rx) = rendezvous();
    assert_eq!(
        (tx.capacity(), tx.len(), rx.is_empty(), rx.is_full()),
        (Some(0), 0, true, true)
    );
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    let mut send = spawn(tx.send(2));
    assert_pending!(send.poll());
    assert_eq!(rx.len(), 0);
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(send.is_woken());
    assert_ready_eq!(send.poll(), Ok(()));

    let mut recv = spawn(rx.recv());
    assert_pending!(recv.poll());
    assert_eq!(tx.try_send(3), Ok(()));
    assert_ready_eq!(recv.poll(), Some(3));
}

#[test]
fn rendezvous_send_is_not_complete_until_claimed() {
    let (tx, rx) = rendezvous::<u8>();
    let mut send = spawn(tx.send(1));
    for _ in 0..3 {
        assert_pending!(send.poll());
    }
    let mut recv = spawn(rx.recv());
    assert_ready_eq!(recv.poll(), Some(1));
    assert_ready_eq!(send.poll(), Ok(()));
}

#[test]
fn unbounded_never_waits() {
    let (tx, rx) = unbounded();
    for i in 0..100 {
        assert_ready_eq!(spawn(tx.send(i)).poll(), Ok(()));
    }
    assert_eq!((rx.len(), rx.is_full(), rx.capacity()), (100, false, None));
    for i in 0..100 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
}

#[test]
fn receiver_is_a_fused_stream() {
    let (tx, mut rx) = bounded(2);
    let mut next = spawn(rx.next());
    assert_pending!(next.poll());
    tx.try_send(1).unwrap();
    assert_ready_eq!(next.poll(), Some(1));
    drop(next);
    tx.try_send(2).unwrap();
    drop(tx);
    let mut s = spawn(&mut rx);
    assert_ready_eq!(s.poll_next(), Some(2));
    assert_ready_eq!(s.poll_next(), None);
    assert!(rx.is_terminated());
}

#[test]
fn dropped_receiver_gives_back_its_pending_stream_value() {
    let (tx, rx) = unbounded();
    let mut rx1 = rx.clone();
    let mut s = spawn(&mut rx1);
    assert_pending!(s.poll_next());
    tx.try_send(5).unwrap();
    drop(s);
    drop(rx1);
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn sink_sends_and_closes() {
    let (tx, rx) = bounded(1);
    let mut sink = tx.into_sink();
    futures::executor::block_on(async {
        sink.send(1).await.unwrap();
        let mut feed = spawn(sink.send(2));
        assert_pending!(feed.poll());
        assert_eq!(rx.recv().await, Some(1));
        assert!(feed.is_woken());
        assert_ready_eq!(feed.poll(), Ok(()));
        drop(feed);
        SinkExt::close(&mut sink).await.unwrap();
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(sink.send(3).await, Err(SendError(3)));
    });
}

#[test]
fn blocking_and_async_mix_on_one_channel() {
    let (tx, rx) = rendezvous();
    let producer = std::thread::spawn({
        let tx = tx.clone();
        move || (0..50).for_each(|i| tx.send_blocking(i).unwrap())
    });
    let async_producer = std::thread::spawn(move || {
        futures::executor::block_on(async {
            for i in 50..100 {
                tx.send(i).await.unwrap();
            }
        })
    });
    let got: Vec<i32> = (0..100).map(|_| rx.recv_blocking().unwrap()).collect();
    producer.join().unwrap();
    async_producer.join().unwrap();
    assert_eq!(rx.recv_blocking(), None, "both senders dropped");
    let (low, high): (Vec<i32>, Vec<i32>) = got.into_iter().partition(|&v| v < 50);
    assert_eq!(low, (0..50).collect::<Vec<_>>());
    assert_eq!(high, (50..100).collect::<Vec<_>>());
}

#[test]
fn blocking_recv_wakes_on_close() {
    let (tx, rx) = bounded::<u8>(1);
    let t = std::thread::spawn(move || rx.recv_blocking());
    std::thread::sleep(std::time::Duration::from_millis(10));
    tx.close();
    assert_eq!(t.join().unwrap(), None);
}

#[test]
fn spent_budget_takes_nothing() {
    let (tx, rx) = unbounded();
    tx.try_send(1).unwrap();
    let prev = hooks::set_budget(Some(0));
    let mut r = spawn(rx.recv());
    assert_pending!(r.poll());
    assert!(r.is_woken());
    let mut s = spawn(tx.send(2));
    assert_pending!(s.poll());
    assert_eq!(rx.len(), 1, "neither op touched the channel");
    hooks::set_budget(prev);
    assert_ready_eq!(r.poll(), Some(1));
    assert_ready_eq!(s.poll(), Ok(()));
    assert_eq!(
        rx.recv_blocking(),
        Some(2),
        "blocking calls spend no budget"
    );
}

#[test]
fn errors_display_and_compare() {
    assert_eq!(SendError(1).to_string(), "sending on a closed channel");
    assert_eq!(
        TrySendError::Full(1).to_string(),
        "sending on a full channel"
    );
    assert_eq!(TrySendError::Closed(1).into_inner(), 1);
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receiving on an empty channel"
    );
    assert_eq!(format!("{:?}", TrySendError::Full(1)), "Full(..)");
    assert_ne!(TryRecvError::Empty, TryRecvError::Closed);
    let boxed: Box<dyn std::error::Error> = Box::new(SendError(String::new()));
    assert!(boxed.source().is_none());
    let _ = assert_ready!(spawn(async { 1 }).poll());
}

#[test]
fn wait_hook_reports_what_a_task_waits_on() {
    std::thread_local! {
        static SEEN: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    fn record(reason: &hooks::WaitReason) {
        SEEN.with(|s| s.borrow_mut().push(reason.to_string()));
    }
    let (tx, rx) = rendezvous::<u8>();
    let (btx, _brx) = bounded::<u8>(1);
    btx.try_send(0).unwrap();
    hooks::install(hooks::Hooks {
        wait: Some(record),
        ..hooks::Hooks::default()
    });
    let mut r = spawn(rx.recv());
    assert_pending!(r.poll());
    let mut s = spawn(btx.send(1));
    assert_pending!(s.poll());
    tx.try_send(5).unwrap();
    assert_ready_eq!(r.poll(), Some(5));
    hooks::install(hooks::Hooks::default());
    assert_pending!(s.poll());
    let seen = SEEN.with(|s| s.take());
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].starts_with("recv on chan#") && seen[0].ends_with("(rendezvous)"));
    assert!(seen[1].starts_with("send on chan#") && seen[1].ends_with("(bounded)"));
    assert_ne!(
        seen[0],
        seen[1].replace("send", "recv"),
        "distinct channel ids"
    );
}

#[test]
fn blocking_calls_panic_where_the_thread_forbids_blocking() {
    fn forbidden() -> bool {
        true
    }
    let t = std::thread::spawn(|| {
        let (tx, rx) = bounded::<u8>(1);
        hooks::install(hooks::Hooks {
            forbid_blocking: Some(forbidden),
            ..hooks::Hooks::default()
        });
        let send = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.send_blocking(1)));
        let recv = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx.recv_blocking()));
        hooks::install(hooks::Hooks::default());
        // Allowed again: the value was never sent.
        tx.send_blocking(2).unwrap();
        (send.is_err(), recv.is_err(), rx.recv_blocking())
    });
    assert_eq!(t.join().unwrap(), (true, true, Some(2)));
}
