//! `select! { …, else => … }`: tokio's meaning (every arm disabled), next to Go's
//! `default` (nothing ready right now).

use std::future::{pending, ready};
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::executor::block_on;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready_eq};
use waza_channel::{bounded, rendezvous, select, unbounded};

#[test]
fn every_precondition_false_reaches_else() {
    let (tx, rx) = unbounded::<u32>();
    tx.try_send(1).unwrap();
    let evaluated = AtomicUsize::new(0);
    let arm = || {
        evaluated.fetch_add(1, Ordering::SeqCst);
        rx.recv()
    };
    let r = block_on(async {
        select! {
            v = arm(), if false => v.map(|_| "recv"),
            _ = ready(()), if 1 > 2 => Some("ready"),
            else => Some("else"),
        }
    });
    assert_eq!(r, Some("else"));
    assert_eq!(
        evaluated.load(Ordering::SeqCst),
        0,
        "disabled arms are not evaluated"
    );
    assert_eq!(rx.try_recv(), Ok(1), "nothing was taken");
}

#[test]
fn every_pattern_refuted_reaches_else_and_values_go_back() {
    let (tx, rx) = bounded::<u32>(2);
    let (tx2, rx2) = unbounded::<u32>();
    tx.try_send(7).unwrap();
    tx2.try_send(8).unwrap();
    let mut else_runs = 0;
    for _ in 0..50 {
        let r = block_on(async {
            select! {
                Some(0) = rx.recv() => 0,
                Some(1) = rx2.recv() => 1,
                Err(()) = ready(Ok::<u32, ()>(3)) => 3,
                else => { else_runs += 1; 99 }
            }
        });
        assert_eq!(r, 99);
    }
    assert_eq!(else_runs, 50);
    assert_eq!(
        rx.try_recv(),
        Ok(7),
        "refuted values go back to the channel"
    );
    assert_eq!(rx2.try_recv(), Ok(8));
}

#[test]
fn refuted_on_a_rendezvous_channel_and_a_precondition_reaches_else() {
    let (tx, rx) = rendezvous::<u32>();
    let sender = std::thread::spawn(move || tx.send_blocking(5));
    let r = block_on(async {
        select! {
            Some(0) = rx.recv() => "zero",
            _ = pending::<()>(), if false => "never",
            else => "else",
        }
    });
    assert_eq!(r, "else");
    assert_eq!(
        rx.recv_blocking(),
        Some(5),
        "the refuted value was given back"
    );
    assert!(sender.join().unwrap().is_ok());
}

#[test]
fn else_does_not_run_while_an_arm_is_enabled() {
    let (tx, rx) = unbounded::<u32>();
    let (_keep, never) = rendezvous::<u32>();
    let mut fut = spawn(async {
        select! {
            v = never.recv() => v.unwrap_or(0),
            Some(v) = rx.recv() => v,
            _ = pending::<()>(), if false => 0,
            else => 99,
        }
    });
    // One arm pending, one enabled: the select waits rather than running `else`.
    assert_pending!(fut.poll());
    assert_pending!(fut.poll());
    tx.try_send(4).unwrap();
    assert!(fut.is_woken(), "the send wakes the waiting select");
    assert_ready_eq!(fut.poll(), 4);
}

#[test]
fn a_pending_arm_then_a_refusal_reaches_else_later() {
    let (tx, rx) = unbounded::<u32>();
    let mut fut = spawn(async {
        select! {
            Some(0) = rx.recv() => "zero",
            else => "else",
        }
    });
    assert_pending!(fut.poll());
    tx.try_send(3).unwrap();
    assert!(fut.is_woken(), "the send wakes the waiting select");
    assert_ready_eq!(fut.poll(), "else");
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn default_and_else_side_by_side() {
    let (tx, rx) = unbounded::<u32>();
    let run = |flag: bool| {
        block_on(async {
            select! {
                Some(v) = rx.recv(), if flag => v,
                default => 100,
                else => 200,
            }
        })
    };
    assert_eq!(
        run(true),
        100,
        "an enabled arm that is not ready: `default`"
    );
    assert_eq!(run(false), 200, "every arm disabled: `else`");
    tx.try_send(1).unwrap();
    assert_eq!(run(true), 1);
    tx.close();
    // `None` is refuted by `Some(v)`: the arm turns off, so `else` runs.
    assert_eq!(run(true), 200);
}

#[test]
fn without_arms_else_runs() {
    let r = block_on(async {
        select! { else => 1 }
    });
    assert_eq!(r, 1);
    let r = block_on(async {
        select! { default => 2, else => 3 }
    });
    assert_eq!(r, 3);
}

#[test]
#[should_panic(expected = "all select! arms are disabled")]
fn without_else_or_default_all_disabled_still_panics() {
    block_on(async {
        select! {
            _ = ready(()), if false => {},
        }
    });
}
