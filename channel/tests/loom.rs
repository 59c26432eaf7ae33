//! loom models of the channel and select protocols. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p waza-channel --release --test loom`.
#![cfg(loom)]

#[path = "support/hand_select.rs"]
#[macro_use]
mod hand_select;

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures::task::noop_waker;
use loom::future::block_on;
use loom::thread;
use waza_channel::{bounded, rendezvous, unbounded, Receiver, SendError, TryRecvError};

fn drain<T>(rx: &Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Ok(v) = rx.try_recv() {
        out.push(v);
    }
    out
}

#[test]
fn rendezvous_send_recv() {
    loom::model(|| {
        let (tx, rx) = rendezvous();
        let t = thread::spawn(move || block_on(tx.send(1)));
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(t.join().unwrap(), Ok(()));
    });
}

#[test]
fn bounded_two_senders_one_receiver() {
    loom::model(|| {
        let (tx, rx) = bounded(1);
        let tx2 = tx.clone();
        let t1 = thread::spawn(move || block_on(tx.send(1)));
        let t2 = thread::spawn(move || block_on(tx2.send(2)));
        let mut got = vec![block_on(rx.recv()).unwrap(), block_on(rx.recv()).unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
        assert_eq!(block_on(rx.recv()), None);
        t1.join().unwrap().unwrap();
        t2.join().unwrap().unwrap();
    });
}

#[test]
fn unbounded_send_close_drain() {
    loom::model(|| {
        let (tx, rx) = unbounded();
        let tx2 = tx.clone();
        let t = thread::spawn(move || tx2.try_send(1).is_ok());
        let closer = thread::spawn(move || tx.close());
        let sent = t.join().unwrap();
        assert!(closer.join().unwrap());
        let got: Vec<i32> = std::iter::from_fn(|| block_on(rx.recv())).collect();
        assert_eq!(got, if sent { vec![1] } else { vec![] });
    });
}

#[test]
fn close_races_a_waiting_rendezvous_send() {
    loom::model(|| {
        let (tx, rx) = rendezvous();
        let rx2 = rx.clone();
        let sender = thread::spawn(move || block_on(tx.send(7)));
        let closer = thread::spawn(move || rx2.close());
        let got = block_on(rx.recv());
        closer.join().unwrap();
        let sent = sender.join().unwrap();
        // Delivered exactly when the send reports success.
        assert_eq!(got.is_some(), sent.is_ok());
        if let Err(e) = sent {
            assert_eq!(e.0, 7, "a failed send gets its own value back");
        }
    });
}

/// A receiver gives up on its recv future after one poll while a sender hands it a
/// value: the value is returned or given back, never lost.
#[test]
fn cancelled_recv_gives_back() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let rx2 = rx.clone();
        let receiver = thread::spawn(move || {
            let waker = noop_waker();
            let mut cx = Context::from_waker(&waker);
            let mut recv = pin!(rx2.recv());
            match recv.as_mut().poll(&mut cx) {
                Poll::Ready(v) => v,
                Poll::Pending => {
                    thread::yield_now();
                    match recv.as_mut().poll(&mut cx) {
                        Poll::Ready(v) => v,
                        Poll::Pending => None, // dropped here
                    }
                }
            }
        });
        let sent = tx.try_send(5).is_ok();
        let took = receiver.join().unwrap();
        let left = drain(&rx);
        let delivered = took.into_iter().chain(left).collect::<Vec<_>>();
        assert_eq!(delivered, if sent { vec![5] } else { vec![] });
    });
}

/// A cancelled receiver's give-back races a new receiver: exactly one gets the value.
#[test]
fn give_back_races_a_new_receiver() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        let rx2 = rx.clone();
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut first = Box::pin(rx.recv());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        tx.try_send(1).unwrap(); // handed to `first`
        let other = thread::spawn(move || match rx2.try_recv() {
            Ok(v) => Some(v),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Closed) => unreachable!(),
        });
        drop(first); // give back
        let got_other = other.join().unwrap();
        let left = drain(&rx);
        assert_eq!(got_other.into_iter().chain(left).collect::<Vec<_>>(), [1]);
    });
}

