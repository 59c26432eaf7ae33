//! Blocking calls keep working while a thread's thread-locals are being destroyed: a
//! value owned by a thread-local may send or receive on a channel in its `Drop`.

use std::cell::RefCell;

use waza_channel::{bounded, Receiver, Sender};

struct SendOnDrop(Sender<u32>, Receiver<u32>);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        // Runs during thread-local destruction, after the channel crate's own
        // thread-locals (initialized later, destroyed earlier) are gone.
        self.0.send_blocking(7).unwrap();
        assert_eq!(self.1.recv_blocking(), Some(7));
        self.0.send_blocking(8).unwrap();
    }
}

std::thread_local! {
    static GUARD: RefCell<Option<SendOnDrop>> = const { RefCell::new(None) };
}

#[test]
fn blocking_calls_work_in_thread_local_destructors() {
    let (tx, rx) = bounded(1);
    let (own_tx, own_rx) = (tx.clone(), rx.clone());
    std::thread::spawn(move || {
        // Registered first, so destroyed last.
        GUARD.with(|g| *g.borrow_mut() = Some(SendOnDrop(own_tx, own_rx)));
        // A blocking call now creates the crate's per-thread state after GUARD.
        let (t, r) = bounded(1);
        t.send_blocking(1u8).unwrap();
        assert_eq!(r.recv_blocking(), Some(1));
    })
    .join()
    .expect("a blocking call inside a thread-local destructor panicked");
    assert_eq!(rx.recv_blocking(), Some(8));
}
