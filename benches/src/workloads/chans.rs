//! The channel workloads, written once against [`AsyncChan`] (futures) and [`SyncChan`]
//! (blocking calls on OS threads), with one implementation per library under comparison.
//!
//! Flavours a library lacks are reported as `None` by [`AsyncChan::new`] (async-channel
//! and tokio have no rendezvous channel) or [`AsyncChan::clone_rx`] (tokio's mpsc has a
//! single receiver, so no MPMC), and the benches skip them. Every workload checks
//! conservation: the received values must sum to what was sent.

use std::future::Future;
use std::thread;

use super::exec::Exec;

/// A channel flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Capacity 0: a send completes only when a receiver takes the value.
    Rendezvous,
    /// A buffer of the given capacity.
    Bounded(usize),
    /// No capacity limit.
    Unbounded,
}

impl Kind {
    /// Every flavour the benches measure.
    pub const ALL: [Kind; 4] = [
        Kind::Rendezvous,
        Kind::Bounded(1),
        Kind::Bounded(1024),
        Kind::Unbounded,
    ];

    /// A short label such as `bounded(1)`.
    pub fn label(self) -> String {
        match self {
            Kind::Rendezvous => "rendezvous".into(),
            Kind::Bounded(n) => format!("bounded({n})"),
            Kind::Unbounded => "unbounded".into(),
        }
    }
}

/// An async MPMC (or MPSC) channel of `u64`.
pub trait AsyncChan: 'static {
    /// The library's name in reports.
    const NAME: &'static str;
    /// The sending half.
    type Tx: Clone + Send + Sync + 'static;
    /// The receiving half.
    type Rx: Send + 'static;
    /// A channel of flavour `kind`, or `None` if the library has no such flavour.
    fn new(kind: Kind) -> Option<(Self::Tx, Self::Rx)>;
    /// A second receiver of the same channel, or `None` if the channel has one receiver.
    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx>;
    /// Sends `v`, waiting for room; `false` if the channel is closed (nothing was sent).
    fn send(tx: &Self::Tx, v: u64) -> impl Future<Output = bool> + Send + '_;
    /// Receives a value, or `None` once every sender is gone and the buffer is empty.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send + '_;
}

/// waza's channels.
pub struct WazaChan;

impl AsyncChan for WazaChan {
    const NAME: &'static str = "waza";
    type Tx = waza::chan::Sender<u64>;
    type Rx = waza::chan::Receiver<u64>;

    fn new(kind: Kind) -> Option<(Self::Tx, Self::Rx)> {
        Some(match kind {
            Kind::Rendezvous => waza::chan::rendezvous(),
            Kind::Bounded(n) => waza::chan::bounded(n),
            Kind::Unbounded => waza::chan::unbounded(),
        })
    }

    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }

    async fn send(tx: &Self::Tx, v: u64) -> bool {
        tx.send(v).await.is_ok()
    }

    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send + '_ {
        rx.recv()
    }
}

/// smol's `async-channel`.
pub struct AsyncChannel;

impl AsyncChan for AsyncChannel {
    const NAME: &'static str = "async-channel";
    type Tx = async_channel::Sender<u64>;
    type Rx = async_channel::Receiver<u64>;

    fn new(kind: Kind) -> Option<(Self::Tx, Self::Rx)> {
        match kind {
            Kind::Rendezvous => None, // bounded(0) panics
            Kind::Bounded(n) => Some(async_channel::bounded(n)),
            Kind::Unbounded => Some(async_channel::unbounded()),
        }
    }

    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }

    async fn send(tx: &Self::Tx, v: u64) -> bool {
        tx.send(v).await.is_ok()
    }

    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

/// `flume`, through its async API.
pub struct Flume;

impl AsyncChan for Flume {
    const NAME: &'static str = "flume";
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;

    fn new(kind: Kind) -> Option<(Self::Tx, Self::Rx)> {
        Some(match kind {
            Kind::Rendezvous => flume::bounded(0),
            Kind::Bounded(n) => flume::bounded(n),
            Kind::Unbounded => flume::unbounded(),
        })
    }

    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }

    async fn send(tx: &Self::Tx, v: u64) -> bool {
        tx.send_async(v).await.is_ok()
    }

    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_async().await.ok()
    }
}

/// `kanal`, through its async API.
///
/// kanal's receive future is not cancel-safe: dropped while pending, it can lose a value a
/// sender handed to it, so a select over kanal receives loses values (the `compare`
/// program's select row caught it). Workloads that never drop a pending receive are fine.
pub struct Kanal;

impl AsyncChan for Kanal {
    const NAME: &'static str = "kanal";
    type Tx = kanal::AsyncSender<u64>;
    type Rx = kanal::AsyncReceiver<u64>;

