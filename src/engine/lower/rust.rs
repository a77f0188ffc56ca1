//! Rust front end: `syn` AST (plus the token trees of `format!`-like macros) → [`FileFacts`].
//!
//! - every `const` / `static` / `let` / assignment is a [`Binding`], its value lowered to a [`StrExpr`]
//!   (literals, `format!`, `concat!`, `+`, `env::var(..).unwrap_or(..)`, names and field chains);
//! - every outermost string-building expression is a [`Candidate`];
//! - every statement that makes a call is a [`Use`] (names passed along, client crate, credentials);
//! - `let b = f(a)` makes an [`Alias`] `a → b`;
//! - `Command::new("docker").args(["exec", …])` is an [`ExecSite`].
//!
//! Nothing here panics on input: recursion is bounded, and files nested too deeply for the parser
//! are refused before parsing.

mod prepass;
mod source;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{
    Block, Expr, ExprCall, ExprMethodCall, ImplItem, Item, Lit, Local, Macro, Pat, Stmt, TraitItem,
    UnOp,
};

use crate::engine::credential::{self, Holders, Pieces, WHOLE};
use crate::engine::ir::{
    Alias, Binding, CallSite, Candidate, ExecSite, FileFacts, FormatStyle, Import, InputKind, Pos,
    ScopeKind, StrExpr, Use,
};
use crate::rules::RuleSet;
use prepass::Needles;
use source::SourceText;

/// Recursion bound for our own walks over the AST.
const MAX_DEPTH: u32 = 200;
/// Stack of the helper thread (reserved, touched only as deep as the parse goes).
const WORKER_STACK: usize = 256 * 1024 * 1024;

/// Macros whose arguments are messages or logging, never an address that is used.
#[rustfmt::skip]
const SKIPPED_MACROS: &[&str] = &[
    "println", "eprintln", "print", "eprint", "panic", "assert", "assert_eq", "assert_ne", "debug_assert",
    "debug_assert_eq", "debug_assert_ne", "unreachable", "todo", "unimplemented", "info", "warn", "error",
    "debug", "trace", "log", "event", "bail", "anyhow", "ensure", "eyre", "dbg", "json", "matches",
    "compile_error", "include_str", "include_bytes", "include", "stringify", "cfg", "macro_rules",
    "thread_local", "lazy_static", "info_span", "debug_span", "trace_span", "warn_span", "error_span", "span",
];

/// Methods that pass their receiver's string through unchanged (closely enough).
#[rustfmt::skip]
const TRANSPARENT_METHODS: &[&str] = &[
    "to_string", "to_owned", "into", "as_str", "clone", "as_ref", "borrow", "as_deref", "deref", "into_owned",
    "trim", "trim_end", "trim_start", "trim_end_matches", "trim_start_matches", "trim_matches", "unwrap",
    "expect", "ok", "map_err", "context", "with_context", "wrap_err", "as_path", "to_path_buf",
];

/// Parse one Rust source file into facts. `Err` carries `line:column: message` when it does not parse.
///
/// The work runs on a helper thread with a large stack: `syn` recurses once per nesting level (and
/// needs tens of kilobytes per level in debug builds), and the helper thread's span table goes away
/// with it. If the thread cannot be started, the work runs on the caller's thread.
pub fn extract(source: &str, rules: &RuleSet) -> Result<FileFacts, String> {
    // The scan's workers already run with a large stack inside `catch_unwind`: no extra thread.
    if std::thread::current().name() == Some(crate::engine::lower::DEEP_STACK_WORKER) {
        return extract_here(source, rules);
    }
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("access-audit-rust".into())
            .stack_size(WORKER_STACK)
            .spawn_scoped(s, || extract_here(source, rules));
        match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err("internal error while analysing this file".to_string())),
            Err(_) => extract_here(source, rules),
        }
    })
}

/// [`extract`] on the current thread.
fn extract_here(source: &str, rules: &RuleSet) -> Result<FileFacts, String> {
    proc_macro2::extra::invalidate_current_thread_spans();
    let _macro_args = MacroArgsCache::start();
    let content = strip_preamble(source);
    let needles = Needles::new(rules);
    // A lexing error is reported below by the parser, with its position.
    let (file, cred_fns) = match content.parse::<TokenStream>() {
        Ok(tokens) => parse_checked(tokens, rules, &needles)?,
        Err(_) => {
            let file =
                syn::parse_file(source).map_err(|e| format!("{}: {e}", pos_text(e.span())))?;
            (file, HashSet::new())
        }
    };
    let mut ex = Extractor {
        rules,
        needles,
        text: SourceText::new(&content),
        lit_buf: String::new(),
        facts: FileFacts::new(),
        cred_fns,
        cred_fields: Holders::default(),
        file_mods: file
            .items
            .iter()
            .filter_map(|i| match i {
                syn::Item::Mod(m) if m.content.is_none() => Some(m.ident.to_string()),
                _ => None,
            })
            .collect(),
        mentions_reqwest: source.contains("reqwest"),
        mentions_ureq: source.contains("ureq"),
    };
    ex.items(&file.items, 0);
    for item in &file.items {
        if let syn::Item::Use(u) = item {
            use_imports(&u.tree, &mut Vec::new(), &mut ex.facts.imports);
        }
    }
    clap_arguments(&file.items, &mut ex.facts);
    // A statement using a field that holds a credential (`self.http`, a client built with the
    // Access headers as default headers) carries it, whichever method set the field.
    for u in &mut ex.facts.uses {
        if !u.credentialed && u.names.iter().any(|n| ex.cred_fields.carries(n, rules)) {
            u.credentialed = true;
        }
    }
    ex.facts.credential_fns = ex.cred_fns.iter().cloned().collect();
    ex.facts.credential_fns.sort();
    Ok(ex.facts)
}

/// Parse the file's tokens, after the pre-pass over them (in the parser's own token buffer): the
/// file, or `line:column: message` when it is too complex to analyse or does not parse; with the
/// functions that hold a whole credential.
fn parse_checked(
    tokens: TokenStream,
    rules: &RuleSet,
    needles: &Needles,
) -> Result<(syn::File, HashSet<String>), String> {
    use syn::parse::Parser;
    let mut prepassed = Ok(HashSet::new());
    let parsed = (|input: syn::parse::ParseStream| {
        prepassed = prepass::prepass(input.cursor(), rules, needles);
        match &prepassed {
            Ok(_) => input.parse::<syn::File>(),
            Err((span, what)) => Err(syn::Error::new(*span, what)),
        }
    })
    .parse2(tokens);
    let cred_fns = prepassed.map_err(|(span, what)| format!("{}: {what}", pos_text(span)))?;
    let file = parsed.map_err(|e| format!("{}: {e}", pos_text(e.span())))?;
    Ok((file, cred_fns))
}

/// clap / structopt fields: `#[arg(long, env = "COMFY_URL", default_value = "http://…")] url: String`
/// become bindings that `args.url` reads (see [`crate::engine::solve::cli_binding`]); a default that is an
/// address is a candidate of its own, folded into its uses.
fn clap_arguments(items: &[Item], facts: &mut FileFacts) {
    for item in items {
        match item {
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    clap_arguments(inner, facts);
                }
            }
            Item::Struct(st) => {
                for field in &st.fields {
                    let Some(ident) = &field.ident else { continue };
                    let mut default: Option<(String, Pos)> = None;
                    let mut env: Option<String> = None;
                    let mut is_arg = false;
                    for attr in &field.attrs {
                        if !["arg", "clap", "structopt", "argh"]
                            .iter()
                            .any(|p| attr.path().is_ident(p))
                        {
                            continue;
                        }
                        is_arg = true;
                        let Ok(metas) = attr.parse_args_with(
                            Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                        ) else {
                            continue;
                        };
                        for meta in metas {
                            let syn::Meta::NameValue(nv) = meta else {
                                continue;
                            };
                            // `default_value_t = 8188`
                            if let syn::Expr::Lit(syn::ExprLit {
                                lit: Lit::Int(n), ..
                            }) = &nv.value
                            {
                                if nv.path.is_ident("default_value_t") {
                                    default =
                                        Some((n.base10_digits().to_string(), pos_of(n.span())));
                                }
                                continue;
                            }
                            let syn::Expr::Lit(syn::ExprLit {
                                lit: Lit::Str(value),
                                ..
                            }) = &nv.value
                            else {
                                continue;
                            };
                            if nv.path.is_ident("default_value")
                                || nv.path.is_ident("default_value_t")
                            {
                                default = Some((value.value(), pos_of(value.span())));
                            } else if nv.path.is_ident("env") {
                                env = Some(value.value());
                            }
                        }
                    }
                    if !is_arg {
                        continue;
                    }
                    let name = crate::engine::solve::cli_binding(&ident.to_string());
                    let lit = default
                        .as_ref()
                        .map(|(v, _)| Box::new(StrExpr::Lit(v.clone())));
                    let value = match env {
                        Some(var) => StrExpr::Input {
                            kind: InputKind::Env,
                            name: var,
                            default: lit,
                        },
                        None => StrExpr::Input {
                            kind: InputKind::CliArg,
                            name: ident.to_string(),
                            default: lit,
                        },
                    };
                    let pos = default
                        .as_ref()
                        .map_or_else(|| pos_of(ident.span()), |(_, p)| *p);
                    if default
                        .as_ref()
                        .is_some_and(|(v, _)| v.contains(':') || v.contains('/'))
                    {
                        facts.candidates.push(Candidate {
                            expr: value.clone(),
                            pos,
                            scope: 0,
                            function: None,
                            bound_to: Some(name.clone()),
                            consumer: None,
                        });
                    }
                    facts.bindings.push(Binding {
                        scope: 0,
                        name,
                        value,
                        pos,
                    });
                }
            }
            _ => {}
        }
    }
}

