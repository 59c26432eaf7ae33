//! The randomized checker: random mixes of channel operations, spelled the ways users
//! write them, over every flavour, each run's history checked against a sequential model
//! of Go channel semantics (`check_support/model.rs`).
//!
//! Each run ("scenario") is fully described by one `u64` seed: the seed picks the
//! channels, the actors, every operation and how it is awaited (to completion, polled
//! once and dropped, raced against a yield-timeout and dropped); under shuttle it also
//! picks the schedule. Two kinds of run:
//!
//! * `cargo test -p waza-channel --test check` — actors are real threads (each driving
//!   `futures`' `block_on`, some making blocking calls) or tasks on a 2-worker tokio
//!   runtime: the operation mix is reproducible from the seed, the interleaving is not.
//! * `RUSTFLAGS="--cfg shuttle" CARGO_TARGET_DIR=target/shuttle cargo test -p
//!   waza-channel --test check` (CI: debug, so the crate's `debug_assert!`s run too;
//!   `--release` for long runs) — the whole crate (its atomics, lock, park) runs under
//!   shuttle's randomized scheduler, which may switch threads at every synchronization
//!   operation inside the channel; a failing seed replays exactly, except in scenarios
//!   with `select!`: the select driver draws its arm order from a std thread-local that
//!   shuttle does not control (`select.rs`' `seed()`), so those replay only while the arm
//!   order does not matter, until it draws from `shuttle::rand` under `cfg(shuttle)`.
//!
//! Environment:
//! * `WAZA_CHECK_SEED=N` — first seed (default: fixed, so CI is reproducible; `random`
//!   picks one from the clock, printed).
//! * `WAZA_CHECK_ITERS=N` — seeds per test (default: small, see `ITERS_*`).
//! * `WAZA_CHECK_SCHED=pct[:DEPTH]` — shuttle's PCT scheduler instead of the random one.
//! * `WAZA_CHECK_KEEP_GOING=1` — run every seed and list all failing ones at the end.
//!
//! A failure prints the seed and the command line that replays it.

mod check_support;

use check_support::model::{self, Event, Flavour, Op, RecvRes, SendRes};
use check_support::rt;
use check_support::{perform, tick, How, Rng, YieldN};
use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use waza_channel::{bounded, select, unbounded, Receiver, SendError, Sender, TryRecvError};

/// What operation families one scenario may use. Families that hit a known bug of the
/// current implementation are separate switches, so each can be gated alone.
#[derive(Clone, Copy, Debug)]
struct Mix {
    /// Drop `send` futures while pending (poll once, yield-timeouts).
    cancel_send: bool,
    /// Drop `recv` futures while pending.
    cancel_recv: bool,
    /// `StreamExt::next(&mut rx)` (the `Stream` impl), awaited and abandoned.
    stream: bool,
    /// `select!` with send and recv arms, `biased;`, `default`, and dropped selects.
    select: bool,
    /// `Some(v) = rx.next()` arms in `select!`.
    select_next: bool,
    /// Refutable `Some(v @ LOW) = rx.recv()` arms.
    refutable: bool,
}

/// Operations each actor performs, under shuttle and on real threads.
#[cfg(shuttle)]
const STEPS: u64 = 20;
#[cfg(not(shuttle))]
const STEPS: u64 = 60;

/// Default seeds per test: bounded so the suite stays fast (CI), raised by the soak.
#[cfg(shuttle)]
const ITERS_DEFAULT: u64 = 5000;
#[cfg(not(shuttle))]
const ITERS_DEFAULT: u64 = if cfg!(debug_assertions) { 200 } else { 1000 };

/// Values whose sender id is below 2 match the refutable pattern `Some(v @ 0..=LOW_MAX)`.
const LOW_MAX: u64 = (2 << 32) - 1;

/// One actor's handles: a sender and a receiver for every channel (dropped ones are `None`).
struct Handles {
    tx: Vec<Option<Sender<u64>>>,
    rx: Vec<Option<Receiver<u64>>>,
}

/// What one select reported.
enum Won {
    Sent(usize, Result<(), SendError<u64>>),
    Got(usize, Option<u64>),
    Default,
}

/// `select!` in one of four spellings: plain, `biased;`, with `default`, both.
macro_rules! select_variant {
    ($mode:expr; $($arms:tt)*) => {
        match $mode {
            0 => select! { $($arms)* },
            1 => select! { biased; $($arms)* },
            2 => select! { $($arms)* default => Won::Default, },
            _ => select! { biased; $($arms)* default => Won::Default, },
        }
    };
}

