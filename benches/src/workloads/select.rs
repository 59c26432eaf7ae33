//! The select workloads: one consumer selecting over 2 or 4 channels, each fed by its own
//! producer task, and a loop whose select also has a timeout arm that never fires.
//!
//! Three implementations, each in its own idiom: waza's `select!` over waza channels,
//! `tokio::select!` over tokio mpsc, and `futures::select!` over async-channel. The
//! channel selects all run on the same 2-worker tokio runtime (waza's `select!` works
//! under any executor), so only the select and its channels differ. The timeout loop
//! needs each library's own timer, so it runs waza on waza, tokio on tokio, and
//! futures/async-channel with `async-io`'s timer on smol's executor.
//!
//! [`select2`] is the `compare` program's select row: one loop, written once, over the
//! [`Select2`] of each library.
//!
//! Every workload returns the sum of the values received, which must equal
//! `sum_below(MESSAGES)`.

use std::future::Future;
use std::time::Duration;

use futures::{FutureExt, StreamExt};

use super::chans::{AsyncChan, Kind, MESSAGES};
use super::exec::{Exec, Smol, Tokio, Waza};

/// Buffer of each fed channel.
const CAP: usize = 16;
/// The timeout arm's duration: long enough never to fire.
const NEVER: Duration = Duration::from_secs(10);

/// Splits `0..MESSAGES` into `n` ranges, one per producer.
fn ranges(n: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    let per = MESSAGES / n;
    (0..n).map(move |p| p * per..(p + 1) * per)
}

/// waza: `select!` over `n` (2 or 4) waza channels.
pub fn waza_select(ex: &Tokio, n: u64) -> u64 {
    let rxs: Vec<_> = ranges(n)
        .map(|range| {
            let (tx, rx) = waza::chan::bounded(CAP);
            ex.go(async move {
                for v in range {
                    tx.send(v).await.expect("consumer is alive");
                }
            });
            rx
        })
        .collect();
    ex.run(async move {
        let (mut sum, mut open) = (0, [true; 4]);
        for o in open.iter_mut().skip(rxs.len()) {
            *o = false;
        }
        let idle = waza::chan::unbounded::<u64>().1; // stands in for absent channels
        let rx = |i: usize| rxs.get(i).unwrap_or(&idle);
        while open.contains(&true) {
            let (i, v) = waza::select! {
                v = rx(0).recv(), if open[0] => (0, v),
                v = rx(1).recv(), if open[1] => (1, v),
                v = rx(2).recv(), if open[2] => (2, v),
                v = rx(3).recv(), if open[3] => (3, v),
            };
            match v {
                Some(v) => sum += v,
                None => open[i] = false,
            }
        }
        sum
    })
}

/// tokio: `tokio::select!` over `n` (2 or 4) tokio mpsc channels.
pub fn tokio_select(ex: &Tokio, n: u64) -> u64 {
    let mut rxs: Vec<_> = ranges(n)
        .map(|range| {
            let (tx, rx) = tokio::sync::mpsc::channel(CAP);
            ex.go(async move {
                for v in range {
                    tx.send(v).await.expect("consumer is alive");
                }
            });
            rx
        })
        .collect();
    ex.run(async move {
        let (mut sum, mut open) = (0, [true; 4]);
        for o in open.iter_mut().skip(rxs.len()) {
            *o = false;
        }
        while rxs.len() < 4 {
            rxs.push(tokio::sync::mpsc::channel(1).1); // absent: never enabled
        }
        let [r0, r1, r2, r3] = &mut rxs[..] else {
            unreachable!("four receivers")
        };
        while open.contains(&true) {
            let (i, v) = tokio::select! {
                v = r0.recv(), if open[0] => (0, v),
                v = r1.recv(), if open[1] => (1, v),
                v = r2.recv(), if open[2] => (2, v),
                v = r3.recv(), if open[3] => (3, v),
            };
            match v {
                Some(v) => sum += v,
                None => open[i] = false,
            }
        }
        sum
    })
}

/// futures: `futures::select!` over `n` (2 or 4) async-channel receivers as fused streams.
pub fn futures_select(ex: &Tokio, n: u64) -> u64 {
    let mut rxs: Vec<_> = ranges(n)
        .map(|range| {
            let (tx, rx) = async_channel::bounded(CAP);
            ex.go(async move {
                for v in range {
                    tx.send(v).await.expect("consumer is alive");
                }
            });
            rx
        })
        .collect();
    ex.run(async move {
        while rxs.len() < 4 {
            rxs.push(async_channel::unbounded().1); // sender dropped: already terminated
        }
        // async-channel's receiver is !Unpin, so box it. Its own `is_terminated` flips as
        // soon as the producer closes the channel, which can fall between `select!`'s check
        // and its poll (SelectNextSome then panics); `fuse()` flips only after yielding None.
        let mut rxs: Vec<_> = rxs
            .into_iter()
            .map(|rx| futures::StreamExt::fuse(Box::pin(rx)))
            .collect();
        let [r0, r1, r2, r3] = &mut rxs[..] else {
            unreachable!("four receivers")
        };
        let mut sum = 0;
        loop {
            futures::select! {
                v = r0.select_next_some() => sum += v,
                v = r1.select_next_some() => sum += v,
                v = r2.select_next_some() => sum += v,
                v = r3.select_next_some() => sum += v,
                complete => break,
            }
        }
        sum
    })
}

