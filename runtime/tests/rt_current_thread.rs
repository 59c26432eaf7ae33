//! The current-thread runtime: no worker threads, tasks and the driver run inside
//! `block_on` on the calling thread, sharing the multi-threaded scheduler's core.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

fn rt() -> waza::Runtime {
    waza::Runtime::builder().current_thread().build().unwrap()
}

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn tasks_run_on_the_block_on_thread() {
    let rt = rt();
    let me = std::thread::current().id();
    let ids = rt.block_on(async {
        let mut set = waza::task::JoinSet::new();
        for _ in 0..100 {
            set.spawn(async {
                waza::yield_now().await;
                std::thread::current().id()
            });
        }
        let mut ids = Vec::new();
        while let Some(id) = set.join_next().await {
            ids.push(id.unwrap());
        }
        ids
    });
    assert_eq!(ids.len(), 100);
    assert!(ids.iter().all(|&id| id == me));
    assert_eq!(rt.handle().metrics().num_workers(), 1);
}

#[test]
fn timers_and_sockets_are_driven_by_block_on() {
    let rt = rt();
    rt.block_on(async {
        waza::time::sleep(Duration::from_millis(2)).await;
        let listener = waza::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = waza::spawn(async move {
            use futures_util::{AsyncReadExt, AsyncWriteExt};
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        use futures_util::{AsyncReadExt, AsyncWriteExt};
        let mut c = waza::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        server.await.unwrap();
    });
}

#[test]
fn a_spawn_from_another_thread_wakes_the_parked_block_on() {
    let rt = rt();
    let handle = rt.handle();
    let (tx, rx) = waza::sync::oneshot::channel();
    let th = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        handle.spawn(async move { tx.send(std::thread::current().id()).unwrap() });
    });
    let ran_on = rt.block_on(rx).unwrap();
    assert_eq!(ran_on, std::thread::current().id());
    th.join().unwrap();
}

#[test]
fn tasks_wait_between_block_ons_and_resume_in_the_next() {
    let rt = rt();
    let (tx, rx) = waza::chan::bounded::<u32>(1);
    let counter = rt.spawn(async move {
        let mut n = 0;
        while let Some(v) = rx.recv().await {
            n += v;
        }
        n
    });
    for i in 1..=10 {
        // Each block_on sends one value; the receiver runs within these calls only.
        rt.block_on(tx.send(i)).unwrap();
    }
    drop(tx);
    assert_eq!(rt.block_on(counter).unwrap(), 55);
}

#[test]
fn two_threads_block_on_the_same_runtime() {
    let rt = rt();
    let handle = rt.handle();
    let (tx, rx) = waza::chan::rendezvous::<u32>();
    let other = std::thread::spawn(move || {
        handle.block_on(async move {
            let mut sum = 0;
            while let Some(v) = rx.recv().await {
                sum += v;
            }
            sum
        })
    });
    rt.block_on(async move {
        for i in 0..100 {
            tx.send(i).await.unwrap();
        }
    });
    assert_eq!(other.join().unwrap(), (0..100).sum::<u32>());
}

#[test]
fn dropping_the_runtime_drops_every_task_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = rt();
    for _ in 0..50 {
        let d = DropCount(drops.clone());
        rt.spawn(async move {
            let _d = d;
            std::future::pending::<()>().await;
        });
    }
    // Half of them get polled (and suspend); the rest never ran.
    rt.block_on(async {
        for _ in 0..25 {
            let d = DropCount(drops.clone());
            waza::spawn(async move {
                let _d = d;
                waza::time::sleep(Duration::from_secs(3600)).await;
            });
        }
        waza::yield_now().await;
    });
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 75);
}

#[test]
fn block_in_place_panics_on_a_current_thread_runtime() {
    let rt = rt();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { waza::task::block_in_place(|| 1) })
    }));
    let err = r.unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .copied()
        .or(err.downcast_ref::<String>().map(String::as_str))
        .unwrap();
    assert!(msg.contains("current-thread"), "{msg}");
    // Inside a task: the task fails, the runtime goes on.
    let h = rt.spawn(async { waza::task::block_in_place(|| 1) });
    assert!(rt.block_on(h).unwrap_err().is_panic());
    assert_eq!(rt.block_on(async { 2 }), 2);
}

#[test]
fn a_panicking_block_on_future_leaves_the_runtime_usable() {
    let rt = rt();
    let (tx, rx) = waza::chan::unbounded::<u8>();
    let echo = rt.spawn(async move { rx.recv().await });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { panic!("main failed") })
    }));
    assert!(r.is_err());
    tx.try_send(9).unwrap();
    assert_eq!(rt.block_on(echo).unwrap(), Some(9));
}