/// One actor: `STEPS` random operations, each recorded with its start/end ticks.
struct Actor {
    me: u64,
    rng: Rng,
    mix: Mix,
    flavours: Vec<Flavour>,
    h: Handles,
    seq: u64,
    selects: u64,
    log: Vec<Event>,
    /// Completed operations of all actors: the closer's progress gauge.
    progress: Arc<AtomicUsize>,
    /// The step at which this actor closes a channel (at most one actor per run does).
    close_at: Option<u64>,
    /// Runs as a task on a shared executor: makes no blocking calls.
    task: bool,
}

impl Actor {
    /// A fresh value id: sender id in the high half, sequence number in the low half.
    fn value(&mut self) -> u64 {
        self.seq += 1;
        (self.me << 32) | self.seq
    }

    fn record(&mut self, start: u64, chan: usize, op: Op) {
        self.progress.fetch_add(1, Ordering::SeqCst);
        let end = tick();
        self.log.push(Event {
            actor: self.me,
            chan,
            start,
            end,
            op,
        });
    }

    /// How to await one operation; cancellation only where the mix allows it.
    fn how(&mut self, may_cancel: bool) -> How {
        if !may_cancel {
            return How::Await;
        }
        match self.rng.below(4) {
            0 => How::PollOnce,
            1 => How::Race(1 + self.rng.below(4) as u32),
            _ => How::Await,
        }
    }

    async fn run(mut self) -> Vec<Event> {
        let n = self.flavours.len();
        for step in 0..STEPS {
            let c = self.rng.below(n as u64) as usize;
            let d = self.rng.below(n as u64) as usize;
            if self.close_at == Some(step) {
                self.close(c);
                continue;
            }
            match self.rng.below(20) {
                0..=2 => self.send(c).await,
                3 => self.try_send(c),
                4 if !self.task => self.send_blocking(c),
                4 => self.send(c).await,
                5..=7 => self.recv(c).await,
                8 => self.try_recv(c),
                9 if !self.task => self.recv_blocking(c),
                9 => self.recv(c).await,
                10 | 11 if self.mix.stream => self.next(c).await,
                12..=15 if self.mix.select => self.select(c, d).await,
                16 | 17 => self.len(c),
                18 if self.rng.below(8) == 0 => {
                    // Drop a handle mid-run: later operations of this actor skip it.
                    if self.rng.below(2) == 0 {
                        self.h.tx[c] = None;
                    } else {
                        self.h.rx[c] = None;
                    }
                }
                _ => YieldN(1).await,
            }
        }
        self.log
    }

    async fn send(&mut self, c: usize) {
        let how = self.how(self.mix.cancel_send);
        let Some(tx) = self.h.tx[c].clone() else {
            return;
        };
        let v = self.value();
        let start = tick();
        let res = match perform(tx.send(v), how).await {
            Some(Ok(())) => SendRes::Ok,
            Some(Err(SendError(back))) => {
                assert_eq!(back, v, "a failed send hands back its own value");
                SendRes::Failed
            }
            None => SendRes::Maybe { select: None },
        };
        self.record(
            start,
            c,
            Op::Send {
                v,
                res,
                try_: false,
            },
        );
    }

    fn try_send(&mut self, c: usize) {
        let v = self.value();
        let Some(tx) = self.h.tx[c].as_ref() else {
            return;
        };
        let start = tick();
        let res = match tx.try_send(v) {
            Ok(()) => SendRes::Ok,
            Err(e) => {
                assert_eq!(
                    e.into_inner(),
                    v,
                    "a failed try_send hands back its own value"
                );
                SendRes::Failed
            }
        };
        self.record(start, c, Op::Send { v, res, try_: true });
    }

    fn send_blocking(&mut self, c: usize) {
        let v = self.value();
        let Some(tx) = self.h.tx[c].as_ref() else {
            return;
        };
        let start = tick();
        let res = match tx.send_blocking(v) {
            Ok(()) => SendRes::Ok,
            Err(SendError(back)) => {
                assert_eq!(back, v);
                SendRes::Failed
            }
        };
        self.record(
            start,
            c,
            Op::Send {
                v,
                res,
                try_: false,
            },
        );
    }

    async fn recv(&mut self, c: usize) {
        let how = self.how(self.mix.cancel_recv);
        let Some(rx) = self.h.rx[c].clone() else {
            return;
        };
        let start = tick();
        let got = match perform(rx.recv(), how).await {
            Some(Some(v)) => RecvRes::Value(v),
            Some(None) => RecvRes::Closed,
            None => RecvRes::Cancelled,
        };
        self.record(start, c, Op::Recv { got });
    }