/// Two counterparties race to claim a waiting select while the owner re-polls and then
/// drops it: at most one arm takes effect and no value is lost.
#[test]
fn select_claim_vs_owner_repoll_vs_drop() {
    loom::model(|| {
        let (a_tx, a_rx) = rendezvous::<u32>();
        let (b_tx, b_rx) = rendezvous::<u32>();
        let (a_rx2, b_rx2) = (a_rx.clone(), b_rx.clone());
        let owner = thread::spawn(move || {
            let waker = noop_waker();
            let mut cx = Context::from_waker(&waker);
            let mut sel = pin!(async {
                select2! { biased: false, default: false;
                    v = a_rx2.recv(), if true => v,
                    v = b_rx2.recv(), if true => v,
                    default => unreachable!(),
                }
            });
            for _ in 0..2 {
                if let Poll::Ready(v) = sel.as_mut().poll(&mut cx) {
                    return v;
                }
            }
            None // dropped while waiting or selected
        });
        let a_sent = thread::spawn(move || a_tx.try_send(1).is_ok());
        let b_sent = b_tx.try_send(2).is_ok();
        let a_sent = a_sent.join().unwrap();
        let took = owner.join().unwrap();
        assert!(!(a_sent && b_sent), "both arms of one select took effect");
        let mut delivered: Vec<u32> = took.into_iter().collect();
        delivered.extend(drain(&a_rx));
        delivered.extend(drain(&b_rx));
        let expected: Vec<u32> = [(a_sent, 1), (b_sent, 2)]
            .into_iter()
            .filter_map(|(s, v)| s.then_some(v))
            .collect();
        assert_eq!(delivered, expected);
    });
}

/// Two selects on opposite ends of a rendezvous channel always pair.
#[test]
fn opposite_selects_pair() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let t = thread::spawn(move || {
            block_on(async {
                select2! { biased: false, default: false;
                    r = tx.send(3), if true => r.is_ok(),
                    _ = std::future::pending::<()>(), if true => false,
                    default => unreachable!(),
                }
            })
        });
        let got = block_on(async {
            select2! { biased: false, default: false;
                v = rx.recv(), if true => v,
                _ = std::future::pending::<()>(), if true => None,
                default => unreachable!(),
            }
        });
        assert_eq!(got, Some(3));
        assert!(t.join().unwrap());
    });
}

/// A sender waits on a full bounded channel while another thread closes it: the waiting
/// value is either delivered (after the buffered one) or handed back, never both.
#[test]
fn bounded_close_races_a_waiting_sender() {
    loom::model(|| {
        let (tx, rx) = bounded(1);
        tx.try_send(1).unwrap();
        let tx2 = tx.clone();
        let sender = thread::spawn(move || block_on(tx2.send(2)));
        let closer = thread::spawn(move || tx.close());
        let got: Vec<i32> = std::iter::from_fn(|| block_on(rx.recv())).collect();
        assert!(closer.join().unwrap());
        match sender.join().unwrap() {
            Ok(()) => assert_eq!(got, [1, 2]),
            Err(e) => {
                assert_eq!(e.0, 2);
                assert_eq!(got, [1]);
            }
        }
    });
}

/// A select's send arm on a rendezvous channel races a receiver while the select is
/// dropped after at most two polls: the value is delivered at most once, and a select
/// that reports success really delivered it.
#[test]
fn select_send_arm_cancelled_delivers_at_most_once() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let (_idle_tx, idle_rx) = rendezvous::<u32>();
        let owner = thread::spawn(move || {
            let waker = noop_waker();
            let mut cx = Context::from_waker(&waker);
            let mut sel = pin!(async {
                select2! { biased: false, default: false;
                    r = tx.send(5), if true => r.is_ok(),
                    _ = idle_rx.recv(), if true => false,
                    default => unreachable!(),
                }
            });
            for _ in 0..2 {
                if let Poll::Ready(ok) = sel.as_mut().poll(&mut cx) {
                    return Some(ok);
                }
            }
            None
        });
        let first = rx.try_recv();
        let reported = owner.join().unwrap();
        let second = rx.try_recv();
        let delivered = [first, second].iter().filter(|r| r.is_ok()).count();
        assert!(delivered <= 1, "delivered twice");
        if reported == Some(true) {
            assert_eq!(first, Ok(5), "reported sent but not received");
        }
        assert!(
            second.is_err(),
            "a select never leaves its send value behind"
        );
    });
}

