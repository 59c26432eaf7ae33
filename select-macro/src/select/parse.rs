//! Grammar of `select!`:
//!
//! ```text
//! input   := "crate" "=" <tokens> ";" body           (the prefix is added by the wrapper)
//! body    := ["biased" ";"] item*
//! item    := arm | default | else
//! arm     := pattern "=" expr ["," "if" expr] "=>" arm_body
//! default := "default" "=>" arm_body                  (at most once, anywhere)
//! else    := "else" "=>" arm_body                     (at most once, anywhere)
//! arm_body:= block-like-expr [","] | expr ("," | end)
//! ```
//!
//! Errors carry the span of the offending token: a misplaced `biased;`, a second `default`
//! or `else`,
//! a missing `=` or `=>`, a missing `,` after an expression body, and an empty select.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Pat, Token};

/// A parsed `select!` invocation.
pub(crate) struct SelectInput {
    /// Path of the channel crate (`$crate` of the wrapper macro), spliced verbatim.
    pub(crate) krate: TokenStream,
    /// `biased;` was given: poll arms in written order.
    pub(crate) biased: bool,
    /// The arms in written order (`default` excluded).
    pub(crate) arms: Vec<SelectArm>,
    /// The `default => body` arm, if any (Go's: no arm is ready right now).
    pub(crate) default: Option<DefaultArm>,
    /// The `else => body` arm, if any (tokio's: every arm is disabled).
    pub(crate) else_arm: Option<DefaultArm>,
}

/// `pattern = future [, if cond] => body`.
pub(crate) struct SelectArm {
    pub(crate) pat: Pat,
    pub(crate) future: Expr,
    pub(crate) cond: Option<Expr>,
    pub(crate) body: Expr,
}

/// `default => body` or `else => body`.
pub(crate) struct DefaultArm {
    pub(crate) body: Expr,
}

const ARM_SHAPE: &str = "select! arms look like `pattern = future => body`";

impl Parse for SelectInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let krate = parse_crate_prefix(input)?;
        let biased = peek_biased(input);
        if biased {
            input.parse::<Ident>()?;
            input.parse::<Token![;]>()?;
        }
        let mut arms = Vec::new();
        let mut default: Option<DefaultArm> = None;
        let mut else_arm: Option<DefaultArm> = None;
        while !input.is_empty() {
            if peek_biased(input) {
                let msg = "`biased;` must come first in select!, before every arm";
                return Err(syn::Error::new(input.span(), msg));
            }
            if peek_default(input) {
                let kw: Ident = input.parse()?;
                if default.is_some() {
                    let msg = "select! has more than one `default` arm (at most one is allowed)";
                    return Err(syn::Error::new(kw.span(), msg));
                }
                input.parse::<Token![=>]>()?;
                default = Some(DefaultArm {
                    body: parse_body(input)?,
                });
            } else if input.peek(Token![else]) && input.peek2(Token![=>]) {
                let kw: Token![else] = input.parse()?;
                if else_arm.is_some() {
                    let msg = "select! has more than one `else` arm (at most one is allowed)";
                    return Err(syn::Error::new(kw.span, msg));
                }
                input.parse::<Token![=>]>()?;
                else_arm = Some(DefaultArm {
                    body: parse_body(input)?,
                });
            } else {
                arms.push(parse_arm(input)?);
            }
        }
        if arms.is_empty() && default.is_none() && else_arm.is_none() {
            let msg = "select! needs at least one arm: `pattern = future => body`";
            return Err(syn::Error::new(Span::call_site(), msg));
        }
        Ok(SelectInput {
            krate,
            biased,
            arms,
            default,
            else_arm,
        })
    }
}

/// `crate = <tokens> ;`: everything up to the first top-level `;`, kept verbatim.
fn parse_crate_prefix(input: ParseStream) -> syn::Result<TokenStream> {
    input.parse::<Token![crate]>()?;
    input.parse::<Token![=]>()?;
    let mut krate = TokenStream::new();
    while !input.peek(Token![;]) {
        if input.is_empty() {
            return Err(input.error("expected `;` after the crate path"));
        }
        krate.extend([input.parse::<TokenTree>()?]);
    }
    input.parse::<Token![;]>()?;
    Ok(krate)
}

/// Whether the next tokens are `<word> <punct>`, e.g. `biased ;` or `default =>`.
fn peek_word(input: ParseStream, word: &str) -> bool {
    input
        .cursor()
        .ident()
        .is_some_and(|(ident, _)| ident == word)
}

fn peek_biased(input: ParseStream) -> bool {
    peek_word(input, "biased") && input.peek2(Token![;])
}

fn peek_default(input: ParseStream) -> bool {
    peek_word(input, "default") && input.peek2(Token![=>])
}

fn parse_arm(input: ParseStream) -> syn::Result<SelectArm> {
    let pat = Pat::parse_multi_with_leading_vert(input)?;
    if !input.peek(Token![=]) || input.peek(Token![=>]) {
        let msg = format!("expected `=` after the pattern; {ARM_SHAPE}");
        return Err(input.error(msg));
    }
    input.parse::<Token![=]>()?;
    let future: Expr = input.parse()?;
    let cond = if input.peek(Token![,]) && input.peek2(Token![if]) {
        input.parse::<Token![,]>()?;
        input.parse::<Token![if]>()?;
        Some(input.parse()?)
    } else {
        None
    };
    if !input.peek(Token![=>]) {
        let msg = format!("expected `=>` after the future expression; {ARM_SHAPE}");
        return Err(input.error(msg));
    }
    input.parse::<Token![=>]>()?;
    let body = parse_body(input)?;
    Ok(SelectArm {
        pat,
        future,
        cond,
        body,
    })
}

