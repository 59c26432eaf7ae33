//! `select!` over real channels: arm choice, fairness, `biased;`, `default`, refutable
//! patterns, preconditions, and rendezvous pairing (self-select, opposite selects).

mod select_support;

use futures::executor::block_on;
use futures::FutureExt;
use select_support::{poll_once, scaled, select, watchdog};
use std::future::ready;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use waza_channel::{bounded, rendezvous, unbounded, SendError, TryRecvError, TrySendError};

/// Fairness: over `rounds` selects on `n` always-ready arms, each arm must win at least
/// `rounds / (2n)` times (Go's uniform choice gives `rounds / n` on average).
fn assert_fair(wins: &[usize], rounds: usize) {
    let n = wins.len();
    let floor = rounds / (2 * n);
    assert_eq!(wins.iter().sum::<usize>(), rounds);
    for (i, &w) in wins.iter().enumerate() {
        assert!(
            w >= floor,
            "arm {i} of {n} won {w} of {rounds} rounds (< {floor}): {wins:?}"
        );
    }
}

const FAIR_ROUNDS: usize = 10_000;

#[test]
fn fairness_two_channel_arms() {
    let chans: Vec<_> = (0..2).map(|_| unbounded::<usize>()).collect();
    for (i, (tx, _)) in chans.iter().enumerate() {
        tx.try_send(i).unwrap();
    }
    let (r0, r1) = (&chans[0].1, &chans[1].1);
    let mut wins = [0; 2];
    block_on(async {
        for _ in 0..FAIR_ROUNDS {
            let i = select! {
                v = r0.recv() => v.unwrap(),
                v = r1.recv() => v.unwrap(),
            };
            wins[i] += 1;
            // Losing arms took nothing: exactly the winner's channel is empty now.
            assert_eq!(r0.len() + r1.len(), 1);
            chans[i].0.try_send(i).unwrap();
        }
    });
    assert_fair(&wins, FAIR_ROUNDS);
}

#[test]
fn fairness_three_mixed_arms() {
    // Two channel arms and one plain future arm.
    let (t0, r0) = bounded::<usize>(1);
    let (t1, r1) = bounded::<usize>(1);
    let mut wins = [0; 3];
    block_on(async {
        for _ in 0..FAIR_ROUNDS {
            t0.try_send(0).ok();
            t1.try_send(1).ok();
            let i = select! {
                v = r0.recv() => v.unwrap(),
                v = r1.recv() => v.unwrap(),
                v = ready(2usize) => v,
            };
            wins[i] += 1;
            let expected_left = if i == 2 { 2 } else { 1 };
            assert_eq!(r0.len() + r1.len(), expected_left);
        }
    });
    assert_fair(&wins, FAIR_ROUNDS);
}

#[test]
fn fairness_four_arms_including_sends() {
    // Two receives with a value waiting and two sends with room: all four always ready.
    let (in0, r0) = bounded::<u8>(1);
    let (in1, r1) = bounded::<u8>(1);
    let (s2, out2) = bounded::<u8>(1);
    let (s3, out3) = bounded::<u8>(1);
    let mut wins = [0; 4];
    block_on(async {
        for _ in 0..FAIR_ROUNDS {
            in0.try_send(0).ok();
            in1.try_send(1).ok();
            let _ = out2.try_recv();
            let _ = out3.try_recv();
            let i = select! {
                _ = r0.recv() => 0,
                _ = r1.recv() => 1,
                r = s2.send(2) => { r.unwrap(); 2 }
                r = s3.send(3) => { r.unwrap(); 3 }
            };
            wins[i] += 1;
            // Exactly one effect: one receive emptied its channel or one send filled its.
            let took = 2 - (r0.len() + r1.len());
            let put = out2.len() + out3.len();
            assert_eq!(took + put, 1, "round won by arm {i}");
        }
    });
    assert_fair(&wins, FAIR_ROUNDS);
}

#[test]
fn biased_takes_the_first_ready_arm_in_written_order() {
    let (t0, r0) = unbounded::<u32>();
    let (t1, r1) = unbounded::<u32>();
    for i in 0..100 {
        t0.try_send(i).unwrap();
        t1.try_send(i).unwrap();
    }
    block_on(async {
        for i in 0..100 {
            let v = select! {
                biased;
                v = r0.recv() => v.unwrap(),
                _ = r1.recv() => unreachable!("the second arm must never win while the first is ready"),
            };
            assert_eq!(v, i);
        }
        assert_eq!(r1.len(), 100);
        // First arm not ready: the second wins.
        let v = select! {
            biased;
            _ = r0.recv(), if false => unreachable!(),
            v = r1.recv() => v.unwrap(),
        };
        assert_eq!(v, 0);
    });
}