/// A woken receiver takes its value without the channel lock and recycles its node
/// through the lock-free free list, while the sender takes nodes from that list.
#[test]
fn lock_free_completion_recycles_nodes() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let t = thread::spawn(move || {
            let a = block_on(rx.recv());
            let b = block_on(rx.recv());
            (a, b)
        });
        block_on(tx.send(1)).unwrap();
        block_on(tx.send(2)).unwrap();
        assert_eq!(t.join().unwrap(), (Some(1), Some(2)));
    });
}

/// Two receivers complete and release their nodes concurrently; every value arrives
/// exactly once.
#[test]
fn concurrent_lock_free_releases() {
    loom::model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let rx2 = rx.clone();
        let t1 = thread::spawn(move || block_on(rx.recv()));
        let t2 = thread::spawn(move || block_on(rx2.recv()));
        block_on(tx.send(1)).unwrap();
        block_on(tx.send(2)).unwrap();
        let mut got = vec![t1.join().unwrap().unwrap(), t2.join().unwrap().unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
    });
}

/// What a select with a send arm and a recv arm on one channel did.
#[derive(Debug, PartialEq)]
enum SendOrRecv {
    Sent(Result<(), SendError<u32>>),
    Got(Option<u32>),
}

/// A select sends and receives on one rendezvous channel, racing a plain receiver and a
/// plain sender; each party closes the channel once its own operation is over, so the
/// one left out ends too. Exactly one pair forms before the first close: the select
/// never pairs with itself, only one of its arms takes effect, every value delivered was
/// sent successfully and every successful send was delivered.
#[test]
fn select_on_both_ends_of_one_rendezvous_channel() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let (tx2, rx2) = (tx.clone(), rx.clone());
        let receiver = thread::spawn(move || {
            let v = block_on(rx2.recv());
            rx2.close();
            v
        });
        let sender = thread::spawn(move || {
            let r = block_on(tx2.send(2));
            tx2.close();
            r
        });
        let sel = block_on(async {
            waza_channel::select! {
                r = tx.send(1) => SendOrRecv::Sent(r),
                v = rx.recv() => SendOrRecv::Got(v),
            }
        });
        rx.close();
        let got = receiver.join().unwrap();
        let sent = sender.join().unwrap();
        assert_ne!(
            sel,
            SendOrRecv::Got(Some(1)),
            "the select paired with itself"
        );
        let mut delivered: Vec<u32> = got.into_iter().collect();
        if let SendOrRecv::Got(Some(v)) = sel {
            delivered.push(v);
        }
        let mut succeeded = Vec::new();
        match &sel {
            SendOrRecv::Sent(Ok(())) => succeeded.push(1),
            SendOrRecv::Sent(Err(e)) => assert_eq!(e.0, 1, "a failed send returns its value"),
            SendOrRecv::Got(_) => {}
        }
        match sent {
            Ok(()) => succeeded.push(2),
            Err(e) => assert_eq!(e.0, 2, "a failed send returns its value"),
        }
        delivered.sort_unstable();
        succeeded.sort_unstable();
        assert_eq!(delivered, succeeded);
        assert_eq!(
            delivered.len(),
            1,
            "exactly one pair forms before the first close"
        );
    });
}

/// A select's arm is selected by a sender (`SELECTED`) but its pattern refutes the value:
/// the select takes the value out of its node, puts it back at the front and goes on
/// selecting (it then ends on its other arm's close). The value is received exactly once,
/// by the plain receiver racing the select.
#[test]
fn selected_arm_refuting_its_value_gives_it_back() {
    loom::model(|| {
        let (a_tx, a_rx) = rendezvous::<u32>();
        let (b_tx, b_rx) = rendezvous::<u32>();
        let a_rx2 = a_rx.clone();
        let other = thread::spawn(move || block_on(a_rx2.recv()));
        let sender = thread::spawn(move || {
            let r = block_on(a_tx.send(1));
            drop(b_tx); // closes `b`: ends the select once its `a` arm is off
            r
        });
        let sel = block_on(async {
            waza_channel::select! {
                Some(0) = a_rx.recv() => "matched a value never sent",
                None = b_rx.recv() => "b closed",
            }
        });
        assert_eq!(sel, "b closed");
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(other.join().unwrap(), Some(1), "the refuted value was lost");
        assert_eq!(a_rx.try_recv(), Err(TryRecvError::Closed), "received twice");
    });
}