/// An arm body, then the `,` that separates it from the next arm (optional after a block).
fn parse_body(input: ParseStream) -> syn::Result<Expr> {
    let body = Expr::parse_with_earlier_boundary_rule(input)?;
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    } else if !input.is_empty() && !is_block_like(&body) {
        return Err(input.error("expected `,` after the arm body"));
    }
    Ok(body)
}

/// Expressions that end in `}` and so need no `,` after them in an arm list.
fn is_block_like(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Block(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Unsafe(_)
            | Expr::TryBlock(_)
            | Expr::Const(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn parse(src: &str) -> syn::Result<SelectInput> {
        syn::parse_str::<SelectInput>(&format!("crate = ::waza_channel; {src}"))
    }

    fn err(src: &str) -> String {
        match parse(src) {
            Ok(_) => panic!("`{src}` parsed but should not"),
            Err(e) => e.to_string(),
        }
    }

    fn text(t: &impl ToTokens) -> String {
        t.to_token_stream().to_string()
    }

    #[test]
    fn arms_in_order_with_optional_commas() {
        let s = parse(
            "v = rx.recv() => { a(v) }
             Some(x) = other.recv(), if flag => b(x),
             _ = tx.send(1) => c(),
             default => d()",
        )
        .unwrap();
        assert_eq!(text(&s.krate), ":: waza_channel");
        assert!(!s.biased);
        assert_eq!(s.arms.len(), 3);
        assert_eq!(text(&s.arms[0].pat), "v");
        assert_eq!(text(&s.arms[0].future), "rx . recv ()");
        assert!(s.arms[0].cond.is_none());
        assert_eq!(text(&s.arms[0].body), "{ a (v) }");
        assert_eq!(text(&s.arms[1].pat), "Some (x)");
        assert_eq!(text(s.arms[1].cond.as_ref().unwrap()), "flag");
        assert_eq!(text(&s.arms[1].body), "b (x)");
        assert_eq!(text(&s.arms[2].pat), "_");
        assert_eq!(text(&s.default.unwrap().body), "d ()");
    }

    #[test]
    fn biased_and_default_anywhere() {
        let s = parse("biased; default => {} x = f() => x, y = g() => y").unwrap();
        assert!(s.biased);
        assert_eq!(s.arms.len(), 2);
        assert!(s.default.is_some());
    }

    #[test]
    fn block_body_followed_by_tuple_pattern() {
        // `{ 1 } (a, b) = f()` must not parse as a call of the block.
        let s = parse("x = f() => { 1 } (a, b) = g() => a + b").unwrap();
        assert_eq!(s.arms.len(), 2);
        assert_eq!(text(&s.arms[1].pat), "(a , b)");
        let s = parse("x = f() => if x { 1 } else { 2 } y = g() => y").unwrap();
        assert_eq!(s.arms.len(), 2);
    }

    #[test]
    fn or_patterns_and_names_that_look_like_keywords() {
        let s = parse("Ok(v) | Err(v) = f() => v, default = g() => default").unwrap();
        assert_eq!(text(&s.arms[0].pat), "Ok (v) | Err (v)");
        // `default = fut` is an ordinary binding named `default`.
        assert_eq!(text(&s.arms[1].pat), "default");
        assert!(s.default.is_none());
        let s = parse("biased = f() => biased").unwrap();
        assert!(!s.biased);
        assert_eq!(text(&s.arms[0].pat), "biased");
    }

    #[test]
    fn else_and_default_anywhere() {
        let s = parse("else => 1, x = f() => x, default => 2").unwrap();
        assert_eq!(s.arms.len(), 1);
        assert_eq!(text(&s.else_arm.unwrap().body), "1");
        assert_eq!(text(&s.default.unwrap().body), "2");
        let s = parse("else => { 3 }").unwrap();
        assert!(s.arms.is_empty());
        assert!(s.default.is_none());
        assert!(err("else => 1, else => 2").contains("more than one `else`"));
        assert!(err("x = f() => 1, else 2").contains("expected"));
    }

    #[test]
    fn only_default() {
        let s = parse("default => 5").unwrap();
        assert!(s.arms.is_empty());
        assert!(s.default.is_some());
    }

    #[test]
    fn errors() {
        assert!(err("").contains("needs at least one arm"));
        assert!(err("default => 1, default => 2").contains("more than one `default`"));
        assert!(err("x = f() => 1, biased;").contains("`biased;` must come first"));
        assert!(err("biased; biased; x = f() => 1").contains("`biased;` must come first"));
        assert!(err("x = f() 1").contains("expected `=>`"));
        assert!(err("x = f(), if c 1").contains("expected `=>`"));
        assert!(err("x => 1").contains("expected `=`"));
        assert!(err("x = f() => 1 y = g() => 2").contains("expected `,`"));
        assert!(syn::parse_str::<SelectInput>("x = f() => 1").is_err());
    }
}
