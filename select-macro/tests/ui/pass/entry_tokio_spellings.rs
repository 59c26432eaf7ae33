// tokio's spellings of the entry options, plus waza's `detect_deadlock`.
#[waza::main(flavor = "multi_thread", worker_threads = 2, crate = "::waza", detect_deadlock = true)]
async fn main() {
    let h = waza::spawn(async { 6 * 7 });
    assert_eq!(h.await.unwrap(), 42);
    assert_eq!(waza::Handle::current().metrics().num_workers(), 2);
    // A plain thread: `block_on` may not nest inside this runtime.
    std::thread::spawn(current_thread_paused).join().unwrap();
}

#[waza::main(flavor = "current_thread", start_paused = true, detect_deadlock = false)]
async fn current_thread_paused() {
    let t0 = waza::time::now();
    waza::time::sleep(std::time::Duration::from_secs(60)).await;
    assert!(waza::time::now() - t0 >= std::time::Duration::from_secs(60));
}