/// A `Recv` future polled once (it holds a node) is then used through `&mut` in a select
/// whose other arm races it; a sender hands the future a value before or during the
/// select. Exactly one arm takes effect: if the other arm wins, the value handed to the
/// future goes back to its channel, and the future, polled again, receives it.
#[test]
fn adopted_recv_future_losing_a_select_gives_its_value_back() {
    loom::model(|| {
        let (a_tx, a_rx) = bounded::<u32>(1);
        let (b_tx, b_rx) = bounded::<u32>(1);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut fut = a_rx.recv();
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        let ta = thread::spawn(move || a_tx.try_send(1));
        let tb = thread::spawn(move || b_tx.try_send(2));
        let sel = block_on(async {
            waza_channel::select! {
                v = &mut fut => (0, v),
                v = b_rx.recv() => (1, v),
            }
        });
        ta.join().unwrap().unwrap();
        tb.join().unwrap().unwrap();
        match sel {
            (0, Some(1)) => {
                assert_eq!(drain(&a_rx), [] as [u32; 0], "received twice");
                assert_eq!(drain(&b_rx), [2], "the losing arm took a value");
            }
            (1, Some(2)) => {
                assert_eq!(block_on(&mut fut), Some(1), "the handed value was lost");
                assert_eq!(drain(&a_rx), [] as [u32; 0], "received twice");
            }
            other => panic!("unexpected select outcome {other:?}"),
        }
    });
}

/// `close` races a select that is between its rounds (its nodes are `IDLE`, so close
/// skips them): the select must still see the close and end on that arm.
#[test]
fn close_racing_a_select_between_rounds_ends_it() {
    loom::model(|| {
        let (a_tx, a_rx) = rendezvous::<u32>();
        let (_b_tx, b_rx) = rendezvous::<u32>();
        let closer = thread::spawn(move || a_tx.close());
        let sel = block_on(async {
            waza_channel::select! {
                v = a_rx.recv() => (0, v),
                v = b_rx.recv() => (1, v),
            }
        });
        assert!(closer.join().unwrap());
        assert_eq!(sel, (0, None));
    });
}

/// "None is final" (`waiters.rs`, protocol 6): a receive was handed a value, the channel
/// closes, and a second receive races the first one's give-back (`give_back`) or its
/// lock-free completion. The second receive returns `None` only if the first one kept
/// the value; every value is received exactly once. (Rendezvous: there a value in flight
/// stays with its receive; on buffered channels the second receive would take it,
/// protocol 7, modelled below.)
fn none_is_final(give_back: bool) {
    loom::model(move || {
        let (tx, rx) = rendezvous::<u32>();
        let rx2 = rx.clone();
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut first = rx.recv();
        assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
        tx.try_send(1).unwrap(); // handed to `first`: in flight
        let closer = thread::spawn(move || tx.close());
        let second = thread::spawn(move || block_on(rx2.recv()));
        let got_first = if give_back {
            drop(first);
            None
        } else {
            match Pin::new(&mut first).poll(&mut cx) {
                Poll::Ready(v) => v,
                Poll::Pending => panic!("a filled receive is ready"),
            }
        };
        assert!(closer.join().unwrap());
        let got_second = second.join().unwrap();
        if give_back {
            assert_eq!(
                got_second,
                Some(1),
                "None while a value was still receivable"
            );
        } else {
            assert_eq!((got_first, got_second), (Some(1), None));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "received twice");
    });
}

#[test]
fn none_is_final_after_a_give_back() {
    none_is_final(true);
}

#[test]
fn none_is_final_after_a_completion() {
    none_is_final(false);
}

