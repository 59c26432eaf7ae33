//! Code generation for `select!` against the channel crate's `__private` driver.
//!
//! For arms `p0 = e0 => b0`, `p1 = e1, if c1 => b1` the expansion is (generated locals use
//! `Span::mixed_site()`, so user code can neither see nor shadow them):
//!
//! ```text
//! {
//!     use K::__private::{ChannelArmTag as _, FutureArmTag as _};
//!     enum Out<T0, T1> { V0(T0), V1(T1) }
//!     let out = match (
//!         Some(match (e0) { e => (&e).__waza_arm_kind().into_arm(e) }),     // (1)
//!         if (c1) { Some(match (e1) { e => ... }) } else { None },
//!     ) {
//!         (arm0, arm1) => {
//!             let mut sel = pin!(K::__private::Select::new(2, biased, has_default)); // (2)
//!             let mut arm0 = pin!(arm0);
//!             let mut arm1 = pin!(arm1);
//!             let r = poll_fn(|cx| unsafe { sel.as_mut().poll_with(cx, |i, turn| match i {
//!                 0 => <poll arm0 with `|v: &_| matches!(v, p0')`:                    (3)
//!                       Ready(v) -> ArmPoll::Ready(Out::V0(v)), Disabled / Pending as is>,
//!                 1 => ...,
//!             }) }).await;
//!             r                                                                    // (4)
//!         }
//!     };
//!     match out {                                                                  // (5)
//!         SelectOutcome::Arm(Out::V0(p0)) => b0,
//!         SelectOutcome::Arm(Out::V1(p1)) => b1,
//!         SelectOutcome::Arm(Out::Else) => <else body>,                            (6)
//!         SelectOutcome::Default => <default body, or unreachable>,
//!         _ => unreachable!(),   // patterns may be refutable
//!     }
//! }
//! ```
//!
//! 1. Arm futures are evaluated on entry, in written order, inside the scrutinee of a
//!    `match`: temporaries there live until the end of the whole `let out = ...;`, so an arm
//!    may borrow one (`v = after(d).recv()`). A false precondition skips the expression (its
//!    temporaries then live only inside the `if`). The `(&e).__waza_arm_kind()` call is
//!    autoref specialization: channel operations pick the channel arm, anything else that is
//!    `IntoFuture` the generic one, and the rest (a channel end, `42`) a marker whose bound
//!    fails with "`T` is not a future" (`waza-channel`'s `arm_kind.rs`); it is spanned at
//!    the user's expression so that the error points there. Expressions and conditions
//!    are parenthesized so that a struct literal in them cannot end the `match`/`if` head
//!    early.
//! 2. The `Select` is pinned before the arms, so it is dropped after them: arm nodes that
//!    point at the select's cell are gone before the cell.
//! 3. Whether a value matches `p` is checked by a predicate built from a copy of `p` with
//!    `ref`/`mut`/`&` and `x @` removed, matched against `&v`, so nothing is moved before
//!    the arm is chosen. The arm applies it: a channel arm under its channel lock, before
//!    its operation takes effect (a refuted value goes back to the channel front); the
//!    driver then keeps the arm off for the rest of the select. `poll_with` is an
//!    `unsafe fn`: its contract (only this select's arms, dropped before it) holds by
//!    construction, see (2).
//! 4. The `.await` result goes through a local so the `poll_fn` temporary, which borrows
//!    the pinned locals, is dropped before them.
//! 5. Bodies run outside any closure and after every arm future has been dropped, so they
//!    may `break`, `continue`, `return`, use `?` and reuse what the futures borrowed.
//! 6. Only with `else`: `Out` has an extra `Else` variant and a `[bool; n]` records which
//!    arms turned off. The arm that turns off last reports `Ready(Out::Else)` instead of
//!    `Disabled`, and the driver finishes as if it had won; it took nothing (a refuted
//!    channel value has already gone back). Without `else`, all arms off still panics in
//!    the driver, and `default` keeps Go's meaning.

use super::parse::{SelectArm, SelectInput};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Pat};

/// Generated names, all hygienic (`mixed_site`).
struct Names {
    out_enum: Ident,
    out: Ident,
    sel: Ident,
    cx: Ident,
    turn: Ident,
    index: Ident,
    value: Ident,
    fut: Ident,
    result: Ident,
    /// `[bool; n]`: which arms have turned off (only with `else`).
    off: Ident,
    arms: Vec<Ident>,
}

