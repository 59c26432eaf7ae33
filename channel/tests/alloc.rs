//! Memory tests with a counting global allocator (per-thread counters, so tests running
//! in parallel do not disturb each other): an idle channel is small, and waiting —
//! plain futures, blocking calls and selects — allocates nothing in steady state.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/hand_select.rs"]
#[macro_use]
mod hand_select;

use counting_alloc::{allocations as allocs, bytes};

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use waza_channel::{bounded, rendezvous, unbounded};

#[test]
fn idle_channels_are_small() {
    let before = bytes();
    let (tx, rx) = rendezvous::<u64>();
    let rendezvous_bytes = bytes() - before;
    let before = bytes();
    let (tx1, rx1) = bounded::<u64>(1);
    let bounded_bytes = bytes() - before;
    let before = bytes();
    let (txu, rxu) = unbounded::<u64>();
    let unbounded_bytes = bytes() - before;
    assert!(
        rendezvous_bytes > 0,
        "the counter sees the channel allocation"
    );
    assert!(
        rendezvous_bytes <= 256,
        "rendezvous: {rendezvous_bytes} bytes"
    );
    assert!(bounded_bytes <= 256, "bounded(1): {bounded_bytes} bytes");
    assert!(unbounded_bytes <= 256, "unbounded: {unbounded_bytes} bytes");
    drop((tx, rx, tx1, rx1, txu, rxu));
}

/// One rendezvous handoff with a waiting receiver future, polled by hand.
/// A bounded channel of any capacity is created without preallocating its whole buffer
/// (`bounded(usize::MAX)` used to panic with "capacity overflow", `bounded(1 << 40)` to
/// abort out of memory): its memory grows with the values it holds.
#[test]
fn huge_bounded_capacity_allocates_with_use() {
    for cap in [usize::MAX, 1 << 40, 1 << 20] {
        let before = bytes();
        let (tx, rx) = bounded::<u64>(cap);
        let idle = bytes() - before;
        assert!(
            idle <= 16 * 1024,
            "bounded({cap}) allocated {idle} bytes idle"
        );
        assert_eq!(tx.capacity(), Some(cap));
        for i in 0..5_000 {
            tx.try_send(i).unwrap();
        }
        assert_eq!(rx.len(), 5_000);
        assert!(!tx.is_full());
        for i in 0..5_000 {
            assert_eq!(rx.try_recv(), Ok(i));
        }
        assert!(rx.is_empty());
    }
}

fn recv_handoff(tx: &waza_channel::Sender<u64>, rx: &waza_channel::Receiver<u64>, i: u64) {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut recv = rx.recv();
    assert!(pin!(&mut recv).poll(&mut cx).is_pending());
    tx.try_send(i).unwrap();
    assert_eq!(pin!(&mut recv).poll(&mut cx), Poll::Ready(Some(i)));
}

/// One send that waits on a full bounded(1) channel, then completes.
fn send_waits(tx: &waza_channel::Sender<u64>, rx: &waza_channel::Receiver<u64>, i: u64) {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    tx.try_send(i).unwrap();
    let mut send = tx.send(i + 1);
    assert!(pin!(&mut send).poll(&mut cx).is_pending());
    assert_eq!(rx.try_recv(), Ok(i));
    assert_eq!(pin!(&mut send).poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(i + 1));
}

#[test]
fn waiting_futures_do_not_allocate_in_steady_state() {
    let (tx, rx) = rendezvous();
    let (btx, brx) = bounded(1);
    recv_handoff(&tx, &rx, 0); // warm-up: the first waiter nodes are allocated
    send_waits(&btx, &brx, 0);
    let before = allocs();
    for i in 1..1000 {
        recv_handoff(&tx, &rx, i);
        send_waits(&btx, &brx, i * 10);
    }
    assert_eq!(allocs() - before, 0);
}

/// Completed waits whose futures have not collected their values yet (their nodes are
/// not reusable) do not make the waits that follow allocate: nodes are recycled past
/// them, and the held values arrive intact.
#[test]
fn uncollected_completions_do_not_make_waits_allocate() {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, rx) = rendezvous();
    let mut held: Vec<_> = (0..8).map(|_| Box::pin(rx.recv())).collect();
    for r in &mut held {
        assert!(r.as_mut().poll(&mut cx).is_pending());
    }
    for i in 0..8u64 {
        tx.try_send(100 + i).unwrap(); // completes the held waits in FIFO order
    }
    recv_handoff(&tx, &rx, 0); // warm-up
    let before = allocs();
    for i in 1..1000 {
        recv_handoff(&tx, &rx, i);
    }
    assert_eq!(allocs() - before, 0);
    for (i, r) in held.iter_mut().enumerate() {
        assert_eq!(r.as_mut().poll(&mut cx), Poll::Ready(Some(100 + i as u64)));
    }
}

async fn select_once(a: &waza_channel::Receiver<u64>, b: &waza_channel::Receiver<u64>) -> u64 {
    select2! { biased: false, default: false;
        Some(v) = a.recv(), if true => v,
        Some(v) = b.recv(), if true => v,
        default => unreachable!(),
    }
}

#[test]
fn waiting_select_does_not_allocate_in_steady_state() {
    let (atx, arx) = rendezvous();
    let (btx, brx) = unbounded();
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut round = |i: u64| {
        let mut sel = pin!(select_once(&arx, &brx));
        assert!(sel.as_mut().poll(&mut cx).is_pending());
        if i % 2 == 0 {
            atx.try_send(i).unwrap();
        } else {
            btx.try_send(i).unwrap();
        }
        assert_eq!(sel.as_mut().poll(&mut cx), Poll::Ready(i));
    };
    round(0);
    round(1);
    let before = allocs();
    for i in 2..1000 {
        round(i);
    }
    assert_eq!(allocs() - before, 0);
}

#[test]
fn blocking_recv_does_not_allocate_in_steady_state() {
    let (tx, rx) = rendezvous::<u64>();
    let n = 500;
    let t = std::thread::spawn(move || (0..n).for_each(|i| tx.send_blocking(i).unwrap()));
    assert_eq!(rx.recv_blocking(), Some(0)); // warm-up: thread-local waker, first waiter node
    let before = allocs();
    for i in 1..n {
        assert_eq!(rx.recv_blocking(), Some(i));
    }
    let during = allocs() - before;
    t.join().unwrap();
    assert_eq!(during, 0);
}