/// A `Stream` receiver's `next()` is abandoned after one `Pending` poll (the receiver
/// keeps its registration): a value sent afterwards must go to a plain `recv()`, not to
/// the abandoned registration.
#[test]
fn abandoned_stream_next_leaves_the_value_to_recv() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let mut watcher = rx.clone();
        {
            let waker = noop_waker();
            let mut cx = Context::from_waker(&waker);
            let mut next = futures::StreamExt::next(&mut watcher);
            assert!(Pin::new(&mut next).poll(&mut cx).is_pending());
        }
        let sender = thread::spawn(move || block_on(tx.send(1)));
        assert_eq!(
            block_on(rx.recv()),
            Some(1),
            "the value went to the abandoned next()"
        );
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "received twice");
        drop(watcher);
    });
}

/// A select with `default` over two channels races a mover that takes the values from
/// `a` to `b` one at a time. Two values and a mover holding at most one: at every instant
/// one of the channels holds a value, so `default` must never run (Go's rule: `default`
/// only if no arm could proceed at one instant). `biased` pins the arm order that a pass
/// trying the channels one after the other would get wrong: `b` first, then `a`.
#[test]
fn select_default_never_runs_while_a_channel_always_holds_a_value() {
    loom::model(|| {
        let (a_tx, a_rx) = bounded::<u32>(2);
        let (b_tx, b_rx) = bounded::<u32>(2);
        a_tx.try_send(1).unwrap();
        a_tx.try_send(2).unwrap();
        let a_rx2 = a_rx.clone();
        let mover = thread::spawn(move || {
            let mut moved = 0;
            for _ in 0..2 {
                if let Ok(v) = a_rx2.try_recv() {
                    b_tx.try_send(v).unwrap();
                    moved += 1;
                }
            }
            moved
        });
        let sel = block_on(async {
            waza_channel::select! {
                biased;
                v = b_rx.recv() => Some(v),
                v = a_rx.recv() => Some(v),
                default => None,
            }
        });
        let moved = mover.join().unwrap();
        let got = sel
            .expect("default ran while a channel held a value")
            .expect("neither channel is closed and empty");
        let mut all = vec![got];
        all.extend(drain(&a_rx));
        all.extend(drain(&b_rx));
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
        assert!((1..=2).contains(&moved));
    });
}

/// Protocol 7: a receive handed a value races another receive that comes later and takes
/// the value in flight first (the oldest value goes first). Exactly one of them gets it;
/// the loser receives again.
#[test]
fn steal_races_the_owners_lock_free_take() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        let rx2 = rx.clone();
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut first = Box::pin(rx.recv());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        tx.try_send(1).unwrap(); // handed to `first`: in flight
        let other = thread::spawn(move || rx2.try_recv().ok());
        let got_first = match first.as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => None, // taken by `other`: `first` waits again
        };
        let got_other = other.join().unwrap();
        drop(first);
        let all: Vec<u32> = got_first
            .into_iter()
            .chain(got_other)
            .chain(drain(&rx))
            .collect();
        assert_eq!(all, [1], "exactly once");
        tx.try_send(2).unwrap();
        assert_eq!(
            rx.try_recv(),
            Ok(2),
            "nothing left behind in `first`'s node"
        );
    });
}

/// Protocol 7: two receives were handed 1 and 2; the first is dropped (its give-back
/// pulls 2 back behind 1) while the second takes its value (which must be 1, the oldest).
/// Whatever the interleaving, the second gets 1 and 2 stays in the channel.
#[test]
fn give_back_pulls_newer_values_back_while_their_receive_takes() {
    loom::model(|| {
        let (tx, rx) = bounded::<u32>(4);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let rx1 = rx.clone();
        let mut first = Box::pin(async move { rx1.recv().await });
        let mut second = Box::pin(rx.recv());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        tx.try_send(1).unwrap(); // to `first`
        tx.try_send(2).unwrap(); // to `second`, behind 1
        let dropper = thread::spawn(move || drop(first));
        let got = loop {
            match second.as_mut().poll(&mut cx) {
                Poll::Ready(v) => break v,
                Poll::Pending => thread::yield_now(),
            }
        };
        dropper.join().unwrap();
        assert_eq!(got, Some(1), "the oldest value first");
        assert_eq!(drain(&rx), [2]);
    });
}