impl Names {
    fn new(n_arms: usize) -> Self {
        let span = Span::mixed_site();
        let id = |s: &str| Ident::new(s, span);
        Names {
            out_enum: id("__WazaSelectOut"),
            out: id("__waza_out"),
            sel: id("__waza_sel"),
            cx: id("__waza_cx"),
            turn: id("__waza_turn"),
            index: id("__waza_index"),
            value: id("__waza_value"),
            fut: id("__waza_fut"),
            result: id("__waza_result"),
            off: id("__waza_off"),
            arms: (0..n_arms)
                .map(|i| format_ident!("__waza_arm{}", i, span = span))
                .collect(),
        }
    }
}

/// Generates the expression for one `select!`.
pub(crate) fn expand(input: &SelectInput) -> TokenStream {
    if input.arms.is_empty() {
        // No arms: every arm is (vacuously) disabled and none can be ready, so `else`
        // runs if present, else `default`.
        let body = input
            .else_arm
            .as_ref()
            .or(input.default.as_ref())
            .map(|d| &d.body);
        return quote! { { #body } };
    }
    let k = &input.krate;
    let names = Names::new(input.arms.len());
    let Names {
        out_enum,
        out,
        sel,
        cx,
        turn,
        index,
        result,
        arms,
        off,
        ..
    } = &names;
    let n = input.arms.len();
    let biased = input.biased;
    let has_default = input.default.is_some();
    let tparams: Vec<Ident> = (0..n).map(|i| format_ident!("T{}", i)).collect();
    let variants: Vec<Ident> = (0..n).map(|i| format_ident!("V{}", i)).collect();
    let inits = input.arms.iter().map(arm_init);
    let polls = input
        .arms
        .iter()
        .enumerate()
        .map(|(i, arm)| arm_poll(k, &names, i, &arm.pat, input.else_arm.is_some()));
    let outcomes = input.arms.iter().zip(&variants).map(|(arm, v)| {
        let (pat, body) = (&arm.pat, &arm.body);
        if irrefutable(pat) {
            // The arm took its value without a pattern check: bind it with `let`, so that
            // a pattern that only looks irrefutable (a lowercase constant) is a compile
            // error rather than a value that matches nothing.
            let value = Ident::new("__waza_value", Span::mixed_site());
            quote! {
                #k::__private::SelectOutcome::Arm(#out_enum::#v(#value)) => {
                    #[allow(unused_mut)]
                    let mut #value = #value;
                    let #pat = #value;
                    #body
                }
            }
        } else {
            quote! { #k::__private::SelectOutcome::Arm(#out_enum::#v(#pat)) => #body, }
        }
    });
    let (else_variant, else_outcome, off_decl) = match &input.else_arm {
        Some(e) => {
            let body = &e.body;
            (
                quote!(Else,),
                quote! { #k::__private::SelectOutcome::Arm(#out_enum::Else) => #body, },
                quote! { let mut #off = [false; #n]; },
            )
        }
        None => (quote!(), quote!(), quote!()),
    };
    let default_body = match &input.default {
        Some(d) => {
            let body = &d.body;
            quote!(#body)
        }
        None => quote!(::core::unreachable!("select! has no `default` arm")),
    };
    quote! {
        {
            #[allow(unused_imports)]
            use #k::__private::{
                ChannelArmTag as _, FutureArmTag as _, NotAFutureTag as _, ReceiverArmTag as _,
                SenderArmTag as _,
            };
            enum #out_enum<#(#tparams),*> { #(#variants(#tparams),)* #else_variant }
            let #out = match ( #(#inits,)* ) {
                ( #(#arms,)* ) => {
                    #off_decl
                    let mut #sel = ::core::pin::pin!(#k::__private::Select::new(#n, #biased, #has_default));
                    #( let mut #arms = ::core::pin::pin!(#arms); )*
                    let #result = #k::__private::poll_fn(|#cx| {
                        // SAFETY: the callback polls only this select's own arms, which
                        // are declared after `sel` and so are dropped before it.
                        unsafe {
                            #sel.as_mut().poll_with(#cx, |#index, #turn| match #index {
                                #(#polls)*
                                _ => ::core::unreachable!(),
                            })
                        }
                    })
                    .await;
                    #result
                }
            };
            // Mutable so that `ref mut` bindings in the arm patterns work.
            #[allow(unused_mut)]
            let mut #out = #out;
            match #out {
                #(#outcomes)*
                #else_outcome
                #k::__private::SelectOutcome::Default => #default_body,
                #[allow(unreachable_patterns)]
                _ => ::core::unreachable!(),
            }
        }
    }
}

