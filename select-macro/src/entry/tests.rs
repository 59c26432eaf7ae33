use super::*;

fn run(kind: Kind, attr: &str, item: &str) -> String {
    let attr: TokenStream = attr.parse().unwrap();
    let item: TokenStream = item.parse().unwrap();
    expand(kind, attr, item).to_string()
}

fn errors_of(out: &str) -> Vec<String> {
    // Each error renders as `:: core :: compile_error ! { "msg" }`.
    out.split("compile_error ! {")
        .skip(1)
        .map(|s| s.split('}').next().unwrap().trim().to_string())
        .collect()
}

#[test]
fn main_default_uses_builder_default() {
    let out = run(Kind::Main, "", "async fn main() { println!(\"hi\"); }");
    assert!(errors_of(&out).is_empty(), "{out}");
    assert!(
        out.contains(":: waza :: Runtime :: builder () . build ()"),
        "{out}"
    );
    assert!(!out.contains("workers"), "{out}");
    assert!(out.contains("fn main ()"), "{out}");
    assert!(!out.contains("async fn main"), "{out}");
}

#[test]
fn main_with_workers_and_crate() {
    let out = run(
        Kind::Main,
        "worker_threads = 3, crate = \"my::waza\"",
        "async fn main() -> u8 { 1 }",
    );
    assert!(errors_of(&out).is_empty(), "{out}");
    assert!(
        out.contains("my :: waza :: Runtime :: builder () . workers (3) . build ()"),
        "{out}"
    );
    assert!(out.contains("async fn __waza_entry_body () -> u8"), "{out}");
}

#[test]
fn test_defaults_to_two_workers_and_keeps_attrs() {
    let out = run(Kind::Test, "", "#[should_panic] async fn t() { panic!() }");
    assert!(errors_of(&out).is_empty(), "{out}");
    assert!(
        out.starts_with("# [:: core :: prelude :: v1 :: test] # [should_panic]"),
        "{out}"
    );
    assert!(out.contains(". workers (2)"), "{out}");
}

#[test]
fn bad_options_are_all_reported_and_fn_still_expanded() {
    let out = run(
        Kind::Test,
        "workers = 0, foo = 1, workers = 2",
        "async fn t() {}",
    );
    let errs = errors_of(&out);
    assert_eq!(errs.len(), 2, "{out}");
    assert!(errs[0].contains("at least 1"), "{errs:?}");
    assert!(
        errs[1].contains("unknown option `foo`") && errs[1].contains("valid options"),
        "{errs:?}"
    );
    // `workers = 2` after the rejected `workers = 0` is accepted, not a duplicate.
    assert!(out.contains(". workers (2)"), "{out}");
    assert!(out.contains("fn t ()"), "{out}");
}

#[test]
fn duplicate_and_non_integer() {
    let out = run(
        Kind::Main,
        "workers = 2, worker_threads = 3, crate = 5",
        "async fn main() {}",
    );
    let errs = errors_of(&out);
    assert_eq!(errs.len(), 2, "{out}");
    assert!(
        errs[0].contains("duplicate option `worker_threads`"),
        "{errs:?}"
    );
    assert!(errs[1].contains("`crate` expects"), "{errs:?}");
    let out = run(Kind::Main, "workers = \"two\"", "async fn main() {}");
    assert_eq!(errors_of(&out).len(), 1, "{out}");
    assert!(out.contains("positive integer literal"), "{out}");
}

#[test]
fn flavor_and_start_paused() {
    let out = run(Kind::Test, "flavor = \"current_thread\"", "async fn t() {}");
    assert!(errors_of(&out).is_empty(), "{out}");
    assert!(out.contains(". current_thread () . build ()"), "{out}");
    assert!(!out.contains("workers"), "{out}");
    // start_paused alone implies current_thread.
    let out = run(Kind::Test, "start_paused = true", "async fn t() {}");
    assert!(errors_of(&out).is_empty(), "{out}");
    assert!(
        out.contains(". current_thread () . start_paused (true) . build ()"),
        "{out}"
    );
    let out = run(
        Kind::Main,
        "flavor = \"multi_thread\", workers = 3",
        "async fn main() {}",
    );
    assert!(out.contains(". workers (3) . build ()"), "{out}");
    let out = run(
        Kind::Test,
        "flavor = \"multi_thread\", start_paused = false",
        "async fn t() {}",
    );
    assert!(errors_of(&out).is_empty(), "{out}");
    assert!(out.contains(". workers (2) . build ()"), "{out}");
}

