//! Regression tests for the contract under the spellings users write: `Stream::next()`,
//! `rx.next()` in `select!`, `&mut` and already-polled futures as arms, `default`'s
//! atomicity, give-backs, "`None` is final", wakers that panic or use the channel, and
//! refutable patterns. Each test failed on the channel core before the hardening rewrite.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Wake, Waker};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready_eq};
use waza_channel::{bounded, rendezvous, select, unbounded, TryRecvError, TrySendError};

#[path = "support/count_waker.rs"]
mod count_waker;

use count_waker::CountWaker;

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    Pin::new(fut).poll(&mut cx)
}

// ---- item 3: a Receiver used as a Stream ------------------------------------------------

/// An abandoned `Stream::next()` (polled once, then dropped) keeps nothing: values from
/// one sender stay in order for the next receive.
#[test]
fn abandoned_stream_next_keeps_no_value() {
    let (tx, mut rx) = bounded(4);
    {
        let mut next = StreamExt::next(&mut rx);
        assert!(poll_once(&mut next).is_pending());
    }
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(
        rx.try_recv(),
        Ok(1),
        "the first value was held by the abandoned next()"
    );
    assert_eq!(rx.try_recv(), Ok(2));
}

/// On a rendezvous channel an abandoned `Stream::next()` is not a waiting receiver.
#[test]
fn abandoned_stream_next_is_not_a_rendezvous_receiver() {
    let (tx, mut rx) = rendezvous::<u32>();
    {
        let mut next = StreamExt::next(&mut rx);
        assert!(poll_once(&mut next).is_pending());
    }
    assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
}

/// After an abandoned `Stream::next()`, `recv()` gets the next value (it used to wait
/// forever while the value sat in the abandoned slot).
#[test]
fn recv_after_abandoned_stream_next_gets_the_value() {
    let (tx, mut rx) = unbounded();
    {
        let mut next = StreamExt::next(&mut rx);
        assert!(poll_once(&mut next).is_pending());
    }
    tx.try_send(7).unwrap();
    assert_eq!(rx.recv().now_or_never(), Some(Some(7)));
}

/// A live `Stream` watcher is woken by a send and then receives the value; combinators
/// (`map`, `take`) work through the same path.
#[test]
fn stream_watcher_is_woken_and_receives() {
    let (tx, rx) = bounded(2);
    let mut s = spawn(rx.map(|v: u32| v * 10).take(2));
    assert_pending!(s.poll_next());
    tx.try_send(1).unwrap();
    assert!(s.is_woken());
    assert_ready_eq!(s.poll_next(), Some(10));
    assert_pending!(s.poll_next());
    drop(tx);
    assert!(s.is_woken());
    assert_ready_eq!(s.poll_next(), None);
}

// ---- item 4: channel operations the macro must recognise -------------------------------

/// `Some(v) = rx.next()` is a receive arm: with two rendezvous arms pending, only one
/// sender can complete into the select.
#[test]
fn next_arms_on_rendezvous_channels_take_one_value() {
    let (a_tx, mut a_rx) = rendezvous::<u32>();
    let (b_tx, mut b_rx) = rendezvous::<u32>();
    let mut sel = spawn(async {
        select! {
            Some(v) = a_rx.next() => ('a', v),
            Some(v) = b_rx.next() => ('b', v),
        }
    });
    assert_pending!(sel.poll());
    assert!(a_tx.try_send(1).is_ok());
    assert!(
        matches!(b_tx.try_send(2), Err(TrySendError::Full(2))),
        "a second arm took effect"
    );
    assert_ready_eq!(sel.poll(), ('a', 1));
}

/// A `recv()` future polled before the select, used as `&mut fut` in an arm that loses,
/// has no effect: a later send finds no receiver, and the future can still be used.
#[test]
fn losing_mut_ref_arm_has_no_effect() {
    let (a_tx, a_rx) = rendezvous::<u32>();
    let (b_tx, b_rx) = bounded::<u32>(1);
    let mut early = a_rx.recv();
    assert!(poll_once(&mut early).is_pending());
    b_tx.try_send(2).unwrap();
    let won = futures::executor::block_on(async {
        select! {
            biased;
            v = b_rx.recv() => v,
            v = &mut early => v,
        }
    });
    assert_eq!(won, Some(2));
    assert!(
        matches!(a_tx.try_send(1), Err(TrySendError::Full(1))),
        "the losing arm's receive was still waiting"
    );
    let t = std::thread::spawn(move || a_tx.send_blocking(3));
    assert_eq!(futures::executor::block_on(early), Some(3));
    t.join().unwrap().unwrap();
}

