//! Real signals sent to this test process (its own test binary: a handler stays installed
//! for the life of the process). Each test uses its own signal, so they may run in parallel,
//! and every listener is created before the signal is sent, so no test can be killed by the
//! default action.

#![cfg(unix)]

use futures::FutureExt;
use std::io::ErrorKind;
use waza::signal::unix::{signal, Signal, SignalKind};

fn rt() -> waza::Runtime {
    waza::Runtime::builder().workers(2).build().unwrap()
}

fn send(kind: SignalKind) {
    // SAFETY: kill(2) on our own pid with a valid signal number has no memory effects.
    let rc = unsafe { libc::kill(libc::getpid(), kind.as_raw_value()) };
    assert_eq!(rc, 0);
}

/// Whether `s` has a delivery ready now, without waiting.
fn ready_now(s: &mut Signal) -> bool {
    s.recv().now_or_never().is_some()
}

#[test]
fn every_listener_sees_each_delivery_once() {
    let kind = SignalKind::user_defined1();
    let other_rt = rt();
    let mut foreign = other_rt.block_on(async { signal(kind).unwrap() });
    rt().block_on(async {
        let mut listeners: Vec<Signal> = (0..3).map(|_| signal(kind).unwrap()).collect();
        for round in 0..5 {
            send(kind);
            for l in &mut listeners {
                l.recv().await.expect("runtime is live");
            }
            for l in &mut listeners {
                assert!(!ready_now(l), "round {round}: a second delivery appeared");
            }
        }
        // A dropped listener changes nothing for the others.
        listeners.pop();
        send(kind);
        for l in &mut listeners {
            l.recv().await.unwrap();
        }
    });
    // The listener in the other runtime saw the deliveries too (coalesced: it was not
    // polled in between).
    other_rt.block_on(async {
        foreign.recv().await.unwrap();
        assert!(!ready_now(&mut foreign));
    });
}

#[test]
fn many_tasks_wait_for_one_signal() {
    let kind = SignalKind::user_defined2();
    rt().block_on(async {
        let (ready_tx, ready_rx) = waza::chan::bounded::<()>(8);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let ready_tx = ready_tx.clone();
                let mut s = signal(kind).unwrap();
                waza::spawn(async move {
                    ready_tx.send(()).await.unwrap();
                    s.recv().await.unwrap();
                    1usize
                })
            })
            .collect();
        for _ in 0..8 {
            ready_rx.recv().await.unwrap();
        }
        send(kind);
        let mut woken = 0;
        for t in tasks {
            woken += t.await.unwrap();
        }
        assert_eq!(woken, 8);
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    rt().block_on(async {
        // Keeps the handler installed before anything can send SIGINT.
        let _guard = signal(SignalKind::interrupt()).unwrap();
        let mut ctrl_c = Box::pin(waza::signal::ctrl_c());
        assert!((&mut ctrl_c).now_or_never().is_none());
        send(SignalKind::interrupt());
        ctrl_c.await.unwrap();
    });
}

#[test]
fn a_new_listener_starts_with_no_delivery() {
    let kind = SignalKind::window_change();
    rt().block_on(async {
        let mut first = signal(kind).unwrap();
        send(kind);
        first.recv().await.unwrap();
        send(kind);
        // Wait until the delivery was dispatched, then listen anew.
        first.recv().await.unwrap();
        let mut late = signal(kind).unwrap();
        assert!(!ready_now(&mut late));
        send(kind);
        late.recv().await.unwrap();
        first.recv().await.unwrap();
    });
}

#[test]
fn uncatchable_signals_are_refused_clearly() {
    rt().block_on(async {
        for kind in [
            SignalKind::from_raw(9),
            SignalKind::from_raw(0),
            SignalKind::from_raw(1000),
        ] {
            let err = signal(kind).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(
                err.to_string().contains(&kind.as_raw_value().to_string()),
                "{err}"
            );
        }
    });
}

#[test]
fn listeners_and_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Signal>();
    send(&waza::signal::ctrl_c());
}
