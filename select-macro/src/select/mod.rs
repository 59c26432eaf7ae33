//! `select!`: parsing ([`parse`]) and code generation ([`expand`]).
//!
//! The user-facing `select!` is a `macro_rules!` in `waza-channel` that forwards here as
//! `select_internal! { crate = $crate; <user tokens> }`, so the generated code can name the
//! channel crate's `__private` driver without this crate depending on it.

pub(crate) mod expand;
pub(crate) mod parse;

use proc_macro2::TokenStream;

/// Parses and expands one `select_internal!` invocation; errors become `compile_error!`.
pub(crate) fn select_internal(input: TokenStream) -> TokenStream {
    match syn::parse2::<parse::SelectInput>(input) {
        Ok(select) => expand::expand(&select),
        Err(e) => e.to_compile_error(),
    }
}
