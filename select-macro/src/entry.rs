//! `#[main]` and `#[test]`: run an `async fn` on a fresh waza runtime.
//!
//! Both attributes turn
//!
//! ```text
//! #[attrs] vis async fn name() -> Ret { body }
//! ```
//!
//! into
//!
//! ```text
//! #[attrs] vis fn name() -> Ret {
//!     async fn __waza_entry_body() -> Ret { body }
//!     let rt = <crate>::Runtime::builder()[.workers(N) | .current_thread()][.start_paused(true)]
//!         [.detect_deadlock(B)].build().expect(..);
//!     rt.block_on(__waza_entry_body())
//! }
//! ```
//!
//! The body goes into an inner `async fn` with the user's own return type, so `?` and
//! `return` inside it are typed exactly as the user wrote them (an `async` block would leave
//! the error type of `?` to inference). `#[test]` also puts `#[::core::prelude::v1::test]`
//! in front of the user's attributes, which keeps `#[should_panic]`, `#[ignore]` and
//! `Result`-returning tests working.
//!
//! Bad input never leaves the user with a broken item (STYLE habit 12): every problem becomes
//! a spanned `compile_error!`, and the function is still emitted — expanded with the options
//! that were valid when it is an `async fn`, unchanged when it is not.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, FnArg, Ident, ItemFn, Lit, LitInt, Path, Token};

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[waza::main]`: the program's entry point.
    Main,
    /// `#[waza::test]`: one async test.
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "main",
            Kind::Test => "test",
        }
    }

    /// Worker count used when the attribute does not set one (`None`: the builder's default).
    fn default_workers(self) -> Option<u64> {
        match self {
            Kind::Main => None,
            Kind::Test => Some(2),
        }
    }
}

/// The list printed whenever an option is rejected.
const VALID_OPTIONS: &str =
    "valid options are `workers = N` (alias `worker_threads = N`, N >= 1), \
     `flavor = \"multi_thread\"` or `flavor = \"current_thread\"`, `start_paused = true|false`, \
     `detect_deadlock = true|false` and `crate = \"path\"`";

/// tokio options that waza does not support, with the reason given when one is used.
const TOKIO_ONLY: &[(&str, &str)] = &[
    (
        "unhandled_panic",
        "a panicking waza task never brings down the runtime: its `JoinHandle` yields an \
         `Err` with `is_panic()`",
    ),
    ("rng_seed", "waza has no seedable scheduler RNG"),
    ("event_interval", "waza's scheduler interval is fixed"),
    (
        "global_queue_interval",
        "waza checks its global queue every 61 ticks, a fixed interval",
    ),
];

/// `flavor = "..."`: which runtime runs the function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    MultiThread,
    CurrentThread,
}

/// Options accepted inside `#[waza::main(...)]` / `#[waza::test(...)]`.
#[derive(Default)]
struct Options {
    /// `workers = N`; the literal is kept for its span.
    workers: Option<(u64, Span)>,
    /// `crate = "path"`: where the waza crate lives (default `::waza`).
    krate: Option<Path>,
    /// `flavor = "..."`, with the value's span.
    flavor: Option<(Flavor, Span)>,
    /// `start_paused = true|false`, with the value's span.
    start_paused: Option<(bool, Span)>,
    /// `detect_deadlock = true|false`, with the value's span.
    detect_deadlock: Option<(bool, Span)>,
}

impl Options {
    /// The flavor that runs the function: `start_paused = true` alone implies a
    /// current-thread runtime (as in tokio, where test time needs one).
    fn effective_flavor(&self) -> Flavor {
        match (self.flavor, self.start_paused) {
            (Some((f, _)), _) => f,
            (None, Some((true, _))) => Flavor::CurrentThread,
            _ => Flavor::MultiThread,
        }
    }