#[test]
fn ping_pong_and_aborts_have_exact_counts() {
    let rt = rt();
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let total = rt.block_on(async move {
        let (ping_tx, ping_rx) = waza::chan::rendezvous::<u64>();
        let (pong_tx, pong_rx) = waza::chan::rendezvous::<u64>();
        let ponger = waza::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v + 1).await.unwrap();
            }
        });
        let mut sum = 0;
        for i in 0..10_000u64 {
            ping_tx.send(i).await.unwrap();
            sum += pong_rx.recv().await.unwrap();
        }
        drop(ping_tx);
        ponger.await.unwrap();
        // Aborted in the middle: every future dropped exactly once.
        let hs: Vec<_> = (0..100)
            .map(|_| {
                let guard = DropCount(d.clone());
                waza::spawn(async move {
                    let _g = guard;
                    loop {
                        waza::yield_now().await;
                    }
                })
            })
            .collect();
        waza::yield_now().await;
        for h in &hs {
            h.abort();
        }
        for h in hs {
            assert!(h.await.unwrap_err().is_cancelled());
        }
        sum
    });
    assert_eq!(total, (1..=10_000u64).sum::<u64>());
    assert_eq!(drops.load(Ordering::SeqCst), 100);
}

#[test]
fn spawn_blocking_results_reach_the_block_on_thread() {
    let rt = rt();
    let (tx, rx) = mpsc::channel();
    let v = rt.block_on(async move {
        let h = waza::spawn_blocking(move || {
            tx.send(std::thread::current().id()).unwrap();
            6
        });
        h.await.unwrap()
    });
    assert_eq!(v, 6);
    assert_ne!(rx.recv().unwrap(), std::thread::current().id());
}

#[waza::test(flavor = "current_thread")]
async fn the_test_attribute_runs_a_current_thread_runtime() {
    let me = std::thread::current().id();
    let ran_on = waza::spawn(async { std::thread::current().id() }).await;
    assert_eq!(ran_on.unwrap(), me);
    assert_eq!(waza::Handle::current().metrics().num_workers(), 1);
    let rc = waza::task::spawn_local(async { std::rc::Rc::new(1) }).await;
    assert_eq!(*rc.unwrap(), 1);
}

#[test]
fn dropping_the_runtime_while_another_thread_blocks_on_it() {
    let rt = rt();
    let handle = rt.handle();
    let pending = rt.spawn(std::future::pending::<()>());
    let (started_tx, started_rx) = mpsc::channel();
    let other = std::thread::spawn(move || {
        handle.block_on(async move {
            started_tx.send(()).unwrap();
            pending.await
        })
    });
    started_rx.recv().unwrap();
    drop(rt);
    // The task was cancelled by the shutdown; that block_on saw it.
    assert!(other.join().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn the_deadlock_detector_works_on_a_current_thread_runtime() {
    let rt = waza::Runtime::builder()
        .current_thread()
        .detect_deadlock(true)
        .build()
        .unwrap();
    // Alive: a timer, a blocking closure, a task that finishes.
    rt.block_on(async {
        waza::time::sleep(Duration::from_millis(1)).await;
        waza::spawn_blocking(|| std::thread::sleep(Duration::from_millis(30)))
            .await
            .unwrap();
        waza::spawn(async { 1 }).await.unwrap();
    });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            let (tx, rx) = waza::chan::rendezvous::<u8>();
            let waiter = waza::spawn(async move { rx.recv().await });
            let _keep = tx; // nobody will ever send
            waiter.await
        })
    }));
    let msg = r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("all tasks are asleep - deadlock!"), "{msg}");
    assert!(msg.contains("recv on chan#"), "{msg}");
}

#[test]
fn spawns_from_many_threads_all_run_on_the_block_on_thread() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 1000;
    let rt = rt();
    let me = std::thread::current().id();
    let (tx, rx) = waza::chan::unbounded::<bool>();
    let spawners: Vec<_> = (0..THREADS)
        .map(|_| {
            let handle = rt.handle();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    let tx = tx.clone();
                    handle.spawn(async move {
                        waza::yield_now().await;
                        tx.try_send(std::thread::current().id() == me).unwrap();
                    });
                }
            })
        })
        .collect();
    drop(tx);
    let (on_me, total) = rt.block_on(async move {
        let (mut on_me, mut total) = (0, 0);
        while let Some(ok) = rx.recv().await {
            on_me += usize::from(ok);
            total += 1;
        }
        (on_me, total)
    });
    for s in spawners {
        s.join().unwrap();
    }
    assert_eq!((on_me, total), (THREADS * PER_THREAD, THREADS * PER_THREAD));
}
