//! Compiles and runs `#[test]` / `#[main]` expansions against a mock runtime (tests/mock)
//! through the `crate = "..."` option.

mod mock;

use mock::rt::BUILT;

fn built() -> (Option<usize>, usize) {
    BUILT.with(|b| b.get())
}

#[waza_macros::test(crate = "crate::mock::rt")]
async fn test_defaults_to_two_workers() {
    // The harness runs each test on its own thread, so the thread-local log is ours.
    assert_eq!(built(), (Some(2), 1));
}

#[waza_macros::test(workers = 1, crate = "crate::mock::rt")]
async fn test_with_one_worker() {
    assert_eq!(built(), (Some(1), 1));
}

#[waza_macros::test(worker_threads = 3, crate = "crate::mock::rt")]
async fn tokio_spelling_is_accepted() {
    assert_eq!(built(), (Some(3), 1));
}

#[waza_macros::test(crate = "crate::mock::rt")]
async fn result_returning_test_with_question_mark() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "42".parse()?;
    assert_eq!(n, 42);
    Ok(())
}

#[waza_macros::test(crate = "crate::mock::rt")]
#[should_panic(expected = "inside the runtime")]
async fn should_panic_works() {
    panic!("inside the runtime");
}

#[waza_macros::test(crate = "crate::mock::rt")]
#[ignore = "checks that #[ignore] is kept"]
async fn ignored_test_is_kept_ignored() {
    panic!("must not run");
}

mod as_main {
    #[waza_macros::main(crate = "crate::mock::rt")]
    pub async fn main() -> u32 {
        let v = async { 20 }.await;
        v + 1
    }

    #[waza_macros::main(workers = 4, crate = "crate::mock::rt")]
    pub(crate) async fn main_with_workers() -> Result<u8, String> {
        let x: u8 = "7"
            .parse()
            .map_err(|e: std::num::ParseIntError| e.to_string())?;
        Ok(x)
    }
}

#[test]
fn main_returns_the_body_value_and_uses_the_builder_default() {
    assert_eq!(as_main::main(), 21);
    assert_eq!(built(), (None, 1));
    assert_eq!(as_main::main_with_workers(), Ok(7));
    assert_eq!(built(), (Some(4), 2));
}