/// A value handed to a `recv()` future before the select, whose arm then loses, goes
/// back to the channel.
#[test]
fn value_handed_before_select_goes_back_when_its_arm_loses() {
    let (a_tx, a_rx) = rendezvous::<u32>();
    let (b_tx, b_rx) = bounded::<u32>(1);
    let mut early = a_rx.recv();
    assert!(poll_once(&mut early).is_pending());
    a_tx.try_send(1).unwrap(); // handed to `early`'s waiting node
    b_tx.try_send(2).unwrap();
    let won = futures::executor::block_on(async {
        select! {
            biased;
            v = b_rx.recv() => v,
            v = &mut early => v,
        }
    });
    assert_eq!(won, Some(2));
    drop(early);
    assert_eq!(a_rx.try_recv(), Ok(1), "the handed value was lost");
    assert_eq!(a_rx.len(), 0);
}

/// `Pin<&mut>` of a pinned `recv()` and `&mut rx.next()` are channel arms too.
#[test]
fn pinned_and_mut_next_spellings_are_channel_arms() {
    let (a_tx, a_rx) = rendezvous::<u32>();
    let (c_tx, mut c_rx) = rendezvous::<u32>();
    let (b_tx, b_rx) = bounded::<u32>(1);
    let mut pinned = std::pin::pin!(a_rx.recv());
    assert!(pinned
        .as_mut()
        .poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
        .is_pending());
    b_tx.try_send(2).unwrap();
    let won = futures::executor::block_on(async {
        select! {
            biased;
            v = b_rx.recv() => v,
            v = pinned.as_mut() => v,
            v = &mut c_rx.next() => v,
        }
    });
    assert_eq!(won, Some(2));
    assert!(matches!(a_tx.try_send(1), Err(TrySendError::Full(1))));
    assert!(matches!(c_tx.try_send(3), Err(TrySendError::Full(3))));
}

/// An already-polled `send()` future moved into a losing arm sends nothing.
#[test]
fn already_polled_send_moved_into_losing_arm_sends_nothing() {
    let (a_tx, a_rx) = rendezvous::<u32>();
    let (b_tx, b_rx) = bounded::<u32>(1);
    let mut early = a_tx.send(1);
    assert!(poll_once(&mut early).is_pending());
    b_tx.try_send(2).unwrap();
    let won = futures::executor::block_on(async {
        select! {
            biased;
            v = b_rx.recv() => v.is_some(),
            r = early => r.is_ok(),
        }
    });
    assert!(won);
    assert_eq!(a_rx.try_recv(), Err(TryRecvError::Empty));
}

// ---- item 5: `default` is atomic --------------------------------------------------------

