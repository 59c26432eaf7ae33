use super::*;
use crate::test_support::CountWaker;
use std::task::{Context, Poll};

/// A driver and one end of a Unix socket pair registered for reading (nonblocking, as a
/// runtime registers sockets); the other end writes to it.
struct Fixture {
    driver: Driver,
    handle: Arc<DriverHandle>,
    reg: Registration,
    ours: mio::net::UnixStream,
    peer: std::os::unix::net::UnixStream,
}

fn fixture() -> Fixture {
    let (driver, handle) = Driver::new(1).unwrap();
    let (ours, peer) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let mut ours = mio::net::UnixStream::from_std(ours);
    let reg = Registration::new(&handle, &mut ours, mio::Interest::READABLE).unwrap();
    Fixture {
        driver,
        handle,
        reg,
        ours,
        peer,
    }
}

#[test]
fn unpark_interrupts_an_unbounded_park() {
    let (mut driver, handle) = Driver::new(1).unwrap();
    let h = handle.clone();
    let t = std::thread::spawn(move || h.unpark());
    driver.park(None);
    t.join().unwrap();
    handle.unpark();
    driver.park(None);
}

#[test]
fn socket_readiness_wakes_the_waiting_task_once() {
    let mut f = fixture();
    let (count, waker) = CountWaker::new();
    let mut cx = Context::from_waker(&waker);
    // Drain the initial edge (if any), then wait.
    while let Poll::Ready(ev) = f.reg.poll_ready(&mut cx, Direction::Read) {
        f.reg.clear_readiness(ev);
    }
    f.driver.park(Some(Duration::from_millis(0)));
    assert_eq!(count.wakes(), 0);
    std::io::Write::write_all(&mut &f.peer, b"x").unwrap();
    while count.wakes() == 0 {
        f.driver.park(None);
    }
    assert_eq!(count.wakes(), 1);
    assert!(f.reg.poll_ready(&mut cx, Direction::Read).is_ready());
    drop(f.reg);
    f.driver.shutdown();
}

#[test]
fn shutdown_completes_io_waits() {
    let mut f = fixture();
    let (count, waker) = CountWaker::new();
    let mut cx = Context::from_waker(&waker);
    assert!(f.reg.poll_ready(&mut cx, Direction::Read).is_pending());
    f.driver.shutdown();
    assert!(!f.handle.has_io_waiters(), "shutdown moved every waker out");
    assert_eq!(count.wakes(), 1);
    match f.reg.poll_ready(&mut cx, Direction::Read) {
        Poll::Ready(ev) => assert!(ev.is_shutdown()),
        Poll::Pending => panic!("shutdown must complete the wait"),
    }
    let Err(err) = Registration::new(&f.handle, &mut f.ours, mio::Interest::READABLE) else {
        panic!("registering after shutdown must fail");
    };
    assert_eq!(err.kind(), shutdown_error().kind());
}

#[test]
fn dropped_registrations_release_their_key_at_the_next_park() {
    let mut f = fixture();
    let (_, waker) = CountWaker::new();
    let mut cx = Context::from_waker(&waker);
    assert!(!f.handle.has_io_waiters());
    assert!(f.reg.poll_ready(&mut cx, Direction::Read).is_pending());
    assert!(f.handle.has_io_waiters(), "a stored waker is a waiter");
    f.reg.deregister(&mut f.ours).unwrap();
    drop(f.reg);
    assert_eq!(f.handle.lock_regs().slab.len(), 1, "release is deferred");
    assert!(!f.handle.has_io_waiters(), "a released key is not a waiter");
    f.driver.park(Some(Duration::ZERO));
    assert_eq!(f.handle.lock_regs().slab.len(), 0);
}

#[test]
fn park_without_timeout_returns_for_a_timer_and_never_early() {
    let (mut driver, handle) = Driver::new(1).unwrap();
    let (count, waker) = CountWaker::new();
    let deadline = Instant::now() + Duration::from_millis(15);
    let key = match handle.timers().insert(deadline, &waker) {
        crate::time::Inserted::Waiting { key, .. } => key,
        other => panic!("{other:?}"),
    };
    while count.wakes() == 0 {
        driver.park(None);
    }
    assert!(Instant::now() >= deadline);
    assert_eq!(count.wakes(), 1);
    assert!(handle.timers().poll_entry(key, &waker));
    handle.timers().remove(key);
}

#[test]
fn an_earlier_timer_registered_during_a_park_cuts_it_short() {
    let (mut driver, handle) = Driver::new(1).unwrap();
    let (count, waker) = CountWaker::new();
    let h = handle.clone();
    let w = waker.clone();
    let registrar = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        let deadline = Instant::now() + Duration::from_millis(5);
        match h.timers().insert(deadline, &w) {
            crate::time::Inserted::Waiting { unpark, .. } => {
                if unpark {
                    h.unpark();
                }
            }
            other => panic!("{other:?}"),
        }
    });
    // Nothing else would end this park: only the registration's unpark can.
    while count.wakes() == 0 {
        driver.park(None);
    }
    registrar.join().unwrap();
    assert_eq!(count.wakes(), 1);
}

#[test]
fn every_waiter_on_one_socket_is_woken() {
    let mut f = fixture();
    let counts: Vec<Arc<CountWaker>> = (0..3).map(|_| Arc::default()).collect();
    f.driver.park(Some(Duration::ZERO));
    for c in &counts {
        let w = Waker::from(c.clone());
        let mut cx = Context::from_waker(&w);
        while let Poll::Ready(ev) = f.reg.poll_ready(&mut cx, Direction::Read) {
            f.reg.clear_readiness(ev);
        }
    }
    std::io::Write::write_all(&mut &f.peer, b"x").unwrap();
    while counts.iter().any(|c| c.wakes() == 0) {
        f.driver.park(None);
    }
    for c in &counts {
        assert_eq!(c.wakes(), 1);
    }
}