/// `use crate::config::{URL, self as cfg}` → imports (`URL` from `crate::config`, `cfg` = the module).
fn use_imports(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Import>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_imports(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push(rust_import(
            prefix,
            &n.ident.to_string(),
            &n.ident.to_string(),
        )),
        syn::UseTree::Rename(r) => out.push(rust_import(
            prefix,
            &r.ident.to_string(),
            &r.rename.to_string(),
        )),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_imports(t, prefix, out);
            }
        }
        syn::UseTree::Glob(_) => out.push(Import {
            local: "*".into(),
            module: prefix.join("::"),
            name: None,
        }),
    }
}

fn rust_import(prefix: &[String], name: &str, local: &str) -> Import {
    if name == "self" {
        let local = if local == "self" {
            prefix.last().cloned().unwrap_or_default()
        } else {
            local.to_string()
        };
        return Import {
            local,
            module: prefix.join("::"),
            name: None,
        };
    }
    // `use crate::config;` binds a module or an item: record both readings.
    Import {
        local: local.to_string(),
        module: prefix.join("::"),
        name: Some(name.to_string()),
    }
}

/// What `syn::parse_file` strips before lexing: a BOM and a shebang line (keeping the newline); also
/// a cargo-script `---` frontmatter, blanked so that line numbers stay.
fn strip_preamble(source: &str) -> Cow<'_, str> {
    let mut content = source.strip_prefix('\u{feff}').unwrap_or(source);
    if let Some(rest) = content.strip_prefix("#!") {
        if !rest.trim_start().starts_with('[') {
            content = match content.find('\n') {
                Some(i) => &content[i..],
                None => "",
            };
        }
    }
    let body = content.trim_start_matches(['\n', '\r', ' ', '\t']);
    if !body.starts_with("---") {
        return Cow::Borrowed(content);
    }
    let mut out = String::with_capacity(content.len());
    out.push_str(&content[..content.len() - body.len()]);
    let mut lines = body.split_inclusive('\n');
    let mut closed = false;
    for (i, line) in lines.by_ref().enumerate() {
        if line.ends_with('\n') {
            out.push('\n');
        }
        if i > 0 && line.trim_end() == "---" {
            closed = true;
            break;
        }
    }
    if !closed {
        return Cow::Borrowed(content);
    }
    lines.for_each(|l| out.push_str(l));
    Cow::Owned(out)
}

fn pos_of(span: Span) -> Pos {
    let lc = span.start();
    Pos {
        line: u32::try_from(lc.line).unwrap_or(u32::MAX),
        column: u32::try_from(lc.column).unwrap_or(u32::MAX - 1) + 1,
    }
}

fn pos_text(span: Span) -> String {
    let p = pos_of(span);
    format!("{}:{}", p.line, p.column)
}

// ---------------------------------------------------------------------------------------------
// Lowering expressions to StrExpr (pure, bounded)
// ---------------------------------------------------------------------------------------------

fn unknown(label: &str) -> StrExpr {
    StrExpr::Unknown(label.to_string())
}

fn macro_name(mac: &Macro) -> String {
    mac.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

fn macro_pos(mac: &Macro) -> Pos {
    if let Some(c) = &mac.path.leading_colon {
        return pos_of(c.spans[0]);
    }
    match mac.path.segments.first() {
        Some(s) => pos_of(s.ident.span()),
        None => pos_of(mac.bang_token.span),
    }
}

/// The comma-separated expressions of a macro's arguments, if they parse as such.
type MacroArgs = Option<Punctuated<Expr, syn::Token![,]>>;

thread_local! {
    /// The arguments of the file's macros by where their brackets open (`line`, `column`): each
    /// macro is parsed once, however often it is lowered and walked. Only valid for one file.
    static MACRO_ARGS: RefCell<HashMap<(usize, usize), Rc<MacroArgs>>> = RefCell::default();
}

/// Empties [`MACRO_ARGS`] when a file's lowering starts and when it ends (or unwinds).
struct MacroArgsCache;

impl MacroArgsCache {
    fn start() -> Self {
        MACRO_ARGS.with(|m| m.borrow_mut().clear());
        MacroArgsCache
    }
}

impl Drop for MacroArgsCache {
    fn drop(&mut self) {
        MACRO_ARGS.with(|m| m.borrow_mut().clear());
    }
}

/// The arguments of `mac` ([`MacroArgs`]), parsed once per file.
fn macro_args(mac: &Macro) -> Rc<MacroArgs> {
    use syn::parse::Parser;
    let at = mac.delimiter.span().open().start();
    let key = (at.line, at.column);
    if let Some(args) = MACRO_ARGS.with(|m| m.borrow().get(&key).cloned()) {
        return args;
    }
    let args = Rc::new(
        Punctuated::<Expr, syn::Token![,]>::parse_terminated
            .parse2(mac.tokens.clone())
            .ok(),
    );
    MACRO_ARGS.with(|m| m.borrow_mut().insert(key, Rc::clone(&args)));
    args
}

fn is_format_macro(name: &str) -> bool {
    matches!(
        name,
        "format" | "format_args" | "concat" | "write" | "writeln"
    )
}

fn path_segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// `a`, `self.a`, `args.server.host` as dotted text.
fn chain_text(e: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    let mut cur = e;
    for _ in 0..MAX_DEPTH {
        match cur {
            Expr::Field(f) => {
                parts.push(match &f.member {
                    syn::Member::Named(id) => id.to_string(),
                    syn::Member::Unnamed(ix) => ix.index.to_string(),
                });
                cur = &f.base;
            }
            Expr::Path(p) if p.qself.is_none() => {
                parts.push(p.path.get_ident()?.to_string());
                parts.reverse();
                return Some(parts.join("."));
            }
            _ => return None,
        }
    }
    None
}

fn lower_lit(lit: &Lit) -> StrExpr {
    match lit {
        Lit::Str(s) => StrExpr::Lit(s.value()),
        Lit::Char(c) => StrExpr::Lit(c.value().to_string()),
        Lit::Int(i) => i
            .base10_parse::<i64>()
            .map(StrExpr::Int)
            .unwrap_or_else(|_| unknown("int")),
        _ => unknown("literal"),
    }
}

fn is_stringish(e: &StrExpr) -> bool {
    matches!(
        e,
        StrExpr::Lit(_) | StrExpr::Concat(_) | StrExpr::Format { .. }
    )
}

/// Lower an expression to the IR.
fn lower(e: &Expr, depth: u32) -> StrExpr {
    if depth > MAX_DEPTH {
        return unknown("…");
    }
    let d = depth + 1;
    match e {
        Expr::Lit(l) => lower_lit(&l.lit),
        Expr::Paren(p) => lower(&p.expr, d),
        Expr::Group(g) => lower(&g.expr, d),
        Expr::Reference(r) => lower(&r.expr, d),
        Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => lower(&u.expr, d),
        Expr::Try(t) => lower(&t.expr, d),
        Expr::Cast(c) => lower(&c.expr, d),
        Expr::Path(p) => match &p.path.segments.last() {
            Some(seg) if p.qself.is_none() && p.path.segments.len() == 1 => {
                StrExpr::Ref(seg.ident.to_string())
            }
            // `Self::BASE`, `config::BASE_URL`: the path; the evaluator tries the last segment in
            // this file, then the module the path names.
            Some(_) => StrExpr::Ref(path_segments(&p.path).join("::")),
            None => unknown("path"),
        },
        Expr::Field(f) => match chain_text(e) {
            Some(t) => StrExpr::Ref(t),
            None => match &f.member {
                syn::Member::Named(id) => unknown(&id.to_string()),
                syn::Member::Unnamed(ix) => unknown(&ix.index.to_string()),
            },
        },
        Expr::Macro(m) => lower_macro(&m.mac, d),
        Expr::MethodCall(m) => lower_method(m, d),
        Expr::Call(c) => lower_call(c, d),
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
            let l = lower(&b.left, d);
            let r = lower(&b.right, d);
            if is_stringish(&l) || is_stringish(&r) || matches!(&*b.right, Expr::Reference(_)) {
                let mut parts = match l {
                    StrExpr::Concat(p) => p,
                    other => vec![other],
                };
                parts.push(r);
                StrExpr::Concat(parts)
            } else {
                unknown("+")
            }
        }
        Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            Stmt::Expr(inner, None) => lower(inner, d),
            _ => unknown("block"),
        },
        Expr::Closure(c) => lower(&c.body, d),
        Expr::If(_) => unknown("if"),
        Expr::Match(_) => unknown("match"),
        Expr::Await(_) => unknown("await"),
        _ => unknown("expr"),
    }
}

fn lower_macro(mac: &Macro, depth: u32) -> StrExpr {
    let name = macro_name(mac);
    match name.as_str() {
        "format" | "format_args" => format_from(&expr_list(&macro_args(mac)), 0, depth),
        "write" | "writeln" => format_from(&expr_list(&macro_args(mac)), 1, depth),
        "concat" => StrExpr::Concat(
            expr_list(&macro_args(mac))
                .iter()
                .map(|a| lower(a, depth + 1))
                .collect(),
        ),
        "env" | "option_env" => {
            let name = match expr_list(&macro_args(mac))
                .first()
                .map(|a| lower(a, depth + 1))
            {
                Some(StrExpr::Lit(s)) => s,
                _ => "?".to_string(),
            };
            StrExpr::Input {
                kind: InputKind::Env,
                name,
                default: None,
            }
        }
        _ => unknown(&name),
    }
}

