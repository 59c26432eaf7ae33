//! Stress tests for `select!` on rendezvous channels: exactly-once delivery under
//! contention, and cancellation storms (selects dropped at random points).
//!
//! Shape of every test: *selectors* loop on
//! `select! { r = a_tx.send(id) => .., v = b_rx.recv() => .. }` over two rendezvous channels
//! A and B, while *A-receivers* take from A (closing it after a quota) and *B-senders* put
//! unique ids into B (closing it when they are all done). Every value carries a unique id;
//! at the end every id is accounted for exactly once, and the arm each select reported
//! matches what happened on the channels.

mod select_support;

use futures::executor::block_on;
use select_support::{poll_once, scaled, select, watchdog, Rng};
use std::collections::HashSet;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use waza_channel::{rendezvous, Receiver, SendError, Sender};

/// Id of the `n`-th value offered by party `who` of kind `kind` (1: selector, 2: B-sender).
fn id(kind: u64, who: usize, n: usize) -> u64 {
    (kind << 48) | ((who as u64) << 32) | n as u64
}

/// What one select reported.
#[derive(Debug)]
enum Won {
    Sent(Result<(), SendError<u64>>),
    Got(Option<u64>),
}

/// What one selector saw.
#[derive(Default)]
struct SelectorLog {
    /// Ids its send arm reported as sent.
    sent: Vec<u64>,
    /// Ids offered by attempts that finished with another arm or with a send error: these
    /// must never reach an A-receiver.
    not_sent: Vec<u64>,
    /// Every id it offered (including cancelled attempts).
    offered: Vec<u64>,
    /// Values its recv arm reported.
    got: Vec<u64>,
    /// Attempts dropped before completing.
    cancelled: usize,
}

/// Applies one select result to the selector state; `false` once both channels are closed.
fn record(log: &mut SelectorLog, offered: u64, won: Won, a_open: &mut bool, b_open: &mut bool) {
    match won {
        Won::Sent(Ok(())) => log.sent.push(offered),
        Won::Sent(Err(SendError(back))) => {
            assert_eq!(back, offered, "a failed send must hand back its own value");
            log.not_sent.push(offered);
            *a_open = false;
        }
        Won::Got(Some(v)) => {
            log.not_sent.push(offered);
            log.got.push(v);
        }
        Won::Got(None) => {
            log.not_sent.push(offered);
            *b_open = false;
        }
    }
}

/// One select over the two channels; a closed side is disabled by its precondition.
async fn select_once(
    a_tx: &Sender<u64>,
    b_rx: &Receiver<u64>,
    offer: u64,
    a_open: bool,
    b_open: bool,
) -> Won {
    select! {
        r = a_tx.send(offer), if a_open => Won::Sent(r),
        v = b_rx.recv(), if b_open => Won::Got(v),
    }
}

/// Sizes of one run.
#[derive(Clone, Copy)]
struct Plan {
    selectors: usize,
    a_receivers: usize,
    b_senders: usize,
    /// A closes once this many values were taken from it.
    a_quota: usize,
    /// Values each B-sender sends.
    per_b_sender: usize,
    /// Cancel selects at random points.
    cancel: bool,
}

/// A-receiver: takes values until A closes; closes A once the shared quota is reached.
/// Alternates a blocking receive with a select-based one.
fn a_receiver(a_rx: Receiver<u64>, taken: Arc<AtomicUsize>, quota: usize) -> Vec<u64> {
    let (_keep, quiet) = rendezvous::<u64>();
    let mut got = Vec::new();
    for turn in 0.. {
        let v = if turn % 2 == 0 {
            a_rx.recv_blocking()
        } else {
            block_on(async {
                select! {
                    v = a_rx.recv() => v,
                    _ = quiet.recv() => unreachable!("nobody sends on the quiet channel"),
                }
            })
        };
        let Some(v) = v else { break };
        got.push(v);
        if taken.fetch_add(1, Ordering::Relaxed) + 1 == quota {
            a_rx.close();
        }
    }
    got
}

/// B-sender: sends `n` unique ids; all of them must be accepted.
fn b_sender(b_tx: Sender<u64>, who: usize, n: usize) -> Vec<u64> {
    (0..n)
        .map(|k| {
            let v = id(2, who, k);
            b_tx.send_blocking(v)
                .expect("B closes only after every B-sender is done");
            v
        })
        .collect()
}

