//! Volume: a million spawns joined (scaled down in debug builds), panicking tasks, and
//! conservation across work stealing.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// A million spawns: a few seconds even in a debug build on two cores.
const SPAWNS: u64 = 1_000_000;

#[test]
fn million_spawns_joined() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let sum = rt.block_on(async {
        let mut sum = 0u64;
        // join in chunks so the handles do not all live at once
        for chunk in 0..SPAWNS / 10_000 {
            let hs: Vec<_> = (0..10_000u64)
                .map(|i| waza::spawn(async move { chunk * 10_000 + i }))
                .collect();
            for h in hs {
                sum += h.await.unwrap();
            }
        }
        sum
    });
    assert_eq!(sum, SPAWNS * (SPAWNS - 1) / 2);
    let m = rt.handle().metrics();
    assert_eq!(m.spawned_tasks_count(), SPAWNS);
    assert_eq!(m.num_alive_tasks(), 0);
}

#[test]
fn thousand_panicking_tasks_leave_runtime_serving() {
    // keep the output readable: silence the thousand expected panic messages
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let worker = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("waza-worker"));
        if !worker {
            default_hook(info);
        }
    }));
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    rt.block_on(async {
        let hs: Vec<_> = (0..1000)
            .map(|i| waza::spawn(async move { panic!("task {i} failed") }))
            .collect();
        let mut panics = 0;
        for h in hs {
            let e = h.await.unwrap_err();
            assert!(e.is_panic());
            panics += 1;
        }
        assert_eq!(panics, 1000);
    });
    // still serving
    let v = rt.block_on(async { waza::spawn(async { 5 }).await.unwrap() });
    assert_eq!(v, 5);
    assert_eq!(rt.handle().metrics().num_alive_tasks(), 0);
}

#[test]
fn spawn_from_tasks_fan_out_conserves_work() {
    // Each task spawns children down to a depth; every leaf adds its id once. Work spreads
    // by stealing; the sum proves nothing is lost or run twice.
    fn tree(
        depth: u32,
        id: u64,
        total: Arc<AtomicU64>,
        runs: Arc<AtomicUsize>,
    ) -> waza::JoinHandle<()> {
        waza::spawn(async move {
            runs.fetch_add(1, SeqCst);
            if depth == 0 {
                total.fetch_add(id, SeqCst);
                return;
            }
            let a = tree(depth - 1, id * 2, total.clone(), runs.clone());
            let b = tree(depth - 1, id * 2 + 1, total.clone(), runs.clone());
            a.await.unwrap();
            b.await.unwrap();
        })
    }
    let rt = waza::Runtime::builder().workers(4).build().unwrap();
    let total = Arc::new(AtomicU64::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let depth = 12;
    let (t, r) = (total.clone(), runs.clone());
    rt.block_on(async move { tree(depth, 1, t, r).await })
        .unwrap();
    let leaves = 1u64 << depth;
    // leaves are ids leaves..2*leaves
    assert_eq!(total.load(SeqCst), (leaves..2 * leaves).sum::<u64>());
    assert_eq!(runs.load(SeqCst) as u64, 2 * leaves - 1);
}

#[test]
fn cross_thread_wakes_conserve_messages() {
    let rt = waza::Runtime::builder().workers(3).build().unwrap();
    let (tx, rx) = waza::chan::bounded::<u64>(16);
    let producers = 4u64;
    let per = 2_000u64;
    let got = rt.block_on(async move {
        for p in 0..producers {
            let tx = tx.clone();
            drop(waza::spawn(async move {
                for i in 0..per {
                    tx.send(p * per + i).await.unwrap();
                }
            }));
        }
        drop(tx);
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                waza::spawn(async move {
                    let mut v = Vec::new();
                    while let Some(x) = rx.recv().await {
                        v.push(x);
                    }
                    v
                })
            })
            .collect();
        let mut all = Vec::new();
        for c in consumers {
            all.extend(c.await.unwrap());
        }
        all
    });
    let mut got = got;
    got.sort_unstable();
    assert_eq!(got, (0..producers * per).collect::<Vec<_>>());
}

#[test]
fn park_unpark_round_trips_never_lose_a_wakeup() {
    // Every round the workers run dry and park; the next message must wake one. A lost
    // wake-up would hang this test.
    let rt = waza::Runtime::builder().workers(4).build().unwrap();
    let (to_task, from_main) = waza::chan::rendezvous::<u32>();
    let (to_main, from_task) = waza::chan::rendezvous::<u32>();
    let echo = rt.spawn(async move {
        let mut n = 0u64;
        while let Some(v) = from_main.recv().await {
            // hop through a fresh task so a second worker is involved
            let v = waza::spawn(async move { v + 1 }).await.unwrap();
            to_main.send(v).await.unwrap();
            n += 1;
        }
        n
    });
    let rounds = if cfg!(debug_assertions) {
        3_000
    } else {
        30_000
    };
    for i in 0..rounds {
        to_task.send_blocking(i).unwrap();
        assert_eq!(from_task.recv_blocking(), Some(i + 1));
    }
    drop(to_task);
    assert_eq!(rt.block_on(echo).unwrap(), rounds as u64);
}
