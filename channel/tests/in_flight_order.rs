//! Values handed to a receive that has not taken them yet ("in flight") keep their place
//! on buffered channels: per-sender order holds across receivers even when such a receive
//! is dropped or loses the race to take its value (waiters.rs, protocol 7). On a
//! rendezvous channel a value in flight stays with its receive (the send paired with it).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use waza_channel::{bounded, rendezvous, unbounded, Receiver, Sender};

type Flavour = (&'static str, fn() -> (Sender<u32>, Receiver<u32>));

const FLAVOURS: [Flavour; 3] = [
    ("bounded", || bounded(4)),
    ("bounded(1)", || bounded(1)),
    ("unbounded", unbounded),
];

fn poll<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

/// Sends `v` without waiting: into a waiting receive, the buffer, or (rendezvous) as a
/// waiting send that is left pending.
fn send(tx: &Sender<u32>, v: u32, pending: &mut Vec<Pin<Box<dyn Future<Output = ()>>>>) {
    let tx = tx.clone();
    let mut fut = Box::pin(async move {
        tx.send(v).await.unwrap();
    });
    if poll(&mut fut).is_pending() {
        pending.push(fut);
    }
}

/// A receive that another receiver overtakes: the value handed to it is taken by the
/// receiver that comes first, so nobody sees 2 before 1.
#[test]
fn a_later_receiver_takes_the_value_in_flight_first() {
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let mut pending = Vec::new();
        let mut first = rx.recv();
        assert!(poll(&mut first).is_pending(), "{name}");
        send(&tx, 1, &mut pending); // handed to `first`
        send(&tx, 2, &mut pending); // buffered (or a waiting send)
        let mut second = rx.recv();
        assert_eq!(
            poll(&mut second),
            Poll::Ready(Some(1)),
            "{name}: oldest first"
        );
        drop(first); // its value was taken: nothing goes back
        assert_eq!(
            futures::executor::block_on(rx.recv()),
            Some(2),
            "{name}: then the next"
        );
        assert!(rx.try_recv().is_err(), "{name}: exactly once");
    }
}

/// Two receives each handed a value: the one handed the newer value polls first and gets
/// the older one; the other then gets the newer one.
#[test]
fn the_first_receive_to_take_gets_the_oldest_value() {
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let mut pending = Vec::new();
        let mut a = rx.recv();
        let mut b = rx.recv();
        assert!(poll(&mut a).is_pending(), "{name}");
        assert!(poll(&mut b).is_pending(), "{name}");
        send(&tx, 1, &mut pending); // to `a`
        send(&tx, 2, &mut pending); // to `b`
        assert_eq!(poll(&mut b), Poll::Ready(Some(1)), "{name}: oldest first");
        // `a` lost its value to `b`; dropping it must not put anything back ahead of 2.
        drop(a);
        assert_eq!(rx.try_recv(), Ok(2), "{name}");
        assert!(rx.try_recv().is_err(), "{name}: exactly once");
    }
}

/// A dropped receive gives its value back ahead of newer values that were in flight to
/// other receives: those come back behind it.
#[test]
fn a_given_back_value_goes_ahead_of_newer_values_in_flight() {
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let mut pending = Vec::new();
        let mut a = rx.recv();
        let mut b = rx.recv();
        assert!(poll(&mut a).is_pending(), "{name}");
        assert!(poll(&mut b).is_pending(), "{name}");
        send(&tx, 1, &mut pending); // to `a`
        send(&tx, 2, &mut pending); // to `b`
        drop(a); // 1 goes back to the front; 2 must not be taken before it
        assert_eq!(poll(&mut b), Poll::Ready(Some(1)), "{name}");
        assert_eq!(rx.try_recv(), Ok(2), "{name}");
        assert!(rx.try_recv().is_err(), "{name}: exactly once");
    }
}

/// The same with a receive that comes later: after the give-back, values leave in the
/// order sent, whoever receives.
#[test]
fn order_holds_after_a_give_back_for_any_receiver() {
    for (name, make) in FLAVOURS {
        let (tx, rx) = make();
        let mut pending = Vec::new();
        let mut a = rx.recv();
        let mut b = rx.recv();
        assert!(poll(&mut a).is_pending(), "{name}");
        assert!(poll(&mut b).is_pending(), "{name}");
        send(&tx, 1, &mut pending);
        send(&tx, 2, &mut pending);
        send(&tx, 3, &mut pending);
        drop(a);
        assert_eq!(rx.try_recv(), Ok(1), "{name}");
        assert_eq!(rx.try_recv(), Ok(2), "{name}");
        drop(b); // its value was pulled back; nothing left to give
        assert_eq!(rx.try_recv(), Ok(3), "{name}");
        assert!(rx.try_recv().is_err(), "{name}: exactly once");
    }
}

/// Rendezvous: a receive that starts after a send completed never takes that send's value
/// from the receive it was handed to; it pairs with a waiting sender instead.
#[test]
fn rendezvous_values_in_flight_stay_with_their_receive() {
    let (tx, rx) = rendezvous::<u32>();
    let mut pending = Vec::new();
    let mut first = rx.recv();
    assert!(poll(&mut first).is_pending());
    send(&tx, 1, &mut pending); // handed to `first`: that send completed
    assert!(pending.is_empty());
    send(&tx, 2, &mut pending); // nobody waiting: a waiting send
    assert_eq!(pending.len(), 1);
    assert_eq!(rx.try_recv(), Ok(2), "pairs with the waiting sender");
    assert_eq!(poll(&mut first), Poll::Ready(Some(1)));
    assert!(rx.try_recv().is_err());
}