#[test]
fn contradictory_or_bad_flavor_options() {
    let out = run(
        Kind::Test,
        "flavor = \"current_thread\", workers = 2",
        "async fn t() {}",
    );
    let errs = errors_of(&out);
    assert_eq!(errs.len(), 1, "{out}");
    assert!(errs[0].contains("does not apply"), "{out}");
    assert!(out.contains("fn t ()"), "{out}");
    let out = run(
        Kind::Test,
        "flavor = \"multi_thread\", start_paused = true",
        "async fn t() {}",
    );
    assert!(errors_of(&out)[0].contains("needs `flavor"), "{out}");
    let out = run(Kind::Main, "flavor = \"threaded\"", "async fn main() {}");
    assert!(
        errors_of(&out)[0].contains("\\\"current_thread\\\""),
        "{out}"
    );
    let out = run(Kind::Main, "start_paused = 1", "async fn main() {}");
    assert!(
        errors_of(&out)[0].contains("expects `true` or `false`"),
        "{out}"
    );
    let out = run(
        Kind::Main,
        "flavor = \"current_thread\", flavor = \"current_thread\"",
        "async fn main() {}",
    );
    assert!(
        errors_of(&out)[0].contains("duplicate option `flavor`"),
        "{out}"
    );
}

#[test]
fn detect_deadlock_reaches_the_builder() {
    let out = run(Kind::Main, "detect_deadlock = true", "async fn main() {}");
    assert!(errors_of(&out).is_empty(), "{out}");
    assert!(out.contains(". detect_deadlock (true) . build ()"), "{out}");
    let out = run(
        Kind::Test,
        "flavor = \"current_thread\", detect_deadlock = false",
        "async fn t() {}",
    );
    assert!(errors_of(&out).is_empty(), "{out}");
    assert!(
        out.contains(". current_thread () . detect_deadlock (false) . build ()"),
        "{out}"
    );
    let out = run(Kind::Test, "", "async fn t() {}");
    assert!(!out.contains("detect_deadlock"), "{out}");
    let out = run(Kind::Test, "detect_deadlock = 1", "async fn t() {}");
    assert!(
        errors_of(&out)[0].contains("`detect_deadlock` expects `true` or `false`"),
        "{out}"
    );
    let out = run(
        Kind::Test,
        "detect_deadlock = true, detect_deadlock = true",
        "async fn t() {}",
    );
    assert!(
        errors_of(&out)[0].contains("duplicate option `detect_deadlock`"),
        "{out}"
    );
}

#[test]
fn tokio_only_options_are_named_and_the_fn_still_expanded() {
    for key in [
        "unhandled_panic",
        "rng_seed",
        "event_interval",
        "global_queue_interval",
    ] {
        let out = run(
            Kind::Test,
            &format!("{key} = 1, workers = 3"),
            "async fn t() {}",
        );
        let errs = errors_of(&out);
        assert_eq!(errs.len(), 1, "{out}");
        assert!(
            errs[0].contains(&format!("tokio's option `{key}` is not supported")),
            "{errs:?}"
        );
        assert!(errs[0].contains("valid options"), "{errs:?}");
        assert!(out.contains(". workers (3) . build ()"), "{out}");
    }
}

#[test]
fn non_async_fn_is_emitted_unchanged() {
    let out = run(Kind::Main, "", "fn main() { let x = 1; }");
    assert_eq!(errors_of(&out).len(), 1, "{out}");
    assert!(out.contains("`async` keyword is missing"), "{out}");
    assert!(out.contains("fn main () { let x = 1 ; }"), "{out}");
    assert!(!out.contains("Runtime"), "{out}");
    let out = run(Kind::Test, "", "fn t() {}");
    assert!(
        out.contains("# [:: core :: prelude :: v1 :: test] fn t () { }"),
        "{out}"
    );
}

#[test]
fn main_with_arguments_is_rejected_but_body_still_binds_them() {
    let out = run(Kind::Main, "", "async fn main(x: u32) { let _ = x + 1; }");
    assert_eq!(errors_of(&out).len(), 1, "{out}");
    assert!(out.contains("cannot take arguments"), "{out}");
    assert!(out.contains("fn main ()"), "{out}");
    assert!(
        out.contains("let x : u32 = :: core :: unreachable ! ()"),
        "{out}"
    );
}

#[test]
fn second_test_attribute_is_rejected() {
    let out = run(Kind::Test, "", "#[test] async fn t() {}");
    assert_eq!(errors_of(&out).len(), 1, "{out}");
    assert_eq!(
        out.matches("# [:: core :: prelude :: v1 :: test]").count(),
        1,
        "{out}"
    );
    assert!(!out.contains("# [test]"), "{out}");
}

#[test]
fn malformed_option_list() {
    let out = run(Kind::Main, "workers 2", "async fn main() {}");
    assert_eq!(errors_of(&out).len(), 1, "{out}");
    assert!(out.contains("valid options"), "{out}");
    let out = run(Kind::Main, "workers", "async fn main() {}");
    assert!(out.contains("needs a value"), "{out}");
}

#[test]
fn not_a_function() {
    let out = run(Kind::Main, "", "struct S;");
    assert_eq!(errors_of(&out).len(), 1, "{out}");
    assert!(out.ends_with("struct S ;"), "{out}");
}
