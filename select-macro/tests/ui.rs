//! Compile-fail and pass tests of the macros' user-facing diagnostics (trybuild).
//!
//! Regenerate the expected `.stderr` files after a deliberate change with
//! `TRYBUILD=overwrite cargo test -p waza-macros --test ui`, then review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