    /// Options that contradict each other (each is valid alone).
    fn check_combination(&self, errors: &mut Errors) {
        let current = self.effective_flavor() == Flavor::CurrentThread;
        if let (true, Some((_, span))) = (current, self.workers) {
            let msg =
                "`workers` does not apply to `flavor = \"current_thread\"` (it has no worker \
                       threads); remove one of them";
            errors.push(syn::Error::new(span, msg));
        }
        if let (Some((Flavor::MultiThread, _)), Some((true, span))) =
            (self.flavor, self.start_paused)
        {
            let msg = "`start_paused = true` needs `flavor = \"current_thread\"` (paused time is \
                       for current-thread runtimes, as in tokio)";
            errors.push(syn::Error::new(span, msg));
        }
    }
}

/// One `key = value` (or a bare `key`) inside the attribute's parentheses.
struct RawOption {
    key: Ident,
    value: Option<Expr>,
}

impl RawOption {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // `crate` is a keyword, so keys are parsed as any identifier.
        let key = Ident::parse_any(input)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(RawOption { key, value })
    }
}

/// Collects errors so that all of them are reported at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn to_compile_error(&self) -> TokenStream {
        self.0
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}

/// Expands `#[main]` / `#[test]`; `attr` is the text inside the parentheses.
pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = parse_options(attr, &mut errors);
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let msg = format!(
                "#[waza::{}] can only be applied to an `async fn`",
                kind.name()
            );
            errors.push(syn::Error::new(Span::call_site(), msg));
            let errs = errors.to_compile_error();
            return quote! { #errs #item };
        }
    };
    if func.sig.asyncness.is_none() {
        let msg = format!(
            "the `async` keyword is missing from the function declaration: \
             #[waza::{}] runs an `async fn`",
            kind.name()
        );
        errors.push(syn::Error::new(func.sig.fn_token.span, msg));
        let errs = errors.to_compile_error();
        let test_attr = (kind == Kind::Test && !has_test_attr(&func.attrs))
            .then(|| quote!(#[::core::prelude::v1::test]));
        return quote! { #errs #test_attr #func };
    }
    if kind == Kind::Test {
        if let Some(a) = func.attrs.iter().find(|a| is_test_attr(a)) {
            let msg = "a second test attribute is supplied: #[waza::test] already marks the function as a test";
            errors.push(syn::Error::new(a.span(), msg));
        }
        func.attrs.retain(|a| !is_test_attr(a));
    }
    let params = check_params(kind, &mut func, &mut errors);
    let errs = errors.to_compile_error();
    let expanded = expand_fn(kind, &options, func, params);
    quote! { #errs #expanded }
}

/// Parses the option list, recording every problem and keeping the options that were valid.
fn parse_options(attr: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let parser = |input: ParseStream| {
        Punctuated::<RawOption, Token![,]>::parse_terminated_with(input, RawOption::parse)
    };
    let raw = match parser.parse2(attr) {
        Ok(raw) => raw,
        Err(e) => {
            let msg = format!("{e}; {VALID_OPTIONS}");
            errors.push(syn::Error::new(e.span(), msg));
            return options;
        }
    };
    for opt in raw {
        apply_option(&mut options, opt, errors);
    }
    options.check_combination(errors);
    options
}

/// Validates one `key = value` and stores it into `options`.
fn apply_option(options: &mut Options, opt: RawOption, errors: &mut Errors) {
    let key = opt.key.to_string();
    let key_span = opt.key.span();
    let Some(value) = opt.value else {
        let msg = format!("option `{key}` needs a value; {VALID_OPTIONS}");
        return errors.push(syn::Error::new(key_span, msg));
    };
    match key.as_str() {
        "workers" | "worker_threads" => {
            if options.workers.is_some() {
                let msg = format!("duplicate option `{key}`: the worker count is already set");
                return errors.push(syn::Error::new(key_span, msg));
            }
            match parse_workers(&value) {
                Ok(n) => options.workers = Some((n, value.span())),
                Err(e) => errors.push(e),
            }
        }
        "flavor" => {
            if options.flavor.is_some() {
                let msg = "duplicate option `flavor`: the flavor is already set";
                return errors.push(syn::Error::new(key_span, msg));
            }
            match parse_flavor(&value) {
                Ok(f) => options.flavor = Some((f, value.span())),
                Err(e) => errors.push(e),
            }
        }
        "start_paused" => {
            if options.start_paused.is_some() {
                let msg = "duplicate option `start_paused`: it is already set";
                return errors.push(syn::Error::new(key_span, msg));
            }
            match parse_bool(&value, "start_paused") {
                Ok(b) => options.start_paused = Some((b, value.span())),
                Err(e) => errors.push(e),
            }
        }
        "detect_deadlock" => {
            if options.detect_deadlock.is_some() {
                let msg = "duplicate option `detect_deadlock`: it is already set";
                return errors.push(syn::Error::new(key_span, msg));
            }
            match parse_bool(&value, "detect_deadlock") {
                Ok(b) => options.detect_deadlock = Some((b, value.span())),
                Err(e) => errors.push(e),
            }
        }
        "crate" => {
            if options.krate.is_some() {
                let msg = "duplicate option `crate`: the crate path is already set";
                return errors.push(syn::Error::new(key_span, msg));
            }
            match parse_crate_path(&value) {
                Ok(p) => options.krate = Some(p),
                Err(e) => errors.push(e),
            }
        }
        _ => errors.push(unknown_option(&key, key_span)),
    }
}

/// The error for a key that is not a waza option; tokio options get their own reason.
fn unknown_option(key: &str, span: Span) -> syn::Error {
    let msg = match TOKIO_ONLY.iter().find(|(name, _)| *name == key) {
        Some((_, why)) => {
            format!("tokio's option `{key}` is not supported by waza ({why}); {VALID_OPTIONS}")
        }
        None => format!("unknown option `{key}`; {VALID_OPTIONS}"),
    };
    syn::Error::new(span, msg)
}

/// `workers = N`: a positive integer literal.
fn parse_workers(value: &Expr) -> syn::Result<u64> {
    let not_int = || {
        let msg = format!(
            "`workers` expects a positive integer literal such as `workers = 4`; {VALID_OPTIONS}"
        );
        syn::Error::new(value.span(), msg)
    };
    let Expr::Lit(lit) = value else {
        return Err(not_int());
    };
    let Lit::Int(int) = &lit.lit else {
        return Err(not_int());
    };
    match int.base10_parse::<u64>() {
        Ok(0) => Err(syn::Error::new(
            int.span(),
            "`workers` must be at least 1 (a runtime needs a worker thread)",
        )),
        Ok(n) if n > u64::from(u32::MAX) => {
            Err(syn::Error::new(int.span(), "`workers` is too large"))
        }
        Ok(n) => Ok(n),
        Err(_) => Err(not_int()),
    }
}

/// `flavor = "multi_thread" | "current_thread"`.
fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    let err = || {
        let msg =
            format!("`flavor` expects \"multi_thread\" or \"current_thread\"; {VALID_OPTIONS}");
        syn::Error::new(value.span(), msg)
    };
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Str(s), ..
    }) = value
    else {
        return Err(err());
    };
    match s.value().as_str() {
        "multi_thread" => Ok(Flavor::MultiThread),
        "current_thread" => Ok(Flavor::CurrentThread),
        _ => Err(err()),
    }
}

