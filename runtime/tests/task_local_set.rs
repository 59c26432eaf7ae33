//! `LocalSet` and `spawn_local`: `!Send` futures run (and are dropped) only on the
//! thread that drives their set, whoever wakes or aborts them.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use waza::task::{spawn_local, LocalSet};

/// Records the thread its future is dropped on.
struct DropsOn(Arc<Mutex<Vec<ThreadId>>>, #[allow(dead_code)] Rc<()>); // the Rc: !Send

impl Drop for DropsOn {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(std::thread::current().id());
    }
}

fn panic_message(err: Box<dyn std::any::Any + Send>) -> String {
    match err.downcast::<String>() {
        Ok(s) => *s,
        Err(err) => err.downcast::<&str>().map(|s| s.to_string()).unwrap(),
    }
}

#[test]
fn spawn_local_in_a_current_thread_block_on() {
    let rt = waza::Runtime::builder().current_thread().build().unwrap();
    let total = rt.block_on(async {
        let counter = Rc::new(Cell::new(0u32));
        let (tx, rx) = waza::chan::rendezvous::<u32>();
        let c = counter.clone();
        let consumer = spawn_local(async move {
            while let Some(v) = rx.recv().await {
                c.set(c.get() + v);
            }
        });
        let mut producers = Vec::new();
        for i in 0..50 {
            let tx = tx.clone();
            producers.push(spawn_local(async move { tx.send(i).await.unwrap() }));
        }
        drop(tx);
        for p in producers {
            p.await.unwrap();
        }
        consumer.await.unwrap();
        counter.get()
    });
    assert_eq!(total, (0..50).sum::<u32>());
}

#[test]
fn spawn_local_elsewhere_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| spawn_local(async {})).unwrap_err();
    assert!(panic_message(err).contains("LocalSet"));
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { spawn_local(async {}).await.unwrap() })
    }))
    .unwrap_err();
    assert!(panic_message(err).contains("current-thread"));
}

#[test]
fn local_tasks_woken_from_workers_run_on_the_owner_thread() {
    const N: usize = 200;
    let rt = waza::Runtime::builder().workers(4).build().unwrap();
    let local = LocalSet::new();
    let owner = std::thread::current().id();
    let wrong_thread = Arc::new(AtomicUsize::new(0));
    let w = wrong_thread.clone();
    let sum = local.block_on(&rt, async move {
        let mut handles = Vec::new();
        for i in 0..N {
            let (tx, rx) = waza::sync::oneshot::channel::<usize>();
            // The sender is a Send task on the workers.
            waza::spawn(async move {
                waza::yield_now().await;
                tx.send(i).unwrap();
            });
            let marker = Rc::new(()); // !Send
            let w = w.clone();
            handles.push(spawn_local(async move {
                let v = rx.await.unwrap();
                if std::thread::current().id() != owner {
                    w.fetch_add(1, Ordering::SeqCst);
                }
                drop(marker);
                v
            }));
        }
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..N).sum::<usize>());
    assert_eq!(wrong_thread.load(Ordering::SeqCst), 0);
}

#[test]
fn dropping_the_set_drops_pending_futures_on_the_owner_thread() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let drops = Arc::new(Mutex::new(Vec::new()));
    let local = LocalSet::new();
    for _ in 0..20 {
        let guard = DropsOn(drops.clone(), Rc::new(()));
        local.spawn_local(async move {
            let _g = guard;
            std::future::pending::<()>().await;
        });
    }
    // Ten of them get polled first; the rest never ran.
    local.block_on(&rt, async {
        for _ in 0..10 {
            let guard = DropsOn(drops.clone(), Rc::new(()));
            spawn_local(async move {
                let _g = guard;
                std::future::pending::<()>().await;
            });
        }
        waza::yield_now().await;
    });
    assert!(drops.lock().unwrap().is_empty());
    drop(local);
    let drops = drops.lock().unwrap();
    assert_eq!(drops.len(), 30);
    assert!(drops.iter().all(|&id| id == std::thread::current().id()));
}

#[test]
fn abort_from_another_thread_drops_the_future_on_the_owner() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let drops = Arc::new(Mutex::new(Vec::new()));
    let local = LocalSet::new();
    let guard = DropsOn(drops.clone(), Rc::new(()));
    let h = local.spawn_local(async move {
        let _g = guard;
        std::future::pending::<()>().await;
    });
    let abort = h.abort_handle();
    let res = local.block_on(&rt, async move {
        waza::yield_now().await;
        std::thread::spawn(move || abort.abort()).join().unwrap();
        h.await
    });
    assert!(res.unwrap_err().is_cancelled());
    assert_eq!(*drops.lock().unwrap(), [std::thread::current().id()]);
}

#[test]
fn awaiting_the_set_waits_for_all_its_tasks() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let local = LocalSet::new();
    let done = Rc::new(Cell::new(0));
    for i in 0..10 {
        let d = done.clone();
        local.spawn_local(async move {
            for _ in 0..i {
                waza::yield_now().await;
            }
            d.set(d.get() + 1);
        });
    }
    rt.block_on(local);
    assert_eq!(done.get(), 10);
}

#[test]
fn local_tasks_left_when_a_current_thread_block_on_returns_are_cancelled() {
    let rt = waza::Runtime::builder().current_thread().build().unwrap();
    let drops = Arc::new(Mutex::new(Vec::new()));
    let d = drops.clone();
    let h = rt.block_on(async move {
        let guard = DropsOn(d, Rc::new(()));
        let h = spawn_local(async move {
            let _g = guard;
            std::future::pending::<()>().await;
        });
        waza::yield_now().await;
        h.abort_handle()
    });
    assert!(h.is_finished());
    assert_eq!(*drops.lock().unwrap(), [std::thread::current().id()]);
}

#[test]
fn join_set_spawn_local() {
    let rt = waza::Runtime::builder().current_thread().build().unwrap();
    let sum = rt.block_on(async {
        let mut set = waza::task::JoinSet::new();
        for i in 0..10u32 {
            let r = Rc::new(i);
            set.spawn_local(async move { *r });
        }
        let mut sum = 0;
        while let Some(v) = set.join_next().await {
            sum += v.unwrap();
        }
        sum
    });
    assert_eq!(sum, 45);
}