/// The expressions of parsed macro arguments (none when they did not parse).
fn expr_list(args: &MacroArgs) -> Vec<&Expr> {
    args.as_ref()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// `format!(template, positional…, name = value…)`, the template at `skip`.
fn format_from(args: &[&Expr], skip: usize, depth: u32) -> StrExpr {
    let Some(tpl) = args.get(skip) else {
        return unknown("format");
    };
    let mut positional = Vec::new();
    let mut named = Vec::new();
    for a in args.iter().skip(skip + 1) {
        match a {
            Expr::Assign(asg) => match &*asg.left {
                Expr::Path(p) if p.path.get_ident().is_some() => {
                    let n = p
                        .path
                        .get_ident()
                        .map(|i| i.to_string())
                        .unwrap_or_default();
                    named.push((n, lower(&asg.right, depth + 1)));
                }
                _ => positional.push(unknown("arg")),
            },
            other => positional.push(lower(other, depth + 1)),
        }
    }
    StrExpr::Format {
        template: Box::new(lower(tpl, depth + 1)),
        style: FormatStyle::Brace,
        args: positional,
        named,
    }
}

/// Attach a default to an input (`env::var(..).unwrap_or(d)`) or a reference (`opt.unwrap_or(d)`).
fn with_default(recv: StrExpr, default: StrExpr, method: &str) -> StrExpr {
    if matches!(default, StrExpr::Unknown(_)) {
        return match recv {
            StrExpr::Input { .. } => recv,
            _ => unknown(method),
        };
    }
    match recv {
        StrExpr::Input { .. } => recv.or_default(|| default),
        StrExpr::Ref(name) => StrExpr::Input {
            kind: InputKind::Param,
            name,
            default: Some(Box::new(default)),
        },
        _ => unknown(method),
    }
}

fn lower_method(m: &ExprMethodCall, depth: u32) -> StrExpr {
    let name = m.method.to_string();
    let d = depth + 1;
    match name.as_str() {
        n if TRANSPARENT_METHODS.contains(&n) => lower(&m.receiver, d),
        "unwrap_or" => match m.args.first() {
            Some(a) => with_default(lower(&m.receiver, d), lower(a, d), &name),
            None => unknown(&name),
        },
        "unwrap_or_else" => match m.args.first() {
            Some(Expr::Closure(c)) => with_default(lower(&m.receiver, d), lower(&c.body, d), &name),
            _ => with_default(lower(&m.receiver, d), unknown(&name), &name),
        },
        "unwrap_or_default" => {
            with_default(lower(&m.receiver, d), StrExpr::Lit(String::new()), &name)
        }
        // `base.join("prompt")` on a `Url`: the path joined on.
        "join" if m.args.len() == 1 => StrExpr::Join {
            sep: "/".into(),
            parts: vec![lower(&m.receiver, d), lower(&m.args[0], d)],
        },
        // `std::env::args().nth(1)`: a command-line argument.
        "nth" => match (&*m.receiver, m.args.first()) {
            (
                Expr::Call(c),
                Some(Expr::Lit(syn::ExprLit {
                    lit: Lit::Int(i), ..
                })),
            ) if matches!(&*c.func, Expr::Path(p) if path_segments(&p.path).last().is_some_and(|l| l == "args")) => {
                StrExpr::Input {
                    kind: InputKind::CliArg,
                    name: format!("argv[{}]", i.base10_digits()),
                    default: None,
                }
            }
            _ => unknown(&name),
        },
        _ => unknown(&name),
    }
}

fn lower_call(c: &ExprCall, depth: u32) -> StrExpr {
    let d = depth + 1;
    let Expr::Path(p) = &*c.func else {
        return unknown("call");
    };
    let segs = path_segments(&p.path);
    let last = segs.last().map(String::as_str).unwrap_or("");
    let prev = if segs.len() >= 2 {
        segs[segs.len() - 2].as_str()
    } else {
        ""
    };
    let arg0 = c.args.first();
    match (prev, last) {
        ("" | "env", "var" | "var_os") => {
            let name = match arg0.map(|a| lower(a, d)) {
                Some(StrExpr::Lit(s)) | Some(StrExpr::Ref(s)) => s,
                _ => "?".to_string(),
            };
            StrExpr::Input {
                kind: InputKind::Env,
                name,
                default: None,
            }
        }
        ("String" | "Cow" | "PathBuf" | "OsString", "from")
        | ("Url", "parse")
        | ("Uri", "from_static")
        | ("Box" | "Rc" | "Arc", "new")
        | ("", "Some" | "Ok") => match arg0 {
            Some(a) => lower(a, d),
            None => unknown(last),
        },
        ("Lazy" | "LazyLock" | "LazyCell", "new") => match arg0 {
            Some(Expr::Closure(cl)) => lower(&cl.body, d),
            _ => unknown(last),
        },
        // `Settings::default()`, `Config::new(…)`: an instance of a type of the file.
        (ty, "default" | "new") if ty.starts_with(|ch: char| ch.is_uppercase()) => StrExpr::Call {
            callee: format!("{ty}::{last}"),
            args: c.args.iter().map(|a| lower(a, d)).collect(),
            kwargs: Vec::new(),
        },
        // `api_url("prompt")`: what a free function of the file returns.
        ("", name) if name.starts_with(|ch: char| ch.is_lowercase() || ch == '_') => {
            StrExpr::Call {
                callee: name.to_string(),
                args: c.args.iter().map(|a| lower(a, d)).collect(),
                kwargs: Vec::new(),
            }
        }
        _ => unknown(last),
    }
}

/// The expression under transparent wrappers (`&`, `( )`, `.to_string()`, `String::from`, …).
fn strip(e: &Expr) -> &Expr {
    let mut cur = e;
    for _ in 0..MAX_DEPTH {
        cur = match cur {
            Expr::Paren(p) => &p.expr,
            Expr::Group(g) => &g.expr,
            Expr::Reference(r) => &r.expr,
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => &u.expr,
            Expr::Try(t) => &t.expr,
            Expr::MethodCall(m) if TRANSPARENT_METHODS.iter().any(|t| m.method == t) => &m.receiver,
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else { return cur };
                let looked_through = ["new", "from", "parse", "from_static", "Some"];
                if !p
                    .path
                    .segments
                    .last()
                    .is_some_and(|l| looked_through.iter().any(|n| l.ident == n))
                {
                    return cur;
                }
                let segs = path_segments(&p.path);
                let n = segs.len();
                let last = segs.last().map(String::as_str).unwrap_or("");
                let prev = if n >= 2 { segs[n - 2].as_str() } else { "" };
                match ((prev, last), c.args.first()) {
                    (("Lazy" | "LazyLock" | "LazyCell", "new"), Some(Expr::Closure(cl))) => {
                        &cl.body
                    }
                    (
                        ("String" | "Cow" | "Url", "from")
                        | ("Url", "parse")
                        | ("Uri", "from_static")
                        | ("", "Some"),
                        Some(a),
                    ) => a,
                    _ => return cur,
                }
            }
            _ => return cur,
        };
    }
    cur
}

/// The string-building core of `e`, if `e` is a candidate: a string literal, `format!`-like macro, env
/// read with a literal default, or `+` concatenation.
fn candidate_core(e: &Expr) -> Option<&Expr> {
    let core = strip(e);
    let ok = match core {
        Expr::Lit(l) => matches!(l.lit, Lit::Str(_)),
        Expr::Macro(m) => is_format_macro(&macro_name(&m.mac)),
        Expr::MethodCall(m)
            if ["unwrap_or", "unwrap_or_else", "unwrap_or_default"]
                .iter()
                .any(|n| m.method == n) =>
        {
            matches!(lower(core, 0), StrExpr::Input { default: Some(d), .. } if is_stringish(&d))
        }
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
            matches!(lower(core, 0), StrExpr::Concat(_))
        }
        // `base.join("prompt")` with a literal path.
        Expr::MethodCall(m) if m.method == "join" && m.args.len() == 1 => {
            matches!(strip(&m.args[0]), Expr::Lit(l) if matches!(l.lit, Lit::Str(_)))
        }
        _ => false,
    };
    ok.then_some(core)
}

/// Where an expression starts.
fn start_pos(e: &Expr) -> Pos {
    let mut cur = e;
    for _ in 0..MAX_DEPTH {
        cur = match cur {
            Expr::Lit(l) => return pos_of(l.lit.span()),
            Expr::Macro(m) => return macro_pos(&m.mac),
            Expr::Reference(r) => return pos_of(r.and_token.span),
            Expr::Paren(p) => return pos_of(p.paren_token.span.open()),
            Expr::Path(p) => {
                if let Some(q) = &p.qself {
                    return pos_of(q.lt_token.span);
                }
                if let Some(c) = &p.path.leading_colon {
                    return pos_of(c.spans[0]);
                }
                return match p.path.segments.first() {
                    Some(s) => pos_of(s.ident.span()),
                    None => pos_of(cur.span()),
                };
            }
            Expr::MethodCall(m) => &m.receiver,
            Expr::Call(c) => &c.func,
            Expr::Field(f) => &f.base,
            Expr::Try(t) => &t.expr,
            Expr::Await(a) => &a.base,
            Expr::Binary(b) => &b.left,
            Expr::Index(i) => &i.expr,
            Expr::Cast(c) => &c.expr,
            Expr::Assign(a) => &a.left,
            Expr::Range(r) => match &r.start {
                Some(s) => s,
                None => return pos_of(r.limits.span()),
            },
            Expr::Unary(u) => return pos_of(u.op.span()),
            Expr::Block(b) => return pos_of(b.block.brace_token.span.open()),
            Expr::If(i) => return pos_of(i.if_token.span),
            Expr::Match(m) => return pos_of(m.match_token.span),
            Expr::Array(a) => return pos_of(a.bracket_token.span.open()),
            Expr::Tuple(t) => return pos_of(t.paren_token.span.open()),
            Expr::Return(r) => return pos_of(r.return_token.span),
            Expr::Struct(s) => match s.path.segments.first() {
                Some(seg) => return pos_of(seg.ident.span()),
                None => return pos_of(s.brace_token.span.open()),
            },
            Expr::Closure(c) => return pos_of(c.or1_token.span),
            // Block-like expressions start where `span()` would find them, without printing them.
            Expr::ForLoop(f) => return lead_pos(&f.attrs, f.label.as_ref(), f.for_token.span),
            Expr::While(w) => return lead_pos(&w.attrs, w.label.as_ref(), w.while_token.span),
            Expr::Loop(l) => return lead_pos(&l.attrs, l.label.as_ref(), l.loop_token.span),
            Expr::Unsafe(u) => return lead_pos(&u.attrs, None, u.unsafe_token.span),
            Expr::Async(a) => return lead_pos(&a.attrs, None, a.async_token.span),
            Expr::TryBlock(t) => return lead_pos(&t.attrs, None, t.try_token.span),
            Expr::Const(c) => return lead_pos(&c.attrs, None, c.const_token.span),
            // Small expressions only: `span()` walks the whole expression.
            _ => return pos_of(cur.span()),
        };
    }
    // A chain longer than we follow: its start is not worth a walk over all of it.
    Pos::default()
}

