//! Mutex: FIFO hand-off, cancel safety with exact wake counts, Send guards, and a stress test
//! that checks mutual exclusion and an exact final count.

#[path = "support/sync.rs"]
mod sync_support;

use futures::executor::block_on;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use sync_support::{scale, Counted};
use waza::sync::{Mutex, MutexGuard, OwnedMutexGuard};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn guards_and_mutex_are_send_and_sync() {
    assert_send::<MutexGuard<'static, Vec<u8>>>();
    assert_sync::<MutexGuard<'static, Vec<u8>>>();
    assert_send::<OwnedMutexGuard<Vec<u8>>>();
    assert_send::<Mutex<std::cell::Cell<u8>>>();
    assert_sync::<Mutex<std::cell::Cell<u8>>>();
    assert_send::<Arc<Mutex<u8>>>();
}

#[test]
fn lock_is_granted_in_fifo_order() {
    let m = Mutex::new(Vec::new());
    let first = m.try_lock().unwrap();
    let cs: Vec<Counted> = (0..3).map(|_| Counted::new()).collect();
    let mut a = pin!(m.lock());
    let mut b = pin!(m.lock());
    let mut c = pin!(m.lock());
    assert!(cs[0].poll_pin(a.as_mut()).is_pending());
    assert!(cs[1].poll_pin(b.as_mut()).is_pending());
    assert!(cs[2].poll_pin(c.as_mut()).is_pending());
    drop(first);
    assert_eq!([cs[0].wakes(), cs[1].wakes(), cs[2].wakes()], [1, 0, 0]);
    // While waiters are queued, try_lock may not barge in.
    assert!(m.try_lock().is_err());
    let mut g = match cs[0].poll_pin(a.as_mut()) {
        std::task::Poll::Ready(g) => g,
        _ => panic!("first waiter must own the lock"),
    };
    g.push('a');
    drop(g);
    assert_eq!([cs[0].wakes(), cs[1].wakes(), cs[2].wakes()], [1, 1, 0]);
    let std::task::Poll::Ready(mut g) = cs[1].poll_pin(b.as_mut()) else {
        panic!()
    };
    g.push('b');
    drop(g);
    let std::task::Poll::Ready(mut g) = cs[2].poll_pin(c.as_mut()) else {
        panic!()
    };
    g.push('c');
    drop(g);
    assert_eq!(*m.try_lock().unwrap(), ['a', 'b', 'c']);
}

#[test]
fn dropping_a_granted_lock_future_passes_the_lock_on() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    let (ca, cb) = (Counted::new(), Counted::new());
    let mut a = Box::pin(m.lock());
    let mut b = pin!(m.lock());
    assert!(ca.poll_pin(a.as_mut()).is_pending());
    assert!(cb.poll_pin(b.as_mut()).is_pending());
    drop(held); // grants to `a`
    assert_eq!((ca.wakes(), cb.wakes()), (1, 0));
    drop(a); // `a` never looked: the lock must move to `b`
    assert_eq!(cb.wakes(), 1);
    assert!(cb.poll_pin(b.as_mut()).is_ready());
}

#[test]
fn dropping_a_waiting_lock_future_leaves_queue_consistent() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    let (ca, cb) = (Counted::new(), Counted::new());
    let mut a = Box::pin(m.lock());
    let mut b = pin!(m.lock());
    assert!(ca.poll_pin(a.as_mut()).is_pending());
    assert!(cb.poll_pin(b.as_mut()).is_pending());
    drop(a);
    assert_eq!(cb.wakes(), 0); // still locked
    drop(held);
    assert_eq!((ca.wakes(), cb.wakes()), (0, 1));
    match cb.poll_pin(b.as_mut()) {
        std::task::Poll::Ready(g) => drop(g),
        _ => panic!("b must own the lock"),
    }
    assert!(m.try_lock().is_ok());
}

#[test]
fn get_mut_into_inner_and_debug() {
    let mut m = Mutex::new(1);
    *m.get_mut() = 2;
    assert_eq!(format!("{m:?}"), "Mutex { data: 2 }");
    let g = m.try_lock().unwrap();
    assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    drop(g);
    assert_eq!(m.into_inner(), 2);
}

#[test]
fn unsized_contents() {
    let m: Box<Mutex<[u8]>> = Box::new(Mutex::new([1u8, 2, 3]));
    block_on(async {
        m.lock().await[0] = 9;
        assert_eq!(&*m.lock().await, &[9, 2, 3]);
    });
}

#[test]
fn stress_mutual_exclusion_and_exact_count() {
    let threads = 6;
    let iters = scale(2_000, 20_000);
    let m = Arc::new(Mutex::new(0usize));
    let holders = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (m, holders) = (m.clone(), holders.clone());
            std::thread::spawn(move || {
                block_on(async {
                    for k in 0..iters {
                        let mut g = if (i + k) % 3 == 0 {
                            m.clone().lock_owned().await
                        } else {
                            // Exercise the borrowed guard through an owned one's API too.
                            let g = m.lock().await;
                            drop(g);
                            m.clone().lock_owned().await
                        };
                        assert_eq!(holders.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        // A non-atomic read-modify-write: lost updates would show up below.
                        let v = *g;
                        std::hint::black_box(&v);
                        *g = v + 1;
                        holders.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*m.try_lock().unwrap(), threads * iters);
}

#[test]
fn stress_cancelled_lock_futures_lose_nothing() {
    use futures::FutureExt;
    let threads = 4;
    let iters = scale(2_000, 20_000);
    let m = Arc::new(Mutex::new(0usize));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                let mut done = 0;
                for _ in 0..iters {
                    // Poll once, then drop: either got the lock or cancelled.
                    if let Some(mut g) = m.lock().now_or_never() {
                        *g += 1;
                        done += 1;
                    }
                    // A full wait always succeeds eventually.
                    *block_on(m.lock()) += 1;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(*m.try_lock().unwrap(), total);
}

#[test]
fn futures_are_send_so_they_can_be_spawned() {
    fn send<T: Send>(_: &T) {}
    let m = Mutex::new(Vec::<u8>::new());
    send(&m.lock());
    let sem = waza::sync::Semaphore::new(1);
    send(&sem.acquire());
    let rw = waza::sync::RwLock::new(0u8);
    send(&rw.read());
    send(&rw.write());
    let cell = waza::sync::OnceCell::<u8>::new();
    send(&cell.get_or_init(|| async { 1 }));
    let n = waza::sync::Notify::new();
    send(&n.notified());
    let wg = waza::sync::WaitGroup::new();
    send(&wg.wait());
    // A task that holds the guard across an await point is Send too.
    let fut = async {
        let mut g = m.lock().await;
        futures::future::ready(()).await;
        g.push(1);
    };
    send(&fut);
}
