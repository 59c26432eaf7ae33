//! Go's classic channel programs, written as tests (after Go's `test/chan/*.go` and
//! `runtime/chan_test.go`). Run under tokio's multi-thread runtime, `futures`' local
//! executor and plain threads: the channels need no particular executor.

#[path = "support/hand_select.rs"]
#[macro_use]
mod hand_select;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use waza_channel::{bounded, rendezvous, unbounded, Receiver, SendError, Sender};

fn scale(debug: usize, release: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

// --- sieve (Go's test/chan/sieve1.go) -------------------------------------------------

async fn generate(tx: Sender<u32>) {
    let mut i = 2;
    while tx.send(i).await.is_ok() {
        i += 1;
    }
}

async fn filter(rx: Receiver<u32>, tx: Sender<u32>, prime: u32) {
    while let Some(i) = rx.recv().await {
        if i % prime != 0 && tx.send(i).await.is_err() {
            return;
        }
    }
}

const FIRST_PRIMES: [u32; 25] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
];

fn is_prime(n: u32) -> bool {
    n >= 2 && (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

#[test]
fn sieve_on_tokio() {
    let rt = tokio_rt();
    let n = scale(100, 500);
    let primes = rt.block_on(async move {
        let mut tasks = Vec::new();
        let (tx, mut rx) = rendezvous();
        tasks.push(tokio::spawn(generate(tx)));
        let mut primes = Vec::new();
        for _ in 0..n {
            let prime = rx.recv().await.unwrap();
            primes.push(prime);
            let (tx1, rx1) = rendezvous();
            tasks.push(tokio::spawn(filter(rx, tx1, prime)));
            rx = rx1;
        }
        drop(rx); // the chain unwinds: every send fails in turn
        for t in tasks {
            t.await.unwrap();
        }
        primes
    });
    assert_eq!(primes[..25], FIRST_PRIMES);
    assert!(primes.iter().all(|&p| is_prime(p)));
    assert_eq!(primes.len(), n);
}

#[test]
fn sieve_on_a_local_executor() {
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let primes = pool.run_until(async move {
        let (tx, mut rx) = bounded(2);
        spawner.spawn_local(generate(tx)).unwrap();
        let mut primes = Vec::new();
        for _ in 0..50 {
            let prime = rx.recv().await.unwrap();
            primes.push(prime);
            let (tx1, rx1) = bounded(2);
            spawner.spawn_local(filter(rx, tx1, prime)).unwrap();
            rx = rx1;
        }
        primes
    });
    assert_eq!(primes[..25], FIRST_PRIMES);
    assert!(primes.iter().all(|&p| is_prime(p)));
}

// --- daisy chain (Go's "Chinese whispers") --------------------------------------------

#[test]
fn daisy_chain_of_rendezvous_channels() {
    let n = scale(2_000, 50_000);
    let rt = tokio_rt();
    let out = rt.block_on(async move {
        let (leftmost_tx, leftmost_rx) = rendezvous::<usize>();
        let mut right_tx = leftmost_tx;
        for _ in 0..n {
            let (tx, rx) = rendezvous::<usize>();
            let left = right_tx;
            tokio::spawn(async move {
                let v = rx.recv().await.unwrap();
                left.send(v + 1).await.unwrap();
            });
            right_tx = tx;
        }
        tokio::spawn(async move { right_tx.send(1).await.unwrap() });
        leftmost_rx.recv().await.unwrap()
    });
    assert_eq!(out, n + 1);
}

// --- ping-pong ------------------------------------------------------------------------

#[test]
fn ping_pong_between_tasks() {
    let rounds = scale(2_000, 100_000);
    let rt = tokio_rt();
    rt.block_on(async move {
        let (ping_tx, ping_rx) = rendezvous::<usize>();
        let (pong_tx, pong_rx) = rendezvous::<usize>();
        let player = tokio::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v + 1).await.unwrap();
            }
        });
        let mut ball = 0;
        for _ in 0..rounds {
            ping_tx.send(ball).await.unwrap();
            ball = pong_rx.recv().await.unwrap();
        }
        drop(ping_tx);
        player.await.unwrap();
        assert_eq!(ball, rounds);
    });
}

#[test]
fn ping_pong_between_threads_and_a_task() {
    let rounds = scale(1_000, 20_000);
    let (ping_tx, ping_rx) = rendezvous::<usize>();
    let (pong_tx, pong_rx) = bounded::<usize>(1);
    let thread = std::thread::spawn(move || {
        while let Some(v) = ping_rx.recv_blocking() {
            pong_tx.send_blocking(v + 1).unwrap();
        }
    });
    let ball = futures::executor::block_on(async move {
        let mut ball = 0;
        for _ in 0..rounds {
            ping_tx.send(ball).await.unwrap();
            ball = pong_rx.recv().await.unwrap();
        }
        ball
    });
    thread.join().unwrap();
    assert_eq!(ball, rounds);
}

// --- close while blocked (Go's TestChanClose*) ----------------------------------------