/// Where an expression printed as outer attributes, label and keyword first starts.
fn lead_pos(attrs: &[syn::Attribute], label: Option<&syn::Label>, keyword: Span) -> Pos {
    if let Some(attr) = attrs
        .iter()
        .find(|a| matches!(a.style, syn::AttrStyle::Outer))
    {
        return pos_of(attr.pound_token.span);
    }
    match label {
        Some(l) => pos_of(l.name.apostrophe),
        None => pos_of(keyword),
    }
}

/// Identifiers captured inline by a format template: `{host}`, `{port:>5}`.
fn inline_captures(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            continue;
        }
        let field: String = chars.by_ref().take_while(|&c| c != '}').collect();
        let name = field.split(':').next().unwrap_or("").trim();
        if name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        {
            out.push(name.to_string());
        }
    }
    out
}

fn pat_ident(p: &Pat) -> Option<String> {
    match p {
        Pat::Ident(pi) if pi.subpat.is_none() => Some(pi.ident.to_string()),
        Pat::Type(pt) => pat_ident(&pt.pat),
        _ => None,
    }
}

fn type_name(t: &syn::Type) -> String {
    match t {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------

/// The body of `lazy_static! { static ref NAME: Type = expr; … }`.
struct LazyStatics(Vec<(syn::Ident, Expr)>);

impl syn::parse::Parse for LazyStatics {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let mut out = Vec::new();
        while !input.is_empty() {
            input.call(syn::Attribute::parse_outer)?;
            input.parse::<syn::Visibility>()?;
            input.parse::<syn::Token![static]>()?;
            input.parse::<syn::Token![ref]>()?;
            let ident: syn::Ident = input.parse()?;
            input.parse::<syn::Token![:]>()?;
            input.parse::<syn::Type>()?;
            input.parse::<syn::Token![=]>()?;
            let expr: Expr = input.parse()?;
            input.parse::<syn::Token![;]>()?;
            out.push((ident, expr));
        }
        Ok(LazyStatics(out))
    }
}

struct Extractor<'r> {
    rules: &'r RuleSet,
    needles: Needles,
    /// The text the spans point into.
    text: SourceText<'r>,
    /// Scratch space for a literal's text.
    lit_buf: String,
    facts: FileFacts,
    cred_fns: HashSet<String>,
    /// Fields (`self.http`) given a credential in a struct literal.
    cred_fields: Holders,
    /// Modules declared in their own file (`mod api;`): calls into them (`api::history(…)`) are
    /// call sites whose arguments reach that file's parameters.
    file_mods: HashSet<String>,
    mentions_reqwest: bool,
    mentions_ureq: bool,
}

impl<'r> Extractor<'r> {
    fn items(&mut self, items: &[Item], scope: usize) {
        for item in items {
            self.item(item, scope, 0);
        }
    }

