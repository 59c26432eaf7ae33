//! The import rules between the runtime's modules (README, "Layout"): a check that fails
//! when a file imports across a rule, so the layering cannot erode unnoticed.
//!
//! It reads the sources: every `crate::…` path and every `waza_channel` path outside
//! comments counts, whether in a `use` line or written inline.

use std::fs;
use std::path::{Path, PathBuf};

/// (the files under this folder of `runtime/src`, may not name these, because)
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "task",
        &[
            "crate::runtime",
            "crate::Runtime",
            "crate::Handle",
            "crate::context",
            "crate::sync",
            "crate::net",
            "crate::reactor",
            "crate::time",
            "crate::io",
            "crate::fs",
            "crate::blocking",
            "crate::group",
            "crate::join_set",
            "crate::process",
            "crate::signal",
            "crate::hyper",
            "crate::task::Group",
            "crate::task::JoinSet",
            "super::Group",
            "super::JoinSet",
            "waza_channel",
        ],
        "the task core knows wakers and the scheduler's interface, nothing above (`task.rs`, \
         the public face, re-exports Group and JoinSet; the core's files do not use it)",
    ),
    (
        "reactor",
        &[
            "crate::runtime",
            "crate::Runtime",
            "crate::Handle",
            "crate::net",
        ],
        "the driver knows readiness, not socket types or the runtime handle",
    ),
    (
        "scheduler",
        &[
            "crate::runtime",
            "crate::Runtime",
            "crate::Handle",
            "crate::net",
            "crate::sync",
            "crate::context",
            "crate::group",
            "crate::join_set",
        ],
        "the scheduler runs tasks; it knows no sockets or sync primitives, and what it \
         needs of the runtime above comes in as `RuntimeHooks`",
    ),
    (
        "time",
        &["crate::reactor"],
        "the reactor turns the timers; the timers reach it only through the unpark `Waker` \
         they were built with",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line, without a trailing `//` comment (doc comments and comment lines
/// give nothing). Good enough for this crate: no `//` inside its string literals names a
/// module path.
fn code(line: &str) -> &str {
    let line = line.trim_start();
    if line.starts_with("//") {
        return "";
    }
    line.split("//").next().unwrap_or("")
}

fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for (folder, forbidden, why) in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(folder), &mut files);
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = code(line);
                for path in *forbidden {
                    let hit = code.match_indices(path).any(|(i, _)| {
                        // A whole path segment: `crate::time` but not `crate::timer_x`,
                        // and not `$crate::…` in a macro's public path.
                        let after = code[i + path.len()..].chars().next();
                        let before = code[..i].chars().last();
                        !matches!(after, Some(c) if c.is_alphanumeric() || c == '_')
                            && before != Some('$')
                    });
                    if hit {
                        let rel = file.strip_prefix(&src).unwrap().display();
                        found.push(format!("src/{rel}:{}: names `{path}` ({why})", n + 1));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn imports_follow_the_layer_rules() {
    let found = violations();
    assert!(
        found.is_empty(),
        "layer rules broken:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_violation() {
    // The scanner itself: a forbidden path is found, a comment or `$crate` is not.
    assert_eq!(
        code("    use crate::runtime::Handle; // x"),
        "use crate::runtime::Handle; "
    );
    assert_eq!(code("    /// [`Handle`](crate::runtime::Handle)"), "");
    let line = code("let x = crate::sync::Semaphore::new(1);");
    assert!(line.contains("crate::sync"));
}