/// waza on waza: `select!` between a channel and `time::sleep`, in a loop.
pub fn waza_timeout(ex: &Waza) -> u64 {
    let (tx, rx) = waza::chan::bounded(CAP);
    ex.go(async move {
        for v in 0..MESSAGES {
            tx.send(v).await.expect("consumer is alive");
        }
    });
    ex.run(async move {
        let mut sum = 0;
        loop {
            waza::select! {
                v = rx.recv() => match v {
                    Some(v) => sum += v,
                    None => return sum,
                },
                _ = waza::time::sleep(NEVER) => panic!("the timeout fired"),
            }
        }
    })
}

/// tokio on tokio: `tokio::select!` between an mpsc channel and `time::sleep`, in a loop.
pub fn tokio_timeout(ex: &Tokio) -> u64 {
    let (tx, mut rx) = tokio::sync::mpsc::channel(CAP);
    ex.go(async move {
        for v in 0..MESSAGES {
            tx.send(v).await.expect("consumer is alive");
        }
    });
    ex.run(async move {
        let mut sum = 0;
        loop {
            tokio::select! {
                v = rx.recv() => match v {
                    Some(v) => sum += v,
                    None => return sum,
                },
                _ = tokio::time::sleep(NEVER) => panic!("the timeout fired"),
            }
        }
    })
}

/// futures on smol: `futures::select!` between async-channel and `async-io`'s timer.
pub fn futures_timeout(ex: &Smol) -> u64 {
    let (tx, rx) = async_channel::bounded(CAP);
    ex.go(async move {
        for v in 0..MESSAGES {
            tx.send(v).await.expect("consumer is alive");
        }
    });
    ex.run(async move {
        let mut sum = 0;
        loop {
            let mut timer = FutureExt::fuse(smol::Timer::after(NEVER));
            futures::select! {
                v = rx.recv().fuse() => match v {
                    Ok(v) => sum += v,
                    Err(_) => return sum,
                },
                _ = timer => panic!("the timeout fired"),
            }
        }
    })
}

/// One library's select over two receives, for [`select2`]: the same loop runs with each
/// library's own select macro.
pub trait Select2<C: AsyncChan> {
    /// Waits for the first of the enabled receives (`open[i]`; at least one is); returns
    /// which one completed and what it received (`None`: that channel is closed).
    fn select2<'a>(
        a: &'a mut C::Rx,
        b: &'a mut C::Rx,
        open: [bool; 2],
    ) -> impl Future<Output = (usize, Option<u64>)> + Send + 'a;
}

/// `waza::select!`.
pub struct WazaSelect;

impl<C: AsyncChan> Select2<C> for WazaSelect {
    async fn select2(a: &mut C::Rx, b: &mut C::Rx, open: [bool; 2]) -> (usize, Option<u64>) {
        waza::select! {
            v = C::recv(a), if open[0] => (0, v),
            v = C::recv(b), if open[1] => (1, v),
        }
    }
}

/// `tokio::select!`.
pub struct TokioSelect;

impl<C: AsyncChan> Select2<C> for TokioSelect {
    async fn select2(a: &mut C::Rx, b: &mut C::Rx, open: [bool; 2]) -> (usize, Option<u64>) {
        tokio::select! {
            v = C::recv(a), if open[0] => (0, v),
            v = C::recv(b), if open[1] => (1, v),
        }
    }
}

/// `futures::select!` (what smol code uses; futures-lite has no select macro).
pub struct FuturesSelect;

impl<C: AsyncChan> Select2<C> for FuturesSelect {
    async fn select2(a: &mut C::Rx, b: &mut C::Rx, open: [bool; 2]) -> (usize, Option<u64>) {
        use futures::future::Fuse;
        // A closed channel's arm is a terminated future, which `select!` skips.
        let fa = if open[0] {
            C::recv(a).fuse()
        } else {
            Fuse::terminated()
        };
        let fb = if open[1] {
            C::recv(b).fuse()
        } else {
            Fuse::terminated()
        };
        futures::pin_mut!(fa, fb);
        futures::select! {
            v = fa => (0, v),
            v = fb => (1, v),
        }
    }
}

/// One consumer loops on a 2-way select (library `S`) over two `bounded(1024)` channels of
/// library `C`, each fed by its own producer task, until both are closed; `messages` values
/// in all (an even number). Returns their sum.
pub fn select2<E: Exec, C: AsyncChan, S: Select2<C>>(ex: &E, messages: u64) -> Option<u64> {
    assert_eq!(messages % 2, 0, "{messages} values do not split in two");
    let (tx0, mut rx0) = C::new(Kind::Bounded(1024))?;
    let (tx1, mut rx1) = C::new(Kind::Bounded(1024))?;
    let half = messages / 2;
    for (tx, range) in [(tx0, 0..half), (tx1, half..messages)] {
        ex.go(async move {
            for v in range {
                assert!(C::send(&tx, v).await, "the consumer is alive");
            }
        });
    }
    Some(ex.run(async move {
        let (mut sum, mut open) = (0, [true, true]);
        while open[0] || open[1] {
            match S::select2(&mut rx0, &mut rx1, open).await {
                (_, Some(v)) => sum += v,
                (i, None) => open[i] = false,
            }
        }
        sum
    }))
}
