//! The walk over a file's token trees before it is parsed, in one pass over the parser's own token
//! buffer (borrowed: only identifiers and literals are copied, one at a time):
//!
//! - is the file too deeply nested or too long for the parser and the AST walks ([`MAX_NESTING`],
//!   [`MAX_RUN`]);
//! - which functions (by name) hold a whole Access credential in their body (both headers of a
//!   pair, the token header or the cookie), or call one that does.
//!
//! Functions are found in the tokens, so a `fn` inside a macro's arguments counts too: every
//! `fn NAME` takes the first `{ … }` after it at its own level as its body (none if a `;` comes
//! first), and a body's literals and calls (`name(…)`) count for every body it is inside.

use std::collections::HashSet;
use std::fmt::Write as _;

use proc_macro2::{Delimiter, Span, TokenTree};
use syn::buffer::Cursor;

use crate::engine::credential::CredentialNames;
use crate::engine::credential::{self, Pieces};
use crate::rules::RuleSet;

/// Files whose brackets nest deeper than this are refused (the parser recurses on them).
pub(super) const MAX_NESTING: usize = 128;
/// Files with a run of more tokens than this between separators are refused (deep operator chains).
pub(super) const MAX_RUN: usize = 6000;
/// Keywords that start an item or statement: a run of tokens ends before them.
const RUN_BREAKERS: &[&str] = &[
    "fn", "struct", "enum", "impl", "trait", "mod", "use", "let", "const", "static", "type",
];

/// The credential header and cookie names of the rules: a literal whose text contains none of them
/// (and no escape) names no credential piece, and is not unescaped.
pub(super) struct Needles(CredentialNames);

impl Needles {
    pub(super) fn new(rules: &RuleSet) -> Self {
        Needles(CredentialNames::new(rules))
    }

    /// Could the literal written as `raw` (quotes, prefix and suffix included) have a value that
    /// names a credential piece? `false` only when it certainly has not: its value is then a part
    /// of `raw` (no `\` escape, no `\r\n` turned into `\n`) that contains no name.
    pub(super) fn may_name(&self, raw: &str) -> bool {
        raw.contains(['\\', '\r']) || self.0.mentioned_in(raw)
    }

    /// The credential piece a literal token names (see [`RuleSet::credential_piece`]).
    pub(super) fn piece(
        &self,
        lit: &proc_macro2::Literal,
        buf: &mut String,
        rules: &RuleSet,
    ) -> Option<String> {
        buf.clear();
        let _ = write!(buf, "{lit}");
        if !self.may_name(buf) {
            return None;
        }
        match syn::Lit::new(lit.clone()) {
            syn::Lit::Str(s) => rules.credential_piece(&s.value()),
            _ => None,
        }
    }
}

/// A `{ … }` that is the body of the functions `names`, with what it holds.
struct Body {
    names: Vec<String>,
    pieces: Pieces,
    calls: HashSet<String>,
}

/// One open token group of the walk.
struct Level<'a> {
    /// Where the walk resumes when this group ends.
    after: Cursor<'a>,
    /// Tokens since the last separator in this group (literals not counted).
    run: usize,
    /// Functions named in this group still waiting for their body.
    pending: Vec<String>,
    /// Is this group a function body (the last of `open`)?
    body: bool,
}

/// The pre-pass over the tokens at `cursor`: `Err((where, why))` when the file is too complex to
/// analyse, else the functions that hold a whole credential.
pub(super) fn prepass(
    cursor: Cursor,
    rules: &RuleSet,
    needles: &Needles,
) -> Result<HashSet<String>, (Span, &'static str)> {
    let mut levels = vec![Level {
        after: Cursor::empty(),
        run: 0,
        pending: Vec::new(),
        body: false,
    }];
    let mut cur = cursor;
    // Tokens since the last separator, summed along the open groups.
    let mut total = 0usize;
    let mut prev_eq = false;
    let mut bodies: Vec<Body> = Vec::new();
    // Indices into `bodies` of the bodies the walk is inside.
    let mut open: Vec<usize> = Vec::new();
    let mut buf = String::new();
    loop {
        if cur.eof() {
            let Some(level) = levels.pop() else { break };
            if levels.is_empty() {
                break;
            }
            total -= level.run;
            if level.body {
                open.pop();
            }
            cur = level.after;
            continue;
        }
        let group = cur.any_group();
        // Literals alone nest nothing: long tables of them (`'a'..='z' | …`) are fine.
        let tree = match group {
            Some(_) => None,
            None => match cur.token_tree() {
                Some((tree, next)) => Some((tree, next)),
                None => break,
            },
        };
        let weight = usize::from(!matches!(tree, Some((TokenTree::Literal(_), _))));
        let depth = levels.len();
        let level = levels.last_mut().expect("the walk is inside a level");
        level.run += weight;
        total += weight;
        if total > MAX_RUN {
            return Err((cur.span(), "expression too long to analyse"));
        }
        let after_eq = std::mem::replace(&mut prev_eq, false);
        if let Some((inside, delimiter, _, after)) = group {
            if depth >= MAX_NESTING {
                return Err((cur.span(), "brackets nested too deeply to analyse"));
            }
            let mut body = false;
            if delimiter == Delimiter::Brace && !level.pending.is_empty() {
                open.push(bodies.len());
                bodies.push(Body {
                    names: std::mem::take(&mut level.pending),
                    pieces: Pieces::new(),
                    calls: HashSet::new(),
                });
                body = true;
            }
            levels.push(Level {
                after,
                run: 0,
                pending: Vec::new(),
                body,
            });
            cur = inside;
            continue;
        }
        let Some((tree, next)) = tree else { break };
        // `;`, `,`, `=>`, `#[…]` and item keywords end a run.
        let ends_run = match &tree {
            TokenTree::Punct(p) => match p.as_char() {
                ';' => {
                    level.pending.clear();
                    true
                }
                ',' | '#' => true,
                '>' => after_eq,
                '=' => {
                    prev_eq = p.spacing() == proc_macro2::Spacing::Joint;
                    false
                }
                _ => false,
            },
            TokenTree::Ident(id) => {
                if id == "fn" {
                    if let Some((TokenTree::Ident(name), _)) = next.token_tree() {
                        level.pending.push(name.to_string());
                    }
                }
                if !open.is_empty() {
                    if let Some((_, Delimiter::Parenthesis, _, _)) = next.any_group() {
                        let name = id.to_string();
                        for &b in &open {
                            bodies[b].calls.insert(name.clone());
                        }
                    }
                }
                RUN_BREAKERS.iter().any(|k| id == k)
            }
            TokenTree::Literal(lit) => {
                if !open.is_empty() {
                    if let Some(piece) = needles.piece(lit, &mut buf, rules) {
                        for &b in &open {
                            bodies[b].pieces.insert(piece.clone());
                        }
                    }
                }
                false
            }
            TokenTree::Group(_) => false,
        };
        if ends_run {
            total -= std::mem::take(&mut level.run);
        }
        cur = next;
    }
    Ok(credential_fns(bodies, rules))
}

