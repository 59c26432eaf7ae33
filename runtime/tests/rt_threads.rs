//! Worker threads: exact count, names, spawn_blocking does not stall async tasks.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

#[test]
fn tasks_run_only_on_named_workers() {
    let rt = waza::Runtime::builder()
        .workers(3)
        .thread_name("named")
        .build()
        .unwrap();
    let names = Arc::new(Mutex::new(HashSet::new()));
    rt.block_on(async {
        let hs: Vec<_> = (0..300)
            .map(|_| {
                let names = names.clone();
                waza::spawn(async move {
                    for _ in 0..3 {
                        let name = std::thread::current().name().unwrap().to_string();
                        names.lock().unwrap().insert(name);
                        waza::yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    let names = names.lock().unwrap();
    assert!(!names.is_empty() && names.len() <= 3, "{names:?}");
    for n in names.iter() {
        assert!(n.starts_with("named-"), "{n}");
    }
}

#[cfg(target_os = "linux")]
#[path = "support/threads.rs"]
mod threads;
#[cfg(target_os = "linux")]
use threads::count_named as count_threads_named;

#[cfg(target_os = "linux")]
#[test]
fn exactly_n_worker_threads() {
    for n in [1, 4] {
        let prefix = format!("exact{n}");
        let rt = waza::Runtime::builder()
            .workers(n)
            .thread_name(prefix.clone())
            .build()
            .unwrap();
        // a thread names itself as it starts: wait for all of them
        let mut seen = 0;
        for _ in 0..10_000 {
            seen = count_threads_named(&format!("{prefix}-"));
            if seen >= n {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(seen, n);
        rt.block_on(async {
            let hs: Vec<_> = (0..100).map(|_| waza::spawn(waza::yield_now())).collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        assert_eq!(
            count_threads_named(&format!("{prefix}-")),
            n,
            "no extra workers"
        );
        assert_eq!(rt.handle().metrics().num_workers(), n);
        drop(rt);
        // `drop` joins the workers, but the kernel may list an exited thread in
        // /proc/self/task for a moment after `pthread_join` returned: wait for it to go.
        let mut left = usize::MAX;
        for _ in 0..10_000 {
            left = count_threads_named(&format!("{prefix}-"));
            if left == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(left, 0, "workers joined");
    }
}

#[test]
fn blocking_sleepers_do_not_stall_async_tasks() {
    // One worker; blocking closures wait for a message that only an async task sends. If
    // they ran on the worker, the sender could never run.
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let n = 8;
    let (tx, rx) = std::sync::mpsc::channel::<u32>();
    let rx = Arc::new(Mutex::new(rx));
    let total = rt.block_on(async move {
        let blockers: Vec<_> = (0..n)
            .map(|_| {
                let rx = rx.clone();
                waza::spawn_blocking(move || rx.lock().unwrap().recv().unwrap())
            })
            .collect();
        let sender = waza::spawn(async move {
            for i in 0..n {
                waza::yield_now().await;
                tx.send(i).unwrap();
            }
        });
        sender.await.unwrap();
        let mut total = 0;
        for b in blockers {
            total += b.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..8).sum::<u32>());
}

#[test]
fn blocking_pool_respects_max_threads_and_reports_count() {
    let rt = waza::Runtime::builder()
        .workers(1)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let barrier = Arc::new(std::sync::Barrier::new(3));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let b = barrier.clone();
            rt.handle().spawn_blocking(move || {
                b.wait();
            })
        })
        .collect();
    barrier.wait();
    assert_eq!(rt.handle().metrics().blocking_threads_count(), 2);
    // a third closure queues behind the two threads
    let third = rt.handle().spawn_blocking(|| 3);
    assert_eq!(rt.handle().metrics().blocking_threads_count(), 2);
    rt.block_on(async {
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(third.await.unwrap(), 3);
    });
}

#[test]
fn blocking_panic_is_a_join_error() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let err = rt.block_on(async { waza::spawn_blocking(|| panic!("blocked boom")).await });
    let err = err.unwrap_err();
    assert!(err.is_panic());
    assert!(err.to_string().contains("blocked boom"));
}

#[test]
fn idle_blocking_threads_retire() {
    let rt = waza::Runtime::builder()
        .workers(1)
        .thread_keep_alive(std::time::Duration::from_millis(20))
        .build()
        .unwrap();
    let v = rt.block_on(async { waza::spawn_blocking(|| 5).await.unwrap() });
    assert_eq!(v, 5);
    let mut count = usize::MAX;
    for _ in 0..2_000 {
        count = rt.handle().metrics().blocking_threads_count();
        if count == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(count, 0, "the idle blocking thread retired");
    // and the pool starts a new one on demand
    let v = rt.block_on(async { waza::spawn_blocking(|| 6).await.unwrap() });
    assert_eq!(v, 6);
}