/// Selector without cancellation: every select runs to completion.
fn selector(a_tx: Sender<u64>, b_rx: Receiver<u64>, who: usize) -> SelectorLog {
    let mut log = SelectorLog::default();
    let (mut a_open, mut b_open) = (true, true);
    block_on(async {
        while a_open || b_open {
            // A fresh id per attempt: a losing attempt's id must never show up at A.
            let offer = id(1, who, log.offered.len());
            log.offered.push(offer);
            let won = select_once(&a_tx, &b_rx, offer, a_open, b_open).await;
            record(&mut log, offer, won, &mut a_open, &mut b_open);
        }
    });
    log
}

/// Selector that drops its select at random points: each attempt is polled 1-3 times with a
/// no-op waker and dropped if still pending, or (one in four) run to completion.
fn cancelling_selector(a_tx: Sender<u64>, b_rx: Receiver<u64>, who: usize) -> SelectorLog {
    let mut log = SelectorLog::default();
    let mut rng = Rng(0x9E37_79B9 ^ ((who as u64 + 1) * 0x1234_5678_9ABC));
    let (mut a_open, mut b_open) = (true, true);
    while a_open || b_open {
        // Every attempt offers a fresh id, so a value delivered by a cancelled attempt can
        // never be confused with another attempt's.
        let offer = id(1, who, log.offered.len());
        log.offered.push(offer);
        let mut fut = pin!(select_once(&a_tx, &b_rx, offer, a_open, b_open));
        let won = if rng.below(4) == 0 {
            Some(block_on(fut.as_mut()))
        } else {
            let mut won = None;
            for _ in 0..=rng.below(3) {
                if let Poll::Ready(w) = poll_once(fut.as_mut()) {
                    won = Some(w);
                    break;
                }
                std::thread::yield_now();
            }
            won
        };
        match won {
            Some(won) => record(&mut log, offer, won, &mut a_open, &mut b_open),
            None => log.cancelled += 1,
        }
    }
    log
}

/// Runs one plan on OS threads and checks conservation.
fn run(plan: Plan) {
    let (a_tx, a_rx) = rendezvous::<u64>();
    let (b_tx, b_rx) = rendezvous::<u64>();
    let taken = Arc::new(AtomicUsize::new(0));
    let selectors: Vec<_> = (0..plan.selectors)
        .map(|who| {
            let (a_tx, b_rx) = (a_tx.clone(), b_rx.clone());
            std::thread::spawn(move || {
                if plan.cancel {
                    cancelling_selector(a_tx, b_rx, who)
                } else {
                    selector(a_tx, b_rx, who)
                }
            })
        })
        .collect();
    let a_receivers: Vec<_> = (0..plan.a_receivers)
        .map(|_| {
            let (a_rx, taken) = (a_rx.clone(), taken.clone());
            std::thread::spawn(move || a_receiver(a_rx, taken, plan.a_quota))
        })
        .collect();
    let b_senders: Vec<_> = (0..plan.b_senders)
        .map(|who| {
            let b_tx = b_tx.clone();
            std::thread::spawn(move || b_sender(b_tx, who, plan.per_b_sender))
        })
        .collect();
    drop((a_tx, a_rx, b_tx, b_rx));

    let logs: Vec<SelectorLog> = selectors.into_iter().map(|h| h.join().unwrap()).collect();
    let a_got: Vec<u64> = a_receivers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let b_sent: Vec<u64> = b_senders
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    check(plan, &logs, &a_got, &b_sent);
}

/// Conservation: every value accounted for exactly once, every reported arm took effect,
/// and no losing arm did.
fn check(plan: Plan, logs: &[SelectorLog], a_got: &[u64], b_sent: &[u64]) {
    let a_set = unique(a_got, "received from A");
    assert!(a_got.len() >= plan.a_quota, "A closed before its quota");
    let reported_sent = unique(logs.iter().flat_map(|l| &l.sent).copied(), "reported sent");
    for l in logs {
        for v in &l.not_sent {
            assert!(
                !a_set.contains(v),
                "id {v:#x} reached A though its select reported another arm"
            );
        }
    }
    let cancelled: usize = logs.iter().map(|l| l.cancelled).sum();
    eprintln!(
        "A: {} received, {} reported sent; B: {} sent; {} selects cancelled",
        a_got.len(),
        reported_sent.len(),
        b_sent.len(),
        cancelled
    );
    if plan.cancel {
        assert!(
            cancelled > 0,
            "the storm cancelled no select: nothing was tested"
        );
        // Cancelled attempts may have delivered (exactly once); all else must match.
        let offered = unique(logs.iter().flat_map(|l| &l.offered).copied(), "offered");
        assert!(
            reported_sent.is_subset(&a_set),
            "a reported send never arrived"
        );
        assert!(
            a_set.is_subset(&offered),
            "A received a value nobody offered"
        );
    } else {
        assert_eq!(
            reported_sent, a_set,
            "reported sends and A's receipts differ"
        );
    }
    let b_set = unique(b_sent, "sent into B");
    let b_got = unique(logs.iter().flat_map(|l| &l.got).copied(), "received from B");
    assert_eq!(
        b_got, b_set,
        "values sent into B and values received from it differ"
    );
    assert_eq!(b_set.len(), plan.b_senders * plan.per_b_sender);
}