/// A `true`/`false` literal for option `key`.
fn parse_bool(value: &Expr, key: &str) -> syn::Result<bool> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        _ => Err(syn::Error::new(
            value.span(),
            format!("`{key}` expects `true` or `false`; {VALID_OPTIONS}"),
        )),
    }
}

/// `crate = "path"` (a bare path is accepted too).
fn parse_crate_path(value: &Expr) -> syn::Result<Path> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => s.parse::<Path>().map_err(|_| {
            let msg = format!(
                "`crate` expects a path such as `crate = \"::waza\"`, found {:?}",
                s.value()
            );
            syn::Error::new(s.span(), msg)
        }),
        Expr::Path(p) if p.qself.is_none() => Ok(p.path.clone()),
        _ => Err(syn::Error::new(
            value.span(),
            format!(
                "`crate` expects a string literal such as `crate = \"::waza\"`; {VALID_OPTIONS}"
            ),
        )),
    }
}

/// Whether `attr` is a `#[test]`-like attribute (`test`, `core::prelude::v1::test`, ...).
fn is_test_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "test")
}

fn has_test_attr(attrs: &[Attribute]) -> bool {
    attrs.iter().any(is_test_attr)
}

/// Entry functions take no arguments. On error the parameters are removed from the signature
/// and returned, so the body can still bind them (see [`expand_fn`]) and type-check.
fn check_params(kind: Kind, func: &mut ItemFn, errors: &mut Errors) -> Vec<syn::PatType> {
    if func.sig.inputs.is_empty() {
        return Vec::new();
    }
    let what = match kind {
        Kind::Main => "the `main` function cannot take arguments",
        Kind::Test => "test functions cannot take arguments",
    };
    errors.push(syn::Error::new(func.sig.inputs.span(), what));
    let inputs = std::mem::take(&mut func.sig.inputs);
    inputs
        .into_iter()
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some(t),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// Builds the synchronous wrapper around the user's `async fn`.
fn expand_fn(
    kind: Kind,
    options: &Options,
    mut func: ItemFn,
    params: Vec<syn::PatType>,
) -> TokenStream {
    let krate = options
        .krate
        .as_ref()
        .map_or_else(|| quote!(::waza), ToTokens::to_token_stream);
    let workers = match options.effective_flavor() {
        Flavor::CurrentThread => {
            let span = options.flavor.map_or(Span::call_site(), |(_, s)| s);
            Some(quote_spanned!(span=> .current_thread()))
        }
        Flavor::MultiThread => options
            .workers
            .or_else(|| kind.default_workers().map(|n| (n, Span::call_site())))
            .map(|(n, span)| {
                let lit = LitInt::new(&n.to_string(), span);
                quote_spanned!(span=> .workers(#lit))
            }),
    };
    let paused = options
        .start_paused
        .filter(|&(on, _)| on)
        .map(|(_, span)| quote_spanned!(span=> .start_paused(true)));
    let deadlock = options
        .detect_deadlock
        .map(|(on, span)| quote_spanned!(span=> .detect_deadlock(#on)));
    func.sig.asyncness = None;
    let output = &func.sig.output;
    let body = &func.block;
    let body_fn = Ident::new("__waza_entry_body", Span::call_site());
    let rt = Ident::new("__waza_runtime", Span::mixed_site());
    // Parameters only exist after an error was reported: bind them to a diverging value so
    // that the body still type-checks and produces no follow-on errors.
    let param_binds = params.iter().map(|p| {
        let (pat, ty) = (&p.pat, &p.ty);
        quote! { #[allow(unused_variables, unreachable_code)] let #pat: #ty = ::core::unreachable!(); }
    });
    let allow_unreachable = (!params.is_empty()).then(|| quote!(#[allow(unreachable_code)]));
    let test_attr = (kind == Kind::Test).then(|| quote!(#[::core::prelude::v1::test]));
    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    quote! {
        #test_attr
        #(#attrs)*
        #allow_unreachable
        #vis #sig {
            #allow_unreachable
            async fn #body_fn() #output {
                #(#param_binds)*
                #body
            }
            #[allow(clippy::expect_used)]
            let #rt = #krate::Runtime::builder()
                #workers
                #paused
                #deadlock
                .build()
                .expect("failed to build the waza runtime");
            #rt.block_on(#body_fn())
        }
    }
}

#[cfg(test)]
mod tests;
