//! Runtime basics: block_on, spawn, go!, JoinHandle, errors, builder validation.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

fn rt(workers: usize) -> waza::Runtime {
    waza::Runtime::builder().workers(workers).build().unwrap()
}

#[test]
fn block_on_returns_value() {
    assert_eq!(rt(1).block_on(async { 1 + 1 }), 2);
    assert_eq!(waza::block_on(async { "x" }), "x");
}

#[test]
fn spawn_and_join_many() {
    let rt = rt(2);
    let sum = rt.block_on(async {
        let hs: Vec<_> = (0..1000u64)
            .map(|i| waza::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 499_500);
    assert_eq!(rt.handle().metrics().spawned_tasks_count(), 1000);
    assert_eq!(rt.handle().metrics().num_alive_tasks(), 0);
}

async fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[test]
fn go_macro_spawns_a_call() {
    let v = rt(2).block_on(async {
        let h = waza::go!(add(20, 22));
        h.await.unwrap()
    });
    assert_eq!(v, 42);
}

#[test]
fn nested_spawns_chain() {
    fn chain(n: u32) -> waza::JoinHandle<u32> {
        waza::spawn(async move {
            if n == 0 {
                0
            } else {
                chain(n - 1).await.unwrap() + 1
            }
        })
    }
    assert_eq!(rt(3).block_on(async { chain(500).await.unwrap() }), 500);
}

#[test]
fn abort_pending_task_is_cancelled() {
    let rt = rt(2);
    rt.block_on(async {
        let h = waza::spawn(std::future::pending::<()>());
        waza::yield_now().await;
        h.abort();
        let err = h.await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert!(err.to_string().contains("cancelled"));
    });
}

#[test]
fn abort_after_completion_keeps_output() {
    rt(2).block_on(async {
        let h = waza::spawn(async { 9 });
        while !h.is_finished() {
            waza::yield_now().await;
        }
        h.abort();
        assert_eq!(h.await.unwrap(), 9);
    });
}

#[test]
fn dropped_handle_detaches() {
    let rt = rt(2);
    let hits = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let h2 = hits.clone();
    drop(rt.spawn(async move {
        waza::yield_now().await;
        h2.fetch_add(1, SeqCst);
        tx.send(()).unwrap();
    }));
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(hits.load(SeqCst), 1);
}

#[test]
fn workers_zero_is_invalid_input() {
    let err = waza::Runtime::builder().workers(0).build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let err = waza::Runtime::builder()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn spawn_outside_runtime_panics_with_message() {
    let err = std::panic::catch_unwind(|| {
        drop(waza::spawn(async {}));
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("must be called from within a waza runtime"),
        "{msg}"
    );
    let err = std::panic::catch_unwind(|| drop(waza::Handle::current())).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("must be called from within a waza runtime"),
        "{msg}"
    );
    let err = std::panic::catch_unwind(|| drop(waza::go!(async {}))).unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("runtime"));
}

#[test]
fn channel_timers_outside_runtime_name_the_callers_line() {
    use std::time::Duration;
    for make in [
        (|| drop(waza::time::after(Duration::from_millis(1)))) as fn(),
        || drop(waza::time::tick(Duration::from_millis(1))),
    ] {
        let err = std::panic::catch_unwind(make).unwrap_err();
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            msg.contains("must be called from within a waza runtime")
                && msg.contains("tests/rt_basic.rs"),
            "{msg}"
        );
    }
}

#[test]
fn handle_try_current_everywhere() {
    assert!(waza::Handle::try_current().is_none());
    let rt = rt(2);
    rt.block_on(async {
        assert!(waza::Handle::try_current().is_some());
        let on_worker = waza::spawn(async { waza::Handle::try_current().is_some() });
        assert!(on_worker.await.unwrap());
        let on_blocking = waza::spawn_blocking(|| waza::Handle::try_current().is_some());
        assert!(on_blocking.await.unwrap());
    });
    assert!(waza::Handle::try_current().is_none());
}

#[test]
fn spawn_from_plain_threads_via_handle() {
    let rt = rt(2);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let handle = rt.handle().clone();
            std::thread::spawn(move || {
                (0..250u64)
                    .map(|i| handle.spawn(async move { t * 1000 + i }))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let handles: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let got = rt.block_on(async {
        let mut got = Vec::new();
        for h in handles {
            got.push(h.await.unwrap());
        }
        got
    });
    let mut expect: Vec<u64> = (0..4)
        .flat_map(|t| (0..250).map(move |i| t * 1000 + i))
        .collect();
    let mut got = got;
    got.sort_unstable();
    expect.sort_unstable();
    assert_eq!(got, expect);
}

#[test]
fn block_on_inside_worker_panics() {
    let rt = rt(1);
    let res = rt.block_on(async {
        waza::spawn(async {
            let inner = waza::Runtime::builder().workers(1).build().unwrap();
            inner.block_on(async {});
        })
        .await
    });
    assert!(res.unwrap_err().is_panic());
}

#[test]
fn large_future_is_boxed_and_runs() {
    let rt = rt(1);
    let v = rt.block_on(async {
        let big = [7u8; 64 * 1024];
        waza::spawn(async move {
            waza::yield_now().await;
            big.iter().map(|&b| b as u64).sum::<u64>()
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 7 * 64 * 1024);
}