    fn item(&mut self, item: &Item, scope: usize, depth: u32) {
        if depth > MAX_DEPTH {
            return;
        }
        match item {
            Item::Fn(f) => self.function(&f.sig, &f.block, scope, f.sig.ident.to_string(), depth),
            Item::Const(c) => self.binding_item(&c.ident, &c.expr, scope, depth),
            Item::Static(s) => self.binding_item(&s.ident, &s.expr, scope, depth),
            Item::Impl(imp) => {
                let ty = type_name(&imp.self_ty);
                for it in &imp.items {
                    match it {
                        ImplItem::Fn(f) => {
                            let name = if ty.is_empty() {
                                f.sig.ident.to_string()
                            } else {
                                format!("{ty}::{}", f.sig.ident)
                            };
                            self.function(&f.sig, &f.block, scope, name, depth);
                        }
                        ImplItem::Const(c) => self.binding_item(&c.ident, &c.expr, scope, depth),
                        _ => {}
                    }
                }
            }
            Item::Trait(t) => {
                for it in &t.items {
                    match it {
                        TraitItem::Fn(f) => {
                            if let Some(block) = &f.default {
                                self.function(
                                    &f.sig,
                                    block,
                                    scope,
                                    format!("{}::{}", t.ident, f.sig.ident),
                                    depth,
                                );
                            }
                        }
                        TraitItem::Const(c) => {
                            if let Some((_, e)) = &c.default {
                                self.binding_item(&c.ident, e, scope, depth);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Macro(m) if macro_name(&m.mac) == "lazy_static" => {
                if let Ok(statics) = syn::parse2::<LazyStatics>(m.mac.tokens.clone()) {
                    for (ident, expr) in &statics.0 {
                        self.binding_item(ident, expr, scope, depth);
                    }
                }
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    for it in items {
                        self.item(it, scope, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    fn function(
        &mut self,
        sig: &syn::Signature,
        block: &Block,
        parent: usize,
        name: String,
        depth: u32,
    ) {
        let scope = self.facts.push_scope(parent, ScopeKind::Function, &name);
        // A free function: its parameters and what it returns (the block's tail expression and
        // `return` expressions).
        if !name.contains("::") {
            let params = sig
                .inputs
                .iter()
                .filter_map(|i| match i {
                    syn::FnArg::Typed(pt) => match &*pt.pat {
                        Pat::Ident(pi) => Some(pi.ident.to_string()),
                        _ => Some(String::new()),
                    },
                    syn::FnArg::Receiver(_) => None,
                })
                .collect();
            let mut returns = Vec::new();
            if let Some(Stmt::Expr(tail, None)) = block.stmts.last() {
                returns.push(StrExpr::At(start_pos(tail), Box::new(lower(tail, 0))));
            }
            self.facts.functions.push(crate::engine::ir::FunctionDef {
                name: name.clone(),
                scope,
                params,
                returns,
                method: false,
            });
        }
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                if let Pat::Ident(pi) = &*pt.pat {
                    let n = pi.ident.to_string();
                    self.facts.bindings.push(Binding {
                        scope,
                        name: n.clone(),
                        value: StrExpr::Input {
                            kind: InputKind::Param,
                            name: n,
                            default: None,
                        },
                        pos: pos_of(pi.ident.span()),
                    });
                }
            }
        }
        let mut w = Walker::new(self, scope, Some(name), depth);
        for s in &block.stmts {
            w.stmt(s);
        }
        w.finish_commands();
    }

    fn binding_item(&mut self, ident: &syn::Ident, expr: &Expr, scope: usize, depth: u32) {
        let name = ident.to_string();
        self.facts.bindings.push(Binding {
            scope,
            name: name.clone(),
            value: lower(expr, 0),
            pos: start_pos(expr),
        });
        let function = self
            .facts
            .scopes
            .get(scope)
            .filter(|_| scope != 0)
            .map(|s| s.name.clone());
        let mut w = Walker::new(self, scope, function, depth);
        w.bound_init(&name, expr);
        w.finish_commands();
    }
}

// ---------------------------------------------------------------------------------------------
// Statements and expressions inside a function
// ---------------------------------------------------------------------------------------------

/// What one statement contains.
#[derive(Default)]
struct StmtState {
    names: Vec<String>,
    has_call: bool,
    /// Credential pieces the statement's literals and helper calls hold.
    pieces: Pieces,
    /// Unbound candidates recorded in this statement.
    cands: Vec<usize>,
    /// Paths of the free functions called (`ureq::get`).
    paths: Vec<Vec<String>>,
    methods: Vec<String>,
    /// `let NAME = …`: the name this statement binds.
    bound: Option<String>,
    /// `headers.insert(..)`: the variable this statement adds to.
    mutated: Option<String>,
    /// Calls of free functions with their lowered arguments (`api_url("prompt")`).
    calls: Vec<(String, Pos, Vec<StrExpr>)>,
}

/// A `Command::new(program)` seen in this function, with the literal arguments added to it.
struct Cmd {
    pos: Pos,
    var: Option<String>,
    program: String,
    args: Vec<Option<String>>,
}

struct Walker<'x, 'r> {
    ex: &'x mut Extractor<'r>,
    scope: usize,
    function: Option<String>,
    st: StmtState,
    in_cand: u32,
    depth: u32,
    in_receiver: bool,
    cmds: Vec<Cmd>,
    /// Variables holding credential pieces (`let h = [("CF-Access-Client-Id", ..)]`, `h.insert(..)`,
    /// `let client = builder.default_headers(cf_headers())…`): a later statement using one with a
    /// whole credential is credentialed.
    cred_vars: Holders,
}

impl<'x, 'r> Walker<'x, 'r> {
    fn new(ex: &'x mut Extractor<'r>, scope: usize, function: Option<String>, depth: u32) -> Self {
        Walker {
            ex,
            scope,
            function,
            st: StmtState::default(),
            in_cand: 0,
            depth,
            in_receiver: false,
            cmds: Vec::new(),
            cred_vars: Holders::default(),
        }
    }

    /// Walk one statement with its own state; nested block-like statements get their own.
    fn stmt(&mut self, s: &Stmt) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        match s {
            Stmt::Local(l) => self.as_statement(|w| w.local(l)),
            Stmt::Item(item) => {
                let depth = self.depth;
                self.ex.item(item, self.scope, depth);
            }
            Stmt::Expr(e, _) => self.expr_stmt(e),
            Stmt::Macro(m) => self.as_statement(|w| {
                if w.in_cand == 0 && is_format_macro(&macro_name(&m.mac)) {
                    w.record(lower_macro(&m.mac, 0), macro_pos(&m.mac), None);
                    w.in_cand += 1;
                    w.mac(&m.mac);
                    w.in_cand -= 1;
                } else {
                    w.mac(&m.mac);
                }
            }),
        }
        self.depth -= 1;
    }

    /// An expression statement: block-like ones are split into their header and inner statements.
    fn expr_stmt(&mut self, e: &Expr) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        match e {
            Expr::If(i) => {
                self.as_statement(|w| w.visit_expr(&i.cond));
                self.block(&i.then_branch);
                if let Some((_, els)) = &i.else_branch {
                    self.expr_stmt(els);
                }
            }
            Expr::While(wh) => {
                self.as_statement(|w| w.visit_expr(&wh.cond));
                self.block(&wh.body);
            }
            Expr::ForLoop(f) => {
                self.as_statement(|w| w.visit_expr(&f.expr));
                self.block(&f.body);
            }
            Expr::Loop(l) => self.block(&l.body),
            Expr::Block(b) => self.block(&b.block),
            Expr::Unsafe(u) => self.block(&u.block),
            Expr::Async(a) => self.block(&a.block),
            Expr::Match(m) => {
                self.as_statement(|w| w.visit_expr(&m.expr));
                for arm in &m.arms {
                    if let Some((_, guard)) = &arm.guard {
                        self.as_statement(|w| w.visit_expr(guard));
                    }
                    self.expr_stmt(&arm.body);
                }
            }
            _ => self.as_statement(|w| {
                w.visit_expr(e);
                w.st.mutated = mutated_var(e);
            }),
        }
        self.depth -= 1;
    }

    fn block(&mut self, b: &Block) {
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    /// Run `f` with a fresh statement state, then turn that state into a [`Use`].
    fn as_statement(&mut self, f: impl FnOnce(&mut Self)) {
        let saved = std::mem::take(&mut self.st);
        f(self);
        let st = std::mem::replace(&mut self.st, saved);
        self.finish_statement(st);
    }

    fn finish_statement(&mut self, mut st: StmtState) {
        let mut pieces = std::mem::take(&mut st.pieces);
        for n in &st.names {
            pieces.extend(self.cred_vars.pieces_of(n));
        }
        let cred = credential::is_whole(&pieces, self.ex.rules);
        // A variable that holds the credential (a header map, a request builder, a client with
        // default headers) carries it on; the response of a request that was sent does not.
        let sent = st.methods.iter().any(|m| {
            matches!(
                m.as_str(),
                "send"
                    | "call"
                    | "execute"
                    | "json"
                    | "text"
                    | "bytes"
                    | "into_json"
                    | "into_string"
                    | "into_reader"
                    | "send_json"
                    | "send_string"
                    | "send_form"
                    | "send_bytes"
            )
        });
        if !pieces.is_empty() && !sent {
            for v in st.bound.iter().chain(st.mutated.iter()) {
                self.cred_vars.add(v, pieces.clone(), self.ex.rules);
            }
        }
        if !st.has_call {
            return;
        }
        let client = self.client(&st);
        let mut names: Vec<String> = Vec::new();
        for n in st.names {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let idx = self.ex.facts.uses.len();
        for (callee, pos, args) in std::mem::take(&mut st.calls) {
            self.ex.facts.calls.push(CallSite {
                callee,
                scope: self.scope,
                pos,
                args,
                kwargs: Vec::new(),
                use_id: idx,
            });
        }
        let callees = st.paths.iter().map(|p| p.join("::")).collect();
        self.ex.facts.uses.push(Use {
            scope: self.scope,
            client,
            credentialed: cred,
            auth: None,
            names,
            callees,
        });
        for c in st.cands {
            if let Some(cand) = self.ex.facts.candidates.get_mut(c) {
                if cand.bound_to.is_none() {
                    cand.consumer = Some(idx);
                }
            }
        }
    }

    /// The client library a statement uses.
    fn client(&self, st: &StmtState) -> Option<String> {
        let sinks = crate::rules::sinks();
        if let Some(client) = st
            .paths
            .iter()
            .find_map(|p| sinks.rust_crate(p.first().map_or("", String::as_str)))
        {
            return Some(client.to_string());
        }
        if let Some(client) = st
            .paths
            .iter()
            .find_map(|p| p.last().and_then(|l| sinks.rust_function(l)))
        {
            return Some(client.to_string());
        }
        let has_method = |names: &[&str]| st.methods.iter().any(|m| names.contains(&m.as_str()));
        let builder = st
            .paths
            .iter()
            .any(|p| p.len() >= 2 && p[p.len() - 2] == "Request" && p[p.len() - 1] == "builder");
        if builder && has_method(&["uri"]) {
            return Some("hyper".to_string());
        }
        if self.ex.mentions_ureq
            && has_method(&[
                "call",
                "send_json",
                "send_string",
                "send_form",
                "send_bytes",
            ])
        {
            return Some("ureq".to_string());
        }
        #[rustfmt::skip]
        const VERBS: &[&str] = &[
            "get", "post", "put", "delete", "patch", "head", "request", "send", "execute",
        ];
        if self.ex.mentions_reqwest && has_method(VERBS) {
            return Some("reqwest".to_string());
        }
        if self.ex.mentions_ureq && has_method(VERBS) {
            return Some("ureq".to_string());
        }
        None
    }

    fn record(&mut self, expr: StrExpr, pos: Pos, bound: Option<&str>) {
        if bound.is_none() {
            if let StrExpr::Lit(s) = &expr {
                if !s.contains(':') && !s.contains('/') {
                    return;
                }
            }
        }
        let idx = self.ex.facts.candidates.len();
        self.ex.facts.candidates.push(Candidate {
            expr,
            pos,
            scope: self.scope,
            function: self.function.clone(),
            bound_to: bound.map(str::to_string),
            consumer: None,
        });
        if bound.is_none() {
            self.st.cands.push(idx);
        }
    }

    /// The initializer of `name`: a bound candidate when it builds a string, else walked normally.
    /// Returns whether it was a candidate.
    fn bound_init(&mut self, name: &str, init: &Expr) -> bool {
        if self.in_cand == 0 {
            if let Some(core) = candidate_core(init) {
                self.record(lower(core, 0), start_pos(core), Some(name));
                self.in_cand += 1;
                self.visit_expr(init);
                self.in_cand -= 1;
                return true;
            }
        }
        self.visit_expr(init);
        false
    }

    fn local(&mut self, l: &Local) {
        let Some(init) = &l.init else { return };
        let expr = &*init.expr;
        match pat_ident(&l.pat) {
            Some(name) => {
                self.st.bound = Some(name.clone());
                self.ex.facts.bindings.push(Binding {
                    scope: self.scope,
                    name: name.clone(),
                    value: lower(expr, 0),
                    pos: start_pos(expr),
                });
                let was_candidate = self.bound_init(&name, expr);
                if !was_candidate {
                    let mut seen: Vec<&String> = Vec::new();
                    for old in &self.st.names {
                        if *old != name && !seen.contains(&old) {
                            seen.push(old);
                        }
                    }
                    let aliases: Vec<Alias> = seen
                        .into_iter()
                        .map(|old| Alias {
                            scope: self.scope,
                            from: old.clone(),
                            to: name.clone(),
                        })
                        .collect();
                    self.ex.facts.aliases.extend(aliases);
                }
                // `let mut cmd = Command::new("docker")…`: later `cmd.arg(..)` statements add to it.
                let (base, _) = chain_first(expr);
                if let Expr::Call(c) = base {
                    if is_command_new(c) {
                        let p = start_pos(base);
                        if let Some(cmd) = self.cmds.iter_mut().find(|c| c.pos == p) {
                            cmd.var = Some(name.clone());
                        }
                    }
                }
            }
            None => self.visit_expr(expr),
        }
        if let Some((_, diverge)) = &init.diverge {
            self.visit_expr(diverge);
        }
    }

    fn assign(&mut self, a: &syn::ExprAssign) {
        let target = match &*a.left {
            Expr::Path(p) => p.path.get_ident().map(|i| (i.to_string(), self.scope)),
            Expr::Field(_) => chain_text(&a.left).map(|t| {
                // `self.base = …` is seen by every method.
                let scope = if t.starts_with("self.") {
                    0
                } else {
                    self.scope
                };
                (t, scope)
            }),
            _ => None,
        };
        match target {
            Some((name, scope)) => {
                self.ex.facts.bindings.push(Binding {
                    scope,
                    name: name.clone(),
                    value: lower(&a.right, 0),
                    pos: start_pos(&a.right),
                });
                if name.contains('.') {
                    self.visit_expr(&a.right);
                } else {
                    self.bound_init(&name, &a.right);
                }
            }
            None => {
                self.visit_expr(&a.left);
                self.visit_expr(&a.right);
            }
        }
    }

    /// `Self { base: format!(..) }`: the field is a binding `self.base` every method sees.
    /// The address argument of a client-library constructor: the binding of a variable passed
    /// (`let url = …; Client::new(url)`), or the argument itself.
    fn client_sink(&mut self, arg: &Expr, service: String) {
        let kind = crate::engine::ir::SinkKind::Client(service);
        let bound = match strip(arg) {
            Expr::Path(p) => p.path.get_ident().and_then(|id| {
                let name = id.to_string();
                let chain = self.ex.facts.scope_chain(self.scope);
                self.ex
                    .facts
                    .bindings
                    .iter()
                    .rev()
                    .find(|b| b.name == name && chain.contains(&b.scope))
                    .map(|b| (b.pos, b.value.clone(), b.scope, name))
            }),
            _ => None,
        };
        let (pos, value, scope, bound_to) = match bound {
            Some((pos, value, scope, name)) => (pos, value, scope, Some(name)),
            None => (start_pos(arg), lower(arg, 0), self.scope, None),
        };
        self.ex
            .facts
            .sinks
            .push(crate::engine::ir::Sink { pos, kind });
        if !self.ex.facts.candidates.iter().any(|c| c.pos == pos) {
            self.ex.facts.candidates.push(Candidate {
                expr: value,
                pos,
                scope,
                function: self.function.clone(),
                bound_to,
                consumer: None,
            });
        }
    }

    /// `Settings { host: "comfyui".into(), port: 8188 }` (or `Self { … }` in `impl Settings`) also
    /// binds `Settings.host`: what a variable made by `Settings::default()` / `Settings::new()`
    /// reads as `settings.host`.
    fn struct_fields(&mut self, s: &syn::ExprStruct) {
        let ty = match path_segments(&s.path).last().map(String::as_str) {
            Some("Self") => self
                .function
                .as_deref()
                .and_then(|f| f.rsplit_once("::"))
                .map(|(t, _)| t.rsplit("::").next().unwrap_or(t).to_string()),
            Some(t) => Some(t.to_string()),
            None => None,
        };
        for f in &s.fields {
            if let syn::Member::Named(id) = &f.member {
                let pieces = self.pieces_in(&f.expr);
                self.ex
                    .cred_fields
                    .add(&format!("self.{id}"), pieces, self.ex.rules);
                let value = lower(&f.expr, 0);
                if candidate_core(&f.expr).is_some() {
                    self.ex.facts.bindings.push(Binding {
                        scope: 0,
                        name: format!("self.{id}"),
                        value: value.clone(),
                        pos: start_pos(&f.expr),
                    });
                }
                if let (Some(ty), false) = (&ty, matches!(value, StrExpr::Unknown(_))) {
                    self.ex.facts.bindings.push(Binding {
                        scope: 0,
                        name: format!("{ty}.{id}"),
                        value,
                        pos: start_pos(&f.expr),
                    });
                }
            }
        }
    }

    /// The credential pieces an expression holds: its literals, the variables it reads and the
    /// token helpers it calls (`reqwest::Client::builder().default_headers(headers).build()`).
    fn pieces_in(&self, e: &Expr) -> Pieces {
        struct Collect<'w, 'x, 'r> {
            w: &'w Walker<'x, 'r>,
            out: Pieces,
            buf: String,
        }
        impl<'ast> Visit<'ast> for Collect<'_, '_, '_> {
            fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
                let ex = &self.w.ex;
                self.out
                    .extend(ex.needles.piece(&s.token(), &mut self.buf, ex.rules));
            }
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if let Some(id) = p.path.get_ident() {
                    self.out.extend(self.w.cred_vars.pieces_of(&id.to_string()));
                }
                if let Some(last) = p.path.segments.last() {
                    let name = last.ident.to_string();
                    if self.w.ex.cred_fns.contains(&name) {
                        self.out.insert(WHOLE.to_string());
                    }
                }
            }
            fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
                if self.w.ex.cred_fns.contains(&m.method.to_string()) {
                    self.out.insert(WHOLE.to_string());
                }
                visit::visit_expr_method_call(self, m);
            }
        }
        let mut c = Collect {
            w: self,
            out: Pieces::new(),
            buf: String::new(),
        };
        c.visit_expr(e);
        c.out
    }

    /// `api::history(…)` / `crate::api::history(…)`: a call of a function of another module of
    /// the crate, recorded as a call site so its arguments reach that module's parameters.
    /// Returns whether it was one.
    fn module_call(&mut self, segs: &[String], c: &syn::ExprCall) -> bool {
        let module_fn = segs.len() >= 2
            && (matches!(segs[0].as_str(), "crate" | "self" | "super")
                || self.ex.file_mods.contains(&segs[0]));
        if module_fn {
            let args = c
                .args
                .iter()
                .map(|a| StrExpr::At(start_pos(a), Box::new(lower(a, 0))))
                .collect();
            self.st.has_call = true;
            self.st
                .calls
                .push((segs.join("::"), start_pos(&c.func), args));
        }
        module_fn
    }

    /// The calls of other modules' functions in an expression that is not itself walked (the
    /// arguments of a logging macro).
    fn module_calls_in(&mut self, e: &Expr) {
        struct Calls<'w, 'x, 'r>(&'w mut Walker<'x, 'r>);
        impl<'ast> Visit<'ast> for Calls<'_, '_, '_> {
            fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
                if let Expr::Path(p) = &*c.func {
                    self.0.module_call(&path_segments(&p.path), c);
                }
                visit::visit_expr_call(self, c);
            }
        }
        Calls(self).visit_expr(e);
    }

