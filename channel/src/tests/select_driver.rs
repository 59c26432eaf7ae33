//! The select driver through a hand-expanded `select!`: the exact code shape the macro
//! generates (see the module docs of `select.rs`), for two arms plus an optional `default`.

use core::future::{pending, ready, Future};
use core::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready_eq};

use super::Tracked;
use crate::*;

include!("../../tests/support/hand_select.rs");

#[test]
fn picks_the_ready_arm_and_leaves_the_other_untouched() {
    let (tx1, rx1) = unbounded();
    let (tx2, rx2) = unbounded();
    tx1.try_send(10).unwrap();
    let mut sel = spawn(async {
        select2! { biased: false, default: false;
            v = rx1.recv(), if true => (0, v),
            v = rx2.recv(), if true => (1, v),
            default => unreachable!(),
        }
    });
    assert_ready_eq!(sel.poll(), (0, Some(10)));
    drop(sel);
    tx2.try_send(20).unwrap();
    assert_eq!(rx2.try_recv(), Ok(20));
}

#[test]
fn waits_and_exactly_one_recv_arm_wins() {
    let (tx1, rx1) = rendezvous();
    let (tx2, rx2) = rendezvous();
    let mut sel = spawn(async {
        select2! { biased: false, default: false;
            v = rx1.recv(), if true => (0, v),
            v = rx2.recv(), if true => (1, v),
            default => unreachable!(),
        }
    });
    assert_pending!(sel.poll());
    assert_pending!(sel.poll());
    assert_eq!(tx2.try_send(2), Ok(()));
    assert!(sel.is_woken());
    assert_eq!(
        tx1.try_send(1),
        Err(TrySendError::Full(1)),
        "the select is taken"
    );
    assert_ready_eq!(sel.poll(), (1, Some(2)));
}

#[test]
fn losing_send_arm_sends_nothing() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx1, rx1) = rendezvous();
    let (tx2, rx2) = rendezvous();
    let mut sel = spawn(async {
        select2! { biased: false, default: false;
            r = tx1.send(Tracked(1, drops.clone())), if true => (0, r.is_ok()),
            r = tx2.send(Tracked(2, drops.clone())), if true => (1, r.is_ok()),
            default => unreachable!(),
        }
    });
    assert_pending!(sel.poll());
    assert_eq!(rx1.try_recv().map(|t| t.0), Ok(1));
    assert_eq!(drops.load(SeqCst), 1);
    assert!(rx2.try_recv().is_err(), "loser sent nothing");
    assert_ready_eq!(sel.poll(), (0, true));
    drop(sel);
    assert_eq!(
        drops.load(SeqCst),
        2,
        "loser's value dropped with the select"
    );
}

#[test]
fn default_runs_when_nothing_is_ready_and_has_no_effect() {
    let (_tx1, rx1) = unbounded::<u8>();
    let (tx2, rx2) = rendezvous();
    let mut sel = spawn(async {
        select2! { biased: false, default: true;
            v = rx1.recv(), if true => Some(v),
            _ = tx2.send(5), if true => None,
            default => Some(None),
        }
    });
    assert_ready_eq!(sel.poll(), Some(None));
    assert_eq!(
        rx2.try_recv(),
        Err(TryRecvError::Empty),
        "no sender left waiting"
    );
}