#[test]
fn close_while_senders_and_receivers_are_blocked() {
    let (full_tx, full_rx) = bounded::<usize>(1);
    full_tx.try_send(usize::MAX).unwrap();
    let (empty_tx, empty_rx) = rendezvous::<usize>();
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for i in 0..4 {
        let tx = full_tx.clone();
        senders.push(std::thread::spawn(move || tx.send_blocking(i)));
        let rx = empty_rx.clone();
        receivers.push(std::thread::spawn(move || rx.recv_blocking()));
    }
    let rt = tokio_rt();
    let tasks: Vec<_> = (4..8)
        .map(|i| {
            let tx = full_tx.clone();
            rt.spawn(async move { tx.send(i).await })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(full_rx.close());
    assert!(empty_tx.close());
    for (i, s) in senders.into_iter().enumerate() {
        assert_eq!(s.join().unwrap(), Err(SendError(i)), "own value given back");
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(rt.block_on(t).unwrap(), Err(SendError(i + 4)));
    }
    for r in receivers {
        assert_eq!(r.join().unwrap(), None);
    }
    assert_eq!(
        full_rx.recv_blocking(),
        Some(usize::MAX),
        "buffer drains after close"
    );
    assert_eq!(full_rx.recv_blocking(), None);
}

// --- non-blocking races (Go's test/chan/nonblock.go) ----------------------------------

#[test]
fn nonblocking_send_and_recv_eventually_pair() {
    for cap in [0, 1, 4] {
        for _ in 0..scale(50, 500) {
            let (tx, rx) = bounded::<u32>(cap);
            let t = std::thread::spawn(move || rx.recv_blocking());
            let mut v = 7;
            loop {
                match tx.try_send(v) {
                    Ok(()) => break,
                    Err(e) => v = e.into_inner(),
                }
                std::thread::yield_now();
            }
            assert_eq!(t.join().unwrap(), Some(7));

            let (tx, rx) = bounded::<u32>(cap);
            let t = std::thread::spawn(move || tx.send_blocking(8));
            let got = loop {
                if let Ok(v) = rx.try_recv() {
                    break v;
                }
                std::thread::yield_now();
            };
            assert_eq!(got, 8);
            assert_eq!(t.join().unwrap(), Ok(()));
        }
    }
}

// --- select races (Go's test/chan/doubleselect.go, TestSelfSelect) --------------------

/// Each value is sent once, by a select over two rendezvous channels; two readers
/// forward into one mux channel. Every value must arrive exactly once.
#[test]
fn double_select_delivers_each_value_once() {
    let n = scale(2_000, 50_000);
    let rt = tokio_rt();
    let seen = rt.block_on(async move {
        let (c1_tx, c1_rx) = rendezvous::<usize>();
        let (c2_tx, c2_rx) = rendezvous::<usize>();
        let (mux_tx, mux_rx) = unbounded::<usize>();
        tokio::spawn(async move {
            for i in 0..n {
                select2! { biased: false, default: false;
                    r = c1_tx.send(i), if true => r.unwrap(),
                    r = c2_tx.send(i), if true => r.unwrap(),
                    default => unreachable!(),
                }
            }
        });
        for rx in [c1_rx.clone(), c2_rx.clone(), c1_rx, c2_rx] {
            let mux = mux_tx.clone();
            tokio::spawn(async move {
                while let Some(v) = rx.recv().await {
                    mux.send(v).await.unwrap();
                }
            });
        }
        drop(mux_tx);
        let mut seen = HashSet::new();
        while let Some(v) = mux_rx.recv().await {
            assert!(seen.insert(v), "duplicate {v}");
        }
        seen
    });
    assert_eq!(seen.len(), n);
}

/// Two tasks each select between sending and receiving on one channel; on a rendezvous
/// channel a select must never receive its own value.
#[test]
fn self_select_never_pairs_with_itself() {
    for cap in [0usize, 1, 10] {
        let n = scale(1_000, 20_000);
        let rt = tokio_rt();
        let self_receives = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let (tx, rx) = bounded::<usize>(cap);
            let mut tasks = Vec::new();
            for p in 0..2usize {
                let (tx, rx, selfs) = (tx.clone(), rx.clone(), self_receives.clone());
                tasks.push(tokio::spawn(async move {
                    for _ in 0..n {
                        let got = select2! { biased: false, default: false;
                            r = tx.send(p), if true => { r.unwrap(); None },
                            v = rx.recv(), if true => v,
                            default => unreachable!(),
                        };
                        if got == Some(p) {
                            selfs.fetch_add(1, SeqCst);
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        if cap == 0 {
            assert_eq!(self_receives.load(SeqCst), 0);
        }
    }
}

#[test]
fn select_on_a_closed_channel_is_ready() {
    let (tx, rx) = rendezvous::<u8>();
    drop(tx);
    let (_tx2, rx2) = rendezvous::<u8>();
    let got = futures::executor::block_on(async {
        select2! { biased: false, default: false;
            v = rx.recv(), if true => v,
            v = rx2.recv(), if true => v,
            default => unreachable!(),
        }
    });
    assert_eq!(got, None);
}
