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
