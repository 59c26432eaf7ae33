//! Go's own select test programs, ported: `test/chan/select.go` (send values evaluated once
//! per select, nil channels), `select3.go` (nil and closed channels), `select6.go` (issue
//! 2075: a failed case must leave the other waiters' queue entries intact), `select7.go`
//! (every send/recv × plain/select combination), and `runtime/chan_test.go`'s
//! `TestSelectStress` (plain and select senders and receivers on channels of capacity
//! 0, 0, 2 and 3, all at once).
//!
//! Go's `nil` channel in a select (never ready) is a precondition `, if false` here, and
//! goroutines are OS threads driving `futures::executor::block_on`.

mod select_support;

use futures::executor::block_on;
use select_support::{scaled, select, watchdog};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use waza_channel::{bounded, rendezvous, unbounded, Receiver, SendError, Sender};

/// Go's `test/chan/select.go`.
#[test]
fn select_go_send_values_are_evaluated_once_per_select() {
    let counter = Cell::new(0u32);
    let shift = Cell::new(0u32);
    let get_value = || {
        counter.set(counter.get() + 1);
        1u32 << shift.get()
    };
    // Sends on `a` and `b` until neither can proceed; a channel is "nil" once used (or
    // from the start when its flag is false).
    let send = |a: &Sender<u32>, mut a_on: bool, b: &Sender<u32>, mut b_on: bool| -> u32 {
        let mut i = 0;
        loop {
            let done = block_on(async {
                select! {
                    r = a.send(get_value()), if a_on => { r.unwrap(); i += 1; a_on = false; false }
                    r = b.send(get_value()), if b_on => { r.unwrap(); i += 1; b_on = false; false }
                    default => true,
                }
            });
            if done {
                return i;
            }
            shift.set(shift.get() + 1);
        }
    };
    let (a_tx, a_rx) = bounded::<u32>(1);
    let (b_tx, b_rx) = bounded::<u32>(1);
    assert_eq!(send(&a_tx, true, &b_tx, true), 2);
    assert_eq!(send(&a_tx, true, &b_tx, true), 0); // both buffers are full
    let (v, w) = (a_rx.try_recv().unwrap(), b_rx.try_recv().unwrap());
    assert_eq!(v | w, 3);
    assert_eq!(send(&a_tx, true, &b_tx, false), 1);
    // Go counts 10 because it evaluates the send value of a nil-channel case too; waza does
    // not evaluate an arm whose precondition is false, so: 2 + 1 + 0 (first call), 2
    // (second), 1 + 0 (third).
    assert_eq!(counter.get(), 6);
}

/// Go's `test/chan/select3.go`, the parts that apply: a nil channel never proceeds, a
/// closed channel always does (receives get "closed", sends get their value back).
#[test]
fn select3_go_nil_and_closed_channels() {
    let (tx, rx) = rendezvous::<u32>();
    let (ctx, crx) = unbounded::<u32>();
    ctx.close();
    block_on(async {
        for _ in 0..100 {
            // Nil channels: only default can run, even with partners present elsewhere.
            let r = select! {
                _ = rx.recv(), if false => "recv",
                _ = tx.send(1), if false => "send",
                default => "default",
            };
            assert_eq!(r, "default");
            // Closed channels are always ready, never the default.
            let r = select! {
                v = crx.recv() => v,
                default => Some(99),
            };
            assert_eq!(r, None);
            let r = select! {
                r = ctx.send(5) => r,
                default => Ok(()),
            };
            assert_eq!(r, Err(SendError(5)));
        }
    });
}

/// Go's `test/chan/select6.go` (issue 2075).
#[test]
fn select6_go_failed_case_keeps_other_waiters_queued() {
    watchdog("select6_go", 60, || {
        for _ in 0..scaled(200, 4) {
            let (c1_tx, c1_rx) = rendezvous::<bool>();
            let (c2_tx, c2_rx) = rendezvous::<bool>();
            let (c3_tx, c3_rx) = rendezvous::<bool>();
            let plain = {
                let c1_rx = c1_rx.clone();
                thread::spawn(move || c1_rx.recv_blocking())
            };
            let selecting = thread::spawn(move || {
                block_on(async {
                    select! {
                        _ = c1_rx.recv() => panic!("dummy: c1 is only sent on after c3"),
                        _ = c2_rx.recv() => c3_tx.send(true).await.unwrap(),
                    }
                });
                c1_rx.recv_blocking()
            });
            let c2_sender = thread::spawn(move || c2_tx.send_blocking(true));
            assert_eq!(c3_rx.recv_blocking(), Some(true));
            c1_tx.send_blocking(true).unwrap();
            c1_tx.send_blocking(true).unwrap();
            assert_eq!(plain.join().unwrap(), Some(true));
            assert_eq!(selecting.join().unwrap(), Some(true));
            c2_sender.join().unwrap().unwrap();
        }
    });
}