    async fn next(&mut self, c: usize) {
        let how = self.how(true);
        let Some(mut rx) = self.h.rx[c].take() else {
            return;
        };
        let start = tick();
        let got = match perform(StreamExt::next(&mut rx), how).await {
            Some(Some(v)) => RecvRes::Value(v),
            Some(None) => RecvRes::Closed,
            None => RecvRes::Cancelled,
        };
        self.record(start, c, Op::Recv { got });
        self.h.rx[c] = Some(rx);
    }

    fn try_recv(&mut self, c: usize) {
        let Some(rx) = self.h.rx[c].as_ref() else {
            return;
        };
        let start = tick();
        let got = match rx.try_recv() {
            Ok(v) => RecvRes::Value(v),
            Err(TryRecvError::Closed) => RecvRes::Closed,
            Err(TryRecvError::Empty) => RecvRes::Empty,
        };
        self.record(start, c, Op::Recv { got });
    }

    fn recv_blocking(&mut self, c: usize) {
        let Some(rx) = self.h.rx[c].as_ref() else {
            return;
        };
        let start = tick();
        let got = match rx.recv_blocking() {
            Some(v) => RecvRes::Value(v),
            None => RecvRes::Closed,
        };
        self.record(start, c, Op::Recv { got });
    }

    fn len(&mut self, c: usize) {
        let Some(rx) = self.h.rx[c].as_ref() else {
            return;
        };
        let start = tick();
        let (len, cap) = (rx.len(), rx.capacity());
        self.record(start, c, Op::Len { len, cap });
    }

    fn close(&mut self, c: usize) {
        let start = tick();
        let closed = match (&self.h.tx[c], &self.h.rx[c]) {
            (Some(tx), _) if self.rng.below(2) == 0 => tx.close(),
            (_, Some(rx)) => rx.close(),
            (Some(tx), None) => tx.close(),
            (None, None) => return,
        };
        let _ = closed;
        self.record(start, c, Op::Close);
    }

    /// One `select!` of a random shape over channels `c` and `d` (`d != c` where the shape
    /// needs two receivers), in a random spelling, awaited or dropped while pending.
    async fn select(&mut self, c: usize, d: usize) {
        let mode = self.rng.below(4);
        let how = self.how(true);
        let mut shapes = vec![0, 1, 2, 3];
        if self.mix.select_next && c != d {
            shapes.push(4);
        }
        if self.mix.refutable {
            shapes.push(5);
        }
        let shape = shapes[self.rng.below(shapes.len() as u64) as usize];
        self.selects += 1;
        let sel = (self.me << 32) | self.selects;
        let (a, b) = (self.value(), self.value());
        // The arms passed to `select_log`: each arm's channel and the value it offers
        // (`None`: a recv arm).
        match shape {
            0 => {
                let (Some(tx), Some(rx)) = (self.h.tx[c].clone(), self.h.rx[d].clone()) else {
                    return;
                };
                let start = tick();
                let out = perform(
                    async {
                        select_variant!(mode;
                            r = tx.send(a) => Won::Sent(0, r),
                            v = rx.recv() => Won::Got(1, v),
                        )
                    },
                    how,
                )
                .await;
                self.select_log(start, sel, [(c, Some(a)), (d, None)], out);
            }
            1 => {
                let (Some(r0), Some(r1)) = (self.h.rx[c].clone(), self.h.rx[d].clone()) else {
                    return;
                };
                let start = tick();
                let out = perform(
                    async {
                        select_variant!(mode;
                            v = r0.recv() => Won::Got(0, v),
                            v = r1.recv() => Won::Got(1, v),
                        )
                    },
                    how,
                )
                .await;
                self.select_log(start, sel, [(c, None), (d, None)], out);
            }
            2 => {
                let (Some(t0), Some(t1)) = (self.h.tx[c].clone(), self.h.tx[d].clone()) else {
                    return;
                };
                let start = tick();
                let out = perform(
                    async {
                        select_variant!(mode;
                            r = t0.send(a) => Won::Sent(0, r),
                            r = t1.send(b) => Won::Sent(1, r),
                        )
                    },
                    how,
                )
                .await;
                self.select_log(start, sel, [(c, Some(a)), (d, Some(b))], out);
            }
            3 => {
                // One arm and a precondition that may disable it: with `default` this is
                // Go's non-blocking receive, without it a plain receive.
                let Some(rx) = self.h.rx[c].clone() else {
                    return;
                };
                let on = self.rng.below(4) != 0;
                let mode = if on { mode } else { 2 + mode % 2 };
                let start = tick();
                let out = perform(
                    async {
                        select_variant!(mode;
                            v = rx.recv(), if on => Won::Got(0, v),
                        )
                    },
                    how,
                )
                .await;
                self.select_log(start, sel, [(c, None), (c, None)], out);
            }
            4 => {
                let (Some(mut r0), Some(r1)) = (self.h.rx[c].take(), self.h.rx[d].clone()) else {
                    return;
                };
                let start = tick();
                let out = perform(
                    async {
                        select_variant!(mode;
                            Some(v) = r0.next() => Won::Got(0, Some(v)),
                            v = r1.recv() => Won::Got(1, v),
                        )
                    },
                    how,
                )
                .await;
                self.h.rx[c] = Some(r0);
                self.select_log(start, sel, [(c, None), (d, None)], out);
            }
            _ => {
                let (Some(r0), Some(r1)) = (self.h.rx[c].clone(), self.h.rx[d].clone()) else {
                    return;
                };
                let start = tick();
                let out = perform(
                    async {
                        select_variant!(mode;
                            Some(v @ 0..=LOW_MAX) = r0.recv() => Won::Got(0, Some(v)),
                            v = r1.recv() => Won::Got(1, v),
                        )
                    },
                    how,
                )
                .await;
                self.select_log(start, sel, [(c, None), (d, None)], out);
            }
        }
    }

