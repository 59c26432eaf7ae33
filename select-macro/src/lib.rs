//! Proc-macros for waza: `#[main]`, `#[test]` and the engine behind `select!`.
//!
//! Users reach these through the `waza` crate (`#[waza::main]`, `#[waza::test]`,
//! `waza::select!`) or through `waza_channel::select!`; this crate is an implementation
//! detail and its paths are not part of the public API.
//!
//! | macro | what it does |
//! |---|---|
//! | [`macro@main`] | runs `async fn main` on a fresh waza runtime |
//! | [`macro@test`] | runs an `async` test on a fresh two-worker waza runtime |
//! | [`select_internal!`] | the engine of `waza_channel::select!` (hidden; use `select!`) |

#![warn(missing_docs)]

mod entry;
mod select;

use proc_macro::TokenStream;

/// Runs an `async fn main` on a waza runtime built for the program.
///
/// Options (tokio's spellings where tokio has the option):
///
/// | option | effect |
/// |---|---|
/// | `workers = N` (alias `worker_threads = N`) | number of worker threads; without it `$WAZA_MAXPROCS` if set, else one per CPU |
/// | `flavor = "current_thread"` / `"multi_thread"` | a runtime without worker threads (tasks run inside `block_on`) / the default |
/// | `start_paused = true` | start with test time paused; implies `flavor = "current_thread"` |
/// | `detect_deadlock = true` | Go's "all tasks are asleep - deadlock!" detector (`Builder::detect_deadlock`) |
/// | `crate = "path"` | where the waza crate is, if not reachable as `::waza` |
///
/// tokio options that waza lacks (`unhandled_panic`, `rng_seed`, ...) are compile errors
/// that name the option. The function may return any type (for example `Result`), which
/// `main` then returns.
///
/// # Examples
///
/// ```
/// #[waza::main(workers = 2)]
/// async fn main() -> std::io::Result<()> {
///     let h = waza::go!(async { 40 + 2 });
///     assert_eq!(h.await.unwrap(), 42);
///     Ok(())
/// }
/// ```
///
/// # Errors
///
/// A compile error, pointing at the offending token and listing the valid options, for an
/// unknown, unsupported (tokio-only) or duplicate option, `workers = 0`, a non-integer
/// worker count, a non-`bool` `start_paused`/`detect_deadlock`, a function that is not
/// `async`, or a `main` that takes arguments. The function is still emitted.
///
/// # Panics
///
/// The generated `main` panics if the runtime cannot be built (for example when the OS
/// refuses to start threads).
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, attr.into(), item.into()).into()
}

/// Marks an `async fn` as a test that runs on its own waza runtime (2 workers by default).
///
/// Accepts the same options as [`macro@main`]. Works with `#[should_panic]`, `#[ignore]`
/// and tests returning `Result`.
///
/// # Examples
///
/// ```
/// #[waza::test(workers = 1)]
/// async fn adds() -> Result<(), String> {
///     let h = waza::spawn(async { 1 + 1 });
///     assert_eq!(h.await.map_err(|e| e.to_string())?, 2);
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// # Errors
///
/// Same compile errors as [`macro@main`]; also rejects a second `#[test]` attribute.
///
/// # Panics
///
/// The generated test panics if the runtime cannot be built.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, attr.into(), item.into()).into()
}

/// Expands `select!`; called by the `select!` wrapper in `waza-channel`, not directly.
///
/// Input: `crate = <path to waza_channel>; <select! body>`. See `waza_channel::select!` for
/// the syntax and semantics of the body.
#[doc(hidden)]
#[proc_macro]
pub fn select_internal(input: TokenStream) -> TokenStream {
    select::select_internal(input.into()).into()
}
