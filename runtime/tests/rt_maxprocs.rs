//! `$WAZA_MAXPROCS` (Go's GOMAXPROCS) picks the default worker count. One test per binary:
//! it changes the process environment.

#[test]
fn waza_maxprocs_sets_default_workers() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = |value: Option<&str>| {
        match value {
            // This binary runs a single test: no other thread reads the environment.
            Some(v) => std::env::set_var("WAZA_MAXPROCS", v),
            None => std::env::remove_var("WAZA_MAXPROCS"),
        }
        let rt = waza::Runtime::new().unwrap();
        rt.handle().metrics().num_workers()
    };
    assert_eq!(workers(Some("3")), 3);
    assert_eq!(workers(Some(" 2 ")), 2);
    assert_eq!(workers(Some("0")), cpus, "invalid values fall back");
    assert_eq!(workers(Some("many")), cpus);
    assert_eq!(workers(None), cpus);
    // an explicit builder setting wins
    std::env::set_var("WAZA_MAXPROCS", "3");
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    assert_eq!(rt.handle().metrics().num_workers(), 1);
}
