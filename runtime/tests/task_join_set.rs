//! `JoinSet` and `AbortHandle`: completion order, exact counts under contention, abort on
//! drop, shutdown, cancelled waits, panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use waza::sync::oneshot;
use waza::task::JoinSet;

/// Counts drops of the futures that own it.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[waza::test(workers = 2)]
async fn outputs_come_in_completion_order() {
    let mut set = JoinSet::new();
    let mut gates = Vec::new();
    for i in 0..5u32 {
        let (tx, rx) = oneshot::channel::<()>();
        gates.push(tx);
        set.spawn(async move {
            rx.await.unwrap();
            i
        });
    }
    // Release in the order 3, 0, 4, 1, 2: each output must come back before the next
    // gate opens, so the order is exactly the release order.
    for i in [3usize, 0, 4, 1, 2] {
        let gate = std::mem::replace(&mut gates[i], oneshot::channel().0);
        gate.send(()).unwrap();
        assert_eq!(set.join_next().await.unwrap().unwrap(), i as u32);
    }
    assert!(set.is_empty());
    assert!(set.join_next().await.is_none());
}

#[waza::test(workers = 4)]
async fn many_tasks_each_output_exactly_once() {
    const N: usize = 20_000;
    let mut set = JoinSet::new();
    for i in 0..N {
        set.spawn(async move {
            if i % 3 == 0 {
                waza::yield_now().await;
            }
            i
        });
    }
    assert_eq!(set.len(), N);
    let mut seen = vec![false; N];
    while let Some(res) = set.join_next().await {
        let i = res.unwrap();
        assert!(!seen[i], "output {i} twice");
        seen[i] = true;
    }
    assert!(seen.iter().all(|&s| s));
    assert_eq!(set.len(), 0);
}

#[waza::test(workers = 4)]
async fn spawning_from_many_tasks_into_sets_moved_between_tasks() {
    // Sets are Send: each is filled on one task and drained on another.
    let mut fillers = Vec::new();
    for t in 0..8u64 {
        fillers.push(waza::spawn(async move {
            let mut set = JoinSet::new();
            for i in 0..500u64 {
                set.spawn(async move { t * 1000 + i });
            }
            set
        }));
    }
    let mut total = 0u64;
    let mut count = 0;
    for f in fillers {
        let set = f.await.unwrap();
        let drained = waza::spawn(async move {
            let mut set = set;
            let mut sum = 0;
            let mut n = 0;
            while let Some(v) = set.join_next().await {
                sum += v.unwrap();
                n += 1;
            }
            (sum, n)
        });
        let (sum, n) = drained.await.unwrap();
        total += sum;
        count += n;
    }
    let expected: u64 = (0..8u64)
        .flat_map(|t| (0..500u64).map(move |i| t * 1000 + i))
        .sum();
    assert_eq!((total, count), (expected, 4000));
}

#[waza::test(workers = 2)]
async fn dropping_the_set_aborts_every_task() {
    const N: usize = 100;
    let drops = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = waza::chan::unbounded::<()>();
    let mut set = JoinSet::new();
    for _ in 0..N {
        let guard = DropCount(drops.clone());
        let done = DoneOnDrop(done_tx.clone());
        set.spawn(async move {
            let _guard = guard;
            let _done = done;
            std::future::pending::<()>().await;
        });
    }
    drop(done_tx);
    // Let every task start (and suspend) before the drop.
    waza::yield_now().await;
    drop(set);
    // Every future is dropped: each one's sender goes away, so the channel closes.
    let mut n = 0;
    while done_rx.recv().await.is_some() {
        n += 1;
    }
    assert_eq!(n, 0);
    assert_eq!(drops.load(Ordering::SeqCst), N);
}

