//! Blocking waits for plain threads: a thread parker wrapped as a `Waker`.
//!
//! A blocking call runs the same operation state machine as the futures, with a waker
//! that unparks the calling thread, and parks between polls. Spurious unparks only cause
//! one more (cheap) poll, so no extra flag is needed.

use core::task::{Context, Poll, Waker};
use std::sync::Arc;
use std::task::Wake;
use std::thread::Thread;

struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

std::thread_local! {
    static WAKER: Waker = Waker::from(Arc::new(Unparker(std::thread::current())));
}

/// Polls `f` until it is ready, parking the thread in between.
pub(crate) fn block_on<R>(mut f: impl FnMut(&mut Context<'_>) -> Poll<R>) -> R {
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(r) = f(&mut cx) {
                return r;
            }
            park();
        }
    })
}

#[cfg(not(loom))]
fn park() {
    std::thread::park();
}

#[cfg(loom)]
fn park() {
    loom::thread::yield_now();
}
