use super::*;
use crate::test_support::CountWaker;
use std::task::{Context, Poll};

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
    let (mut driver, handle) = Driver::new(1).unwrap();
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let mut a = mio::net::UnixStream::from_std(a);
    let reg = Registration::new(&handle, &mut a, mio::Interest::READABLE).unwrap();
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);
    // Drain the initial edge (if any), then wait.
    while let Poll::Ready(ev) = reg.poll_ready(&mut cx, Direction::Read) {
        reg.clear_readiness(ev);
    }
    driver.park(Some(Duration::from_millis(0)));
    assert_eq!(count.wakes(), 0);
    std::io::Write::write_all(&mut &b, b"x").unwrap();
    while count.wakes() == 0 {
        driver.park(None);
    }
    assert_eq!(count.wakes(), 1);
    assert!(reg.poll_ready(&mut cx, Direction::Read).is_ready());
    drop(reg);
    driver.shutdown();
}

#[test]
fn shutdown_completes_io_waits() {
    let (mut driver, handle) = Driver::new(1).unwrap();
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let mut a = mio::net::UnixStream::from_std(a);
    let reg = Registration::new(&handle, &mut a, mio::Interest::READABLE).unwrap();
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(reg.poll_ready(&mut cx, Direction::Read).is_pending());
    driver.shutdown();
    assert!(!handle.has_io_waiters(), "shutdown moved every waker out");
    assert_eq!(count.wakes(), 1);
    match reg.poll_ready(&mut cx, Direction::Read) {
        Poll::Ready(ev) => assert!(ev.is_shutdown()),
        Poll::Pending => panic!("shutdown must complete the wait"),
    }
    let Err(err) = Registration::new(&handle, &mut a, mio::Interest::READABLE) else {
        panic!("registering after shutdown must fail");
    };
    assert_eq!(err.kind(), shutdown_error().kind());
}

#[test]
fn dropped_registrations_release_their_key_at_the_next_park() {
    let (mut driver, handle) = Driver::new(1).unwrap();
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut a = mio::net::UnixStream::from_std(a);
    let reg = Registration::new(&handle, &mut a, mio::Interest::READABLE).unwrap();
    let waker = Waker::from(Arc::new(CountWaker::default()));
    let mut cx = Context::from_waker(&waker);
    assert!(!handle.has_io_waiters());
    assert!(reg.poll_ready(&mut cx, Direction::Read).is_pending());
    assert!(handle.has_io_waiters(), "a stored waker is a waiter");
    reg.deregister(&mut a).unwrap();
    drop(reg);
    assert_eq!(handle.lock_regs().slab.len(), 1, "release is deferred");
    assert!(!handle.has_io_waiters(), "a released key is not a waiter");
    driver.park(Some(Duration::ZERO));
    assert_eq!(handle.lock_regs().slab.len(), 0);
}

#[test]
fn park_without_timeout_returns_for_a_timer_and_never_early() {
    let (mut driver, handle) = Driver::new(1).unwrap();
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
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
    let count = Arc::new(CountWaker::default());
    let waker = Waker::from(count.clone());
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
    let (mut driver, handle) = Driver::new(1).unwrap();
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let mut a = mio::net::UnixStream::from_std(a);
    let reg = Registration::new(&handle, &mut a, mio::Interest::READABLE).unwrap();
    let counts: Vec<Arc<CountWaker>> = (0..3).map(|_| Arc::default()).collect();
    driver.park(Some(Duration::ZERO));
    for c in &counts {
        let w = Waker::from(c.clone());
        let mut cx = Context::from_waker(&w);
        while let Poll::Ready(ev) = reg.poll_ready(&mut cx, Direction::Read) {
            reg.clear_readiness(ev);
        }
    }
    std::io::Write::write_all(&mut &b, b"x").unwrap();
    while counts.iter().any(|c| c.wakes() == 0) {
        driver.park(None);
    }
    for c in &counts {
        assert_eq!(c.wakes(), 1);
    }
}