struct DoneOnDrop(#[allow(dead_code)] waza::chan::Sender<()>);

#[waza::test(workers = 2)]
async fn shutdown_drops_every_future_before_returning() {
    const N: usize = 64;
    let drops = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for i in 0..N {
        let guard = DropCount(drops.clone());
        set.spawn(async move {
            let _guard = guard;
            if i % 2 == 0 {
                std::future::pending::<()>().await;
            }
        });
    }
    set.shutdown().await;
    assert!(set.is_empty());
    assert_eq!(drops.load(Ordering::SeqCst), N);
    // The set is usable afterwards.
    set.spawn(async {});
    assert!(set.join_next().await.unwrap().is_ok());
}

#[waza::test(workers = 2)]
async fn abort_handle_cancels_one_task_only() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    let keep = set.spawn(async move {
        rx.await.unwrap();
        "kept"
    });
    let victim = set.spawn(async {
        std::future::pending::<()>().await;
        "never"
    });
    assert_ne!(keep.task_id(), victim.task_id());
    victim.abort();
    let first = set.join_next().await.unwrap();
    assert!(first.unwrap_err().is_cancelled());
    assert!(victim.is_finished());
    assert!(!keep.is_finished());
    tx.send(()).unwrap();
    assert_eq!(set.join_next().await.unwrap().unwrap(), "kept");
    // Aborting after completion keeps the output (already taken here) and does nothing.
    keep.abort();
    assert!(set.join_next().await.is_none());
}

#[waza::test(workers = 2)]
async fn abort_handle_from_another_thread_and_after_completion() {
    let h = waza::spawn(std::future::pending::<u8>());
    let a = h.abort_handle();
    std::thread::spawn(move || a.abort()).join().unwrap();
    assert!(h.await.unwrap_err().is_cancelled());

    let h = waza::spawn(async { 9 });
    let a = h.abort_handle();
    while !a.is_finished() {
        waza::yield_now().await;
    }
    a.abort();
    assert_eq!(h.await.unwrap(), 9);

    // Dropping an AbortHandle does not cancel, and it may outlive the task.
    let h = waza::spawn(async { 1 });
    drop(h.abort_handle());
    let a = h.abort_handle();
    assert_eq!(h.await.unwrap(), 1);
    assert!(a.is_finished());
}

#[waza::test(workers = 2)]
async fn cancelled_join_next_loses_no_output() {
    let mut set = JoinSet::new();
    let mut gates = Vec::new();
    for i in 0..10u32 {
        let (tx, rx) = oneshot::channel::<()>();
        gates.push(tx);
        set.spawn(async move {
            rx.await.unwrap();
            i
        });
    }
    // A wait that is cancelled before anything completes.
    let r = waza::time::timeout(Duration::from_millis(1), set.join_next()).await;
    assert!(r.is_err());
    for g in gates {
        g.send(()).unwrap();
    }
    let mut sum = 0;
    // Cancel more waits in the middle of draining: each either took an output (and
    // returned it) or took nothing.
    loop {
        let mut fut = std::pin::pin!(set.join_next());
        let once = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
        match once {
            std::task::Poll::Ready(Some(v)) => sum += v.unwrap(),
            std::task::Poll::Ready(None) => break,
            std::task::Poll::Pending => waza::yield_now().await,
        }
    }
    assert_eq!(sum, 45);
}

use std::future::Future;

#[waza::test(workers = 2)]
async fn try_join_next_never_waits() {
    let mut set = JoinSet::<u8>::new();
    assert!(set.try_join_next().is_none());
    let (tx, rx) = oneshot::channel::<()>();
    set.spawn(async move {
        rx.await.unwrap();
        5
    });
    // Not complete: nothing yet, however often we ask.
    for _ in 0..10 {
        assert!(set.try_join_next().is_none());
        waza::yield_now().await;
    }
    tx.send(()).unwrap();
    let out = loop {
        if let Some(out) = set.try_join_next() {
            break out;
        }
        waza::yield_now().await;
    };
    assert_eq!(out.unwrap(), 5);
    assert!(set.is_empty());
}