#[test]
fn default_runs_only_when_nothing_is_ready_and_has_no_effect() {
    let (tx, rx) = rendezvous::<u32>();
    let (tx2, rx2) = rendezvous::<u32>();
    block_on(async {
        for _ in 0..100 {
            let took_default = select! {
                _ = rx.recv() => false,
                _ = tx2.send(5) => false,
                default => true,
            };
            assert!(took_default);
            // No node was left behind: nobody waits on either end.
            assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
            assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
        }
        // A value in a buffer is ready: default is not taken.
        let (bt, br) = bounded::<u32>(1);
        bt.try_send(9).unwrap();
        let v = select! {
            v = br.recv() => v,
            default => None,
        };
        assert_eq!(v, Some(9));
    });
}

#[test]
fn default_select_completes_with_a_waiting_sender() {
    watchdog("default_select_completes_with_a_waiting_sender", 60, || {
        let (tx, rx) = rendezvous::<u32>();
        let sender = std::thread::spawn(move || tx.send_blocking(7));
        let v = block_on(async {
            loop {
                select! {
                    v = rx.recv() => break v,
                    default => std::thread::yield_now(),
                }
            }
        });
        assert_eq!(v, Some(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn refutable_pattern_on_a_closed_channel_disables_the_arm() {
    let (tx, rx) = unbounded::<u32>();
    drop(tx);
    block_on(async {
        for _ in 0..100 {
            let v = select! {
                Some(v) = rx.recv() => v,
                v = ready(1) => v,
            };
            assert_eq!(v, 1);
        }
        let v = select! {
            Some(v) = rx.recv() => v,
            default => 2,
        };
        assert_eq!(v, 2);
    });
}

#[test]
#[should_panic(expected = "all select! arms are disabled")]
fn all_arms_disabled_without_default_panics() {
    let (tx, rx) = unbounded::<u32>();
    drop(tx);
    block_on(async {
        select! {
            Some(v) = rx.recv() => v,
            v = ready(3), if false => v,
        }
    });
}

#[test]
fn false_precondition_leaves_the_channel_alone() {
    let (tx, rx) = bounded::<u32>(1);
    tx.try_send(4).unwrap();
    let calls = AtomicUsize::new(0);
    block_on(async {
        let r = select! {
            v = { calls.fetch_add(1, Ordering::Relaxed); rx.recv() }, if false => v,
            default => None,
        };
        assert_eq!(r, None);
    });
    assert_eq!(calls.load(Ordering::Relaxed), 0);
    assert_eq!(rx.try_recv(), Ok(4));
}

#[test]
fn losing_send_arm_drops_its_value_once_and_sends_nothing() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = rendezvous::<Counted>();
    block_on(async {
        let won = select! {
            biased;
            _ = ready(()) => "ready",
            _ = tx.send(Counted(drops.clone())) => "send",
        };
        assert_eq!(won, "ready");
    });
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));

    // A send arm on a closed channel wins with the value handed back.
    rx.close();
    let back = block_on(async {
        select! {
            r = tx.send(Counted(drops.clone())) => r,
        }
    });
    let Err(SendError(v)) = back else {
        panic!("send on a closed channel must fail")
    };
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    drop(v);
    assert_eq!(drops.load(Ordering::Relaxed), 2);
}

#[test]
fn select_in_a_loop_with_break() {
    let (tx, rx) = unbounded::<u64>();
    for i in 1..=10 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let sum = block_on(async {
        let mut sum = 0;
        loop {
            select! {
                v = rx.recv() => match v {
                    Some(v) => sum += v,
                    None => break,
                },
            }
        }
        sum
    });
    assert_eq!(sum, 55);
}

#[test]
fn self_select_on_one_rendezvous_channel_never_pairs_with_itself() {
    let (tx, rx) = rendezvous::<u32>();
    block_on(async {
        for _ in 0..100 {
            let r = select! {
                _ = tx.send(1) => "send",
                _ = rx.recv() => "recv",
                default => "default",
            };
            assert_eq!(r, "default");
        }
    });
    // Pending (both nodes linked on the one channel), then dropped: still no self-pairing.
    for _ in 0..100 {
        let mut fut = Box::pin(async {
            select! {
                _ = tx.send(1) => "send",
                _ = rx.recv() => "recv",
            }
        });
        assert!(poll_once(fut.as_mut()).is_pending());
        assert!(poll_once(fut.as_mut()).is_pending());
        drop(fut);
        assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn self_select_pairs_with_another_party() {
    watchdog("self_select_pairs_with_another_party", 120, || {
        let rounds = scaled(2_000, 10);
        let (tx, rx) = rendezvous::<usize>();
        let (tx2, rx2) = (tx.clone(), rx.clone());
        let selector = std::thread::spawn(move || {
            let mut arms = Vec::with_capacity(rounds);
            block_on(async {
                for i in 0..rounds {
                    let arm = select! {
                        r = tx2.send(i) => { r.unwrap(); ("send", i) }
                        v = rx2.recv() => ("recv", v.unwrap()),
                    };
                    arms.push(arm);
                }
            });
            arms
        });
        // The other party alternates: even rounds receive, odd rounds send.
        let mut expected = Vec::with_capacity(rounds);
        for i in 0..rounds {
            if i % 2 == 0 {
                assert_eq!(rx.recv_blocking(), Some(i));
                expected.push(("send", i));
            } else {
                tx.send_blocking(1_000_000 + i).unwrap();
                expected.push(("recv", 1_000_000 + i));
            }
        }
        assert_eq!(selector.join().unwrap(), expected);
    });
}

#[test]
fn opposite_selects_on_one_rendezvous_channel_always_pair() {
    watchdog("opposite_selects_always_pair", 120, || {
        let rounds = scaled(5_000, 10);
        let (tx, rx) = rendezvous::<usize>();
        // A second arm on each side that never becomes ready: a receive from a channel
        // nobody sends on, a send to a channel nobody receives from (both kept open).
        let (quiet_tx, quiet_rx) = rendezvous::<usize>();
        let (deaf_tx, deaf_rx) = rendezvous::<usize>();
        let sender = std::thread::spawn(move || {
            block_on(async {
                for i in 0..rounds {
                    select! {
                        r = tx.send(i) => r.unwrap(),
                        _ = quiet_rx.recv() => unreachable!("nobody sends on the quiet channel"),
                    }
                }
            });
        });
        let got: Vec<usize> = block_on(async {
            let mut got = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                select! {
                    v = rx.recv() => got.push(v.unwrap()),
                    _ = deaf_tx.send(0) => unreachable!("nobody receives on the deaf channel"),
                }
            }
            got
        });
        sender.join().unwrap();
        drop((quiet_tx, deaf_rx));
        assert_eq!(got, (0..rounds).collect::<Vec<_>>());
    });
}

#[test]
fn pending_select_is_completed_by_a_counterparty() {
    let (tx, rx) = rendezvous::<u32>();
    let (tx2, rx2) = rendezvous::<u32>();
    let mut fut = Box::pin(async {
        select! {
            v = rx.recv() => ("recv", v),
            r = tx2.send(8) => ("send", r.ok().map(|()| 8)),
        }
    });
    assert!(poll_once(fut.as_mut()).is_pending());
    // The select's recv node is waiting: a try_send hands the value to it.
    tx.try_send(3).unwrap();
    // Now the select is decided; its send arm must not fire any more.
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(("recv", Some(3))));
    drop(fut);
    // Without a winner yet, a receiver on the other channel takes the send arm.
    let mut fut = Box::pin(async {
        select! {
            v = rx.recv() => ("recv", v),
            r = tx2.send(8) => ("send", r.ok().map(|()| 8)),
        }
    });
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(rx2.try_recv(), Ok(8));
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(("send", Some(8))));
    // Completed futures from `now_or_never` behave the same.
    tx.try_send(1).unwrap_err();
    assert_eq!(
        async {
            select! { default => 0 }
        }
        .now_or_never(),
        Some(0)
    );
}

/// A select over `ready(n)` for each literal `n`, `biased;` or not.
macro_rules! select_over_ready {
    ($($n:literal)*) => {
        select! { $( v = ready($n) => v, )* }
    };
    (biased; $($n:literal)*) => {
        select! { biased; $( v = ready($n) => v, )* }
    };
}

#[test]
fn more_than_64_arms() {
    let mut wins = [0usize; 70];
    block_on(async {
        for _ in 0..7_000 {
            let i: usize = select_over_ready!(
                0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29
                30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56
                57 58 59 60 61 62 63 64 65 66 67 68 69
            );
            wins[i] += 1;
        }
        let first: usize = select_over_ready!(biased;
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29
            30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56
            57 58 59 60 61 62 63 64 65 66 67 68 69
        );
        assert_eq!(first, 0);
    });
    // Uniform choice: each arm wins 100 times on average; missing one entirely has
    // probability about 70 * e^-100.
    assert!(wins.iter().all(|&w| w > 0), "{wins:?}");
}
