//! `task_local!`: each task sees its own value, across suspensions and workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

waza::task_local! {
    static ID: u64;
    static NAME: String;
}

#[waza::test(workers = 4)]
async fn every_task_sees_its_own_value_across_yields() {
    let mut set = waza::task::JoinSet::new();
    for i in 0..200u64 {
        set.spawn(ID.scope(i, async move {
            for _ in 0..20 {
                assert_eq!(ID.get(), i);
                waza::yield_now().await;
            }
            ID.with(|v| *v)
        }));
    }
    let mut sum = 0;
    while let Some(v) = set.join_next().await {
        sum += v.unwrap();
    }
    assert_eq!(sum, (0..200u64).sum::<u64>());
}

#[waza::test(workers = 1)]
async fn scopes_nest_and_restore() {
    assert!(ID.try_with(|_| ()).is_err());
    ID.scope(1, async {
        assert_eq!(ID.get(), 1);
        ID.scope(2, async {
            assert_eq!(ID.get(), 2);
            waza::yield_now().await;
            assert_eq!(ID.get(), 2);
        })
        .await;
        assert_eq!(ID.get(), 1);
        NAME.scope("n".to_string(), async {
            assert_eq!(NAME.with(|s| s.clone()), "n");
            assert_eq!(ID.get(), 1);
        })
        .await;
    })
    .await;
    assert!(ID.try_with(|_| ()).is_err());
}

#[test]
fn with_outside_a_scope_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| ID.with(|_| ())).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("task-local"), "{msg}");
}

#[test]
fn a_panic_inside_a_scope_restores_the_outer_value() {
    ID.sync_scope(7, || {
        let r = std::panic::catch_unwind(|| ID.sync_scope(8, || panic!("inner")));
        assert!(r.is_err());
        assert_eq!(ID.get(), 7);
        let r = std::panic::catch_unwind(|| {
            futures::executor::block_on(ID.scope(9, async { panic!("inner async") }))
        });
        assert!(r.is_err());
        assert_eq!(ID.get(), 7);
    });
    assert!(ID.try_with(|_| ()).is_err());
}

struct ReadsOnDrop(Arc<AtomicUsize>);

impl Drop for ReadsOnDrop {
    fn drop(&mut self) {
        if let Ok(v) = ID.try_with(|v| *v) {
            self.0.store(v as usize, Ordering::SeqCst);
        }
    }
}

#[waza::test(workers = 1)]
async fn a_cancelled_scope_drops_its_future_inside_the_scope() {
    let seen = Arc::new(AtomicUsize::new(0));
    let guard = ReadsOnDrop(seen.clone());
    let h = waza::spawn(ID.scope(42, async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    }));
    waza::yield_now().await;
    h.abort();
    assert!(h.await.unwrap_err().is_cancelled());
    assert_eq!(seen.load(Ordering::SeqCst), 42);
}

#[waza::test(workers = 1)]
async fn interleaved_tasks_on_one_worker_do_not_see_each_other() {
    let (tx, rx) = waza::chan::rendezvous::<u64>();
    let a = waza::spawn(ID.scope(1, async move {
        for _ in 0..50 {
            tx.send(ID.get()).await.unwrap();
        }
    }));
    let b = waza::spawn(ID.scope(2, async move {
        let mut n = 0;
        while let Some(v) = rx.recv().await {
            assert_eq!(v, 1);
            assert_eq!(ID.get(), 2);
            n += 1;
        }
        n
    }));
    a.await.unwrap();
    assert_eq!(b.await.unwrap(), 50);
}

#[test]
fn a_scope_inside_with_of_the_same_key_panics_and_restores() {
    ID.sync_scope(1, || {
        let r = std::panic::catch_unwind(|| ID.with(|_| ID.sync_scope(2, || ())));
        let err = r.unwrap_err();
        let msg = err
            .downcast_ref::<&str>()
            .copied()
            .or(err.downcast_ref::<String>().map(String::as_str))
            .unwrap();
        assert!(msg.contains("borrowed"), "{msg}");
        // The outer value is intact.
        assert_eq!(ID.get(), 1);
    });
}