    fn new(kind: Kind) -> Option<(Self::Tx, Self::Rx)> {
        Some(match kind {
            Kind::Rendezvous => kanal::bounded_async(0),
            Kind::Bounded(n) => kanal::bounded_async(n),
            Kind::Unbounded => kanal::unbounded_async(),
        })
    }

    fn clone_rx(rx: &Self::Rx) -> Option<Self::Rx> {
        Some(rx.clone())
    }

    async fn send(tx: &Self::Tx, v: u64) -> bool {
        tx.send(v).await.is_ok()
    }

    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

/// tokio's `mpsc` (bounded and unbounded; a single receiver).
pub struct TokioMpsc;

/// The sending half of either tokio mpsc flavour.
#[derive(Clone)]
pub enum TokioTx {
    /// `mpsc::channel(n)`.
    Bounded(tokio::sync::mpsc::Sender<u64>),
    /// `mpsc::unbounded_channel()`.
    Unbounded(tokio::sync::mpsc::UnboundedSender<u64>),
}

/// The receiving half of either tokio mpsc flavour.
pub enum TokioRx {
    /// `mpsc::channel(n)`.
    Bounded(tokio::sync::mpsc::Receiver<u64>),
    /// `mpsc::unbounded_channel()`.
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<u64>),
}

impl AsyncChan for TokioMpsc {
    const NAME: &'static str = "tokio mpsc";
    type Tx = TokioTx;
    type Rx = TokioRx;

    fn new(kind: Kind) -> Option<(Self::Tx, Self::Rx)> {
        use tokio::sync::mpsc;
        match kind {
            Kind::Rendezvous => None, // channel(0) panics
            Kind::Bounded(n) => {
                let (tx, rx) = mpsc::channel(n);
                Some((TokioTx::Bounded(tx), TokioRx::Bounded(rx)))
            }
            Kind::Unbounded => {
                let (tx, rx) = mpsc::unbounded_channel();
                Some((TokioTx::Unbounded(tx), TokioRx::Unbounded(rx)))
            }
        }
    }

    fn clone_rx(_: &Self::Rx) -> Option<Self::Rx> {
        None
    }