/// The functions whose body holds a whole credential, or calls one that does (to a fixed point).
fn credential_fns(bodies: Vec<Body>, rules: &RuleSet) -> HashSet<String> {
    let mut facts: Vec<(String, bool, HashSet<String>)> = Vec::new();
    for body in bodies {
        let whole = credential::is_whole(&body.pieces, rules);
        for name in body.names {
            facts.push((name, whole, body.calls.clone()));
        }
    }
    let mut out: HashSet<String> = facts.iter().filter(|f| f.1).map(|f| f.0.clone()).collect();
    loop {
        let before = out.len();
        for (name, _, calls) in &facts {
            if !out.contains(name) && calls.iter().any(|c| out.contains(c)) {
                out.insert(name.clone());
            }
        }
        if out.len() == before {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> Result<Vec<String>, String> {
        use syn::parse::Parser;
        let rules = RuleSet::embedded().unwrap();
        let needles = Needles::new(&rules);
        let mut out = None;
        let _ = (|input: syn::parse::ParseStream| {
            out = Some(prepass(input.cursor(), &rules, &needles));
            input.step(|c| {
                let mut c = *c;
                while let Some((_, next)) = c.token_tree() {
                    c = next;
                }
                Ok(((), c))
            })
        })
        .parse_str(src);
        match out.unwrap() {
            Ok(fns) => {
                let mut fns: Vec<String> = fns.into_iter().collect();
                fns.sort();
                Ok(fns)
            }
            Err((_, why)) => Err(why.to_string()),
        }
    }

    #[test]
    fn helpers_nested_and_in_macros() {
        let src = "fn pair() -> H { let mut h = H::new(); h.insert(\"CF-Access-Client-Id\", a); \
                   h.insert(\"cf-access-client-secret\", b); h }\n\
                   fn half() { x(\"CF-Access-Client-Id\"); }\n\
                   fn uses() { c.headers(pair()); }\n\
                   fn outer() { fn inner() { y(\"CF_Authorization=abc\"); } }\n\
                   fn decl(); fn after() { z(\"CF-Access-Client-Id\"); }\n\
                   m! { fn in_macro() { w(\"CF_Authorization\"); } }\n\
                   fn escaped() { v(\"CF\\x5fAuthorization\"); }\n";
        assert_eq!(
            run(src).unwrap(),
            ["escaped", "in_macro", "inner", "outer", "pair", "uses"]
        );
    }

    #[test]
    fn refuses_deep_nesting_and_long_runs() {
        let deep = format!("fn f() {{ {}1{} }}", "(".repeat(200), ")".repeat(200));
        assert_eq!(
            run(&deep).unwrap_err(),
            "brackets nested too deeply to analyse"
        );
        let long = format!("fn f() {{ x{} }}", " + y".repeat(4000));
        assert_eq!(run(&long).unwrap_err(), "expression too long to analyse");
        let table = format!("const T: &[u8] = &[{}];", "1, ".repeat(20000));
        assert!(run(&table).is_ok());
    }

    #[test]
    fn needles_skip_only_literals_without_a_name() {
        let rules = RuleSet::embedded().unwrap();
        let n = Needles::new(&rules);
        assert!(!n.may_name("\"http://comfyui:8188/prompt\""));
        assert!(n.may_name("\"cf-ACCESS-client-id\""));
        assert!(n.may_name("\"a\\u{2d}b\""));
        assert!(n.may_name("r#\"CF_Authorization=x\"#"));
    }
}
