//! One policy for blocking calls on a worker thread: the channels' `*_blocking` calls
//! panic there (as `waza::sync`'s do), naming `spawn_blocking`; elsewhere they block.

#[test]
fn channel_blocking_calls_panic_on_a_worker() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let (tx, rx) = waza::chan::bounded::<u8>(1);
    let recv = rt.spawn(async move { rx.recv_blocking() });
    let err = rt.block_on(recv).unwrap_err();
    let msg = err.into_panic();
    let msg = msg.downcast_ref::<String>().expect("a formatted message");
    assert!(msg.contains("recv_blocking"), "{msg}");
    assert!(msg.contains("spawn_blocking"), "{msg}");
    let send = rt.spawn(async move { tx.send_blocking(1) });
    assert!(rt.block_on(send).unwrap_err().is_panic());
}

#[test]
fn channel_blocking_calls_work_off_the_workers() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let (tx, rx) = waza::chan::bounded::<u8>(1);
    // In spawn_blocking, and on the block_on thread of a multi-threaded runtime.
    let sender = rt.spawn_blocking(move || tx.send_blocking(7));
    let got = rt.block_on(async { rx.recv_blocking() });
    assert_eq!(got, Some(7));
    rt.block_on(sender).unwrap().unwrap();
}

#[test]
fn block_in_place_may_block_on_a_channel() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let (tx, rx) = waza::chan::rendezvous::<u8>();
    let h = rt.spawn(async move {
        let sender = waza::spawn(async move { tx.send(3).await.unwrap() });
        let v = waza::task::block_in_place(|| rx.recv_blocking());
        sender.await.unwrap();
        v
    });
    assert_eq!(rt.block_on(h).unwrap(), Some(3));
}
