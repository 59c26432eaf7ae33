//! A `select!` evaluation allocates nothing once its channels exist (after a warm-up that
//! lets the channels allocate their first waiter nodes): the select state, arm futures
//! and waiter links all live in the select future or in storage the channel already owns.
//!
//! Allocations are counted per thread by a wrapping global allocator, so tests running in
//! parallel do not disturb each other.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
mod select_support;

use counting_alloc::allocations;
use select_support::{poll_once, select};
use std::future::ready;
use std::pin::pin;
use std::task::Poll;
use waza_channel::{bounded, rendezvous, TryRecvError};

/// Runs `round` a few times to warm up, then asserts that 1,000 more rounds allocate nothing.
fn assert_no_allocations(what: &str, mut round: impl FnMut(usize)) {
    for i in 0..16 {
        round(i);
    }
    let before = allocations();
    for i in 0..1_000 {
        round(i);
    }
    let n = allocations() - before;
    assert_eq!(
        n, 0,
        "{what}: {n} heap allocations in 1000 select evaluations"
    );
}

#[test]
fn counter_sees_allocations() {
    // The harness itself must work, or the zero results below mean nothing.
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 32]);
    assert_eq!(allocations() - before, 1);
    drop(v);
}

#[test]
fn ready_arms_do_not_allocate() {
    let (in_tx, in_rx) = bounded::<usize>(1);
    let (out_tx, out_rx) = bounded::<usize>(1);
    assert_no_allocations("ready channel arms", |i| {
        in_tx.try_send(i).unwrap();
        let _ = out_rx.try_recv();
        let fut = pin!(async {
            select! {
                v = in_rx.recv() => v.unwrap(),
                r = out_tx.send(i), if false => { r.unwrap(); 0 }
                v = ready(i) => v,
            }
        });
        assert_eq!(poll_once(fut), Poll::Ready(i));
        let _ = in_rx.try_recv();
    });
}

#[test]
fn default_does_not_allocate() {
    let (tx, rx) = rendezvous::<usize>();
    let (tx2, rx2) = rendezvous::<usize>();
    assert_no_allocations("select with default", |i| {
        let fut = pin!(async {
            select! {
                v = rx.recv() => v,
                _ = tx2.send(i) => None,
                default => Some(usize::MAX),
            }
        });
        assert_eq!(poll_once(fut), Poll::Ready(Some(usize::MAX)));
    });
    drop((tx, rx2));
}

#[test]
fn waiting_and_being_completed_by_a_counterparty_does_not_allocate() {
    let (tx, rx) = rendezvous::<usize>();
    let (tx2, rx2) = rendezvous::<usize>();
    assert_no_allocations("pending select completed remotely", |i| {
        let mut fut = pin!(async {
            select! {
                v = rx.recv() => v.unwrap(),
                r = tx2.send(i + 1_000_000) => { r.unwrap(); usize::MAX }
            }
        });
        assert!(poll_once(fut.as_mut()).is_pending());
        if i % 2 == 0 {
            // Complete the recv arm from "outside".
            tx.try_send(i).unwrap();
            assert_eq!(poll_once(fut.as_mut()), Poll::Ready(i));
        } else {
            // Take the send arm's value.
            assert_eq!(rx2.try_recv(), Ok(i + 1_000_000));
            assert_eq!(poll_once(fut.as_mut()), Poll::Ready(usize::MAX));
        }
    });
}

#[test]
fn cancelling_a_waiting_select_does_not_allocate() {
    let (tx, rx) = rendezvous::<usize>();
    let (tx2, rx2) = rendezvous::<usize>();
    assert_no_allocations("pending select dropped", |i| {
        {
            let mut fut = pin!(async {
                select! {
                    v = rx.recv() => v,
                    _ = tx2.send(i) => None,
                }
            });
            assert!(poll_once(fut.as_mut()).is_pending());
        }
        // Dropped: both nodes are gone again.
        assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
    });
    drop(tx);
}