    async fn send(tx: &Self::Tx, v: u64) -> bool {
        match tx {
            TokioTx::Bounded(tx) => tx.send(v).await.is_ok(),
            TokioTx::Unbounded(tx) => tx.send(v).is_ok(),
        }
    }

    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        match rx {
            TokioRx::Bounded(rx) => rx.recv().await,
            TokioRx::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// Messages per run of [`spsc`], [`mpsc`] and [`mpmc`] in the criterion benches.
pub const MESSAGES: u64 = 5_000;
/// Round trips of [`ping_pong`] in the criterion benches.
pub const ROUND_TRIPS: u64 = 1_000;
/// Producers (and consumers) in the many-to-one and many-to-many workloads.
pub const FAN: u64 = 4;

/// The sum of the values `0..n`, which every conserving workload must receive.
pub const fn sum_below(n: u64) -> u64 {
    n * (n.saturating_sub(1)) / 2
}

/// Starts `producers` tasks sending `0..messages` between them (each value once; `messages`
/// must be a multiple of `producers`).
fn produce<E: Exec, C: AsyncChan>(ex: &E, tx: C::Tx, producers: u64, messages: u64) {
    assert_eq!(
        messages % producers,
        0,
        "{messages} values do not split evenly"
    );
    let per = messages / producers;
    for p in 0..producers {
        let tx = tx.clone();
        ex.go(async move {
            for v in p * per..(p + 1) * per {
                assert!(C::send(&tx, v).await, "receivers are alive");
            }
        });
    }
}

/// Receives until the channel closes; returns the sum of the values.
async fn drain<C: AsyncChan>(mut rx: C::Rx) -> u64 {
    let mut sum = 0;
    while let Some(v) = C::recv(&mut rx).await {
        sum += v;
    }
    sum
}

/// `producers` tasks send `0..messages`, one consumer task receives; returns the sum.
fn fan_in<E: Exec, C: AsyncChan>(ex: &E, kind: Kind, producers: u64, messages: u64) -> Option<u64> {
    let (tx, rx) = C::new(kind)?;
    produce::<E, C>(ex, tx, producers, messages);
    Some(ex.run(drain::<C>(rx)))
}

/// One producer task, one consumer task, `messages` values; returns their sum.
pub fn spsc<E: Exec, C: AsyncChan>(ex: &E, kind: Kind, messages: u64) -> Option<u64> {
    fan_in::<E, C>(ex, kind, 1, messages)
}

/// [`FAN`] producers, one consumer, `messages` values; returns their sum.
pub fn mpsc<E: Exec, C: AsyncChan>(ex: &E, kind: Kind, messages: u64) -> Option<u64> {
    fan_in::<E, C>(ex, kind, FAN, messages)
}

/// [`FAN`] producers, [`FAN`] consumers on one channel, `messages` values; returns their
/// sum.
pub fn mpmc<E: Exec, C: AsyncChan>(ex: &E, kind: Kind, messages: u64) -> Option<u64> {
    let (tx, rx) = C::new(kind)?;
    let consumers: Vec<C::Rx> = (1..FAN).map(|_| C::clone_rx(&rx)).collect::<Option<_>>()?;
    produce::<E, C>(ex, tx, FAN, messages);
    let inner = ex.clone();
    Some(ex.run(async move {
        let handles: Vec<_> = consumers
            .into_iter()
            .chain([rx])
            .map(|rx| inner.spawn(drain::<C>(rx)))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await;
        }
        sum
    }))
}

/// Two tasks pass a counter back and forth over two channels of flavour `kind`, each
/// adding one, `round_trips` times; returns the final count (`2 * round_trips`).
pub fn ping_pong<E: Exec, C: AsyncChan>(ex: &E, kind: Kind, round_trips: u64) -> Option<u64> {
    let (to_pong, mut pong_in) = C::new(kind)?;
    let (to_ping, mut ping_in) = C::new(kind)?;
    ex.go(async move {
        while let Some(v) = C::recv(&mut pong_in).await {
            if !C::send(&to_ping, v + 1).await {
                return;
            }
        }
    });
    Some(ex.run(async move {
        let mut v = 0;
        for _ in 0..round_trips {
            assert!(C::send(&to_pong, v + 1).await, "pong is alive");
            v = C::recv(&mut ping_in).await.expect("pong answers");
        }
        v
    }))
}

/// The concurrent prime sieve of Go's tour: a generator task sends 2, 3, 4, … into a chain
/// of filter tasks, one per prime found so far, each dropping the multiples of its prime;
/// the head of the chain is the next prime. Channels are `bounded(1)`. The generator stops
/// at the `primes`-th prime and closes its channel, and each filter closes its output when
/// its input closes, so every task has ended when the last channel closes. Returns the sum
/// of the first `primes` primes (see [`first_primes`]).
pub fn sieve<E: Exec, C: AsyncChan>(ex: &E, primes: usize) -> Option<u64> {
    let limit = *first_primes(primes).last()?;
    let (tx, rx) = C::new(Kind::Bounded(1))?;
    let inner = ex.clone();
    Some(ex.run(async move {
        inner.go(async move {
            for n in 2..=limit {
                assert!(C::send(&tx, n).await, "the first filter is alive");
            }
        });
        let mut rx = rx;
        let mut sum = 0;
        for _ in 0..primes {
            let prime = C::recv(&mut rx).await.expect("the generator runs");
            sum += prime;
            let (next_tx, next_rx) = C::new(Kind::Bounded(1)).expect("bounded(1) exists");
            let mut from = std::mem::replace(&mut rx, next_rx);
            inner.go(async move {
                while let Some(n) = C::recv(&mut from).await {
                    if n % prime != 0 {
                        assert!(C::send(&next_tx, n).await, "the next filter is alive");
                    }
                }
            });
        }
        let extra = C::recv(&mut rx).await;
        assert_eq!(
            extra, None,
            "a number above the last prime passed every filter"
        );
        sum
    }))
}

/// The first `n` primes, for checking and bounding [`sieve`].
///
/// # Examples
///
/// ```
/// use waza_benches::workloads::chans::first_primes;
/// assert_eq!(first_primes(5), [2, 3, 5, 7, 11]);
/// ```
pub fn first_primes(n: usize) -> Vec<u64> {
    let mut found: Vec<u64> = Vec::with_capacity(n);
    let mut k = 2u64;
    while found.len() < n {
        if found
            .iter()
            .take_while(|&&p| p * p <= k)
            .all(|&p| k % p != 0)
        {
            found.push(k);
        }
        k += 1;
    }
    found
}

/// `tasks` tasks, each parked on a receive from its own `bounded(1)` channel; once all are
/// parked, `measure` runs (the caller reads the process's memory there), then every
/// channel gets one value and every task ends. Returns the number of values received.
pub fn idle_tasks<E: Exec, C: AsyncChan>(
    ex: &E,
    tasks: usize,
    measure: impl FnOnce() + Send + 'static,
) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let received = Arc::new(AtomicUsize::new(0));
    let inner = ex.clone();
    let (p, r) = (Arc::new(AtomicUsize::new(0)), received.clone());
    ex.run(async move {
        let mut senders = Vec::with_capacity(tasks);
        let (all_done, done) = futures::channel::oneshot::channel::<()>();
        let all_done = Arc::new(std::sync::Mutex::new(Some(all_done)));
        for _ in 0..tasks {
            let (tx, mut rx) = C::new(Kind::Bounded(1)).expect("bounded(1) exists");
            senders.push(tx);
            let (p, r, all_done) = (p.clone(), r.clone(), all_done.clone());
            inner.go(async move {
                p.fetch_add(1, Ordering::Relaxed);
                if C::recv(&mut rx).await.is_some() && r.fetch_add(1, Ordering::AcqRel) + 1 == tasks
                {
                    if let Some(tx) = all_done.lock().expect("not poisoned").take() {
                        let _ = tx.send(());
                    }
                }
            });
        }
        // A task counts itself just before its first receive, which parks it in the same
        // poll; once all have counted, a short sleep lets the last polls finish.
        while p.load(Ordering::Relaxed) < tasks {
            E::sleep(std::time::Duration::from_millis(1)).await;
        }
        E::sleep(std::time::Duration::from_millis(20)).await;
        measure();
        for tx in &senders {
            assert!(C::send(tx, 1).await, "the task is parked on its receive");
        }
        if tasks > 0 {
            done.await.expect("the last task reports");
        }
    });
    received.load(Ordering::Acquire)
}