    fn note_called(&mut self, name: &str) {
        if self.ex.cred_fns.contains(name) || self.ex.rules.helper_functions.contains(name) {
            self.st.pieces.insert(WHOLE.to_string());
        }
    }

    /// Walk the arguments of a macro we understand; skip logging and message macros.
    fn mac(&mut self, mac: &Macro) {
        let name = macro_name(mac);
        if SKIPPED_MACROS.contains(&name.as_str()) {
            // A message is not sent anywhere, but a call in it still passes its arguments on
            // (`println!("{}", api::history(&http, &server, &id).await?)`): a path of two
            // segments or more, so a `::` in the macro's text.
            if self.ex.text.may_contain(mac.delimiter.span().join(), "::") {
                if let Some(args) = macro_args(mac).as_ref() {
                    for a in args {
                        self.module_calls_in(a);
                    }
                }
            }
            return;
        }
        let args = macro_args(mac);
        let Some(args) = args.as_ref() else { return };
        if is_format_macro(&name) {
            let tpl_at = usize::from(matches!(name.as_str(), "write" | "writeln"));
            if let Some(Expr::Lit(l)) = args.iter().nth(tpl_at) {
                if let Lit::Str(s) = &l.lit {
                    self.st.names.extend(inline_captures(&s.value()));
                }
            }
        }
        for a in args.iter() {
            match a {
                Expr::Assign(asg) if is_format_macro(&name) => self.visit_expr(&asg.right),
                other => self.visit_expr(other),
            }
        }
    }

    /// A `Command::new(..)` chain (or a chain on a variable holding one): collect its arguments.
    fn detect_command(&mut self, e: &Expr) {
        let candidate = match chain_first(e).0 {
            Expr::Call(c) => is_command_new(c),
            Expr::Path(_) => !self.cmds.is_empty(),
            _ => false,
        };
        if !candidate {
            return;
        }
        let (base, calls) = method_chain(e);
        let mut args = Vec::new();
        for m in &calls {
            if m.method == "arg" {
                args.push(m.args.first().and_then(lit_of));
            } else if m.method == "args" {
                match m.args.first().map(strip) {
                    Some(Expr::Array(a)) => args.extend(a.elems.iter().map(lit_of)),
                    Some(Expr::Macro(mm)) if macro_name(&mm.mac) == "vec" => {
                        match macro_args(&mm.mac).as_ref() {
                            Some(items) => args.extend(items.iter().map(lit_of)),
                            None => args.push(None),
                        }
                    }
                    _ => args.push(None),
                }
            }
        }
        match base {
            Expr::Call(c) if is_command_new(c) => {
                let Some(program) = c.args.first().and_then(lit_of) else {
                    return;
                };
                let pos = start_pos(base);
                match self.cmds.iter_mut().find(|c| c.pos == pos) {
                    Some(cmd) => {
                        if args.len() > cmd.args.len() {
                            cmd.args = args;
                        }
                    }
                    None => self.cmds.push(Cmd {
                        pos,
                        var: None,
                        program,
                        args,
                    }),
                }
            }
            Expr::Path(p) if !args.is_empty() => {
                let Some(id) = p.path.get_ident().map(|i| i.to_string()) else {
                    return;
                };
                if let Some(cmd) = self
                    .cmds
                    .iter_mut()
                    .rev()
                    .find(|c| c.var.as_deref() == Some(id.as_str()))
                {
                    cmd.args.extend(args);
                }
            }
            _ => {}
        }
    }

    fn finish_commands(&mut self) {
        for cmd in std::mem::take(&mut self.cmds) {
            let Some((container, command)) = parse_exec(&cmd.program, &cmd.args) else {
                continue;
            };
            let matches = self.ex.rules.services.iter().any(|s| {
                s.containers
                    .as_ref()
                    .is_some_and(|r| r.is_match(&container))
            });
            if matches {
                self.ex.facts.execs.push(ExecSite {
                    pos: cmd.pos,
                    container,
                    command,
                    function: self.function.clone(),
                    scope: self.scope,
                });
            }
        }
    }