    /// Records a select: the winning arm as its operation, losing send arms as values that
    /// must never arrive, and a dropped select's send arms as "at most one of these".
    fn select_log(
        &mut self,
        start: u64,
        sel: u64,
        arms: [(usize, Option<u64>); 2],
        out: Option<Won>,
    ) {
        self.progress.fetch_add(1, Ordering::SeqCst);
        let end = tick();
        let mut push = |chan: usize, op: Op| {
            self.log.push(Event {
                actor: self.me,
                chan,
                start,
                end,
                op,
            })
        };
        match out {
            None => {
                for (chan, v) in arms {
                    if v.is_none() {
                        // A recv arm of a dropped select: may have been handed a value
                        // and given it back.
                        push(
                            chan,
                            Op::Recv {
                                got: RecvRes::Cancelled,
                            },
                        );
                    }
                    if let Some(v) = v {
                        let res = SendRes::Maybe { select: Some(sel) };
                        push(
                            chan,
                            Op::Send {
                                v,
                                res,
                                try_: false,
                            },
                        );
                    }
                }
            }
            Some(won) => {
                let winner = match won {
                    Won::Sent(i, r) => {
                        let (chan, v) = (arms[i].0, arms[i].1.expect("send arm"));
                        let res = match r {
                            Ok(()) => SendRes::Ok,
                            Err(SendError(back)) => {
                                assert_eq!(back, v, "a failed send arm hands back its value");
                                SendRes::Failed
                            }
                        };
                        push(
                            chan,
                            Op::Send {
                                v,
                                res,
                                try_: false,
                            },
                        );
                        Some(i)
                    }
                    Won::Got(i, got) => {
                        let got = match got {
                            Some(v) => RecvRes::Value(v),
                            None => RecvRes::Closed,
                        };
                        push(arms[i].0, Op::Recv { got });
                        Some(i)
                    }
                    Won::Default => {
                        push(arms[0].0, Op::Default);
                        None
                    }
                };
                for (i, (chan, v)) in arms.into_iter().enumerate() {
                    if v.is_none() && winner != Some(i) {
                        // A losing (or refuted) recv arm: may have been handed a value
                        // and given it back.
                        push(
                            chan,
                            Op::Recv {
                                got: RecvRes::Cancelled,
                            },
                        );
                    }
                    if let (Some(v), true) = (v, winner != Some(i)) {
                        push(
                            chan,
                            Op::Send {
                                v,
                                res: SendRes::Lost,
                                try_: false,
                            },
                        );
                    }
                }
            }
        }
    }
}

/// A channel's two ends.
type Pair = (Sender<u64>, Receiver<u64>);

/// Builds the channels of one scenario from the seed.
fn channels(rng: &mut Rng) -> (Vec<Flavour>, Vec<Pair>) {
    let n = 1 + rng.below(3) as usize;
    let mut flavours = Vec::new();
    let mut pairs = Vec::new();
    for _ in 0..n {
        let f = match rng.below(5) {
            0 | 1 => Flavour::Bounded(0),
            2 => Flavour::Bounded(1),
            3 => Flavour::Bounded(2 + rng.below(2) as usize),
            _ => Flavour::Unbounded,
        };
        pairs.push(match f {
            Flavour::Bounded(cap) => bounded(cap),
            Flavour::Unbounded => unbounded(),
        });
        flavours.push(f);
    }
    (flavours, pairs)
}