/// The three ways `select7.go` receives: plain, one-arm select, two-arm select.
fn recv_kind(kind: usize, c: Receiver<u32>) -> Option<u32> {
    match kind {
        0 => c.recv_blocking(),
        1 => block_on(async {
            select! { v = c.recv() => v }
        }),
        _ => {
            let (_keep, c2) = rendezvous::<u32>();
            block_on(async {
                select! {
                    v = c.recv() => v,
                    _ = c2.recv() => unreachable!("nobody sends on c2"),
                }
            })
        }
    }
}

/// The three ways `select7.go` sends.
fn send_kind(kind: usize, c: &Sender<u32>) {
    match kind {
        0 => c.send_blocking(1).unwrap(),
        1 => block_on(async {
            select! { r = c.send(1) => r.unwrap() }
        }),
        _ => {
            let (c2, _keep) = rendezvous::<u32>();
            block_on(async {
                select! {
                    r = c.send(1) => r.unwrap(),
                    _ = c2.send(1) => unreachable!("nobody receives on c2"),
                }
            })
        }
    }
}

/// Go's `test/chan/select7.go`: every sender kind against every receiver kind.
#[test]
fn select7_go_every_send_and_recv_combination() {
    watchdog("select7_go", 60, || {
        for _ in 0..scaled(50, 5) {
            for s in 0..3 {
                for r in 0..3 {
                    let (tx, rx) = rendezvous::<u32>();
                    let receiver = thread::spawn(move || recv_kind(r, rx));
                    thread::yield_now();
                    send_kind(s, &tx);
                    assert_eq!(
                        receiver.join().unwrap(),
                        Some(1),
                        "send kind {s}, recv kind {r}"
                    );
                }
            }
        }
    });
}

/// `runtime/chan_test.go`'s `TestSelectStress`.
#[test]
fn select_stress_go_mixed_capacities() {
    watchdog("select_stress_go", 120, || {
        let n = scaled(100_000, 20);
        let caps = [0, 0, 2, 3];
        let chans: Vec<(Sender<u64>, Receiver<u64>)> =
            caps.iter().map(|&c| bounded::<u64>(c)).collect();
        let received: Arc<Vec<AtomicUsize>> =
            Arc::new((0..4).map(|_| AtomicUsize::new(0)).collect());
        let mut threads = Vec::new();
        // Tag values: (who << 40) | (channel << 32) | seq, so each is unique.
        let tag = |who: u64, ch: usize, seq: usize| (who << 40) | ((ch as u64) << 32) | seq as u64;
        // One plain sender and one plain receiver per channel.
        for (k, (tx, rx)) in chans.iter().enumerate() {
            let tx = tx.clone();
            threads.push(thread::spawn(move || {
                for i in 0..n {
                    tx.send_blocking(tag(1, k, i)).unwrap();
                }
                Vec::new()
            }));
            let rx = rx.clone();
            threads.push(thread::spawn(move || {
                (0..n)
                    .map(|_| rx.recv_blocking().unwrap())
                    .collect::<Vec<u64>>()
            }));
        }
        // One select sending N values on each channel; a channel is "nil" once done.
        let txs: Vec<Sender<u64>> = chans.iter().map(|c| c.0.clone()).collect();
        threads.push(thread::spawn(move || {
            let mut sent = [0usize; 4];
            block_on(async {
                for _ in 0..4 * n {
                    let k = select! {
                        r = txs[3].send(tag(2, 3, sent[3])), if sent[3] < n => { r.unwrap(); 3 }
                        r = txs[2].send(tag(2, 2, sent[2])), if sent[2] < n => { r.unwrap(); 2 }
                        r = txs[0].send(tag(2, 0, sent[0])), if sent[0] < n => { r.unwrap(); 0 }
                        r = txs[1].send(tag(2, 1, sent[1])), if sent[1] < n => { r.unwrap(); 1 }
                    };
                    sent[k] += 1;
                }
            });
            assert_eq!(sent, [n; 4]);
            Vec::new()
        }));
        // One select receiving N values from each channel.
        let rxs: Vec<Receiver<u64>> = chans.iter().map(|c| c.1.clone()).collect();
        let counts = received.clone();
        threads.push(thread::spawn(move || {
            let mut got = Vec::with_capacity(4 * n);
            let mut taken = [0usize; 4];
            block_on(async {
                for _ in 0..4 * n {
                    let (k, v) = select! {
                        v = rxs[0].recv(), if taken[0] < n => (0, v),
                        v = rxs[1].recv(), if taken[1] < n => (1, v),
                        v = rxs[2].recv(), if taken[2] < n => (2, v),
                        v = rxs[3].recv(), if taken[3] < n => (3, v),
                    };
                    let v = v.expect("channels stay open until every value is received");
                    assert_eq!(
                        (v >> 32) & 0xff,
                        k as u64,
                        "value came out of another channel"
                    );
                    taken[k] += 1;
                    counts[k].fetch_add(1, Ordering::Relaxed);
                    got.push(v);
                }
            });
            got
        }));
        drop(chans);
        let mut all: Vec<u64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        // 2N values went into each channel and 2N came out, each exactly once.
        assert_eq!(all.len(), 8 * n);
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 8 * n, "a value was received twice");
        for k in 0..4 {
            assert_eq!(received[k].load(Ordering::Relaxed), n);
        }
    });
}