    fn walk_expr(&mut self, e: &Expr, is_receiver: bool) {
        match e {
            Expr::Lit(l) => {
                if let Lit::Str(s) = &l.lit {
                    let ex = &mut *self.ex;
                    let piece = ex.needles.piece(&s.token(), &mut ex.lit_buf, ex.rules);
                    self.st.pieces.extend(piece);
                }
            }
            Expr::Path(p) => {
                if p.qself.is_none() {
                    if let Some(id) = p.path.get_ident() {
                        if id != "self" {
                            self.st.names.push(id.to_string());
                        }
                    }
                }
            }
            // `self.http.post(…)`: the field, for credentials a struct literal gave it.
            Expr::Field(f) => {
                if let (Expr::Path(p), syn::Member::Named(id)) = (&*f.base, &f.member) {
                    if p.path.is_ident("self") {
                        self.st.names.push(format!("self.{id}"));
                    }
                }
                visit::visit_expr_field(self, f);
            }
            Expr::Call(c) => {
                self.st.has_call = true;
                if let Expr::Path(p) = &*c.func {
                    let segs = path_segments(&p.path);
                    // A client library of a service: its address argument is a sink.
                    if let (Some(service), Some(arg)) = (
                        self.ex.rules.client_constructor(&segs.join("::")),
                        c.args.first(),
                    ) {
                        let id = service.id.clone();
                        self.client_sink(arg, id);
                    }
                    // A free function (of this file, or of a module of the crate): its arguments
                    // flow into its parameters.
                    let module_call = self.module_call(&segs, c);
                    if let (false, [name]) = (module_call, segs.as_slice()) {
                        let args = c
                            .args
                            .iter()
                            .map(|a| StrExpr::At(start_pos(a), Box::new(lower(a, 0))))
                            .collect();
                        self.st.calls.push((name.clone(), start_pos(e), args));
                    }
                    if let Some(last) = segs.last() {
                        self.note_called(last);
                    }
                    self.st.paths.push(segs);
                } else {
                    self.visit_expr(&c.func);
                }
                if !is_receiver {
                    self.detect_command(e);
                }
                for a in &c.args {
                    self.visit_expr(a);
                }
            }
            Expr::MethodCall(m) => {
                self.st.has_call = true;
                let name = m.method.to_string();
                self.note_called(&name);
                if !is_receiver {
                    self.detect_command(e);
                }
                self.in_receiver = true;
                self.visit_expr(&m.receiver);
                self.in_receiver = false;
                // `.expect("…")` / `.context("…")` arguments are messages.
                if !matches!(name.as_str(), "expect" | "context" | "wrap_err") {
                    for a in &m.args {
                        self.visit_expr(a);
                    }
                }
                self.st.methods.push(name);
            }
            Expr::Try(t) => {
                self.in_receiver = is_receiver;
                self.visit_expr(&t.expr);
                self.in_receiver = false;
            }
            Expr::Await(a) => {
                self.in_receiver = is_receiver;
                self.visit_expr(&a.base);
                self.in_receiver = false;
            }
            Expr::Assign(a) => self.assign(a),
            Expr::Struct(s) => {
                self.struct_fields(s);
                visit::visit_expr_struct(self, s);
            }
            Expr::Macro(m) => self.mac(&m.mac),
            _ => visit::visit_expr(self, e),
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        let is_receiver = std::mem::take(&mut self.in_receiver);
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        let core = if self.in_cand == 0 {
            candidate_core(e)
        } else {
            None
        };
        match core {
            Some(core) => {
                self.record(lower(core, 0), start_pos(core), None);
                self.in_cand += 1;
                self.walk_expr(e, is_receiver);
                self.in_cand -= 1;
            }
            None => self.walk_expr(e, is_receiver),
        }
        self.depth -= 1;
    }

    fn visit_block(&mut self, b: &'ast Block) {
        self.block(b);
    }

    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_item(&mut self, _: &'ast Item) {}

    fn visit_macro(&mut self, m: &'ast Macro) {
        self.mac(m);
    }
}

/// The base of [`method_chain`] and its first call, without collecting the others.
fn chain_first(e: &Expr) -> (&Expr, Option<&ExprMethodCall>) {
    let mut first = None;
    let mut cur = e;
    for _ in 0..MAX_DEPTH {
        cur = match cur {
            Expr::MethodCall(m) => {
                first = Some(m);
                &m.receiver
            }
            Expr::Try(t) => &t.expr,
            Expr::Await(a) => &a.base,
            Expr::Paren(p) => &p.expr,
            _ => break,
        };
    }
    (cur, first)
}

/// `base.m1(..).m2(..)?` → (base, [m1, m2]), looking through `?` and `.await`.
fn method_chain(e: &Expr) -> (&Expr, Vec<&ExprMethodCall>) {
    let mut calls = Vec::new();
    let mut cur = e;
    for _ in 0..MAX_DEPTH {
        cur = match cur {
            Expr::MethodCall(m) => {
                calls.push(m);
                &m.receiver
            }
            Expr::Try(t) => &t.expr,
            Expr::Await(a) => &a.base,
            Expr::Paren(p) => &p.expr,
            _ => break,
        };
    }
    calls.reverse();
    (cur, calls)
}

/// `headers.insert(..)`, `request.headers_mut().append(..)`: the variable a statement adds to.
fn mutated_var(e: &Expr) -> Option<String> {
    const MUTATORS: &[&str] = &[
        "insert",
        "append",
        "extend",
        "push",
        "headers_mut",
        "try_insert",
        "entry",
        "set",
    ];
    let (base, first) = chain_first(e);
    let first = &first?.method;
    if !MUTATORS.iter().any(|m| first == m) {
        return None;
    }
    match base {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

fn is_command_new(c: &ExprCall) -> bool {
    let Expr::Path(p) = &*c.func else {
        return false;
    };
    let segs = &p.path.segments;
    let n = segs.len();
    n >= 2 && segs[n - 2].ident == "Command" && segs[n - 1].ident == "new"
}

fn lit_of(e: &Expr) -> Option<String> {
    match lower(e, 0) {
        StrExpr::Lit(s) => Some(s),
        _ => None,
    }
}

/// `docker exec [flags] CONTAINER cmd…` / `docker compose exec [flags] SERVICE cmd…` → (container, cmd).
fn parse_exec(program: &str, args: &[Option<String>]) -> Option<(String, String)> {
    let prog = program
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(program)
        .to_ascii_lowercase();
    let prog = prog.trim_end_matches(".exe");
    let tok = |i: usize| args.get(i).and_then(|a| a.as_deref());
    let mut i = 0;
    let compose = match prog {
        "docker" | "podman" | "nerdctl" => match tok(0) {
            Some("compose") => {
                i = 1;
                true
            }
            Some("container") => {
                i = 1;
                false
            }
            _ => false,
        },
        "docker-compose" | "podman-compose" => true,
        _ => return None,
    };
    // Global options before `exec`.
    #[rustfmt::skip]
    const COMPOSE_VALUED: &[&str] = &[
        "-f", "--file", "-p", "--project-name", "--project-directory", "--env-file", "--profile",
    ];
    #[rustfmt::skip]
    const DOCKER_VALUED: &[&str] = &[
        "-H", "--host", "--context", "-c", "--config", "-l", "--log-level",
    ];
    while let Some(t) = tok(i) {
        if !t.starts_with('-') {
            break;
        }
        let valued = if compose {
            COMPOSE_VALUED
        } else {
            DOCKER_VALUED
        };
        i += if valued.contains(&t) { 2 } else { 1 };
    }
    if tok(i) != Some("exec") {
        return None;
    }
    i += 1;
    #[rustfmt::skip]
    const EXEC_VALUED: &[&str] = &[
        "-u", "--user", "-e", "--env", "-w", "--workdir", "--env-file", "--index", "--detach-keys",
    ];
    while let Some(t) = tok(i) {
        if !t.starts_with('-') {
            break;
        }
        i += if EXEC_VALUED.contains(&t) { 2 } else { 1 };
    }
    let container = tok(i)?.to_string();
    let command: Vec<&str> = args
        .iter()
        .skip(i + 1)
        .map(|a| a.as_deref().unwrap_or("…"))
        .collect();
    Some((container, command.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::solve::Evaluator;

    fn rules() -> RuleSet {
        RuleSet::embedded().unwrap()
    }

    fn facts(src: &str) -> FileFacts {
        extract(src, &rules()).unwrap()
    }

    fn resolved(f: &FileFacts, c: &Candidate) -> String {
        Evaluator::new(f).eval(&c.expr, c.scope, c.pos).display()
    }

    fn urls(f: &FileFacts) -> Vec<String> {
        f.candidates.iter().map(|c| resolved(f, c)).collect()
    }

    #[test]
    fn const_and_positional_format() {
        let f = facts(
            "const BASE: &str = \"http://127.0.0.1:8188\";\n\
             fn q(c: &Client) { c.post(format!(\"{}/prompt\", BASE)).send(); }\n",
        );
        let c = f
            .candidates
            .iter()
            .find(|c| c.function.as_deref() == Some("q"))
            .unwrap();
        assert_eq!(resolved(&f, c), "http://127.0.0.1:8188/prompt");
        assert_eq!(
            c.pos,
            Pos {
                line: 2,
                column: 27
            }
        );
        let bound = f
            .candidates
            .iter()
            .find(|c| c.bound_to.as_deref() == Some("BASE"))
            .unwrap();
        assert_eq!(bound.scope, 0);
    }

    #[test]
    fn inline_capture_position_and_consumer() {
        let src = "use reqwest;\nconst COMFY_URL: &str = \"http://comfyui:8188\";\n\
                   async fn h(client: &reqwest::Client, prompt_id: &str) {\n    \
                   let r = client.get(format!(\"{COMFY_URL}/history/{prompt_id}\")).send().await;\n}\n";
        let f = facts(src);
        let c = f
            .candidates
            .iter()
            .find(|c| c.function.as_deref() == Some("h"))
            .unwrap();
        assert_eq!(
            c.pos,
            Pos {
                line: 4,
                column: 24
            }
        );
        assert_eq!(c.bound_to, None);
        let u = &f.uses[c.consumer.unwrap()];
        assert_eq!(u.client.as_deref(), Some("reqwest"));
        assert!(!u.credentialed);
        assert_eq!(resolved(&f, c), "http://comfyui:8188/history/{prompt_id}");
    }

    #[test]
    fn let_bound_url_and_credentialed_use() {
        let src = "fn run(id: String) {\n    let url = format!(\"http://{}:8188/prompt\", \"127.0.0.1\");\n    \
                   let r = client.post(&url).header(\"CF-Access-Client-Id\", id).header(\"CF-Access-Client-Secret\", s).send();\n}\n";
        let f = facts(src);
        let c = f
            .candidates
            .iter()
            .find(|c| c.bound_to.as_deref() == Some("url"))
            .unwrap();
        assert_eq!(c.consumer, None);
        assert_eq!(c.function.as_deref(), Some("run"));
        assert_eq!(resolved(&f, c), "http://127.0.0.1:8188/prompt");
        let u = f
            .uses
            .iter()
            .find(|u| u.names.contains(&"url".to_string()))
            .unwrap();
        assert!(u.credentialed);
        assert!(f.aliases.iter().any(|a| a.from == "url" && a.to == "r"));
    }

    #[test]
    fn env_var_with_default_is_an_input() {
        let src = "fn f() { let base = env::var(\"COMFYUI_URL\").unwrap_or_else(|_| \"http://comfyui:8188\".to_string()); }";
        let f = facts(src);
        let b = f.bindings.iter().find(|b| b.name == "base").unwrap();
        assert_eq!(
            b.value,
            StrExpr::Input {
                kind: InputKind::Env,
                name: "COMFYUI_URL".into(),
                default: Some(Box::new(StrExpr::Lit("http://comfyui:8188".into())))
            }
        );
        assert_eq!(f.candidates.len(), 1, "{:?}", f.candidates);
        assert_eq!(f.candidates[0].bound_to.as_deref(), Some("base"));
        assert_eq!(
            f.candidates[0].pos,
            Pos {
                line: 1,
                column: 21
            }
        );
    }

    #[test]
    fn env_var_without_default() {
        let src = "fn f() -> Result<(), E> { let host = env::var(\"COMFYUI_HOST\")?; let u = format!(\"http://{host}:8188/prompt\"); Ok(()) }";
        let f = facts(src);
        let b = f.bindings.iter().find(|b| b.name == "host").unwrap();
        assert_eq!(
            b.value,
            StrExpr::Input {
                kind: InputKind::Env,
                name: "COMFYUI_HOST".into(),
                default: None
            }
        );
        assert_eq!(urls(&f), vec!["http://{host}:8188/prompt"]);
    }

    #[test]
    fn doc_comments_and_logging_make_no_candidates() {
        let src = "/// https://comfyui.datacrew.space/prompt\n#[arg(default_value = \"http://comfyui:8188\")]\n\
                   fn f() { println!(\"http://127.0.0.1:8188/prompt\"); eprintln!(\"{}\", \"http://x:8188\"); \
                   let v = std::env::var(\"X\").expect(\"http://set:8188\"); }";
        let f = facts(src);
        assert!(f.candidates.is_empty(), "{:?}", f.candidates);
    }

    #[test]
    fn docker_exec_through_command() {
        let src = "fn ls() {\n    let out = Command::new(\"docker\").args([\"exec\", \"-u\", \"root\", \"comfyui\", \"ls\", \"-1\"]).output()?;\n}\n\
                   fn restart() { Command::new(\"docker\").args([\"compose\", \"exec\", \"-T\", \"comfyui-worker\", \"supervisorctl\", \"restart\"]).status(); }\n\
                   fn other() { Command::new(\"docker\").arg(\"exec\").arg(\"postgres\").arg(\"psql\").status(); }\n\
                   fn split() { let mut c = Command::new(\"docker\"); c.arg(\"exec\").arg(\"comfy\"); c.args([\"nvidia-smi\"]); c.status(); }\n";
        let f = facts(src);
        assert_eq!(f.execs.len(), 3, "{:?}", f.execs);
        assert_eq!(f.execs[0].container, "comfyui");
        assert_eq!(f.execs[0].command, "ls -1");
        assert_eq!(
            f.execs[0].pos,
            Pos {
                line: 2,
                column: 15
            }
        );
        assert_eq!(f.execs[0].function.as_deref(), Some("ls"));
        assert_eq!(f.execs[1].container, "comfyui-worker");
        assert_eq!(f.execs[1].command, "supervisorctl restart");
        assert_eq!(f.execs[2].container, "comfy");
        assert_eq!(f.execs[2].command, "nvidia-smi");
    }

    /// Does the statement that uses the candidate ending in `path` carry a credential?
    fn credentialed(f: &FileFacts, path: &str) -> bool {
        let c = f
            .candidates
            .iter()
            .find(|c| resolved(f, c).ends_with(path))
            .unwrap();
        f.uses[c.consumer.unwrap()].credentialed
    }

    #[test]
    fn credential_helper_fn_marks_the_statement() {
        let src = "fn cf_headers() -> HeaderMap { let mut h = HeaderMap::new(); h.insert(\"CF-Access-Client-Id\", v()); h.insert(\"CF-Access-Client-Secret\", w()); h }\n\
                   fn client() -> Client { Client::builder().default_headers(cf_headers()).build().unwrap() }\n\
                   fn go() { let a = http().get(\"https://comfyui.datacrew.space/prompt\").headers(cf_headers()).send();\n\
                   let b = client().get(\"https://comfyui.datacrew.space/queue\").send();\n\
                   let c = http().get(\"https://comfyui.datacrew.space/view\").send(); }\n";
        let f = facts(src);
        let cred = |path: &str| credentialed(&f, path);
        assert!(cred("/prompt"));
        assert!(cred("/queue"));
        assert!(!cred("/view"));
    }

    #[test]
    fn syntax_error_is_an_error_with_position() {
        let err = extract("fn f( {\n", &rules()).unwrap_err();
        assert!(err.starts_with("1:") || err.starts_with("2:"), "{err}");
        let err = extract("fn main() {\n    let x = ;\n}\n", &rules()).unwrap_err();
        assert!(err.starts_with("2:"), "{err}");
    }

    #[test]
    fn concat_plus_and_field_refs() {
        let src = "struct C { base: String }\nimpl C {\n    fn new(host: &str) -> Self { Self { base: format!(\"http://{}:8188\", \"comfyui\") } }\n    \
                   fn q(&self) { self.http.get(self.base.clone() + \"/queue\").send(); }\n}\n\
                   const U: &str = concat!(\"http://localhost:\", \"8188\", \"/prompt\");\n\
                   fn a(args: Args) { ureq::get(&format!(\"http://{}/prompt\", args.comfyui_server)).call(); }\n";
        let f = facts(src);
        let all = urls(&f);
        assert!(
            all.contains(&"http://comfyui:8188/queue".to_string()),
            "{all:?}"
        );
        assert!(
            all.contains(&"http://localhost:8188/prompt".to_string()),
            "{all:?}"
        );
        assert!(
            all.contains(&"http://{args.comfyui_server}/prompt".to_string()),
            "{all:?}"
        );
        let q = f
            .candidates
            .iter()
            .find(|c| c.function.as_deref() == Some("C::q"))
            .unwrap();
        assert!(q.consumer.is_some());
        let a = f
            .candidates
            .iter()
            .find(|c| c.function.as_deref() == Some("a"))
            .unwrap();
        assert_eq!(f.uses[a.consumer.unwrap()].client.as_deref(), Some("ureq"));
    }

    #[test]
    fn websocket_request_alias() {
        let src = "use tokio_tungstenite::connect_async;\nasync fn ws(id: &str) {\n    \
                   let url = format!(\"ws://{}/ws?clientId={}\", SERVER, id);\n    \
                   let mut request = url.into_client_request()?;\n    \
                   request.headers_mut().insert(\"CF-Access-Client-Id\", v.parse()?);\n    \
                   request.headers_mut().insert(\"CF-Access-Client-Secret\", w.parse()?);\n    \
                   let (s, _) = connect_async(request).await?;\n}\nconst SERVER: &str = \"127.0.0.1:8188\";\n";
        let f = facts(src);
        assert!(f
            .aliases
            .iter()
            .any(|a| a.from == "url" && a.to == "request"));
        assert!(f
            .uses
            .iter()
            .any(|u| u.client.as_deref() == Some("tokio-tungstenite")
                && u.names.contains(&"request".into())));
        assert!(f
            .uses
            .iter()
            .any(|u| u.credentialed && u.names.contains(&"request".into())));
        assert_eq!(
            urls(&f),
            vec!["ws://127.0.0.1:8188/ws?clientId={id}", "127.0.0.1:8188"]
        );
    }

    #[test]
    fn credential_variables_taint_later_statements() {
        let src = "fn f(url: &str, id: &str) {\n    let mut headers = HeaderMap::new();\n    \
                   headers.insert(\"CF-Access-Client-Id\", id.parse().unwrap());\n    \
                   headers.insert(\"CF-Access-Client-Secret\", secret.parse().unwrap());\n    \
                   let a = client.get(\"https://comfyui.datacrew.space/prompt\").headers(headers.clone()).send();\n    \
                   let b = client.get(\"https://comfyui.datacrew.space/queue\").send();\n}\n";
        let f = facts(src);
        let cred = |path: &str| credentialed(&f, path);
        assert!(cred("/prompt"));
        assert!(!cred("/queue"));
    }

    #[test]
    fn one_header_of_the_pair_is_not_a_credential() {
        let src = "fn f(id: &str) {\n    let mut headers = HeaderMap::new();\n    \
                   headers.insert(\"CF-Access-Client-Id\", id.parse().unwrap());\n    \
                   let a = client.get(\"https://comfy.example.com/prompt\").headers(headers).send();\n    \
                   let b = client.get(\"https://comfy.example.com/queue\").header(\"CF-Access-Client-Id\", id).send();\n}\n\
                   fn half() -> HeaderMap { let mut h = HeaderMap::new(); h.insert(\"CF-Access-Client-Id\", v()); h }\n\
                   fn g() { let c = http().get(\"https://comfy.example.com/view\").headers(half()).send(); }\n";
        let f = facts(src);
        let cred = |path: &str| credentialed(&f, path);
        assert!(!cred("/prompt"));
        assert!(!cred("/queue"));
        assert!(
            !cred("/view"),
            "a helper that adds one header of the pair is no token helper"
        );
    }

    #[test]
    fn lazy_static_frontmatter_and_shebang() {
        let src = "#!/usr/bin/env -S cargo +nightly -Zscript\n---cargo\n[dependencies]\nureq = \"2\"\n---\n\
                   lazy_static! { static ref BASE: String = env::var(\"COMFYUI_URL\").unwrap_or(\"http://comfyui:8188\".into()); }\n\
                   fn main() { ureq::get(&format!(\"{}/prompt\", *BASE)).call(); }\n";
        let f = facts(src);
        let c = f
            .candidates
            .iter()
            .find(|c| c.function.as_deref() == Some("main"))
            .unwrap();
        assert_eq!(c.pos.line, 7);
        assert_eq!(resolved(&f, c), "http://comfyui:8188/prompt");
    }

    #[test]
    fn pathological_inputs_do_not_crash() {
        let r = rules();
        let deep = format!(
            "fn f() {{ let x = {}1{}; }}",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        assert!(extract(&deep, &r).is_err());
        let long = format!("fn f() {{ let x = \"a\"{}; }}", " + \"b\"".repeat(20000));
        let _ = extract(&long, &r);
        let chain = format!("fn f() {{ x{}; }}", ".f()".repeat(3000));
        let _ = extract(&chain, &r);
        let unary = format!("fn f() {{ {}x; }}", "!".repeat(20000));
        assert!(extract(&unary, &r).is_err());
        let generics = format!("type T = {}u8{};", "Vec<".repeat(1000), ">".repeat(1000));
        assert!(extract(&generics, &r).is_ok());
        let nested_if = format!("fn f() {{ {} }}", "if a { 1 } else ".repeat(100) + "{ 2 }");
        assert!(extract(&nested_if, &r).is_ok());
        for s in [
            "",
            "#!/usr/bin/env run-cargo-script\nfn main() {}",
            "\u{feff}fn main() {}",
            "fn f() { 'a'; b'x'; }",
        ] {
            assert!(extract(s, &r).is_ok(), "{s:?}");
        }
    }
}