/// One scenario: actors doing random operations, a closer that eventually closes every
/// channel (so no run can hang on a legitimately blocked operation), a final drain, and
/// the model check. Panics with the model's findings.
fn scenario(seed: u64, mix: Mix) {
    let mut rng = Rng::new(seed);
    let (flavours, pairs) = channels(&mut rng);
    let actors = 2 + rng.below(3);
    let done = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(AtomicUsize::new(0));
    // In a third of the runs one actor closes one channel mid-run.
    let closing = (rng.below(3) == 0).then(|| (rng.below(actors), rng.below(STEPS)));
    // Actors are threads (each driving its own `block_on`) or tasks on a shared executor.
    let tasks = rt::Tasks::new();
    let mut joins: Vec<Box<dyn FnOnce() -> Vec<Event>>> = Vec::new();
    for me in 0..actors {
        let actor = Actor {
            me,
            rng: Rng::new(rng.next()),
            mix,
            flavours: flavours.clone(),
            h: Handles {
                tx: pairs.iter().map(|p| Some(p.0.clone())).collect(),
                rx: pairs.iter().map(|p| Some(p.1.clone())).collect(),
            },
            seq: 0,
            selects: 0,
            log: Vec::new(),
            progress: progress.clone(),
            close_at: closing.and_then(|(who, step)| (who == me).then_some(step)),
            task: rng.below(2) == 0,
        };
        let done = done.clone();
        if actor.task {
            joins.push(tasks.spawn(async move {
                let log = actor.run().await;
                done.fetch_add(1, Ordering::SeqCst);
                log
            }));
        } else {
            let thread = rt::spawn(move || {
                let log = rt::block_on(actor.run());
                done.fetch_add(1, Ordering::SeqCst);
                log
            });
            joins.push(Box::new(move || thread.join().expect("actor panicked")));
        }
    }
    // The closer. In a third of the runs it closes every channel (each from a random
    // side) after a random number of yields, so closing races with everything else.
    // Otherwise it closes them once every actor is done, and until then it is the
    // nudger: when the actors stop making progress (all blocked, say every one receiving)
    // it does a `try_recv` and a `try_send` on every channel, which releases any blocked
    // sender or receiver — except a `Stream` consumer on a rendezvous channel, which is
    // not a waiting receiver for `try_send` (README, "Guarantees"): after a few nudges
    // without progress it closes the channels instead. Either way no run hangs on a
    // legitimately blocked operation.
    let closer = {
        let early = rng.below(3) == 0;
        let delay = rng.below(STEPS * actors * 3);
        let handles: Vec<_> = pairs.iter().map(|(t, r)| (t.clone(), r.clone())).collect();
        let side = rng.next();
        let (done, progress) = (done.clone(), progress.clone());
        let me = actors;
        rt::spawn(move || {
            let all_done = || done.load(Ordering::SeqCst) == actors as usize;
            let mut log = Vec::new();
            let mut push = |chan, start, op| {
                log.push(Event {
                    actor: me,
                    chan,
                    start,
                    end: tick(),
                    op,
                })
            };
            let mut seq = 0;
            if early {
                for _ in 0..delay {
                    if all_done() {
                        break;
                    }
                    rt::yield_now();
                }
            } else {
                let mut futile = 0;
                while !all_done() {
                    let before = progress.load(Ordering::SeqCst);
                    for _ in 0..20 {
                        rt::yield_now();
                    }
                    // On threads "no progress" may only mean descheduled actors; a nudge
                    // then is merely two more operations racing with theirs, harmless.
                    if progress.load(Ordering::SeqCst) != before {
                        futile = 0;
                        continue;
                    }
                    futile += 1;
                    if futile > 8 {
                        break;
                    }
                    for (c, (tx, rx)) in handles.iter().enumerate() {
                        let start = tick();
                        let got = match rx.try_recv() {
                            Ok(v) => RecvRes::Value(v),
                            Err(TryRecvError::Closed) => RecvRes::Closed,
                            Err(TryRecvError::Empty) => RecvRes::Empty,
                        };
                        push(c, start, Op::Recv { got });
                        seq += 1;
                        let v = (me << 32) | seq;
                        let start = tick();
                        let res = match tx.try_send(v) {
                            Ok(()) => SendRes::Ok,
                            Err(_) => SendRes::Failed,
                        };
                        push(c, start, Op::Send { v, res, try_: true });
                    }
                }
            }
            for (c, (tx, rx)) in handles.iter().enumerate() {
                let start = tick();
                if side >> c & 1 == 0 {
                    tx.close();
                } else {
                    rx.close();
                }
                push(c, start, Op::Close);
            }
            log
        })
    };
    let drain: Vec<Receiver<u64>> = pairs.iter().map(|p| p.1.clone()).collect();
    drop(pairs);
    let mut events = Vec::new();
    for join in joins {
        events.extend(join());
    }
    events.extend(closer.join().expect("closer panicked"));
    // Everything is closed now: what is left was buffered, and must all come out.
    for (c, rx) in drain.iter().enumerate() {
        loop {
            let start = tick();
            let got = match rx.try_recv() {
                Ok(v) => RecvRes::Value(v),
                Err(TryRecvError::Closed) => RecvRes::Closed,
                Err(TryRecvError::Empty) => RecvRes::Empty,
            };
            let last = !matches!(got, RecvRes::Value(_));
            events.push(Event {
                actor: u64::MAX - 1,
                chan: c,
                start,
                end: tick(),
                op: Op::Recv { got },
            });
            if last {
                break;
            }
        }
    }
    if std::env::var_os("WAZA_CHECK_STATS").is_some() {
        let ok = events
            .iter()
            .filter(|e| {
                matches!(
                    e.op,
                    Op::Send {
                        res: SendRes::Ok,
                        ..
                    }
                )
            })
            .count();
        let got = events
            .iter()
            .filter(|e| {
                e.actor < u64::MAX - 1
                    && matches!(
                        e.op,
                        Op::Recv {
                            got: RecvRes::Value(_)
                        }
                    )
            })
            .count();
        eprintln!("seed {seed}: {flavours:?} {actors} actors, {} events, {ok} sends ok, {got} received by actors", events.len());
        if std::env::var_os("WAZA_CHECK_STATS") == Some("2".into()) {
            let mut sorted = events.clone();
            sorted.sort_by_key(|e| e.start);
            for e in sorted {
                eprintln!(
                    "  a{} c{} t{}..{} {:?}",
                    e.actor as i64, e.chan, e.start, e.end, e.op
                );
            }
        }
    }
    let findings = model::check(&flavours, &events);
    if !findings.is_empty() {
        panic!(
            "seed {seed}: {} violation(s) of the channel model (channels {flavours:?}, \
             {actors} actors):\n  {}",
            findings.len(),
            findings
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
}

/// The `default` scenario: `tokens` values circulate among two or three channels that
/// never close, moved by fewer actors than there are tokens. Each actor holds at most one
/// token, so at every instant some channel holds one, and a select over all of them with
/// a `default` arm must never run `default`.
fn tokens_scenario(seed: u64, with_next: bool) {
    let mut rng = Rng::new(seed);
    let n = 2 + rng.below(2) as usize;
    let actors = 1 + rng.below(3);
    let tokens = actors + 1 + rng.below(2);
    let pairs: Vec<_> = (0..n)
        .map(|_| {
            if rng.below(2) == 0 {
                unbounded()
            } else {
                bounded(tokens as usize)
            }
        })
        .collect();
    for t in 0..tokens {
        pairs[rng.below(n as u64) as usize].0.try_send(t).unwrap();
    }
    let defaults = Arc::new(AtomicUsize::new(0));
    let mut joins = Vec::new();
    for _ in 0..actors {
        let mut rng = Rng::new(rng.next());
        let txs: Vec<Sender<u64>> = pairs.iter().map(|p| p.0.clone()).collect();
        let mut rxs: Vec<Receiver<u64>> = pairs.iter().map(|p| p.1.clone()).collect();
        let defaults = defaults.clone();
        joins.push(rt::spawn(move || {
            rt::block_on(async move {
                for _ in 0..STEPS * 2 {
                    let mode = 2 + rng.below(2);
                    let use_next = with_next && rng.below(2) == 0;
                    let won = match (rxs.len(), use_next) {
                        (2, false) => select_variant!(mode;
                            v = rxs[0].recv() => Won::Got(0, v),
                            v = rxs[1].recv() => Won::Got(1, v),
                        ),
                        (_, false) => select_variant!(mode;
                            v = rxs[0].recv() => Won::Got(0, v),
                            v = rxs[1].recv() => Won::Got(1, v),
                            v = rxs[2].recv() => Won::Got(2, v),
                        ),
                        (2, true) => {
                            let (first, rest) = rxs.split_at_mut(1);
                            select_variant!(mode;
                                Some(v) = first[0].next() => Won::Got(0, Some(v)),
                                v = rest[0].recv() => Won::Got(1, v),
                            )
                        }
                        (_, true) => {
                            let (first, rest) = rxs.split_at_mut(1);
                            select_variant!(mode;
                                v = rest[0].recv() => Won::Got(1, v),
                                Some(v) = first[0].next() => Won::Got(0, Some(v)),
                                v = rest[1].recv() => Won::Got(2, v),
                            )
                        }
                    };
                    match won {
                        Won::Got(_, Some(t)) => {
                            let to = rng.below(txs.len() as u64) as usize;
                            txs[to]
                                .try_send(t)
                                .expect("token channels have room for every token");
                        }
                        Won::Got(i, None) => panic!("token channel {i} closed"),
                        Won::Sent(..) => unreachable!(),
                        Won::Default => {
                            defaults.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    YieldN(rng.below(2) as u32).await;
                }
            })
        }));
    }
    for j in joins {
        j.join().expect("token actor panicked");
    }
    let mut left = Vec::new();
    for (_, rx) in &pairs {
        while let Ok(t) = rx.try_recv() {
            left.push(t);
        }
    }
    left.sort_unstable();
    let d = defaults.load(Ordering::SeqCst);
    assert!(
        d == 0 && left == (0..tokens).collect::<Vec<_>>(),
        "seed {seed}: `default` ran {d} time(s) while {tokens} tokens circulated among {n} \
         channels with {actors} actors (some channel always held a token); tokens left \
         at the end: {left:?}"
    );
}

const CORE: Mix = Mix {
    cancel_send: true,
    cancel_recv: false,
    stream: false,
    select: false,
    select_next: false,
    refutable: false,
};

/// send / recv / try_* / blocking / close / handle drops, sends dropped while pending.
#[test]
fn core_operations() {
    check_support::run("core_operations", ITERS_DEFAULT, |s| scenario(s, CORE));
}

/// Adds `select!` (send and recv arms, `biased;`, `default`, preconditions, dropped
/// selects).
#[test]
fn selects() {
    let mix = Mix {
        select: true,
        ..CORE
    };
    check_support::run("selects", ITERS_DEFAULT, move |s| scenario(s, mix));
}

/// Adds receives dropped while pending (polled once, raced against a yield-timeout).
#[test]
fn cancelled_receives() {
    let mix = Mix {
        cancel_recv: true,
        ..CORE
    };
    check_support::run("cancelled_receives", ITERS_DEFAULT, move |s| {
        scenario(s, mix)
    });
}

/// Adds `rx.next()` awaited and abandoned.
#[test]
fn stream_next() {
    let mix = Mix {
        stream: true,
        ..CORE
    };
    check_support::run("stream_next", ITERS_DEFAULT, move |s| scenario(s, mix));
}

/// Adds `Some(v) = rx.next()` arms to selects.
#[test]
fn select_next_arms() {
    let mix = Mix {
        select: true,
        select_next: true,
        ..CORE
    };
    check_support::run("select_next_arms", ITERS_DEFAULT, move |s| scenario(s, mix));
}

/// Adds refutable `Some(v @ LOW) = rx.recv()` arms to selects.
#[test]
fn select_refutable_arms() {
    let mix = Mix {
        select: true,
        refutable: true,
        ..CORE
    };
    check_support::run("select_refutable_arms", ITERS_DEFAULT, move |s| {
        scenario(s, mix)
    });
}

/// Everything at once.
#[test]
fn everything() {
    let mix = Mix {
        cancel_send: true,
        cancel_recv: true,
        stream: true,
        select: true,
        select_next: true,
        refutable: true,
    };
    check_support::run("everything", ITERS_DEFAULT, move |s| scenario(s, mix));
}

/// `default` runs only when no arm is ready (tokens always somewhere).
#[test]
fn default_only_when_nothing_ready() {
    check_support::run("default_only_when_nothing_ready", ITERS_DEFAULT, |s| {
        tokens_scenario(s, false)
    });
}

/// The same with `Some(v) = rx.next()` arms.
#[test]
fn default_only_when_nothing_ready_with_next_arms() {
    check_support::run(
        "default_only_when_nothing_ready_with_next_arms",
        ITERS_DEFAULT,
        |s| tokens_scenario(s, true),
    );
}

/// The model itself: a consistent history passes, and each rule flags a history that
/// breaks it (so a passing scenario means something).
#[test]
fn model_flags_each_kind_of_violation() {
    use Flavour::{Bounded, Unbounded};
    let ev = |actor, chan, start, end, op| Event {
        actor,
        chan,
        start,
        end,
        op,
    };
    let sent = |v, res| Op::Send {
        v,
        res,
        try_: false,
    };
    let got = |v| Op::Recv {
        got: RecvRes::Value(v),
    };
    let v = |sender: u64, seq: u64| (sender << 32) | seq;
    let flagged = |flavours: &[Flavour], events: &[Event], what: &str| {
        let findings = model::check(flavours, events);
        assert!(
            findings.iter().any(|f| f.contains(what)),
            "expected a finding containing {what:?}, got {findings:?}"
        );
    };
    // Consistent: two values through a buffered channel, in order, then None.
    let good = [
        ev(0, 0, 1, 2, sent(v(0, 1), SendRes::Ok)),
        ev(0, 0, 3, 4, sent(v(0, 2), SendRes::Ok)),
        ev(1, 0, 5, 6, got(v(0, 1))),
        ev(1, 0, 7, 8, got(v(0, 2))),
        ev(1, 0, 9, 10, Op::Close),
        ev(
            1,
            0,
            11,
            12,
            Op::Recv {
                got: RecvRes::Closed,
            },
        ),
        ev(
            1,
            0,
            13,
            14,
            Op::Len {
                len: 0,
                cap: Some(2),
            },
        ),
    ];
    assert_eq!(model::check(&[Bounded(2)], &good), Vec::<String>::new());
    // Rendezvous: the receiver began before the send ended.
    let paired = [
        ev(1, 0, 1, 6, got(v(0, 1))),
        ev(0, 0, 2, 5, sent(v(0, 1), SendRes::Ok)),
    ];
    assert_eq!(model::check(&[Bounded(0)], &paired), Vec::<String>::new());

    flagged(
        &[Unbounded],
        &[ev(0, 0, 1, 2, sent(v(0, 1), SendRes::Ok))],
        "lost",
    );
    flagged(
        &[Unbounded],
        &[
            ev(0, 0, 1, 2, sent(v(0, 1), SendRes::Ok)),
            ev(1, 0, 3, 4, got(v(0, 1))),
            ev(2, 0, 3, 4, got(v(0, 1))),
        ],
        "received 2 times",
    );
    flagged(
        &[Unbounded],
        &[
            ev(0, 0, 1, 2, sent(v(0, 1), SendRes::Failed)),
            ev(1, 0, 3, 4, got(v(0, 1))),
        ],
        "reported failure",
    );
    flagged(
        &[Unbounded],
        &[
            ev(0, 0, 1, 2, sent(v(0, 1), SendRes::Lost)),
            ev(1, 0, 3, 4, got(v(0, 1))),
        ],
        "losing send arm",
    );
    let maybe = SendRes::Maybe { select: Some(7) };
    flagged(
        &[Unbounded, Unbounded],
        &[
            ev(0, 0, 1, 2, sent(v(0, 1), maybe)),
            ev(0, 1, 1, 2, sent(v(0, 2), maybe)),
            ev(1, 0, 3, 4, got(v(0, 1))),
            ev(1, 1, 5, 6, got(v(0, 2))),
        ],
        "several send arms",
    );
    flagged(
        &[Unbounded],
        &[
            ev(0, 0, 1, 2, sent(v(0, 1), SendRes::Ok)),
            ev(0, 0, 3, 4, sent(v(0, 2), SendRes::Ok)),
            ev(1, 0, 5, 6, got(v(0, 2))),
            ev(1, 0, 7, 8, got(v(0, 1))),
        ],
        "FIFO broken",
    );
    // On a buffered channel a receive that ended without a value (its value, if it had
    // one, went back in its place) excuses nothing.
    flagged(
        &[Unbounded],
        &[
            ev(
                2,
                0,
                1,
                9,
                Op::Recv {
                    got: RecvRes::Cancelled,
                },
            ),
            ev(0, 0, 2, 3, sent(v(0, 1), SendRes::Ok)),
            ev(0, 0, 4, 5, sent(v(0, 2), SendRes::Ok)),
            ev(1, 0, 6, 7, got(v(0, 2))),
            ev(1, 0, 10, 11, got(v(0, 1))),
        ],
        "FIFO broken",
    );
    flagged(
        &[Bounded(0)],
        &[
            ev(0, 0, 1, 2, sent(v(0, 1), SendRes::Ok)),
            ev(1, 0, 3, 4, got(v(0, 1))),
        ],
        "was buffered",
    );
    flagged(
        &[Bounded(1)],
        &[ev(
            0,
            0,
            1,
            2,
            Op::Len {
                len: 2,
                cap: Some(1),
            },
        )],
        "len() = 2 > capacity() = 1",
    );
    flagged(
        &[Unbounded],
        &[
            ev(0, 0, 1, 2, sent(v(0, 1), SendRes::Ok)),
            ev(
                1,
                0,
                3,
                4,
                Op::Recv {
                    got: RecvRes::Closed,
                },
            ),
            ev(1, 0, 5, 6, got(v(0, 1))),
        ],
        "after a receive returned None",
    );
    flagged(
        &[Unbounded],
        &[
            ev(1, 0, 1, 2, Op::Close),
            ev(0, 0, 3, 4, sent(v(0, 1), SendRes::Ok)),
            ev(1, 0, 5, 6, got(v(0, 1))),
        ],
        "after close()",
    );
}