fn unique<'a>(
    values: impl IntoIterator<Item = impl std::borrow::Borrow<u64> + 'a>,
    what: &str,
) -> HashSet<u64> {
    let mut set = HashSet::new();
    for v in values {
        let v = *v.borrow();
        assert!(set.insert(v), "id {v:#x} {what} twice");
    }
    set
}

#[test]
fn exactly_once_under_contention() {
    watchdog("exactly_once_under_contention", 120, || {
        run(Plan {
            selectors: 3,
            a_receivers: 2,
            b_senders: 2,
            a_quota: scaled(100_000, 10),
            per_b_sender: scaled(50_000, 10),
            cancel: false,
        })
    });
}

#[test]
fn exactly_once_with_many_selectors_and_one_partner_each() {
    watchdog("exactly_once_many_selectors", 120, || {
        run(Plan {
            selectors: 6,
            a_receivers: 1,
            b_senders: 1,
            a_quota: scaled(50_000, 10),
            per_b_sender: scaled(50_000, 10),
            cancel: false,
        })
    });
}

#[test]
fn cancellation_storm_conserves_values() {
    watchdog("cancellation_storm_conserves_values", 120, || {
        run(Plan {
            selectors: 3,
            a_receivers: 2,
            b_senders: 2,
            a_quota: scaled(50_000, 10),
            per_b_sender: scaled(25_000, 10),
            cancel: true,
        })
    });
}

#[test]
fn selectors_as_tokio_tasks_with_timeouts_as_cancellation() {
    watchdog("selectors_as_tokio_tasks", 120, || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let a_quota = scaled(50_000, 10);
        let per_b = scaled(25_000, 10);
        let (a_tx, a_rx) = rendezvous::<u64>();
        let (b_tx, b_rx) = rendezvous::<u64>();
        let taken = Arc::new(AtomicUsize::new(0));
        let selectors: Vec<_> = (0..4)
            .map(|who| {
                let (a_tx, b_rx) = (a_tx.clone(), b_rx.clone());
                rt.spawn(async move {
                    let mut log = SelectorLog::default();
                    let (mut a_open, mut b_open) = (true, true);
                    let mut turn = 0u64;
                    while a_open || b_open {
                        turn += 1;
                        let offer = id(1, who, log.offered.len());
                        log.offered.push(offer);
                        let attempt = select_once(&a_tx, &b_rx, offer, a_open, b_open);
                        // Every third attempt races a yield: the select is dropped wherever
                        // it is when the yield wins.
                        let won = if turn % 3 == 0 {
                            tokio::select! {
                                w = attempt => Some(w),
                                _ = tokio::task::yield_now() => None,
                            }
                        } else {
                            Some(attempt.await)
                        };
                        match won {
                            Some(won) => record(&mut log, offer, won, &mut a_open, &mut b_open),
                            None => log.cancelled += 1,
                        }
                    }
                    log
                })
            })
            .collect();
        let a_receivers: Vec<_> = (0..2)
            .map(|_| {
                let (a_rx, taken) = (a_rx.clone(), taken.clone());
                std::thread::spawn(move || a_receiver(a_rx, taken, a_quota))
            })
            .collect();
        let b_senders: Vec<_> = (0..2)
            .map(|who| {
                let b_tx = b_tx.clone();
                std::thread::spawn(move || b_sender(b_tx, who, per_b))
            })
            .collect();
        drop((a_tx, a_rx, b_tx, b_rx));
        let logs: Vec<SelectorLog> = rt.block_on(async {
            let mut logs = Vec::new();
            for h in selectors {
                logs.push(h.await.unwrap());
            }
            logs
        });
        let a_got: Vec<u64> = a_receivers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let b_sent: Vec<u64> = b_senders
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let plan = Plan {
            selectors: 4,
            a_receivers: 2,
            b_senders: 2,
            a_quota,
            per_b_sender: per_b,
            cancel: true,
        };
        check(plan, &logs, &a_got, &b_sent);
    });
}