/// `Option<arm>` for one arm: `None` when its precondition is false.
fn arm_init(arm: &SelectArm) -> TokenStream {
    let fut = &arm.future;
    // Spanned at the user's expression, so that "not a future" points at it (a
    // `mixed_site` span here moves the error to the whole macro call). It can neither see
    // nor capture user names: it is bound only to the arm's own value, and used only in
    // `into_arm` below.
    let e = Ident::new("__waza_e", fut.span());
    let into_arm = quote_spanned! {fut.span()=> (&#e).__waza_arm_kind().into_arm(#e) };
    // Parenthesized: a struct literal would otherwise end the `match` scrutinee early.
    let make = quote! { ::core::option::Option::Some(match (#fut) { #e => #into_arm }) };
    match &arm.cond {
        None => make,
        // Parenthesized: a struct literal in the condition would otherwise end it early.
        Some(cond) => quote! {
            if (#cond) { #make } else { ::core::option::Option::None }
        },
    }
}

/// The `i => ...` case of the driver's `poll_arm` callback.
fn arm_poll(k: &TokenStream, names: &Names, i: usize, pat: &Pat, has_else: bool) -> TokenStream {
    let Names {
        out_enum,
        turn,
        value,
        fut,
        arms,
        off,
        ..
    } = names;
    // With `else`, the arm that turns off last reports `Ready(Else)` instead of
    // `Disabled`: the driver then finishes the select as if that arm had won (it took
    // nothing: a disabled channel arm has already given its value back). Each arm turns
    // off for good, so `off` only fills up.
    let disabled = if has_else {
        quote! {{
            #off[#i] = true;
            if #off.iter().all(|&o| o) {
                #k::__private::ArmPoll::Ready(#out_enum::Else)
            } else {
                #k::__private::ArmPoll::Disabled
            }
        }}
    } else {
        quote!(#k::__private::ArmPoll::Disabled)
    };
    let arm = &arms[i];
    let variant = format_ident!("V{}", i);
    // The pattern goes to the arm as a predicate, so that a channel arm applies it under
    // the channel lock, before its operation takes effect (a refuted value goes back).
    // An irrefutable pattern needs none, and then a received value handed to the arm
    // can be taken without the lock.
    let matches = if irrefutable(pat) {
        quote!(::core::option::Option::None)
    } else {
        let check = check_pattern(pat.clone());
        quote! {
            ::core::option::Option::Some(&|#value: &_| {
                #[allow(unused_variables, unreachable_patterns, unused_parens)]
                match #value {
                    #check => true,
                    _ => false,
                }
            })
        }
    };
    quote! {
        #i => match #arm.as_mut().as_pin_mut() {
            ::core::option::Option::None => #disabled,
            ::core::option::Option::Some(#fut) => match #k::__private::SelectArm::poll_arm(
                #fut,
                #turn,
                #matches,
            ) {
                #k::__private::ArmPoll::Pending => #k::__private::ArmPoll::Pending,
                #k::__private::ArmPoll::Disabled => #disabled,
                #k::__private::ArmPoll::Ready(#value) => {
                    #k::__private::ArmPoll::Ready(#out_enum::#variant(#value))
                }
            },
        },
    }
}

/// True for patterns that match every value: `_` and a plain binding (`v`, `mut v`,
/// `ref v`). An identifier that starts with an upper-case letter may name a constant or a
/// unit variant (`None`), so it counts as refutable; a lower-case constant used as a
/// pattern is caught by the `let` the expansion binds irrefutable patterns with.
fn irrefutable(pat: &Pat) -> bool {
    match pat {
        Pat::Wild(_) => true,
        Pat::Ident(p) => {
            p.subpat.is_none()
                && p.ident
                    .to_string()
                    .starts_with(|c: char| c == '_' || c.is_lowercase())
        }
        _ => false,
    }
}

/// A pattern that matches `&v` exactly when the user's pattern matches `v`, without moving:
/// `ref`, `mut` and `&` are dropped (default binding modes take over) and `x @ p` becomes `p`.
fn check_pattern(pat: Pat) -> Pat {
    match pat {
        Pat::Ident(mut p) => match p.subpat.take() {
            Some((_, sub)) => match *sub {
                Pat::Paren(p) => check_pattern(*p.pat),
                sub => check_pattern(sub),
            },
            None => {
                p.by_ref = None;
                p.mutability = None;
                Pat::Ident(p)
            }
        },
        Pat::Reference(r) => check_pattern(*r.pat),
        Pat::Paren(mut p) => {
            *p.pat = check_pattern(*p.pat);
            Pat::Paren(p)
        }
        Pat::Or(mut p) => {
            p.cases = p.cases.into_iter().map(check_pattern).collect();
            Pat::Or(p)
        }
        Pat::Slice(mut p) => {
            p.elems = p.elems.into_iter().map(check_pattern).collect();
            Pat::Slice(p)
        }
        Pat::Tuple(mut p) => {
            p.elems = p.elems.into_iter().map(check_pattern).collect();
            Pat::Tuple(p)
        }
        Pat::TupleStruct(mut p) => {
            p.elems = p.elems.into_iter().map(check_pattern).collect();
            Pat::TupleStruct(p)
        }
        Pat::Struct(mut p) => {
            for field in p.fields.iter_mut() {
                // A shorthand field (`S { mut a }`) stays shorthand: its pattern is an ident.
                let inner = std::mem::replace(&mut *field.pat, Pat::Verbatim(TokenStream::new()));
                *field.pat = check_pattern(inner);
            }
            Pat::Struct(p)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn expand_str(src: &str) -> String {
        let input: SelectInput = syn::parse_str(&format!("crate = ::waza_channel; {src}")).unwrap();
        expand(&input).to_string()
    }

    fn check(src: &str) -> String {
        let pat = Pat::parse_multi_with_leading_vert.parse_str(src).unwrap();
        check_pattern(pat).to_token_stream().to_string()
    }

    use syn::parse::Parser;

    #[test]
    fn check_pattern_strips_binding_modes() {
        assert_eq!(check("v"), "v");
        assert_eq!(check("mut v"), "v");
        assert_eq!(check("ref mut v"), "v");
        assert_eq!(check("Some(mut v)"), "Some (v)");
        assert_eq!(check("&x"), "x");
        assert_eq!(check("Some(&mut (a, ref b))"), "Some ((a , b))");
        assert_eq!(check("all @ Some(_)"), "Some (_)");
        assert_eq!(check("all @ (1 | 2)"), "1 | 2");
        assert_eq!(check("Ok(mut v) | Err(mut v)"), "Ok (v) | Err (v)");
        assert_eq!(check("S { mut a, b: ref c, .. }"), "S { a , b : c , .. }");
        assert_eq!(check("[first, mut rest @ ..]"), "[first , ..]");
        assert_eq!(check("None"), "None");
        assert_eq!(check("1..=3"), "1 ..= 3");
    }

    #[test]
    fn expansion_shape() {
        let out = expand_str("Some(v) = rx.recv() => v, _ = tx.send(1), if ok => 0, default => 7");
        // One select with 2 arms, not biased, with default.
        assert!(
            out.contains("Select :: new (2usize , false , true)"),
            "{out}"
        );
        // Arms evaluated in written order, inside the scrutinee; the second behind its condition.
        let first = out.find("rx . recv ()").unwrap();
        let second = out.find("tx . send (1)").unwrap();
        assert!(first < second, "{out}");
        assert!(out.contains("if (ok) {"), "{out}");
        // The select is pinned before the arms (so it is dropped after them).
        let sel = out.find("let mut __waza_sel").unwrap();
        let arm0 = out.find("let mut __waza_arm0").unwrap();
        assert!(sel < arm0, "{out}");
        // Bodies sit in the final match, after the await.
        let await_at = out.find(". await").unwrap();
        let body = out
            .find("Arm (__WazaSelectOut :: V0 (Some (v))) => v")
            .unwrap();
        assert!(await_at < body, "{out}");
        assert!(out.contains("SelectOutcome :: Default => 7"), "{out}");
        assert_eq!(out.matches("__waza_arm_kind ()").count(), 2, "{out}");
    }

    #[test]
    fn biased_without_default() {
        let out = expand_str("biased; a = f() => a");
        assert!(
            out.contains("Select :: new (1usize , true , false)"),
            "{out}"
        );
        assert!(out.contains("select! has no `default` arm"), "{out}");
    }

    #[test]
    fn else_adds_a_variant_and_the_off_set() {
        let out = expand_str("Some(v) = rx.recv() => v, x = f(), if c => x, else => 9");
        assert!(out.contains("V1 (T1) , Else ,"), "{out}");
        assert!(
            out.contains("let mut __waza_off = [false ; 2usize]"),
            "{out}"
        );
        assert_eq!(
            out.matches("__waza_off [0usize] = true").count(),
            2,
            "{out}"
        );
        assert_eq!(
            out.matches("__waza_off [1usize] = true").count(),
            2,
            "{out}"
        );
        assert!(out.contains("Arm (__WazaSelectOut :: Else) => 9"), "{out}");
        // No `else`: no bookkeeping at all.
        let out = expand_str("Some(v) = rx.recv() => v, default => 0");
        assert!(!out.contains("__waza_off"), "{out}");
        assert!(!out.contains("Else"), "{out}");
        assert_eq!(expand_str("default => 1, else => 2"), "{ 2 }");
    }

    #[test]
    fn only_default_needs_no_driver() {
        let out = expand_str("default => 5");
        assert_eq!(out, "{ 5 }");
    }
}
