//! OnceCell: one initializer runs, cancellation and errors hand the job to the next caller.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use std::future::pending;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{scale, Counted};
use waza::sync::OnceCell;

#[test]
fn second_caller_waits_for_first_initializer() {
    let cell = OnceCell::new();
    let runs = AtomicUsize::new(0);
    let (c1, c2) = (Counted::new(), Counted::new());
    let gate = waza::sync::Notify::new();
    let mut first = pin!(cell.get_or_init(|| async {
        runs.fetch_add(1, Ordering::SeqCst);
        gate.notified().await;
        1
    }));
    let mut second = pin!(cell.get_or_init(|| async {
        runs.fetch_add(1, Ordering::SeqCst);
        2
    }));
    assert!(c1.poll_pin(first.as_mut()).is_pending());
    assert!(c2.poll_pin(second.as_mut()).is_pending());
    gate.notify_one();
    assert_eq!(c1.poll_pin(first.as_mut()), Poll::Ready(&1));
    assert_eq!(c2.wakes(), 1);
    assert_eq!(c2.poll_pin(second.as_mut()), Poll::Ready(&1));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn cancelled_initializer_hands_over_to_the_next_caller() {
    let cell = OnceCell::new();
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut first = Box::pin(cell.get_or_init(pending::<u8>));
    let mut second = pin!(cell.get_or_init(|| async { 7 }));
    assert!(c1.poll_pin(first.as_mut()).is_pending());
    assert!(c2.poll_pin(second.as_mut()).is_pending());
    drop(first);
    assert_eq!(c2.wakes(), 1);
    assert_eq!(c2.poll_pin(second.as_mut()), Poll::Ready(&7));
    assert_eq!(cell.get(), Some(&7));
}

#[test]
fn failed_initializer_leaves_cell_empty() {
    let cell = OnceCell::new();
    block_on(async {
        assert_eq!(
            cell.get_or_try_init(|| async { Err("x") }).await,
            Err::<&u8, _>("x")
        );
        assert!(!cell.initialized());
        assert_eq!(
            cell.get_or_try_init(|| async { Ok::<_, &str>(3) }).await,
            Ok(&3)
        );
    });
}

#[test]
fn panicking_initializer_does_not_wedge_the_cell() {
    let cell = Arc::new(OnceCell::new());
    let c = cell.clone();
    let r = std::thread::spawn(move || {
        block_on(c.get_or_init(|| async { panic!("init failed") }));
    })
    .join();
    assert!(r.is_err());
    assert_eq!(block_on(cell.get_or_init(|| async { 5 })), &5);
}

/// `set` during a running initializer wins: the initializer's value is dropped (once) and
/// its caller gets the value that was set.
#[test]
fn set_during_initialization_wins() {
    let cell = OnceCell::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = waza::sync::oneshot::channel::<()>();
    let w = Counted::new();
    let d = drops.clone();
    let mut init = pin!(cell.get_or_init(|| async move {
        rx.await.unwrap();
        sync_support::DropCount(d)
    }));
    assert!(w.poll_pin(init.as_mut()).is_pending());
    let theirs = Arc::new(AtomicUsize::new(0));
    assert!(cell.set(sync_support::DropCount(theirs.clone())).is_ok());
    tx.send(()).unwrap();
    let Poll::Ready(got) = w.poll_pin(init.as_mut()) else {
        panic!("the initializer finished");
    };
    assert!(Arc::ptr_eq(&got.0, &theirs));
    assert_eq!(drops.load(Ordering::SeqCst), 1); // ours, dropped exactly once
    assert_eq!(theirs.load(Ordering::SeqCst), 0);
}

#[test]
fn set_get_take() {
    let mut cell = OnceCell::new();
    assert_eq!(cell.set(1), Ok(()));
    assert_eq!(cell.set(2), Err(2));
    assert_eq!(block_on(cell.get_or_init(|| async { 3 })), &1);
    *cell.get_mut().unwrap() = 4;
    assert_eq!(cell.clone().into_inner(), Some(4));
    assert_eq!(cell.take(), Some(4));
    assert_eq!(cell.get(), None);
}

#[test]
fn stress_many_threads_one_initialization() {
    let rounds = scale(50, 500);
    for _ in 0..rounds {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                std::thread::spawn(move || {
                    *block_on(cell.get_or_init(|| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        i
                    }))
                })
            })
            .collect();
        let seen: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(seen.iter().all(|&v| v == seen[0]));
    }
}