#[waza::test(workers = 2)]
async fn panics_come_back_as_join_errors() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("boom") });
    set.spawn(async { 1 });
    let mut panics = 0;
    let mut oks = 0;
    while let Some(r) = set.join_next().await {
        match r {
            Ok(1) => oks += 1,
            Err(e) if e.is_panic() => panics += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((oks, panics), (1, 1));
}

#[waza::test(workers = 2)]
async fn join_all_collects_and_resumes_a_panic() {
    let mut set = JoinSet::new();
    for i in 0..100u32 {
        set.spawn(async move { i });
    }
    let mut all = set.join_all().await;
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<_>>());

    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let h = waza::spawn(async move {
        let mut set = JoinSet::new();
        let guard = DropCount(d);
        set.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        set.spawn(async { std::panic::panic_any(17u32) });
        set.join_all().await
    });
    let err = h.await.unwrap_err();
    assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 17);
    // The pending task was aborted with the set: its future is dropped (at its next
    // scheduling point, so wait for it).
    while drops.load(Ordering::SeqCst) != 1 {
        waza::yield_now().await;
    }
}

#[waza::test(workers = 2)]
async fn detach_all_leaves_tasks_running() {
    let mut set = JoinSet::new();
    let (tx, rx) = waza::chan::bounded::<u32>(4);
    for i in 0..4 {
        let tx = tx.clone();
        set.spawn(async move {
            waza::yield_now().await;
            tx.send(i).await.unwrap();
        });
    }
    drop(tx);
    set.detach_all();
    assert!(set.is_empty());
    drop(set);
    let mut got = Vec::new();
    while let Some(v) = rx.recv().await {
        got.push(v);
    }
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3]);
}

#[test]
fn spawn_on_and_spawn_blocking() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let mut set = JoinSet::new();
    set.spawn_on(async { 1 }, &rt.handle());
    let sum = rt.block_on(async move {
        set.spawn_blocking(|| 2);
        let mut sum = 0;
        while let Some(v) = set.join_next().await {
            sum += v.unwrap();
        }
        sum
    });
    assert_eq!(sum, 3);
}

#[test]
fn handle_enter_makes_spawn_work_on_a_plain_thread() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let other = waza::Runtime::builder().workers(1).build().unwrap();
    assert!(waza::Handle::try_current().is_none());
    let (h1, h2) = {
        let _outer = rt.handle().enter();
        let h1 = waza::spawn(async { waza::Handle::current().metrics().num_workers() });
        let h2 = {
            let _inner = other.handle().enter();
            waza::spawn(async { 2 })
        };
        // The inner guard restored the outer runtime.
        let mut set = JoinSet::new();
        set.spawn(async { 3 });
        assert_eq!(rt.block_on(set.join_next()).unwrap().unwrap(), 3);
        (h1, h2)
    };
    assert!(waza::Handle::try_current().is_none());
    assert_eq!(rt.block_on(h1).unwrap(), 1);
    assert_eq!(other.block_on(h2).unwrap(), 2);
}

#[waza::test(workers = 4)]
async fn abort_all_racing_completions_accounts_for_every_task() {
    const N: u64 = 5_000;
    for round in 0..4 {
        let mut set = JoinSet::new();
        for i in 0..N {
            set.spawn(async move {
                if i % 2 == round % 2 {
                    waza::yield_now().await;
                }
                i
            });
        }
        // Some complete before the abort reaches them, some after.
        waza::yield_now().await;
        set.abort_all();
        let (mut ok_sum, mut oks, mut cancelled) = (0, 0, 0);
        while let Some(r) = set.join_next().await {
            match r {
                Ok(i) => {
                    ok_sum += i;
                    oks += 1;
                }
                Err(e) => {
                    assert!(e.is_cancelled());
                    cancelled += 1;
                }
            }
        }
        assert_eq!(oks + cancelled, N);
        assert!(ok_sum <= N * (N - 1) / 2);
    }
}
