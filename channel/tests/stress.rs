//! Stress tests with cancellation storms: futures are polled a few times and dropped at
//! random points. Every test checks conservation exactly — each produced value is either
//! received exactly once or dropped exactly once (never both, never twice), every send
//! that returned `Ok` was received — and FIFO per sender where the model promises it.
//!
//! Counts are small in debug builds; CI runs `cargo test --release -p waza-channel
//! --test stress` for the heavy variant.

#[path = "support/hand_select.rs"]
#[macro_use]
mod hand_select;

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::atomic::{AtomicU8, Ordering::SeqCst};
use std::sync::Arc;

use futures::task::noop_waker;
use waza_channel::{bounded, rendezvous, unbounded, Receiver, Sender, TryRecvError};

const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;

fn per_producer() -> usize {
    if cfg!(debug_assertions) {
        300
    } else {
        50_000
    }
}

type Pair = (Sender<Val>, Receiver<Val>);
type Flavour = (&'static str, fn() -> Pair);

fn flavours() -> Vec<Flavour> {
    vec![
        ("bounded(4)", || bounded(4)),
        ("bounded(1)", || bounded(1)),
        ("unbounded", unbounded),
        ("rendezvous", rendezvous),
    ]
}

/// Per-value outcome counters.
struct Log {
    n: usize,
    received: Vec<AtomicU8>,
    dropped: Vec<AtomicU8>,
    sent_ok: Vec<AtomicU8>,
}

impl Log {
    fn new(producers: usize, n: usize) -> Arc<Log> {
        let mk = || (0..producers * n).map(|_| AtomicU8::new(0)).collect();
        Arc::new(Log {
            n,
            received: mk(),
            dropped: mk(),
            sent_ok: mk(),
        })
    }

    fn check(&self) {
        let mut received = 0;
        for i in 0..self.received.len() {
            let (r, d, ok) = (
                self.received[i].load(SeqCst),
                self.dropped[i].load(SeqCst),
                self.sent_ok[i].load(SeqCst),
            );
            assert_eq!(r + d, 1, "value {i}: received {r} times, dropped {d} times");
            assert!(
                ok == 0 || r == 1,
                "value {i}: send returned Ok but it was not received"
            );
            received += r as usize;
        }
        assert!(received > 0, "nothing got through");
    }
}

/// A produced value; records its drop unless a consumer recorded its receipt.
struct Val {
    producer: usize,
    seq: usize,
    log: Arc<Log>,
    armed: bool,
}

impl Val {
    fn new(log: &Arc<Log>, producer: usize, seq: usize) -> Val {
        Val {
            producer,
            seq,
            log: log.clone(),
            armed: true,
        }
    }

    fn idx(&self) -> usize {
        self.producer * self.log.n + self.seq
    }

    fn sent_ok(log: &Log, producer: usize, seq: usize) {
        log.sent_ok[producer * log.n + seq].fetch_add(1, SeqCst);
    }

    /// Records receipt; returns (producer, seq).
    fn receive(mut self) -> (usize, usize) {
        self.armed = false;
        self.log.received[self.idx()].fetch_add(1, SeqCst);
        (self.producer, self.seq)
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        if self.armed {
            self.log.dropped[self.idx()].fetch_add(1, SeqCst);
        }
    }
}

/// xorshift64.
struct Rng(u64);

impl Rng {
    fn new(seed: usize) -> Rng {
        Rng(0x9E37_79B9_7F4A_7C15 ^ (seed as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Polls `f` up to `polls` times with a no-op waker, yielding the thread in between and
/// before giving up (a thread abandoning it: a value may be handed over meanwhile).
fn poll_some<F: Future + Unpin>(f: &mut F, polls: u64) -> Option<F::Output> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    for _ in 0..polls {
        if let Poll::Ready(v) = Pin::new(&mut *f).poll(&mut cx) {
            return Some(v);
        }
        std::thread::yield_now();
    }
    None
}

/// Polls `f` with the task's context at most `polls` times; if it is woken after the last
/// of them, gives up without looking (`None`), so a value handed over by the waker's
/// counterparty is abandoned in the future and must be given back.
async fn poll_async<F: Future + Unpin>(f: &mut F, polls: u64) -> Option<F::Output> {
    let mut left = polls;
    core::future::poll_fn(|cx| {
        if left == 0 {
            return Poll::Ready(None);
        }
        left -= 1;
        Pin::new(&mut *f).poll(cx).map(Some)
    })
    .await
}

/// Order checker: per producer, the last sequence number a consumer saw.
struct Fifo(Vec<Option<usize>>);

impl Fifo {
    fn new() -> Fifo {
        Fifo(vec![None; PRODUCERS * 2])
    }

    fn see(&mut self, (producer, seq): (usize, usize)) {
        if let Some(last) = self.0[producer] {
            assert!(
                seq > last,
                "producer {producer}: {seq} arrived after {last}"
            );
        }
        self.0[producer] = Some(seq);
    }
}

// --- plain threads ---------------------------------------------------------------------

fn blocking_producer(tx: Sender<Val>, log: Arc<Log>, p: usize) {
    let mut rng = Rng::new(p);
    for seq in 0..log.n {
        let v = Val::new(&log, p, seq);
        let ok = match rng.below(4) {
            0 => {
                let mut fut = tx.send(v);
                matches!(poll_some(&mut fut, rng.below(3)), Some(Ok(())))
            }
            1 => match tx.try_send(v) {
                Ok(()) => true,
                Err(e) => tx.send_blocking(e.into_inner()).is_ok(),
            },
            _ => tx.send_blocking(v).is_ok(),
        };
        if ok {
            Val::sent_ok(&log, p, seq);
        }
    }
}

fn blocking_consumer(rx: Receiver<Val>, c: usize, cancel: bool, mut fifo: Fifo) {
    let mut rng = Rng::new(100 + c);
    loop {
        let got = match rng.below(4) {
            0 if cancel => {
                let mut fut = rx.recv();
                match poll_some(&mut fut, rng.below(3)) {
                    Some(v) => v,
                    None => continue,
                }
            }
            1 => match rx.try_recv() {
                Ok(v) => Some(v),
                Err(TryRecvError::Closed) => None,
                Err(TryRecvError::Empty) => {
                    std::thread::yield_now();
                    continue;
                }
            },
            _ => rx.recv_blocking(),
        };
        match got {
            Some(v) => fifo.see(v.receive()),
            None => return,
        }
    }
}

fn run_threads(make: fn() -> Pair, consumers: usize, recv_cancel: bool) {
    let log = Log::new(PRODUCERS, per_producer());
    let (tx, rx) = make();
    let mut handles = Vec::new();
    for p in 0..PRODUCERS {
        let (tx, log) = (tx.clone(), log.clone());
        handles.push(std::thread::spawn(move || blocking_producer(tx, log, p)));
    }
    for c in 0..consumers {
        let rx = rx.clone();
        let fifo = Fifo::new();
        handles.push(std::thread::spawn(move || {
            blocking_consumer(rx, c, recv_cancel, fifo)
        }));
    }
    drop((tx, rx));
    for h in handles {
        h.join().unwrap();
    }
    log.check();
}

#[test]
fn threads_mpmc_with_cancellation_conserve_values() {
    // Receivers cancel too, so a given-back value may overtake: conservation only.
    for (_, make) in flavours() {
        let log = Log::new(PRODUCERS, per_producer());
        let (tx, rx) = make();
        let mut handles = Vec::new();
        for p in 0..PRODUCERS {
            let (tx, log) = (tx.clone(), log.clone());
            handles.push(std::thread::spawn(move || blocking_producer(tx, log, p)));
        }
        for c in 0..CONSUMERS {
            let rx = rx.clone();
            handles.push(std::thread::spawn(move || {
                let mut rng = Rng::new(200 + c);
                loop {
                    let mut fut = rx.recv();
                    let got = match rng.below(3) {
                        0 => match poll_some(&mut fut, rng.below(3)) {
                            Some(v) => v,
                            None => continue,
                        },
                        _ => {
                            drop(fut);
                            rx.recv_blocking()
                        }
                    };
                    match got {
                        Some(v) => drop(v.receive()),
                        None => break,
                    }
                }
            }));
        }
        drop((tx, rx));
        for h in handles {
            h.join().unwrap();
        }
        log.check();
    }
}

#[test]
fn threads_mpmc_keep_fifo_per_sender_and_consumer() {
    for (_, make) in flavours() {
        run_threads(make, CONSUMERS, false);
    }
}

#[test]
fn threads_single_consumer_with_cancellation_keeps_fifo() {
    for (_, make) in flavours() {
        run_threads(make, 1, true);
    }
}

// --- async tasks -------------------------------------------------------------------------

async fn async_producer(tx: Sender<Val>, log: Arc<Log>, p: usize) {
    let mut rng = Rng::new(300 + p);
    for seq in 0..log.n {
        let v = Val::new(&log, p, seq);
        let mut fut = tx.send(v);
        let ok = match rng.below(3) {
            0 => matches!(poll_async(&mut fut, 1 + rng.below(3)).await, Some(Ok(()))),
            _ => fut.await.is_ok(),
        };
        if ok {
            Val::sent_ok(&log, p, seq);
        }
    }
}

async fn async_consumer(rx: Receiver<Val>, c: usize, cancel: bool, mut fifo: Fifo) {
    let mut rng = Rng::new(400 + c);
    loop {
        let mut fut = rx.recv();
        let got = if cancel && rng.below(3) == 0 {
            match poll_async(&mut fut, 1 + rng.below(3)).await {
                Some(v) => v,
                None => continue,
            }
        } else {
            fut.await
        };
        match got {
            Some(v) => fifo.see(v.receive()),
            None => return,
        }
    }
}

fn run_tokio(make: fn() -> Pair, consumers: usize, recv_cancel: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let log = Log::new(PRODUCERS, per_producer());
    let (tx, rx) = make();
    rt.block_on(async {
        let mut handles = Vec::new();
        for p in 0..PRODUCERS {
            handles.push(tokio::spawn(async_producer(tx.clone(), log.clone(), p)));
        }
        for c in 0..consumers {
            let fifo = Fifo::new();
            let consumer = async_consumer(rx.clone(), c, recv_cancel, fifo);
            handles.push(tokio::spawn(consumer));
        }
        drop((tx, rx));
        for h in handles {
            h.await.unwrap();
        }
    });
    log.check();
}

#[test]
fn tokio_tasks_mpmc_keep_fifo_per_sender_and_consumer() {
    for (_, make) in flavours() {
        run_tokio(make, CONSUMERS, false);
    }
}

#[test]
fn tokio_tasks_single_consumer_with_cancellation_keeps_fifo() {
    for (_, make) in flavours() {
        run_tokio(make, 1, true);
    }
}

#[test]
fn futures_executor_threads_mixed_with_blocking_threads() {
    for (_, make) in flavours() {
        let log = Log::new(PRODUCERS * 2, per_producer());
        let (tx, rx) = make();
        let mut handles = Vec::new();
        for p in 0..PRODUCERS * 2 {
            let (tx, log) = (tx.clone(), log.clone());
            handles.push(std::thread::spawn(move || {
                if p % 2 == 0 {
                    futures::executor::block_on(async_producer(tx, log, p))
                } else {
                    blocking_producer(tx, log, p)
                }
            }));
        }
        let rx2 = rx.clone();
        handles.push(std::thread::spawn(move || {
            futures::executor::block_on(async_consumer(rx2, 0, false, Fifo::new()))
        }));
        handles.push(std::thread::spawn(move || {
            blocking_consumer(rx, 1, false, Fifo::new())
        }));
        drop(tx);
        for h in handles {
            h.join().unwrap();
        }
        log.check();
    }
}

// --- select storms -----------------------------------------------------------------------

/// Producers offer value `2k` on channel `a` and value `2k + 1` on channel `b` in one
/// select (the loser is dropped with the select); consumers receive through a select
/// over both. Both sides drop their select futures at random points. Exactly-one-arm
/// plus cancel safety => conservation, and never both values of one select received.
#[test]
fn select_storm_conserves_values_and_picks_one_arm() {
    for (_, make) in flavours() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let log = Log::new(PRODUCERS, per_producer());
        let (a_tx, a_rx) = make();
        let (b_tx, b_rx) = make();
        rt.block_on(async {
            let mut handles = Vec::new();
            for p in 0..PRODUCERS {
                let (a, b, log) = (a_tx.clone(), b_tx.clone(), log.clone());
                handles.push(tokio::spawn(select_producer(a, b, log, p)));
            }
            for c in 0..CONSUMERS {
                let (a, b) = (a_rx.clone(), b_rx.clone());
                handles.push(tokio::spawn(select_consumer(a, b, c)));
            }
            drop((a_tx, b_tx, a_rx, b_rx));
            for h in handles {
                h.await.unwrap();
            }
        });
        log.check();
        for pair in log.received.chunks(2) {
            let both = pair[0].load(SeqCst) + pair[1].load(SeqCst);
            assert!(both <= 1, "both arms of one select took effect");
        }
    }
}

async fn select_producer(a: Sender<Val>, b: Sender<Val>, log: Arc<Log>, p: usize) {
    let mut rng = Rng::new(500 + p);
    for k in 0..log.n / 2 {
        let (va, vb) = (Val::new(&log, p, 2 * k), Val::new(&log, p, 2 * k + 1));
        let polls = if rng.below(3) == 0 {
            1 + rng.below(3)
        } else {
            u64::MAX
        };
        let mut sel = Box::pin(async {
            select2! { biased: false, default: false;
                r = a.send(va), if true => (2 * k, r.is_ok()),
                r = b.send(vb), if true => (2 * k + 1, r.is_ok()),
                default => unreachable!(),
            }
        });
        if let Some((seq, true)) = poll_async(&mut sel, polls).await {
            Val::sent_ok(&log, p, seq);
        }
    }
    // An odd `n` leaves one value unoffered: account for it as dropped.
    if log.n % 2 == 1 {
        drop(Val::new(&log, p, log.n - 1));
    }
}

async fn select_consumer(a: Receiver<Val>, b: Receiver<Val>, c: usize) {
    let mut rng = Rng::new(600 + c);
    let (mut a_open, mut b_open) = (true, true);
    while a_open || b_open {
        let polls = if rng.below(3) == 0 {
            1 + rng.below(3)
        } else {
            u64::MAX
        };
        let (a_on, b_on) = (a_open, b_open);
        let mut sel = Box::pin(async {
            select2! { biased: false, default: false;
                v = a.recv(), if a_on => (0, v),
                v = b.recv(), if b_on => (1, v),
                default => unreachable!(),
            }
        });
        match poll_async(&mut sel, polls).await {
            Some((_, Some(v))) => drop(v.receive()),
            Some((0, None)) => a_open = false,
            Some((_, None)) => b_open = false,
            None => {}
        }
        drop(sel);
    }
}
