//! `waza::select!` on the waza runtime: selects, their partners and their cancellation all
//! run as waza tasks, so wake-ups go through the runtime's own wakers.
//!
//! Selectors loop on `select! { r = a_tx.send(id) => .., v = b_rx.recv() => .. }` over two
//! rendezvous channels; partner tasks take from A (closing it after a quota) and put unique
//! ids into B. At the end every id is accounted for exactly once and every reported arm
//! matches what happened on the channels.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use waza::chan::{rendezvous, Receiver, SendError, Sender};

fn scaled(release: usize, div: usize) -> usize {
    if cfg!(debug_assertions) {
        release / div
    } else {
        release
    }
}

/// What one selector task saw.
#[derive(Default)]
struct Log {
    sent: Vec<u64>,
    not_sent: Vec<u64>,
    offered: Vec<u64>,
    got: Vec<u64>,
    cancelled: usize,
}

#[derive(Clone, Copy)]
enum Cancel {
    Never,
    /// Every `n`-th select races a zero-length timeout (dropped wherever it is).
    EveryNth(u64),
}

async fn selector(a_tx: Sender<u64>, b_rx: Receiver<u64>, who: u64, cancel: Cancel) -> Log {
    let mut log = Log::default();
    let (mut a_open, mut b_open) = (true, true);
    let mut turn = 0u64;
    while a_open || b_open {
        turn += 1;
        let offer = (who << 32) | log.offered.len() as u64;
        log.offered.push(offer);
        let attempt = async {
            waza::select! {
                r = a_tx.send(offer), if a_open => Ok(r),
                v = b_rx.recv(), if b_open => Err(v),
            }
        };
        let won = match cancel {
            Cancel::EveryNth(n) if turn % n == 0 => {
                waza::time::timeout(Duration::ZERO, attempt).await.ok()
            }
            _ => Some(attempt.await),
        };
        match won {
            None => log.cancelled += 1,
            Some(Ok(Ok(()))) => log.sent.push(offer),
            Some(Ok(Err(SendError(back)))) => {
                assert_eq!(back, offer);
                log.not_sent.push(offer);
                a_open = false;
            }
            Some(Err(v)) => {
                log.not_sent.push(offer);
                match v {
                    Some(v) => log.got.push(v),
                    None => b_open = false,
                }
            }
        }
    }
    log
}

fn unique(values: impl IntoIterator<Item = u64>, what: &str) -> HashSet<u64> {
    let mut set = HashSet::new();
    for v in values {
        assert!(set.insert(v), "id {v:#x} {what} twice");
    }
    set
}

fn run(workers: usize, selectors: u64, cancel: Cancel) {
    let a_quota = scaled(20_000, 10);
    let per_b = scaled(10_000, 10) as u64;
    let rt = waza::Runtime::builder().workers(workers).build().unwrap();
    let (logs, a_got, b_sent) = rt.block_on(async move {
        let (a_tx, a_rx) = rendezvous::<u64>();
        let (b_tx, b_rx) = rendezvous::<u64>();
        let taken = Arc::new(AtomicUsize::new(0));
        let sel: Vec<_> = (0..selectors)
            .map(|who| waza::go!(selector(a_tx.clone(), b_rx.clone(), who + 1, cancel)))
            .collect();
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let (a_rx, taken) = (a_rx.clone(), taken.clone());
                waza::go!(async move {
                    let mut got = Vec::new();
                    while let Some(v) = a_rx.recv().await {
                        got.push(v);
                        if taken.fetch_add(1, Ordering::Relaxed) + 1 == a_quota {
                            a_rx.close();
                        }
                    }
                    got
                })
            })
            .collect();
        let senders: Vec<_> = (0..2u64)
            .map(|s| {
                let b_tx = b_tx.clone();
                waza::go!(async move {
                    let mut sent = Vec::new();
                    for k in 0..per_b {
                        let v = (1 << 60) | (s << 32) | k;
                        b_tx.send(v).await.expect("B closes only after its senders");
                        sent.push(v);
                    }
                    sent
                })
            })
            .collect();
        drop((a_tx, a_rx, b_tx, b_rx));
        let mut logs = Vec::new();
        for h in sel {
            logs.push(h.await.unwrap());
        }
        let mut a_got = Vec::new();
        for h in receivers {
            a_got.extend(h.await.unwrap());
        }
        let mut b_sent = Vec::new();
        for h in senders {
            b_sent.extend(h.await.unwrap());
        }
        (logs, a_got, b_sent)
    });
    let a_set = unique(a_got.iter().copied(), "received from A");
    assert!(a_set.len() >= a_quota);
    let reported = unique(logs.iter().flat_map(|l| l.sent.clone()), "reported sent");
    for v in logs.iter().flat_map(|l| &l.not_sent) {
        assert!(
            !a_set.contains(v),
            "{v:#x} reached A though its select took another arm"
        );
    }
    assert!(reported.is_subset(&a_set), "a reported send never arrived");
    let offered = unique(logs.iter().flat_map(|l| l.offered.clone()), "offered");
    assert!(
        a_set.is_subset(&offered),
        "A received a value nobody offered"
    );
    let cancelled: usize = logs.iter().map(|l| l.cancelled).sum();
    eprintln!(
        "A: {} received, {} reported sent; {cancelled} selects cancelled",
        a_set.len(),
        reported.len()
    );
    match cancel {
        Cancel::Never => {
            assert_eq!(reported, a_set);
            assert_eq!(cancelled, 0);
        }
        Cancel::EveryNth(_) => assert!(cancelled > 0, "no select was cancelled: nothing tested"),
    }
    let b_set = unique(b_sent, "sent into B");
    let b_got = unique(logs.iter().flat_map(|l| l.got.clone()), "received from B");
    assert_eq!(b_got, b_set);
    assert_eq!(b_set.len() as u64, 2 * per_b);
}

#[test]
fn exactly_once_on_two_workers() {
    run(2, 3, Cancel::Never);
}

#[test]
fn exactly_once_on_one_worker() {
    run(1, 3, Cancel::Never);
}

#[test]
fn timeouts_cancel_selects_without_losing_values() {
    run(2, 3, Cancel::EveryNth(3));
}