/// A channel of `u64` used with blocking calls from OS threads.
pub trait SyncChan: 'static {
    /// The library's name in reports.
    const NAME: &'static str;
    /// The sending half.
    type Tx: Clone + Send + 'static;
    /// The receiving half.
    type Rx: Clone + Send + 'static;
    /// A channel of flavour `kind`.
    fn new(kind: Kind) -> (Self::Tx, Self::Rx);
    /// Sends `v`, blocking for room; panics if the channel is closed.
    fn send(tx: &Self::Tx, v: u64);
    /// Receives, blocking; `None` once every sender is gone and the buffer is empty.
    fn recv(rx: &Self::Rx) -> Option<u64>;
}

/// waza's channels through `send_blocking` / `recv_blocking`.
pub struct WazaSync;

impl SyncChan for WazaSync {
    const NAME: &'static str = "waza";
    type Tx = waza::chan::Sender<u64>;
    type Rx = waza::chan::Receiver<u64>;

    fn new(kind: Kind) -> (Self::Tx, Self::Rx) {
        match kind {
            Kind::Rendezvous => waza::chan::rendezvous(),
            Kind::Bounded(n) => waza::chan::bounded(n),
            Kind::Unbounded => waza::chan::unbounded(),
        }
    }

    fn send(tx: &Self::Tx, v: u64) {
        tx.send_blocking(v).expect("receivers are alive");
    }

    fn recv(rx: &Self::Rx) -> Option<u64> {
        rx.recv_blocking()
    }
}

/// `crossbeam-channel`.
pub struct Crossbeam;

impl SyncChan for Crossbeam {
    const NAME: &'static str = "crossbeam-channel";
    type Tx = crossbeam_channel::Sender<u64>;
    type Rx = crossbeam_channel::Receiver<u64>;

    fn new(kind: Kind) -> (Self::Tx, Self::Rx) {
        match kind {
            Kind::Rendezvous => crossbeam_channel::bounded(0),
            Kind::Bounded(n) => crossbeam_channel::bounded(n),
            Kind::Unbounded => crossbeam_channel::unbounded(),
        }
    }

    fn send(tx: &Self::Tx, v: u64) {
        tx.send(v).expect("receivers are alive");
    }

    fn recv(rx: &Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

/// `producers` threads send `0..MESSAGES` between them, `consumers` threads receive;
/// returns the received sum.
pub fn threads<C: SyncChan>(kind: Kind, producers: u64, consumers: u64) -> u64 {
    let (tx, rx) = C::new(kind);
    let per = MESSAGES / producers;
    thread::scope(|s| {
        for p in 0..producers {
            let tx = tx.clone();
            s.spawn(move || {
                for v in p * per..(p + 1) * per {
                    C::send(&tx, v);
                }
            });
        }
        drop(tx);
        let sums: Vec<_> = (0..consumers)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || {
                    let mut sum = 0;
                    while let Some(v) = C::recv(&rx) {
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        sums.into_iter()
            .map(|h| h.join().expect("consumer ran"))
            .sum()
    })
}

/// Two threads pass a counter back and forth; returns `2 * ROUND_TRIPS`.
pub fn thread_ping_pong<C: SyncChan>(kind: Kind) -> u64 {
    let (to_pong, pong_in) = C::new(kind);
    let (to_ping, ping_in) = C::new(kind);
    thread::scope(|s| {
        s.spawn(move || {
            while let Some(v) = C::recv(&pong_in) {
                C::send(&to_ping, v + 1);
            }
        });
        let mut v = 0;
        for _ in 0..ROUND_TRIPS {
            C::send(&to_pong, v + 1);
            v = C::recv(&ping_in).expect("pong answers");
        }
        drop(to_pong);
        v
    })
}
