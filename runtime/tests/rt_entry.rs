//! The entry-point attributes drive the runtime (`#[waza::test]` here).

#[waza::test]
async fn test_attribute_runs_on_a_runtime() {
    assert!(waza::Handle::try_current().is_some());
    assert_eq!(waza::Handle::current().metrics().num_workers(), 2);
    let h = waza::go!(async { 1 });
    assert_eq!(h.await.unwrap(), 1);
}

#[waza::test(workers = 1)]
async fn worker_count_option() {
    assert_eq!(waza::Handle::current().metrics().num_workers(), 1);
}

#[waza::test]
async fn result_returning_test() -> Result<(), waza::JoinError> {
    waza::spawn(async {}).await
}

#[waza::test]
#[should_panic(expected = "inner task panicked")]
async fn should_panic_works() {
    let e = waza::spawn(async { panic!("inner task panicked") })
        .await
        .unwrap_err();
    std::panic::resume_unwind(e.into_panic());
}