#[test]
fn never_pairs_with_itself_on_a_rendezvous_channel() {
    let (tx, rx) = rendezvous();
    let with_default = futures::executor::block_on(async {
        select2! { biased: false, default: true;
            v = rx.recv(), if true => Some(v),
            _ = tx.send(1), if true => None,
            default => Some(Some(-1)),
        }
    });
    assert_eq!(with_default, Some(Some(-1)));

    let mut sel = spawn(async {
        select2! { biased: false, default: false;
            v = rx.recv(), if true => v,
            _ = tx.send(1), if true => None,
            default => unreachable!(),
        }
    });
    assert_pending!(sel.poll());
    let tx2 = tx.clone();
    assert_eq!(
        tx2.try_send(9),
        Ok(()),
        "an outside sender pairs with the recv arm"
    );
    assert_ready_eq!(sel.poll(), Some(9));
    drop(sel);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn two_selects_on_opposite_ends_pair() {
    let (tx, rx) = rendezvous();
    let mut receiving = spawn(async {
        select2! { biased: false, default: false;
            v = rx.recv(), if true => v,
            _ = pending::<()>(), if true => None,
            default => unreachable!(),
        }
    });
    let mut sending = spawn(async {
        select2! { biased: false, default: false;
            r = tx.send(3), if true => r.is_ok(),
            _ = pending::<()>(), if true => false,
            default => unreachable!(),
        }
    });
    assert_pending!(receiving.poll());
    assert_ready_eq!(sending.poll(), true);
    assert!(receiving.is_woken());
    assert_ready_eq!(receiving.poll(), Some(3));
}

#[test]
#[should_panic(expected = "all select! arms are disabled and there is no `default` arm")]
fn all_arms_disabled_without_default_panics() {
    let (_tx, rx) = unbounded::<u8>();
    futures::executor::block_on(async {
        select2! { biased: false, default: false;
            v = rx.recv(), if false => v,
            _ = ready(()), if false => None,
            default => unreachable!(),
        }
    });
}

#[test]
fn precondition_false_does_not_evaluate_the_arm() {
    let (_tx, rx) = unbounded::<u8>();
    let evaluated = AtomicUsize::new(0);
    let out = futures::executor::block_on(async {
        select2! { biased: false, default: true;
            v = { evaluated.fetch_add(1, SeqCst); rx.recv() }, if false => v,
            _ = ready(()), if false => None,
            default => Some(0),
        }
    });
    assert_eq!((out, evaluated.load(SeqCst)), (Some(0), 0));
}

#[test]
fn refutable_pattern_mismatch_disables_the_arm() {
    let (tx, rx) = unbounded::<u8>();
    tx.close();
    let out = futures::executor::block_on(async {
        select2! { biased: true, default: false;
            Some(v) = rx.recv(), if true => v,
            v = ready(7), if true => v,
            default => unreachable!(),
        }
    });
    assert_eq!(out, 7);
}

#[test]
fn selected_arm_whose_pattern_fails_keeps_the_select_going() {
    let (tx1, rx1) = unbounded::<u8>();
    let (tx2, rx2) = unbounded::<u8>();
    let mut sel = spawn(async {
        select2! { biased: false, default: false;
            Some(v) = rx1.recv(), if true => (1, v),
            Some(v) = rx2.recv(), if true => (2, v),
            default => unreachable!(),
        }
    });
    assert_pending!(sel.poll());
    tx1.close(); // selects arm 0 with None: pattern fails
    assert!(sel.is_woken());
    assert_pending!(sel.poll());
    tx2.try_send(4).unwrap();
    assert!(sel.is_woken());
    assert_ready_eq!(sel.poll(), (2, 4));
}

#[test]
fn send_arm_on_closed_channel_reports_the_value() {
    let (tx, rx) = bounded::<u8>(1);
    rx.close();
    let out = futures::executor::block_on(async {
        select2! { biased: true, default: false;
            r = tx.send(3), if true => r,
            _ = pending::<()>(), if true => unreachable!(),
            default => unreachable!(),
        }
    });
    assert_eq!(out, Err(SendError(3)));
}

#[test]
fn ready_arms_win_with_equal_probability() {
    let (tx1, rx1) = unbounded();
    let (tx2, rx2) = unbounded();
    let rounds = 4000;
    let mut wins = [0usize; 2];
    futures::executor::block_on(async {
        for i in 0..rounds {
            tx1.try_send(i).unwrap();
            tx2.try_send(i).unwrap();
            let arm = select2! { biased: false, default: false;
                _ = rx1.recv(), if true => 0,
                _ = rx2.recv(), if true => 1,
                default => unreachable!(),
            };
            wins[arm] += 1;
            // Drain the loser so both stay ready next round.
            let _ = [rx1.try_recv(), rx2.try_recv()];
        }
    });
    assert_eq!(wins[0] + wins[1], rounds);
    assert!(wins.iter().all(|&w| w >= rounds / 4), "unfair: {wins:?}");
}

#[test]
fn biased_select_prefers_the_first_ready_arm() {
    let (tx1, rx1) = unbounded();
    let (tx2, rx2) = unbounded();
    futures::executor::block_on(async {
        for i in 0..50 {
            tx1.try_send(i).unwrap();
            tx2.try_send(i).unwrap();
            let arm = select2! { biased: true, default: false;
                _ = rx1.recv(), if true => 0,
                _ = rx2.recv(), if true => 1,
                default => unreachable!(),
            };
            assert_eq!(arm, 0);
        }
    });
    assert_eq!(rx2.len(), 50);
}

#[test]
fn dropping_a_selected_select_gives_the_value_back() {
    let (tx1, rx1) = unbounded();
    let (_tx2, rx2) = unbounded::<u8>();
    let mut sel = spawn(async {
        select2! { biased: false, default: false;
            v = rx1.recv(), if true => v,
            v = rx2.recv(), if true => v,
            default => unreachable!(),
        }
    });
    assert_pending!(sel.poll());
    tx1.try_send(42).unwrap();
    assert!(sel.is_woken());
    drop(sel);
    assert_eq!(rx1.try_recv(), Ok(42));
}

#[test]
fn select_waiting_does_not_block_plain_receivers() {
    let (tx, rx) = unbounded();
    let (_tx2, rx2) = unbounded::<u8>();
    let mut sel = spawn(async {
        select2! { biased: false, default: false;
            v = rx.recv(), if true => v,
            v = rx2.recv(), if true => v,
            default => unreachable!(),
        }
    });
    assert_pending!(sel.poll());
    let mut plain = spawn(rx.recv());
    assert_pending!(plain.poll());
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_ready_eq!(sel.poll(), Some(1), "FIFO: the select waited first");
    assert_ready_eq!(plain.poll(), Some(2));
}

#[test]
fn a_recv_polled_before_joining_a_select_obeys_exactly_one() {
    let (a_tx, a_rx) = rendezvous();
    let (b_tx, b_rx) = rendezvous();
    let waker = futures::task::noop_waker();
    let mut cx = core::task::Context::from_waker(&waker);
    let mut early = a_rx.recv();
    assert!(core::pin::Pin::new(&mut early).poll(&mut cx).is_pending());
    let mut sel = spawn(async {
        select2! { biased: false, default: false;
            v = early, if true => (0, v),
            v = b_rx.recv(), if true => (1, v),
            default => unreachable!(),
        }
    });
    assert_pending!(sel.poll());
    assert_eq!(b_tx.try_send(2), Ok(()));
    assert_eq!(
        a_tx.try_send(1),
        Err(TrySendError::Full(1)),
        "arm 0 lost: no effect"
    );
    assert_ready_eq!(sel.poll(), (1, Some(2)));
}
