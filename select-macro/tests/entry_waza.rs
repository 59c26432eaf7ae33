//! `#[waza::test]` and `#[waza::main]` on the real runtime.

#[waza::test]
async fn runs_on_a_waza_runtime() {
    let h = waza::spawn(async { 6 * 7 });
    assert_eq!(h.await.unwrap(), 42);
}

#[waza::test(workers = 1)]
async fn one_worker_still_runs_spawned_tasks() {
    let handles: Vec<_> = (0..10u64).map(|i| waza::spawn(async move { i })).collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
    }
    assert_eq!(sum, 45);
}

#[waza::test]
async fn result_returning_test() -> Result<(), waza::JoinError> {
    let v = waza::spawn(async { "ok" }).await?;
    assert_eq!(v, "ok");
    Ok(())
}

#[waza::test]
#[should_panic(expected = "boom in the body")]
async fn should_panic_test() {
    panic!("boom in the body");
}

#[waza::test]
async fn select_inside_a_waza_test() {
    let (tx, rx) = waza::chan::rendezvous::<u32>();
    let sender = waza::spawn(async move { tx.send(5).await });
    let got = waza::select! {
        v = rx.recv() => v,
    };
    assert_eq!(got, Some(5));
    assert!(sender.await.unwrap().is_ok());
}

mod entry {
    #[waza::main(workers = 2)]
    pub async fn main() -> u64 {
        waza::spawn(async { 7u64 }).await.unwrap() * 3
    }
}

#[test]
fn main_attribute_returns_the_value() {
    assert_eq!(entry::main(), 21);
}

/// tokio's spellings of the shared options, all on one attribute.
#[waza::test(flavor = "multi_thread", worker_threads = 1, crate = "::waza")]
async fn tokio_spellings_of_the_options() {
    let names = waza::spawn(async { std::thread::current().name().map(str::to_owned) });
    let name = names.await.unwrap().unwrap_or_default();
    assert_ne!(name, "", "the task ran on a named worker thread");
    assert_eq!(waza::Handle::current().metrics().num_workers(), 1);
}

/// `start_paused = true` alone gives a current-thread runtime with paused time.
#[waza::test(start_paused = true)]
async fn start_paused_implies_current_thread() {
    let test_thread = std::thread::current().id();
    let t0 = waza::time::now();
    waza::time::sleep(std::time::Duration::from_secs(3600)).await;
    assert!(waza::time::now() - t0 >= std::time::Duration::from_secs(3600));
    let ran_on = waza::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_eq!(ran_on, test_thread);
}

/// `detect_deadlock = true` reaches the runtime: a receive nobody can satisfy panics.
#[waza::test(detect_deadlock = true)]
#[should_panic(expected = "all tasks are asleep - deadlock!")]
async fn detect_deadlock_true_reports_a_deadlock() {
    let (_tx, rx) = waza::chan::rendezvous::<u8>();
    let _ = rx.recv().await;
}

/// `detect_deadlock = false` on a current-thread runtime: a task that is still woken from
/// a plain thread keeps the test alive (the detector would call it a deadlock).
#[waza::test(flavor = "current_thread", detect_deadlock = false)]
async fn detect_deadlock_false_leaves_the_detector_off() {
    let (tx, rx) = waza::chan::rendezvous::<u8>();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.send_blocking(7).unwrap();
    });
    assert_eq!(rx.recv().await, Some(7));
    t.join().unwrap();
}