/// Two tokens circulate between two channels; a mover holds at most one, and the
/// checking select holds none while it checks, so at every instant of a check a channel
/// holds a token and `default` must never run.
#[test]
fn default_never_runs_while_a_value_is_always_present() {
    let (a_tx, a_rx) = bounded::<u32>(2);
    let (b_tx, b_rx) = bounded::<u32>(2);
    for t in 0..2 {
        a_tx.try_send(t).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let moves = Arc::new(AtomicUsize::new(0));
    let mover = {
        let (a_tx, a_rx, b_tx, b_rx) = (a_tx.clone(), a_rx.clone(), b_tx.clone(), b_rx.clone());
        let (stop, moves) = (stop.clone(), moves.clone());
        std::thread::spawn(move || {
            while !stop.load(SeqCst) {
                if let Ok(v) = a_rx.try_recv() {
                    b_tx.send_blocking(v).unwrap();
                    moves.fetch_add(1, SeqCst);
                }
                if let Ok(v) = b_rx.try_recv() {
                    a_tx.send_blocking(v).unwrap();
                    moves.fetch_add(1, SeqCst);
                }
            }
        })
    };
    // Check while the mover makes this many moves (bounded by time on a starved machine).
    let target = if cfg!(debug_assertions) {
        50_000
    } else {
        500_000
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (mut checks, mut false_defaults) = (0u64, 0u64);
    futures::executor::block_on(async {
        while moves.load(SeqCst) < target && std::time::Instant::now() < deadline {
            checks += 1;
            select! {
                Some(v) = a_rx.recv() => a_tx.try_send(v).unwrap(),
                Some(v) = b_rx.recv() => b_tx.try_send(v).unwrap(),
                default => false_defaults += 1,
            }
        }
    });
    stop.store(true, SeqCst);
    mover.join().unwrap();
    let moves = moves.load(SeqCst);
    assert!(moves > 0 && checks > 0);
    assert_eq!(
        false_defaults, 0,
        "default ran while a value was present ({checks} checks, {moves} moves)"
    );
    assert_eq!(a_rx.len() + b_rx.len(), 2, "tokens conserved");
}

/// Deterministic form of the race above: while a select checks its arms, another arm's
/// poll moves both values from `b` to `a`, one at a time, so a value is in `a` or `b` at
/// every instant. Checking each arm under its own lock in turn saw `a` empty (before) and
/// `b` empty (after) and ran `default`; under all locks at once, `b` is ready.
#[test]
fn default_is_checked_at_one_instant() {
    let (a_tx, a_rx) = bounded::<u32>(2);
    let (b_tx, b_rx) = bounded::<u32>(2);
    b_tx.try_send(1).unwrap();
    b_tx.try_send(2).unwrap();
    let mover = futures::future::poll_fn(|_| {
        while let Ok(v) = b_rx.try_recv() {
            a_tx.try_send(v).unwrap();
        }
        Poll::<()>::Pending
    });
    let got = futures::executor::block_on(async {
        select! {
            biased;
            Some(v) = a_rx.recv() => Some(('a', v)),
            _ = mover => None,
            Some(v) = b_rx.recv() => Some(('b', v)),
            default => None,
        }
    });
    assert!(
        got.is_some(),
        "default ran although a value was present at every instant"
    );
}

// ---- item 6: give-back side effects -----------------------------------------------------

/// A value given back on a rendezvous channel behaves as a waiting sender: `len()` stays
/// 0 and `try_recv` takes it.
#[test]
fn rendezvous_give_back_is_a_waiting_sender() {
    let (tx, rx) = rendezvous::<u32>();
    let mut r = spawn(rx.recv());
    assert_pending!(r.poll());
    tx.try_send(5).unwrap();
    drop(r);
    assert_eq!(rx.len(), 0);
    assert!(rx.is_empty());
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

/// Give-backs never push a bounded buffer past its capacity, and keep order.
#[test]
fn give_back_keeps_len_within_capacity() {
    let (tx, rx) = bounded::<u32>(2);
    let mut r = spawn(rx.recv());
    assert_pending!(r.poll());
    for v in 1..=3 {
        tx.try_send(v).unwrap(); // 1 to the waiting receiver, 2 and 3 buffered
    }
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
    drop(r);
    assert_eq!(rx.len(), 2);
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
    let got: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(got, [1, 2, 3]);
}

/// `None` is final: a receive on a closed rendezvous channel waits while a value is
/// still in flight (handed to a receive that may give it back), and gets it if it comes
/// back.
#[test]
fn none_is_final_after_a_give_back() {
    let (tx, rx) = rendezvous::<u32>();
    let mut r1 = spawn(rx.recv());
    assert_pending!(r1.poll());
    tx.try_send(1).unwrap();
    tx.close();
    let mut r2 = spawn(rx.recv());
    assert_pending!(r2.poll()); // not None: 1 is in flight
    drop(r1); // gives 1 back
    assert!(r2.is_woken());
    assert_ready_eq!(r2.poll(), Some(1));
    assert_eq!(rx.recv().now_or_never(), Some(None));
}

/// On a buffered channel the value in flight is the oldest in the channel: a receive on
/// the closed channel takes it (not `None`), and the receive it was handed to, now empty,
/// ends with `None`.
#[test]
fn none_is_final_with_a_value_in_flight_on_a_buffered_channel() {
    let (tx, rx) = unbounded::<u32>();
    let mut r1 = spawn(rx.recv());
    assert_pending!(r1.poll());
    tx.try_send(1).unwrap();
    tx.close();
    let mut r2 = spawn(rx.recv());
    assert_ready_eq!(r2.poll(), Some(1));
    assert_ready_eq!(r1.poll(), None);
    assert_eq!(rx.recv().now_or_never(), Some(None));
}

/// When the in-flight value is taken instead, a receive waiting on the closed channel
/// is woken and ends with `None`.
#[test]
fn none_after_in_flight_value_is_taken() {
    let (tx, rx) = rendezvous::<u32>();
    let mut r1 = spawn(rx.recv());
    assert_pending!(r1.poll());
    tx.try_send(1).unwrap();
    tx.close();
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "not drained while in flight"
    );
    let mut r2 = spawn(rx.recv());
    assert_pending!(r2.poll());
    assert_ready_eq!(r1.poll(), Some(1));
    assert!(r2.is_woken());
    assert_ready_eq!(r2.poll(), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

// ---- item 7: wakers ---------------------------------------------------------------------

struct PanicWaker;
impl Wake for PanicWaker {
    fn wake(self: Arc<Self>) {
        panic!("waker panicked on purpose");
    }
}

/// `close()` wakes every waiter even when the first waker panics; the panic is resumed.
#[test]
fn close_wakes_everyone_despite_a_panicking_waker() {
    let (tx, rx) = unbounded::<u32>();
    let panicky = Waker::from(Arc::new(PanicWaker));
    let (counter, counting) = CountWaker::new();
    let mut r1 = rx.recv();
    let mut r2 = rx.recv();
    let mut r3 = rx.recv();
    assert!(Pin::new(&mut r1)
        .poll(&mut Context::from_waker(&panicky))
        .is_pending());
    assert!(Pin::new(&mut r2)
        .poll(&mut Context::from_waker(&counting))
        .is_pending());
    assert!(Pin::new(&mut r3)
        .poll(&mut Context::from_waker(&counting))
        .is_pending());
    let r = catch_unwind(AssertUnwindSafe(|| tx.close()));
    assert!(r.is_err(), "the waker's panic reaches the caller");
    assert_eq!(counter.wakes(), 2, "every other waiter was woken");
    assert!(rx.is_closed());
    assert_eq!(futures::executor::block_on(&mut r2), None);
}

/// A waker whose `clone` and `drop` use the same channel: with clones or drops under
/// the channel lock this deadlocked. Runs on a thread so a regression fails instead of
/// hanging the suite.
#[test]
fn waker_that_uses_the_channel_does_not_deadlock() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (tx, rx) = bounded::<u32>(1);
        let probe = Box::new(rx.clone());
        let waker = channel_touching_waker(probe);
        let mut cx = Context::from_waker(&waker);
        let mut r = rx.recv();
        assert!(Pin::new(&mut r).poll(&mut cx).is_pending()); // clones the waker
                                                              // A different waker replaces it: the old clone is dropped.
        assert!(Pin::new(&mut r)
            .poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
            .is_pending());
        assert!(Pin::new(&mut r).poll(&mut cx).is_pending());
        tx.try_send(1).unwrap(); // wakes (by value) the channel-touching waker
        assert_eq!(futures::executor::block_on(&mut r), Some(1));
        drop(r);
        drop(waker);
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a waker that touches its channel deadlocked");
}

/// A waker whose clone, wake and drop each call `len()` on the channel it waits on.
fn channel_touching_waker(rx: Box<waza_channel::Receiver<u32>>) -> Waker {
    type Data = waza_channel::Receiver<u32>;
    unsafe fn clone(p: *const ()) -> RawWaker {
        // SAFETY: `p` is a `Box<Data>` made by `channel_touching_waker` or by this fn.
        let rx = unsafe { &*(p as *const Data) };
        let _ = rx.len();
        RawWaker::new(Box::into_raw(Box::new(rx.clone())) as *const (), &VTABLE)
    }
    unsafe fn wake(p: *const ()) {
        // SAFETY: as in `clone`; `wake` consumes the waker.
        unsafe {
            wake_by_ref(p);
            drop_waker(p);
        }
    }
    unsafe fn wake_by_ref(p: *const ()) {
        // SAFETY: as in `clone`.
        let _ = unsafe { &*(p as *const Data) }.len();
    }
    unsafe fn drop_waker(p: *const ()) {
        // SAFETY: as in `clone`; dropped exactly once.
        let rx = unsafe { Box::from_raw(p as *mut Data) };
        let _ = rx.len();
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);
    // SAFETY: the vtable functions uphold the `RawWaker` contract for a boxed receiver.
    unsafe { Waker::from_raw(RawWaker::new(Box::into_raw(rx) as *const (), &VTABLE)) }
}

// ---- item 8: refutable patterns ---------------------------------------------------------

/// A value that does not match its arm's pattern goes back to the front of its channel,
/// and the arm is off for the rest of that select.
#[test]
fn refuted_value_goes_back_to_the_front() {
    let (tx, rx) = bounded::<u32>(4);
    tx.try_send(5).unwrap();
    tx.try_send(6).unwrap();
    let hit = futures::executor::block_on(async {
        select! {
            Some(0) = rx.recv() => true,
            default => false,
        }
    });
    assert!(!hit);
    assert_eq!(
        rx.try_recv(),
        Ok(5),
        "the refuted value was dropped or reordered"
    );
    assert_eq!(rx.try_recv(), Ok(6));
}

/// A refuted value delivered to a sleeping select by a sender goes back too, and the
/// select goes on to win another arm.
#[test]
fn refuted_remote_value_goes_back_and_the_select_goes_on() {
    let (tx, rx) = unbounded::<u32>();
    let (b_tx, b_rx) = unbounded::<u32>();
    let mut sel = spawn(async {
        select! {
            Some(0) = rx.recv() => 0,
            Some(v) = b_rx.recv() => v,
        }
    });
    assert_pending!(sel.poll());
    tx.try_send(9).unwrap();
    assert!(sel.is_woken());
    assert_pending!(sel.poll());
    assert_eq!(rx.try_recv(), Ok(9));
    b_tx.try_send(4).unwrap();
    assert_ready_eq!(sel.poll(), 4);
}

/// A send arm whose pattern refuses success never sends.
#[test]
fn send_arm_refusing_ok_never_sends() {
    let (tx, rx) = bounded::<u32>(1);
    let ran_default = futures::executor::block_on(async {
        select! {
            Err(_) = tx.send(1) => false,
            default => true,
        }
    });
    assert!(ran_default);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}
