//! RwLock: many readers, exclusive writers, writer preference without starvation, downgrade,
//! cancel safety, and a stress test that checks readers never see a half-written value.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use futures::FutureExt;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{scale, Counted};
use waza::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

#[test]
fn guard_auto_traits() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<RwLockReadGuard<'static, Vec<u8>>>();
    sync::<RwLockReadGuard<'static, Vec<u8>>>();
    send::<RwLockWriteGuard<'static, Vec<u8>>>();
    sync::<RwLock<Vec<u8>>>();
}

#[test]
fn readers_share_writers_exclude() {
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    assert!(lock.try_write().is_none());
    drop((r1, r2));
    let w = lock.try_write().unwrap();
    assert!(lock.try_read().is_none());
    assert!(lock.try_write().is_none());
    drop(w);
    assert!(lock.try_write().is_some());
}

#[test]
fn waiting_writer_blocks_later_readers_then_they_all_go_together() {
    let lock = RwLock::new(0);
    let r = lock.try_read().unwrap();
    let (cw, c1, c2) = (Counted::new(), Counted::new(), Counted::new());
    let mut w = pin!(lock.write());
    assert!(cw.poll_pin(w.as_mut()).is_pending());
    // A writer waits: new readers queue behind it (writer preference).
    assert!(lock.try_read().is_none());
    let mut later1 = pin!(lock.read());
    let mut later2 = pin!(lock.read());
    assert!(c1.poll_pin(later1.as_mut()).is_pending());
    assert!(c2.poll_pin(later2.as_mut()).is_pending());
    drop(r);
    assert_eq!((cw.wakes(), c1.wakes(), c2.wakes()), (1, 0, 0));
    let Poll::Ready(mut g) = cw.poll_pin(w.as_mut()) else {
        panic!("writer first")
    };
    *g = 1;
    drop(g);
    // Both queued readers are admitted by one release.
    assert_eq!((c1.wakes(), c2.wakes()), (1, 1));
    let Poll::Ready(g1) = c1.poll_pin(later1.as_mut()) else {
        panic!()
    };
    let Poll::Ready(g2) = c2.poll_pin(later2.as_mut()) else {
        panic!()
    };
    assert_eq!((*g1, *g2), (1, 1));
}

#[test]
fn readers_before_a_writer_are_not_starved_by_it() {
    let lock = RwLock::new(0);
    let w0 = lock.try_write().unwrap();
    let (c1, c2) = (Counted::new(), Counted::new());
    let mut r = pin!(lock.read());
    let mut w = pin!(lock.write());
    assert!(c1.poll_pin(r.as_mut()).is_pending());
    assert!(c2.poll_pin(w.as_mut()).is_pending());
    drop(w0);
    assert_eq!((c1.wakes(), c2.wakes()), (1, 0));
    let Poll::Ready(g) = c1.poll_pin(r.as_mut()) else {
        panic!("reader first")
    };
    drop(g);
    assert_eq!(c2.wakes(), 1);
    assert!(c2.poll_pin(w.as_mut()).is_ready());
}

#[test]
fn cancelled_writer_unblocks_readers_behind_it() {
    let lock = RwLock::new(0);
    let r = lock.try_read().unwrap();
    let (cw, cr) = (Counted::new(), Counted::new());
    let mut w = Box::pin(lock.write());
    let mut later = pin!(lock.read());
    assert!(cw.poll_pin(w.as_mut()).is_pending());
    assert!(cr.poll_pin(later.as_mut()).is_pending());
    drop(w);
    assert_eq!(cr.wakes(), 1);
    assert!(cr.poll_pin(later.as_mut()).is_ready());
    drop(r);
}

#[test]
fn downgrade_keeps_writers_out_and_lets_readers_in() {
    let lock = RwLock::new(1);
    block_on(async {
        let mut w = lock.write().await;
        *w = 2;
        let r = w.downgrade();
        assert!(lock.try_write().is_none());
        let r2 = lock.read().await;
        assert_eq!(*r + *r2, 4);
        drop((r, r2));
        assert!(lock.try_write().is_some());
    });
}

#[test]
fn stress_readers_never_see_torn_writes() {
    let threads = 6;
    let iters = scale(1_500, 15_000);
    let lock = Arc::new(RwLock::new((0usize, 0usize)));
    let writers_inside = Arc::new(AtomicUsize::new(0));
    let readers_inside = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (lock, wi, ri) = (lock.clone(), writers_inside.clone(), readers_inside.clone());
            std::thread::spawn(move || {
                let mut writes = 0;
                for k in 0..iters {
                    if (i + k) % 4 == 0 {
                        let mut g = block_on(lock.write());
                        assert_eq!(wi.fetch_add(1, Ordering::SeqCst), 0, "two writers");
                        assert_eq!(ri.load(Ordering::SeqCst), 0, "reader during write");
                        g.0 += 1;
                        std::hint::black_box(&*g);
                        g.1 += 1;
                        wi.fetch_sub(1, Ordering::SeqCst);
                        writes += 1;
                    } else if let Some(g) = lock.read().now_or_never() {
                        ri.fetch_add(1, Ordering::SeqCst);
                        assert_eq!(wi.load(Ordering::SeqCst), 0, "writer during read");
                        assert_eq!(g.0, g.1, "torn write observed");
                        ri.fetch_sub(1, Ordering::SeqCst);
                    } else {
                        let g = block_on(lock.read());
                        assert_eq!(g.0, g.1, "torn write observed");
                    }
                }
                writes
            })
        })
        .collect();
    let writes: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let g = lock.try_read().unwrap();
    assert_eq!(*g, (writes, writes));
}
