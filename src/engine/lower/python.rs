//! Python front end: `ruff_python_parser` (Python 3.8–3.14, PEP 701 f-strings, t-strings, with error
//! recovery) → [`FileFacts`].
//!
//! Two passes over the syntax tree. The first collects file-wide context: imports, objects made by
//! client libraries (`session = requests.Session()`), names that carry an Access credential (a headers
//! dict, a session whose headers were updated, a function whose body adds the header) and argparse
//! arguments. The second records bindings, string-building candidates, calls and `docker exec`s.
//!
//! The parser sits behind [`parse`] alone, so it can be swapped without touching the extraction.

use std::borrow::Cow;
use std::collections::BTreeSet;

// The file-wide tables are keyed by short names looked up for every call and assignment, where
// the standard hash (built to resist chosen keys) costs more than the rest of the lookup.
use rustc_hash::{FxHashMap, FxHashSet};

use ruff_python_ast::visitor::{walk_expr, walk_stmt, Visitor};
use ruff_python_ast::{self as ast, Expr, Operator, Stmt};
use ruff_text_size::Ranged;

use crate::engine::credential::{self, CredentialNames, Holders};
use crate::engine::ir::{
    Binding, CallSite, Candidate, ExecSite, FileFacts, FormatStyle, FunctionDef, Import, InputKind,
    Pos, ScopeKind, SinkKind, StrExpr, Use,
};
use crate::engine::source::LineIndex;
use crate::rules::RuleSet;

/// The parsed module, and the syntax errors the parser recovered from.
pub struct Parsed {
    pub module: ast::ModModule,
    pub errors: Vec<(usize, String)>,
}

/// Parse Python source with error recovery.
pub fn parse(source: &str) -> Parsed {
    let parsed = ruff_python_parser::parse_unchecked_source(source, ast::PySourceType::Python);
    let errors = parsed
        .errors()
        .iter()
        .map(|e| (e.location.start().to_usize(), e.error.to_string()))
        .collect();
    Parsed {
        module: parsed.into_syntax(),
        errors,
    }
}

/// Extract the facts of one Python file. Syntax errors become notes; what the recovered tree holds
/// is still extracted.
pub fn extract(source: &str, rules: &RuleSet) -> FileFacts {
    let parsed = parse(source);
    let index = LineIndex::new(source);
    let cred_names = CredentialNames::new(rules);
    let mut ctx = Context {
        literal_credential: literals_mention_credential(&parsed.module.body, &cred_names),
        cred_names,
        ..Context::default()
    };
    // To a fixed point, so that a name assigned from a credential name, and a helper that calls a
    // helper defined further down, carry the credential too (bounded: each round can only add).
    for _ in 0..8 {
        let before = ctx.cred.size();
        let mut pre = PrePass {
            rules,
            ctx: &mut ctx,
            function_depth: 0,
        };
        for stmt in &parsed.module.body {
            pre.visit_stmt(stmt);
        }
        if ctx.cred.size() == before {
            break;
        }
    }
    let mut walker = Walker {
        source,
        index: &index,
        rules,
        ctx: &ctx,
        facts: FileFacts::new(),
        scope: 0,
        function: None,
        class: None,
        consumer: None,
        in_candidate: false,
        in_log: false,
        depth: 0,
        current_fn: None,
        assign_target: None,
        sink_positions: FxHashSet::default(),
    };
    for stmt in &parsed.module.body {
        walker.visit_stmt(stmt);
    }
    let mut facts = walker.facts;
    facts.credential_fns = ctx.cred.helpers();
    for (offset, message) in parsed.errors.iter().take(3) {
        let p = index.pos(*offset);
        facts.notes.push(format!(
            "syntax error at {}:{}: {message}",
            p.line, p.column
        ));
    }
    facts
}

/// File-wide context from the first pass.
#[derive(Default)]
struct Context {
    /// Local name → dotted module path (`requests` → `requests`, `urlopen` → `urllib.request.urlopen`).
    imports: FxHashMap<String, String>,
    /// Variable → dotted constructor (`session` → `requests.Session`).
    objects: FxHashMap<String, String>,
    /// What each name carries of an Access credential (decided in [`credential`]).
    cred: Holders,
    /// Local names of imported token-helper modules and their functions.
    helper_imports: FxHashSet<String>,
    /// Names whose value carries non-Access authentication (`bearer`, `basic`).
    auth_names: FxHashMap<String, String>,
    /// Variables holding a parsed JSON / TOML / YAML file (`cfg = json.load(f)`).
    config_vars: FxHashSet<String>,
    /// argparse destinations → default expression (if any).
    cli_args: FxHashMap<String, Option<Expr>>,
    /// Names of the functions, methods and classes this file defines: calls to them are lowered
    /// with their arguments, so values flow through parameters and returns.
    fn_names: FxHashSet<String>,
    /// The credential header and cookie names of the rules.
    cred_names: CredentialNames,
    /// Some string literal of the file names a credential header or cookie
    /// ([`CredentialNames::mentioned_in`]).
    literal_credential: bool,
}

impl Context {
    /// `a.b.c` with the root import expanded (`req.get` → `requests.get`); borrowed when nothing
    /// is expanded.
    fn qualify<'a>(&'a self, dotted: &'a str) -> Cow<'a, str> {
        // `self.session.post` → the object `self.session` was made by `requests.Session`.
        if !self.objects.is_empty() {
            let mut prefix = dotted;
            while let Some((head, _)) = prefix.rsplit_once('.') {
                if let Some(ctor) = self.objects.get(head) {
                    return Cow::Owned(concat(ctor, "", &dotted[head.len()..]));
                }
                prefix = head;
            }
        }
        let (root, rest) = dotted.split_once('.').map_or((dotted, ""), |(r, s)| (r, s));
        let Some(base) = self.imports.get(root).or_else(|| self.objects.get(root)) else {
            return Cow::Borrowed(dotted);
        };
        if rest.is_empty() {
            Cow::Borrowed(base)
        } else {
            Cow::Owned(concat(base, ".", rest))
        }
    }

    /// [`RuleSet::credential_piece`], with literals that name no credential ruled out cheaply.
    fn credential_piece(&self, s: &str, rules: &RuleSet) -> Option<String> {
        self.cred_names
            .mentioned_in(s)
            .then(|| rules.credential_piece(s))
            .flatten()
    }

    /// Can a name or a call of this file carry a credential piece (a name was given one, a helper
    /// module is imported)?
    fn names_carry(&self) -> bool {
        !self.helper_imports.is_empty() || self.cred.size() != (0, 0, 0)
    }

    /// Can no expression of this file carry a credential piece: no name carries one and no
    /// string literal names one?
    fn carries_nothing(&self) -> bool {
        !self.literal_credential && !self.names_carry()
    }
}

/// `a`, `b` and `c` joined, in one allocation.
fn concat(a: &str, b: &str, c: &str) -> String {
    let mut out = String::with_capacity(a.len() + b.len() + c.len());
    out.push_str(a);
    out.push_str(b);
    out.push_str(c);
    out
}

/// The keyword argument of a call named one of `names`.
fn keyword<'e>(c: &'e ast::ExprCall, names: &[&str]) -> Option<&'e ast::Keyword> {
    c.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| names.contains(&a.as_str())))
}

/// `a.b.c` for a chain of names and attributes.
fn dotted(expr: &Expr) -> Option<String> {
    // Measured first, so that the name is built in one allocation.
    let mut len = 0;
    let mut cur = expr;
    loop {
        match cur {
            Expr::Name(n) => break len += n.id.len(),
            Expr::Attribute(a) => {
                len += a.attr.len() + 1;
                cur = &a.value;
            }
            _ => return None,
        }
    }
    fn push(expr: &Expr, out: &mut String) {
        match expr {
            Expr::Name(n) => out.push_str(&n.id),
            Expr::Attribute(a) => {
                push(&a.value, out);
                out.push('.');
                out.push_str(&a.attr);
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(len);
    push(expr, &mut out);
    Some(out)
}

/// The first and last names of a chain of names and attributes (`a` and `c` of `a.b.c`), without
/// building it.
fn chain_ends(expr: &Expr) -> Option<(&str, &str)> {
    let last = match expr {
        Expr::Name(n) => return Some((n.id.as_str(), n.id.as_str())),
        Expr::Attribute(a) => a.attr.as_str(),
        _ => return None,
    };
    let mut cur = expr;
    loop {
        match cur {
            Expr::Name(n) => return Some((n.id.as_str(), last)),
            Expr::Attribute(a) => cur = &a.value,
            _ => return None,
        }
    }
}

/// Does a string literal of these statements (or a literal part of an f- or t-string) name a
/// credential header or cookie ([`CredentialNames::mentioned_in`])?
fn literals_mention_credential(body: &[Stmt], names: &CredentialNames) -> bool {
    struct Literals<'n> {
        names: &'n CredentialNames,
        found: bool,
    }
    impl Literals<'_> {
        fn elements(&mut self, elements: &ast::InterpolatedStringElements) {
            self.found |= elements
                .literals()
                .any(|l| self.names.mentioned_in(&l.value));
        }
    }
    impl<'a> Visitor<'a> for Literals<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if !self.found {
                walk_stmt(self, stmt);
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.found {
                return;
            }
            match expr {
                Expr::StringLiteral(s) => {
                    self.found = self.names.mentioned_in(s.value.to_str());
                }
                Expr::FString(f) => {
                    for part in f.value.iter() {
                        match part {
                            ast::FStringPart::Literal(l) => {
                                self.found |= self.names.mentioned_in(&l.value)
                            }
                            ast::FStringPart::FString(fs) => self.elements(&fs.elements),
                        }
                    }
                    walk_expr(self, expr);
                }
                Expr::TString(t) => {
                    for ts in t.value.iter() {
                        self.elements(&ts.elements);
                    }
                    walk_expr(self, expr);
                }
                _ => walk_expr(self, expr),
            }
        }
    }
    let mut l = Literals {
        names,
        found: false,
    };
    for stmt in body {
        l.visit_stmt(stmt);
    }
    l.found
}

fn str_lit(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::StringLiteral(s) => Some(s.value.to_str()),
        _ => None,
    }
}

fn is_env_read(q: &str) -> bool {
    matches!(q, "os.getenv" | "os.environ.get" | "os.environ.setdefault")
}

/// The Access credential pieces `expr` carries: lower-cased header / cookie names given a
/// non-empty value (in a dict literal, a header line, a name that holds them), or `*` for a whole
/// credential (a session, client or helper that adds one). Presence of a name alone is not enough:
/// `{"CF-Access-Client-Id": ""}` and `None` values carry nothing.
fn credential_pieces(expr: &Expr, rules: &RuleSet, ctx: &Context) -> BTreeSet<String> {
    struct Finder<'b> {
        rules: &'b RuleSet,
        ctx: &'b Context,
        /// [`Context::names_carry`]: names and calls are looked up only then.
        names: bool,
        found: BTreeSet<String>,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Dict(d) => {
                    for item in &d.items {
                        let key = item.key.as_ref().and_then(str_lit);
                        if let Some(piece) =
                            key.and_then(|k| self.ctx.credential_piece(k, self.rules))
                        {
                            if !is_empty_in(&item.value, self.ctx) {
                                self.found.insert(piece);
                            }
                        }
                        if key.is_none() {
                            if let Some(k) = &item.key {
                                self.visit_expr(k);
                            }
                        }
                        self.visit_expr(&item.value);
                    }
                }
                Expr::StringLiteral(s) => {
                    self.found
                        .extend(self.ctx.credential_piece(s.value.to_str(), self.rules));
                }
                Expr::FString(f) => {
                    for part in f.value.iter() {
                        let lit = match part {
                            ast::FStringPart::Literal(l) => Some(&*l.value),
                            ast::FStringPart::FString(fs) => {
                                fs.elements.literals().next().map(|l| &*l.value)
                            }
                        };
                        self.found
                            .extend(lit.and_then(|l| self.ctx.credential_piece(l, self.rules)));
                    }
                    walk_expr(self, expr);
                }
                Expr::Name(n) if self.names => {
                    self.found.extend(self.ctx.cred.pieces_of(n.id.as_str()))
                }
                Expr::Attribute(a) if self.names => {
                    self.found.extend(self.ctx.cred.pieces_of(a.attr.as_str()));
                    if let Some(d) = dotted(expr) {
                        self.found.extend(self.ctx.cred.pieces_of(&d));
                    }
                    walk_expr(self, expr);
                }
                Expr::Call(c) if self.names => {
                    if let Some((root, last)) = chain_ends(&c.func) {
                        if self.ctx.cred.is_helper(last) || self.ctx.helper_imports.contains(root) {
                            self.found.insert("*".into());
                        }
                    }
                    walk_expr(self, expr);
                }
                _ => walk_expr(self, expr),
            }
        }
    }
    if ctx.carries_nothing() {
        return BTreeSet::new();
    }
    let mut f = Finder {
        rules,
        ctx,
        names: ctx.names_carry(),
        found: BTreeSet::new(),
    };
    f.visit_expr(expr);
    f.found
}

/// `""`, `None`: a header given no value.
fn is_empty_value(e: &Expr) -> bool {
    match e {
        Expr::NoneLiteral(_) => true,
        Expr::StringLiteral(s) => s.value.to_str().trim().is_empty(),
        _ => false,
    }
}

/// [`is_empty_value`], or a module constant bound to one (`CF_ID = None`).
fn is_empty_in(e: &Expr, ctx: &Context) -> bool {
    is_empty_value(e) || matches!(e, Expr::Name(n) if ctx.cred.is_empty_name(n.id.as_str()))
}

fn has_credential(expr: &Expr, rules: &RuleSet, ctx: &Context) -> bool {
    let pieces = credential_pieces(expr, rules, ctx);
    !pieces.is_empty() && credential::is_whole(&pieces, rules)
}

/// Does a function body send a whole Access credential (its pieces may be set apart:
/// `headers["CF-Access-Client-Id"] = …; headers["CF-Access-Client-Secret"] = …`)?
fn body_has_credential(body: &[Stmt], rules: &RuleSet, ctx: &Context) -> bool {
    if ctx.carries_nothing() {
        return false;
    }
    struct Body<'b> {
        rules: &'b RuleSet,
        ctx: &'b Context,
        found: BTreeSet<String>,
    }
    impl<'a> Visitor<'a> for Body<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::If(i) if is_false(&i.test) => {}
                // A nested function is judged on its own.
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            self.found
                .extend(credential_pieces(expr, self.rules, self.ctx));
        }
    }
    let mut b = Body {
        rules,
        ctx,
        found: BTreeSet::new(),
    };
    for s in body {
        b.visit_stmt(s);
    }
    !b.found.is_empty() && credential::is_whole(&b.found, rules)
}

struct PrePass<'r, 'c> {
    rules: &'r RuleSet,
    ctx: &'c mut Context,
    function_depth: usize,
}

impl<'a> Visitor<'a> for PrePass<'_, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(i) => {
                for a in &i.names {
                    let local = a.asname.as_ref().map_or_else(
                        || a.name.split('.').next().unwrap_or("").to_string(),
                        |n| n.to_string(),
                    );
                    let full = if a.asname.is_some() {
                        a.name.to_string()
                    } else {
                        local.clone()
                    };
                    self.ctx.imports.insert(local.clone(), full.clone());
                    if self
                        .rules
                        .helper_modules
                        .iter()
                        .any(|m| *m == full || *m == a.name.as_str())
                    {
                        self.ctx.helper_imports.insert(local.clone());
                        self.ctx.cred.set_whole(&local);
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map_or(String::new(), |m| m.to_string());
                let helper = self
                    .rules
                    .helper_modules
                    .iter()
                    .any(|m| *m == module || m.ends_with(&format!(".{module}")));
                for a in &i.names {
                    let local = a.asname.as_ref().unwrap_or(&a.name).to_string();
                    self.ctx
                        .imports
                        .insert(local.clone(), format!("{module}.{}", a.name));
                    if helper {
                        self.ctx.helper_imports.insert(local.clone());
                        self.ctx.cred.set_whole(&local);
                    }
                }
            }
            Stmt::ClassDef(c) => {
                self.ctx.fn_names.insert(c.name.to_string());
            }
            Stmt::If(i) if is_false(&i.test) => return,
            Stmt::FunctionDef(f) => {
                self.ctx.fn_names.insert(f.name.to_string());
                if body_has_credential(&f.body, self.rules, self.ctx) {
                    self.ctx.cred.add_helper(f.name.as_str());
                }
                self.function_depth += 1;
                walk_stmt(self, stmt);
                self.function_depth -= 1;
                return;
            }
            Stmt::Assign(a) => {
                if self.function_depth == 0 && is_empty_value(&a.value) {
                    for t in &a.targets {
                        if let Expr::Name(n) = t {
                            self.ctx.cred.set_empty(n.id.as_str());
                        }
                    }
                }
                if let Some(scheme) = auth_in(&a.value, self.ctx) {
                    for t in &a.targets {
                        if let Some(d) = dotted(t) {
                            self.ctx.auth_names.insert(d, scheme.clone());
                        }
                    }
                }
                let pieces = credential_pieces(&a.value, self.rules, self.ctx);
                let ctor = self.ctor_of(&a.value);
                for t in &a.targets {
                    self.target_facts(t, &a.value, &pieces, ctor.as_deref());
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    let pieces = credential_pieces(v, self.rules, self.ctx);
                    let ctor = self.ctor_of(v);
                    self.target_facts(&a.target, v, &pieces, ctor.as_deref());
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let (Expr::Call(c), Some(var)) = (&item.context_expr, &item.optional_vars) {
                        if let (Some(d), Expr::Name(n)) = (dotted(&c.func), &**var) {
                            let q = self.ctx.qualify(&d).into_owned();
                            self.ctx.objects.insert(n.id.to_string(), q);
                            let pieces =
                                credential_pieces(&item.context_expr, self.rules, self.ctx);
                            self.ctx.cred.add(n.id.as_str(), pieces, self.rules);
                        }
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        // Only calls of these methods change what a name carries or declare an argument.
        let changes = |last: &str| {
            matches!(
                last,
                "update" | "set" | "setdefault" | "__setitem__" | "clear" | "pop"
            ) || last.ends_with("add_argument")
        };
        if let Expr::Call(c) = expr {
            let d = chain_ends(&c.func)
                .filter(|(_, last)| changes(last))
                .and_then(|_| dotted(&c.func));
            if let Some(d) = d {
                // session.headers.update({...}) / session.cookies.set(...)
                let parts: Vec<&str> = d.split('.').collect();
                let owner = parts[..parts.len() - 1].join(".");
                let last = parts[parts.len() - 1];
                let holder = match parts.len() {
                    n if n >= 3 && matches!(parts[n - 2], "headers" | "cookies") => {
                        Some(parts[..n - 2].join("."))
                    }
                    n if n >= 2 && matches!(last, "update" | "setdefault" | "__setitem__") => {
                        Some(owner.clone())
                    }
                    _ => None,
                };
                if let (Some(holder), true) = (
                    holder,
                    matches!(last, "update" | "set" | "setdefault" | "__setitem__"),
                ) {
                    let mut pieces = BTreeSet::new();
                    for a in c
                        .arguments
                        .args
                        .iter()
                        .chain(c.arguments.keywords.iter().map(|k| &k.value))
                    {
                        pieces.extend(credential_pieces(a, self.rules, self.ctx));
                    }
                    self.ctx.cred.add(&holder, pieces, self.rules);
                }
                // `headers.clear()`, `headers.pop("CF-Access-Client-Secret")`, `del`-like removals.
                let holder = match parts.len() {
                    n if n >= 3 && parts[n - 2] == "headers" => parts[..n - 2].join("."),
                    _ => owner,
                };
                match last {
                    "clear" => {
                        self.ctx.cred.remove_all(&holder);
                    }
                    "pop" => {
                        if let Some(piece) = c
                            .arguments
                            .args
                            .first()
                            .and_then(str_lit)
                            .and_then(|k| self.ctx.credential_piece(k, self.rules))
                        {
                            self.ctx.cred.remove_piece(&holder, piece);
                        }
                    }
                    _ => {}
                }
                if d.ends_with("add_argument") {
                    self.argparse(c);
                }
            }
        }
        walk_expr(self, expr);
    }
}

impl PrePass<'_, '_> {
    /// The constructor an assigned value comes from: `Settings()`, or the last value of
    /// `config or Settings()`.
    fn ctor_of(&self, value: &Expr) -> Option<String> {
        match value {
            Expr::Call(c) => dotted(&c.func).map(|d| self.ctx.qualify(&d).into_owned()),
            Expr::BoolOp(b) if b.op == ast::BoolOp::Or => {
                b.values.last().and_then(|v| self.ctor_of(v))
            }
            _ => None,
        }
    }

    fn target_facts(
        &mut self,
        target: &Expr,
        value: &Expr,
        pieces: &BTreeSet<String>,
        ctor: Option<&str>,
    ) {
        match target {
            Expr::Name(n) if ctor.is_some_and(is_config_loader) => {
                self.ctx.config_vars.insert(n.id.to_string());
            }
            Expr::Name(n) => {
                self.ctx.cred.add(n.id.as_str(), pieces.clone(), self.rules);
                if let Some(ctor) = ctor {
                    self.ctx.objects.insert(n.id.to_string(), ctor.to_string());
                }
            }
            Expr::Attribute(a) => {
                self.ctx
                    .cred
                    .add(a.attr.as_str(), pieces.clone(), self.rules);
                if let Some(d) = dotted(target) {
                    self.ctx.cred.add(&d, pieces.clone(), self.rules);
                    // `self.session.headers = {...}`: the session carries them.
                    if let Some(owner) = d.strip_suffix(".headers").or(d.strip_suffix(".cookies")) {
                        self.ctx.cred.add(owner, pieces.clone(), self.rules);
                        if let Some(last) = owner.rsplit('.').next() {
                            self.ctx.cred.add(last, pieces.clone(), self.rules);
                        }
                    }
                }
                if let (Some(ctor), Some(d)) = (ctor, dotted(target)) {
                    self.ctx.objects.insert(d, ctor.to_string());
                }
            }
            // headers["CF-Access-Client-Id"] = …, session.headers["…"] = …
            Expr::Subscript(s) => {
                let Some(d) = dotted(&s.value) else { return };
                let piece =
                    str_lit(&s.slice).and_then(|k| self.ctx.credential_piece(k, self.rules));
                if let (Some(piece), false) = (piece, is_empty_in(value, self.ctx)) {
                    let holder = d
                        .strip_suffix(".headers")
                        .or(d.strip_suffix(".cookies"))
                        .unwrap_or(&d);
                    let holder = holder.to_string();
                    self.ctx
                        .cred
                        .add(&holder, [piece.clone()].into(), self.rules);
                    if let Some(last) = holder.rsplit('.').next().filter(|l| *l != holder) {
                        self.ctx.cred.add(last, [piece].into(), self.rules);
                    }
                }
            }
            _ => {}
        }
    }

    fn argparse(&mut self, c: &ast::ExprCall) {
        if let Some((dest, default)) = argparse_argument(c) {
            self.ctx.cli_args.insert(dest, default.cloned());
        }
    }
}

/// `parser.add_argument("--server", default=…)` → (`server`, the default unless `None`).
fn argparse_argument(c: &ast::ExprCall) -> Option<(String, Option<&Expr>)> {
    let kw = |name: &str| keyword(c, &[name]);
    let flag = c
        .arguments
        .args
        .iter()
        .filter_map(str_lit)
        .find(|s| s.starts_with("--"))
        .or_else(|| c.arguments.args.first().and_then(str_lit));
    let dest = kw("dest")
        .and_then(|k| str_lit(&k.value).map(str::to_string))
        .or_else(|| flag.map(|f| f.trim_start_matches('-').replace('-', "_")))?;
    let default = kw("default")
        .map(|k| &k.value)
        .filter(|v| !matches!(v, Expr::NoneLiteral(_)));
    Some((dest, default))
}

/// The binding that holds an argparse default (`args.server` reads it).
fn argparse_binding(dest: &str) -> String {
    crate::engine::solve::cli_binding(dest)
}

struct Walker<'s> {
    source: &'s str,
    index: &'s LineIndex<'s>,
    rules: &'s RuleSet,
    ctx: &'s Context,
    facts: FileFacts,
    scope: usize,
    function: Option<String>,
    class: Option<(String, usize)>,
    consumer: Option<usize>,
    in_candidate: bool,
    /// Inside the arguments of a log or print call.
    in_log: bool,
    depth: usize,
    /// The function being walked (index into [`FileFacts::functions`]).
    current_fn: Option<usize>,
    /// The name the value being assigned is bound to (`client = httpx.Client(…)`).
    assign_target: Option<String>,
    /// Positions of sink arguments already recorded as candidates.
    sink_positions: FxHashSet<Pos>,
}

const MAX_DEPTH: usize = 200;

impl Walker<'_> {
    fn pos(&self, node: &impl Ranged) -> Pos {
        self.index.pos(node.start().to_usize())
    }

    fn label(&self, node: &impl Ranged) -> String {
        let text = self
            .source
            .get(node.start().to_usize()..node.end().to_usize())
            .unwrap_or("?");
        // The first 40 characters, runs of white space made one space and trimmed.
        let mut out = String::with_capacity(text.len().min(40));
        let mut space = false;
        for c in text.chars().take(40) {
            if c.is_whitespace() {
                space = !out.is_empty();
            } else {
                if space {
                    out.push(' ');
                    space = false;
                }
                out.push(c);
            }
        }
        out
    }

    /// Lower an expression into the string IR.
    fn lower(&self, expr: &Expr, depth: usize) -> StrExpr {
        if depth > 40 {
            return StrExpr::Unknown(self.label(expr));
        }
        let d = depth + 1;
        if matches!(expr, Expr::Subscript(_) | Expr::Call(_)) {
            if let Some(r) = self.config_ref(expr) {
                return r;
            }
        }
        match expr {
            Expr::StringLiteral(s) => StrExpr::Lit(s.value.to_str().to_string()),
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => i
                    .as_i64()
                    .map_or_else(|| StrExpr::Unknown(self.label(expr)), StrExpr::Int),
                _ => StrExpr::Unknown(self.label(expr)),
            },
            Expr::FString(f) => {
                let mut parts = Vec::new();
                for part in f.value.iter() {
                    match part {
                        ast::FStringPart::Literal(l) => {
                            parts.push(StrExpr::Lit(l.value.to_string()))
                        }
                        ast::FStringPart::FString(fs) => {
                            self.lower_elements(&fs.elements, &mut parts, d)
                        }
                    }
                }
                StrExpr::Concat(parts)
            }
            Expr::TString(t) => {
                let mut parts = Vec::new();
                for ts in t.value.iter() {
                    self.lower_elements(&ts.elements, &mut parts, d);
                }
                StrExpr::Concat(parts)
            }
            Expr::Name(_) | Expr::Attribute(_) => match dotted(expr) {
                Some(name) => {
                    if let Some((_, attr)) = name.rsplit_once('.') {
                        if let Some(default) = self.ctx.cli_args.get(attr) {
                            if !self
                                .ctx
                                .imports
                                .contains_key(name.split('.').next().unwrap_or(""))
                            {
                                let default = default
                                    .as_ref()
                                    .map(|_| Box::new(StrExpr::Ref(argparse_binding(attr))));
                                return StrExpr::Input {
                                    kind: InputKind::CliArg,
                                    name,
                                    default,
                                };
                            }
                        }
                    }
                    StrExpr::Ref(self.through_instance(name))
                }
                None => StrExpr::Unknown(self.label(expr)),
            },
            Expr::BinOp(b) if b.op == Operator::Add => {
                let mut parts = Vec::new();
                for side in [&*b.left, &*b.right] {
                    match self.lower(side, d) {
                        StrExpr::Concat(p) => parts.extend(p),
                        other => parts.push(other),
                    }
                }
                StrExpr::Concat(parts)
            }
            Expr::BinOp(b) if b.op == Operator::Mod && is_stringish(&b.left) => {
                let (args, named) = match &*b.right {
                    Expr::Tuple(t) => (t.elts.iter().map(|e| self.lower(e, d)).collect(), vec![]),
                    Expr::Dict(dict) => (
                        vec![],
                        dict.items
                            .iter()
                            .filter_map(|i| {
                                Some((
                                    str_lit(i.key.as_ref()?)?.to_string(),
                                    self.lower(&i.value, d),
                                ))
                            })
                            .collect(),
                    ),
                    other => (vec![self.lower(other, d)], vec![]),
                };
                StrExpr::Format {
                    template: Box::new(self.lower(&b.left, d)),
                    style: FormatStyle::Percent,
                    args,
                    named,
                }
            }
            Expr::BoolOp(b) if b.op == ast::BoolOp::Or && b.values.len() >= 2 => {
                // `os.getenv("X") or "http://…"`: the literal is the default of the env read;
                // `base_url or "https://…"`: the first value unless it is unknown at run time.
                let mut values = b.values.iter().rev();
                let last = values.next().expect("two values");
                let mut acc = StrExpr::At(self.pos(last), Box::new(self.lower(last, d)));
                for v in values {
                    acc = match self.lower(v, d) {
                        StrExpr::Unknown(_) => acc,
                        first @ StrExpr::Input { default: None, .. } => first.or_default(|| acc),
                        first => StrExpr::Or(Box::new(first), Box::new(acc)),
                    };
                }
                acc
            }
            // `os.getenv("X") if os.getenv("X") else "d"`: an env read with a default; otherwise
            // either branch.
            Expr::If(i) => match self.lower(&i.body, d) {
                env @ StrExpr::Input { default: None, .. } => {
                    env.or_default(|| self.lower(&i.orelse, d))
                }
                body => StrExpr::Choice(vec![body, self.lower(&i.orelse, d)]),
            },
            Expr::List(_) | Expr::Tuple(_) | Expr::Set(_) => {
                let elts = match expr {
                    Expr::List(l) => &l.elts,
                    Expr::Tuple(t) => &t.elts,
                    Expr::Set(s) => &s.elts,
                    _ => unreachable!(),
                };
                StrExpr::Choice(
                    elts.iter()
                        .take(crate::engine::solve::MAX_VALUES)
                        .map(|e| self.lower_at(e, d))
                        .collect(),
                )
            }
            Expr::BytesLiteral(b) => {
                let bytes: Vec<u8> = b.value.bytes().collect();
                StrExpr::Lit(String::from_utf8_lossy(&bytes).into_owned())
            }
            Expr::Subscript(s) => {
                // `sys.argv[1]`: a command-line argument.
                if let (Some(base), Expr::NumberLiteral(n)) = (dotted(&s.value), &*s.slice) {
                    if self.ctx.qualify(&base) == "sys.argv" {
                        if let ast::Number::Int(i) = &n.value {
                            return StrExpr::Input {
                                kind: InputKind::CliArg,
                                name: format!("argv[{i}]"),
                                default: None,
                            };
                        }
                    }
                }
                if let (Some(base), Some(key)) = (dotted(&s.value), str_lit(&s.slice)) {
                    if self.ctx.qualify(&base) == "os.environ" {
                        return StrExpr::Input {
                            kind: InputKind::Env,
                            name: key.to_string(),
                            default: None,
                        };
                    }
                    // `settings["url"]`: the value bound under that key.
                    return StrExpr::Ref(format!("{base}[{key}]"));
                }
                StrExpr::Unknown(self.label(expr))
            }
            Expr::Call(c) => self.lower_call(c, expr, d),
            _ => StrExpr::Unknown(self.label(expr)),
        }
    }

    /// A value read from a loaded configuration file, as a reference the project resolves.
    fn config_ref(&self, expr: &Expr) -> Option<StrExpr> {
        let (root, keys) = config_keys(expr)?;
        self.ctx
            .config_vars
            .contains(&root)
            .then(|| StrExpr::Ref(format!("{root}[{}]", keys.join("]["))))
    }

    fn lower_elements(
        &self,
        elements: &ast::InterpolatedStringElements,
        parts: &mut Vec<StrExpr>,
        depth: usize,
    ) {
        for el in elements.iter() {
            match el {
                ast::InterpolatedStringElement::Literal(l) => {
                    parts.push(StrExpr::Lit(l.value.to_string()))
                }
                ast::InterpolatedStringElement::Interpolation(i) => {
                    parts.push(self.lower(&i.expression, depth))
                }
            }
        }
    }

    fn lower_call(&self, c: &ast::ExprCall, expr: &Expr, d: usize) -> StrExpr {
        let args = &c.arguments.args;
        let kw = |name: &str| keyword(c, &[name]);
        // "…".format(...)
        if let Expr::Attribute(a) = &*c.func {
            match a.attr.as_str() {
                "format" if is_stringish(&a.value) => {
                    return StrExpr::Format {
                        template: Box::new(self.lower(&a.value, d)),
                        style: FormatStyle::Brace,
                        args: args.iter().map(|e| self.lower(e, d)).collect(),
                        named: self.lower_kwargs(c, d),
                    }
                }
                "rstrip" | "strip" | "lstrip" | "removesuffix" => {
                    let attr = a.attr.as_str();
                    let chars = args.first().and_then(str_lit).unwrap_or("").to_string();
                    return StrExpr::Strip {
                        inner: Box::new(self.lower(&a.value, d)),
                        chars,
                        start: matches!(attr, "strip" | "lstrip"),
                        end: attr != "lstrip",
                    };
                }
                "lower" | "decode" | "encode" => return self.lower(&a.value, d),
                "replace" if args.len() >= 2 => {
                    if let (Some(from), Some(to)) = (str_lit(&args[0]), str_lit(&args[1])) {
                        return StrExpr::Replace {
                            inner: Box::new(self.lower(&a.value, d)),
                            from: from.to_string(),
                            to: to.to_string(),
                        };
                    }
                }
                // `"/".join([base, "prompt"])`
                "join" if args.len() == 1 => {
                    if let (Some(sep), Expr::List(_) | Expr::Tuple(_)) =
                        (str_lit(&a.value), &args[0])
                    {
                        let elts = match &args[0] {
                            Expr::List(l) => &l.elts,
                            Expr::Tuple(t) => &t.elts,
                            _ => unreachable!(),
                        };
                        return StrExpr::Join {
                            sep: sep.to_string(),
                            parts: elts.iter().map(|e| self.lower(e, d)).collect(),
                        };
                    }
                }
                // `cfg.get("url", "http://…")` on a dict of this file.
                "get" if !args.is_empty() => {
                    if let (Some(base), Some(key)) = (dotted(&a.value), str_lit(&args[0])) {
                        let root = base.split('.').next().unwrap_or("");
                        if !self.ctx.imports.contains_key(root)
                            && !self.ctx.objects.contains_key(&base)
                        {
                            let r = StrExpr::Ref(format!("{base}[{key}]"));
                            return match args.get(1).or_else(|| kw("default").map(|k| &k.value)) {
                                Some(default) => StrExpr::Or(
                                    Box::new(r),
                                    Box::new(StrExpr::At(
                                        self.pos(default),
                                        Box::new(self.lower(default, d)),
                                    )),
                                ),
                                None => r,
                            };
                        }
                    }
                }
                _ => {}
            }
        }
        let Some(name) = dotted(&c.func) else {
            return StrExpr::Unknown(self.label(expr));
        };
        let q = self.ctx.qualify(&name);
        if is_env_read(&q) {
            if let Some(var) = args.first().and_then(str_lit) {
                let default = args
                    .get(1)
                    .or_else(|| kw("default").map(|k| &k.value))
                    .filter(|e| !matches!(e, Expr::NoneLiteral(_)));
                return StrExpr::Input {
                    kind: InputKind::Env,
                    name: var.to_string(),
                    default: default.map(|e| Box::new(self.lower(e, d))),
                };
            }
        }
        // A field's default (pydantic `Field("host:8443", …)`, dataclasses / attrs `default=`).
        if let Some(e) = self.field_call_of(c, &q).flatten() {
            return self.lower_at(e, d);
        }
        match q.as_ref() {
            "str" | "int" if args.len() == 1 => self.lower(&args[0], d),
            "urllib.parse.urljoin"
            | "urljoin"
            | "posixpath.join"
            | "os.path.join"
            | "urllib.parse.urljoin.join"
                if args.len() >= 2 =>
            {
                StrExpr::Join {
                    sep: "/".into(),
                    parts: args.iter().map(|a| self.lower(a, d)).collect(),
                }
            }
            _ if self.calls_own_function(&name) => self.lower_project_call(&name, c, d),
            // `make_base("10.0.0.5")` with `from app.urls import make_base`: what that module's
            // function returns for these arguments, when it is a module of the project.
            _ if self.calls_imported_function(&name) => StrExpr::Or(
                Box::new(self.lower_project_call(&name, c, d)),
                Box::new(StrExpr::Unknown(self.label(expr))),
            ),
            _ => StrExpr::Unknown(self.label(expr)),
        }
    }

    /// `Some(default)` when `value` declares a field (`Field(…)`, `field(…)`, `attr.ib(…)`);
    /// the default is `None` when it gives none (`Field(None, …)`, `Field(...)`).
    fn field_call<'e>(&self, value: &'e Expr) -> Option<Option<&'e Expr>> {
        let Expr::Call(c) = value else { return None };
        let name = dotted(&c.func)?;
        self.field_call_of(c, &self.ctx.qualify(&name))
    }

    /// [`Walker::field_call`] for a call of `q`, qualified: the default of a field declaration,
    /// pydantic `Field("…")` / `Field(default=…)`, dataclasses `field(default=…)`, attrs
    /// `attr.ib(default=…)`.
    fn field_call_of<'e>(&self, c: &'e ast::ExprCall, q: &str) -> Option<Option<&'e Expr>> {
        let pydantic = matches!(q, "pydantic.Field" | "pydantic.fields.Field");
        if !pydantic
            && !matches!(
                q,
                "dataclasses.field" | "attr.ib" | "attr.attrib" | "attr.field" | "attrs.field"
            )
        {
            return None;
        }
        let kw = |name: &str| keyword(c, &[name]).map(|k| &k.value);
        // `default_factory=lambda: os.getenv("URL", "http://…")`: what the factory returns.
        let factory = kw("default_factory").and_then(|f| match f {
            Expr::Lambda(l) => Some(&*l.body),
            _ => None,
        });
        Some(
            kw("default")
                .or(factory)
                .or_else(|| pydantic.then(|| c.arguments.args.first()).flatten())
                .filter(|e| !matches!(e, Expr::EllipsisLiteral(_) | Expr::NoneLiteral(_))),
        )
    }

    /// A call of a function with its lowered arguments: values flow through its parameters.
    fn lower_project_call(&self, name: &str, c: &ast::ExprCall, d: usize) -> StrExpr {
        StrExpr::Call {
            callee: name.to_string(),
            args: c.arguments.args.iter().map(|a| self.lower(a, d)).collect(),
            kwargs: self.lower_kwargs(c, d),
        }
    }

    /// A call's keyword arguments, lowered (`**kwargs` left out).
    fn lower_kwargs(&self, c: &ast::ExprCall, d: usize) -> Vec<(String, StrExpr)> {
        c.arguments
            .keywords
            .iter()
            .filter_map(|k| Some((k.arg.as_ref()?.to_string(), self.lower(&k.value, d))))
            .collect()
    }

    /// Is `name` a function imported on its own from another module (`from m import name`)?
    fn calls_imported_function(&self, name: &str) -> bool {
        !name.contains('.')
            && !self.ctx.helper_imports.contains(name)
            && self
                .ctx
                .imports
                .get(name)
                .is_some_and(|full| full.contains('.'))
    }

    /// `s.comfy_url` where `s = Settings()` (a class of this file, or one imported from another
    /// module) → `Settings.comfy_url`: the class attribute (dataclass / pydantic / attrs field
    /// default) or what its methods set on `self`.
    fn through_instance(&self, name: String) -> String {
        let mut prefix = name.as_str();
        while let Some((head, _)) = prefix.rsplit_once('.') {
            if let Some(ctor) = self.ctx.objects.get(head) {
                // `self.valves = self.Valves()`: a class nested in this one.
                let ctor = ctor
                    .strip_prefix("self.")
                    .or_else(|| ctor.strip_prefix("cls."))
                    .unwrap_or(ctor);
                if self.ctx.fn_names.contains(ctor) && !ctor.contains('.') {
                    return format!("{ctor}{}", &name[head.len()..]);
                }
                // `from .config import Settings`: the class of that module, by its local name.
                let imported = self
                    .ctx
                    .imports
                    .iter()
                    .filter(|(local, full)| {
                        full.as_str() == ctor && local.starts_with(|c: char| c.is_ascii_uppercase())
                    })
                    .map(|(local, _)| local)
                    .min();
                if let Some(local) = imported {
                    return format!("{local}{}", &name[head.len()..]);
                }
                break;
            }
            prefix = head;
        }
        name
    }

    /// [`Walker::lower`], with the position of the expression kept (`At`): where an address is
    /// built from it, that is where its text came from. Names carry their own positions.
    fn lower_at(&self, e: &Expr, depth: usize) -> StrExpr {
        let lowered = self.lower(e, depth);
        if !matches!(
            e,
            Expr::Name(_) | Expr::NoneLiteral(_) | Expr::BooleanLiteral(_) | Expr::Dict(_)
        ) {
            StrExpr::At(self.pos(e), Box::new(lowered))
        } else {
            lowered
        }
    }

    /// Does a call written as `name` reach a function, method or class of this file?
    fn calls_own_function(&self, name: &str) -> bool {
        let last = name.rsplit('.').next().unwrap_or(name);
        self.ctx.fn_names.contains(last)
            && !self
                .ctx
                .imports
                .contains_key(name.split('.').next().unwrap_or(name))
    }

    /// Is this expression a string-building candidate (as opposed to a bare reference)?
    fn is_candidate(&self, expr: &Expr) -> bool {
        match expr {
            Expr::StringLiteral(s) => {
                let v = s.value.to_str();
                v.len() >= 4 && (v.contains(':') || v.contains('/'))
            }
            Expr::FString(_) | Expr::TString(_) => true,
            Expr::BinOp(b) => match b.op {
                Operator::Add => contains_string(expr),
                Operator::Mod => is_stringish(&b.left),
                _ => false,
            },
            Expr::BoolOp(b) => {
                b.values.iter().any(|v| matches!(v, Expr::StringLiteral(_)))
                    && b.values.iter().any(|v| self.is_env_call(v))
            }
            Expr::Call(c) => {
                let name = dotted(&c.func);
                let q = name.as_deref().map(|n| self.ctx.qualify(n));
                self.is_candidate_call(c, q.as_deref())
            }
            _ => false,
        }
    }

    /// [`Walker::is_candidate`] for a call whose callee is `q`, qualified.
    fn is_candidate_call(&self, c: &ast::ExprCall, q: Option<&str>) -> bool {
        if self.is_string_op(c, q) {
            return true;
        }
        match &*c.func {
            Expr::Attribute(a) if a.attr.as_str() == "format" => is_stringish(&a.value),
            _ => {
                q.is_some_and(is_env_read)
                    && c.arguments.args.len() + c.arguments.keywords.len() >= 2
            }
        }
    }

    /// `urljoin(a, b)`, `posixpath.join(a, b)`, `"/".join([...])`, `s.replace("x", "y")`: string
    /// operations that build an address from their arguments (the callee is `q`, qualified).
    fn is_string_op(&self, c: &ast::ExprCall, q: Option<&str>) -> bool {
        if let Expr::Attribute(a) = &*c.func {
            let args = &c.arguments.args;
            match a.attr.as_str() {
                "join" if str_lit(&a.value).is_some() => {
                    return matches!(args.first(), Some(Expr::List(_) | Expr::Tuple(_)))
                }
                "replace" => {
                    return args.len() >= 2
                        && str_lit(&args[0]).is_some_and(|f| f.contains("://"))
                        && str_lit(&args[1]).is_some()
                }
                _ => {}
            }
        }
        q.is_some_and(|q| matches!(q, "urllib.parse.urljoin" | "urljoin" | "posixpath.join"))
    }

    fn is_env_call(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Call(c) => dotted(&c.func).is_some_and(|d| is_env_read(&self.ctx.qualify(&d))),
            _ => false,
        }
    }

    /// Is `expr` not yet a candidate as a sink argument?
    fn unrecorded(&self, expr: &Expr) -> bool {
        self.sink_positions.is_empty() || !self.sink_positions.contains(&self.pos(expr))
    }

    /// Record a candidate found by the visit, and visit inside it.
    fn candidate(&mut self, expr: &Expr) {
        let lowered = self.lower(expr, 0);
        self.add_candidate(expr, lowered, None, self.scope);
        let saved = self.in_candidate;
        self.in_candidate = true;
        walk_expr(self, expr);
        self.in_candidate = saved;
    }

    /// Record `expr`, already lowered, as a candidate.
    fn add_candidate(
        &mut self,
        expr: &Expr,
        lowered: StrExpr,
        bound_to: Option<String>,
        scope: usize,
    ) {
        self.facts.candidates.push(Candidate {
            expr: lowered,
            pos: self.pos(expr),
            scope,
            function: self.function.clone(),
            bound_to,
            consumer: if scope == self.scope {
                self.consumer
            } else {
                None
            },
        });
    }

    /// Record a candidate of the current scope at `pos` (a position already worked out).
    fn push_candidate(
        &mut self,
        expr: StrExpr,
        pos: Pos,
        bound_to: Option<String>,
        consumer: Option<usize>,
    ) {
        self.facts.candidates.push(Candidate {
            expr,
            pos,
            scope: self.scope,
            function: self.function.clone(),
            bound_to,
            consumer,
        });
    }

    fn bind(&mut self, scope: usize, name: String, value: StrExpr, pos: Pos) {
        self.facts.bindings.push(Binding {
            scope,
            name,
            value,
            pos,
        });
    }

    /// Record `target = value`: a binding, and a candidate when the value builds a string.
    fn assign(&mut self, target: &Expr, value: &Expr) {
        // `host: str = Field("comfyui:8188", description=…)` in a class: the field's default is
        // the value (an address there is a definition, folded into the code that uses it).
        // A field without a default binds nothing: its value is only known at run time.
        if self.class.is_some() {
            match self.field_call(value) {
                Some(Some(default)) => return self.assign(target, default),
                Some(None) => return self.visit_expr(value),
                None => {}
            }
        }
        // `host, port = "comfyui", 8188`
        if let (Expr::Tuple(t), Expr::Tuple(v)) = (target, value) {
            if t.elts.len() == v.elts.len() {
                for (t, v) in t.elts.iter().zip(&v.elts) {
                    self.assign(t, v);
                }
                return;
            }
        }
        // `cfg = {"url": "http://…"}`: each key is bound as `cfg[url]` (nested: `cfg[a][b]`).
        if let Expr::Dict(_) = value {
            if let Some(base) = dotted(target) {
                self.bind_dict_keys(&base, value, 0);
            }
        }
        let name = match target {
            Expr::Name(n) => Some((n.id.to_string(), self.scope)),
            // `self.x = …` in a method: bound on the class.
            Expr::Attribute(_) => self.class.as_ref().and_then(|&(_, cs)| {
                let d = dotted(target)?;
                matches!(d.split_once('.'), Some(("self" | "cls", _))).then_some((d, cs))
            }),
            _ => None,
        };
        let Some((name, scope)) = name else {
            self.visit_expr(value);
            return;
        };
        let saved_target = self.assign_target.replace(name.clone());
        // `HOSTS = ["https://…", …]`: each address element is bound to the list's name.
        if matches!(value, Expr::List(_) | Expr::Tuple(_) | Expr::Set(_)) {
            self.elements_bound_to(value, &name);
        }
        let pos = self.pos(value);
        let lowered = self.lower(value, 0);
        // The lowered value is kept past its binding only for a class field (bound on the class
        // too) and a candidate.
        let class_field = self.facts.scopes[scope].kind == ScopeKind::Class && !name.contains('.');
        let candidate = !self.in_candidate && self.is_candidate(value);
        let kept = (class_field || candidate).then(|| lowered.clone());
        // `self.url = f"…"` in a method is bound on the class, evaluated with the method's names;
        // `Class.url` too, for `client.url` on an instance made elsewhere in the file.
        let bound = if scope != self.scope {
            StrExpr::Scoped(self.scope, Box::new(lowered))
        } else {
            lowered
        };
        if scope != self.scope {
            if let Some(attr) = name.strip_prefix("self.") {
                let class = self.facts.scopes[scope].name.clone();
                let parent = self.facts.scopes[scope].parent.unwrap_or(0);
                self.bind(parent, format!("{class}.{attr}"), bound.clone(), pos);
            }
        }
        self.bind(scope, name.clone(), bound, pos);
        if let (true, Some(lowered)) = (class_field, &kept) {
            let lowered = lowered.clone();
            let class = self.facts.scopes[scope].name.clone();
            let parent = self.facts.scopes[scope].parent.unwrap_or(0);
            self.bind(
                scope,
                format!("self.{name}"),
                StrExpr::Ref(name.clone()),
                pos,
            );
            self.bind(
                scope,
                format!("cls.{name}"),
                StrExpr::Ref(name.clone()),
                pos,
            );
            self.bind(parent, format!("{class}.{name}"), lowered, pos);
        }
        if let Some(lowered) = kept.filter(|_| candidate) {
            let saved = (self.in_candidate, self.consumer);
            self.consumer = None;
            self.add_candidate(value, lowered, Some(name), scope);
            self.in_candidate = true;
            walk_expr(self, value);
            (self.in_candidate, self.consumer) = saved;
        } else {
            let saved = self.consumer;
            self.consumer = None;
            self.visit_expr(value);
            self.consumer = saved;
        }
        self.assign_target = saved_target;
    }

    fn bind_dict_keys(&mut self, base: &str, value: &Expr, depth: usize) {
        let Expr::Dict(dict) = value else { return };
        if depth > 4 {
            return;
        }
        let (scope, at_scope) = match base.split_once('.') {
            Some(("self" | "cls", _)) => match &self.class {
                Some((_, cs)) => (*cs, true),
                None => (self.scope, false),
            },
            _ => (self.scope, false),
        };
        for item in &dict.items {
            let Some(key) = item.key.as_ref().and_then(str_lit) else {
                continue;
            };
            let name = format!("{base}[{key}]");
            let lowered = self.lower(&item.value, 0);
            let lowered = if at_scope && scope != self.scope {
                StrExpr::Scoped(self.scope, Box::new(lowered))
            } else {
                lowered
            };
            let pos = self.pos(&item.value);
            self.bind(scope, name.clone(), lowered, pos);
            self.bind_dict_keys(&name, &item.value, depth + 1);
        }
    }

    /// A call `name(…)` (`q` qualified): a use, a call site, a sink, a command run.
    fn call(&mut self, c: &ast::ExprCall, name: Option<&str>, q: Option<&str>) {
        let root = name.and_then(|n| n.split('.').next()).unwrap_or("");
        let last = name.and_then(|n| n.rsplit('.').next()).unwrap_or("");
        // A helper is a function whose body sends the credential (whatever its name), or a
        // function of an imported token-helper module.
        let helper = self.ctx.cred.is_helper(last)
            || (name.is_some_and(|n| n.contains('.')) && self.ctx.helper_imports.contains(root))
            || (!name.is_some_and(|n| n.contains('.')) && self.ctx.helper_imports.contains(last));
        // The object the request goes through carries the credential (a session or client whose
        // default headers hold it): `session.get(…)`, `self.session.post(…)`.
        let owner = name.and_then(|n| n.rsplit_once('.')).map(|(o, _)| o);
        let carried = self.ctx.names_carry()
            && owner.is_some_and(|o| {
                self.ctx.cred.carries(o, self.rules)
                    || self
                        .ctx
                        .cred
                        .carries(o.rsplit('.').next().unwrap_or(o), self.rules)
                    || self
                        .ctx
                        .cred
                        .carries(o.split('.').next().unwrap_or(o), self.rules)
            });
        let credentialed = helper
            || carried
            // Credentials travel in keyword arguments (`headers=`, `cookies=`, `**kwargs`) or a dict
            // passed positionally; the URL argument itself is not evidence.
            || c.arguments.keywords.iter().any(|k| has_credential(&k.value, self.rules, self.ctx))
            || c.arguments.args.iter().skip(1).chain(c.arguments.args.first().filter(|a| matches!(a, Expr::Dict(_))))
                .any(|a| matches!(a, Expr::Dict(_) | Expr::Name(_) | Expr::Starred(_)) && has_credential(a, self.rules, self.ctx));
        let client = q
            .and_then(|q| crate::rules::sinks().python_client(q))
            .map(str::to_string);
        let client = client.or_else(|| helper.then(|| last.to_string()));
        let names = c
            .arguments
            .args
            .iter()
            .chain(c.arguments.keywords.iter().map(|k| &k.value))
            .filter_map(dotted)
            .collect();
        let target = self.assign_target.take();
        self.sinks(c, name, q, target.as_deref());
        let auth = auth_scheme(c, self.ctx);
        self.facts.uses.push(Use {
            scope: self.scope,
            client,
            credentialed,
            auth,
            names,
            callees: name.iter().map(|n| n.to_string()).collect(),
        });
        let id = self.facts.uses.len() - 1;
        // Calls of this file's functions, and of names imported from other modules (their
        // arguments flow into those modules' parameters).
        let imported = |n: &str| {
            let root = n.split('.').next().unwrap_or(n);
            self.ctx
                .imports
                .get(root)
                .is_some_and(|full| full.contains('.'))
                && !n.contains('.')
        };
        if let Some(n) = name.filter(|n| self.calls_own_function(n) || imported(n)) {
            let site = CallSite {
                callee: n.to_string(),
                scope: self.scope,
                pos: self.pos(c),
                args: c
                    .arguments
                    .args
                    .iter()
                    .map(|a| self.lower_at(a, 0))
                    .collect(),
                kwargs: c
                    .arguments
                    .keywords
                    .iter()
                    .filter_map(|k| Some((k.arg.as_ref()?.to_string(), self.lower_at(&k.value, 0))))
                    .collect(),
                use_id: id,
            };
            self.facts.calls.push(site);
        }

        if let Some(q) = q {
            if crate::rules::sinks().is_python_command(q) {
                self.exec(c);
            }
        }
        // An argparse default is a binding that `args.<dest>` reads; it is a finding only if unused.
        let mut skip: Option<&Expr> = None;
        if last == "add_argument" {
            if let Some((dest, Some(default))) = argparse_argument(c) {
                let name = argparse_binding(&dest);
                let pos = self.pos(default);
                let value = self.lower(default, 0);
                self.bind(0, name.clone(), value.clone(), pos);
                if self.is_candidate(default) {
                    self.add_candidate(default, value, Some(name), 0);
                    skip = Some(default);
                }
            }
        }

        // `Client(host="comfyui", port=8188)`: the host and port given apart build an address.
        let kw = |names: &[&str]| keyword(c, names).map(|k| &k.value);
        if let (Some(host), Some(port)) = (
            kw(&["host", "hostname", "server_host", "comfy_host"]),
            kw(&["port", "server_port", "comfy_port"]),
        ) {
            if !self.in_candidate {
                let expr = StrExpr::Concat(vec![
                    self.lower(host, 0),
                    StrExpr::Lit(":".into()),
                    self.lower(port, 0),
                ]);
                let pos = self.pos(host);
                self.push_candidate(expr, pos, None, Some(id));
            }
        }

        let saved = (self.consumer, self.in_candidate, self.in_log);
        self.consumer = None;
        self.visit_expr(&c.func);
        self.consumer = Some(id);
        // Log and print messages are text, not uses of an address; a request made inside one
        // (`print(session.post(url).json())`) is a use again.
        self.in_log = is_log_call(name.unwrap_or(""));
        for a in c.arguments.args.iter() {
            self.visit_expr(a);
        }
        for k in c.arguments.keywords.iter() {
            if !skip.is_some_and(|d| std::ptr::eq(d, &k.value)) {
                self.visit_expr(&k.value);
            }
        }
        (self.consumer, self.in_candidate, self.in_log) = saved;
    }

    /// Arguments that are an address by where they go (see [`crate::engine::ir::Sink`]), and request
    /// paths sent through HTTP client objects.
    fn sinks(
        &mut self,
        c: &ast::ExprCall,
        name: Option<&str>,
        q: Option<&str>,
        target: Option<&str>,
    ) {
        let (Some(name), Some(q)) = (name, q) else {
            return;
        };
        const URL_KWARGS: &[&str] = &[
            "url",
            "base_url",
            "server_address",
            "server_url",
            "api_url",
            "host",
            "server",
            "address",
            "endpoint",
            "comfyui_url",
            "comfy_url",
        ];
        let kw = |names: &[&str]| keyword(c, names).map(|k| &k.value);
        // A client library of a service: its address argument, whatever it is.
        if let Some(service) = self
            .rules
            .client_constructor(name)
            .or_else(|| self.rules.client_constructor(q))
        {
            let id = service.id.clone();
            if let Some(arg) = kw(URL_KWARGS).or(c.arguments.args.first()) {
                self.sink_arg(arg, SinkKind::Client(id), None);
            }
            return;
        }
        // HTTP client objects with a base URL, and `http.client` connections to a host.
        match q {
            "httpx.Client" | "httpx.AsyncClient" | "aiohttp.ClientSession" => {
                if let (Some(arg), Some(t)) = (kw(&["base_url"]), target) {
                    self.sink_arg(arg, SinkKind::Base(t.to_string()), None);
                }
            }
            "http.client.HTTPConnection" | "http.client.HTTPSConnection" => {
                let host = c.arguments.args.first().or(kw(&["host"]));
                if let (Some(host), Some(t)) = (host, target) {
                    let scheme = if q.ends_with("HTTPSConnection") {
                        "https://"
                    } else {
                        "http://"
                    };
                    let mut parts = vec![StrExpr::Lit(scheme.into()), self.lower(host, 0)];
                    if let Some(port) = c.arguments.args.get(1).or(kw(&["port"])) {
                        parts.push(StrExpr::Lit(":".into()));
                        parts.push(self.lower(port, 0));
                    }
                    let expr = StrExpr::Concat(parts);
                    self.sink_arg(host, SinkKind::Base(t.to_string()), Some(expr));
                }
            }
            _ => {}
        }
        // `client.post("/prompt")`, `conn.request("GET", "/system_stats")`: paths sent through
        // an object.
        if let Some((owner, _)) = name.rsplit_once('.') {
            for a in c.arguments.args.iter().take(2) {
                if let Some(p) = str_lit(a).filter(|p| p.starts_with('/')) {
                    self.facts
                        .object_paths
                        .push((owner.to_string(), p.to_string()));
                }
            }
        }
    }

    /// The address elements of a list literal as candidates bound to `name` (where they are sent
    /// is where `name` goes).
    fn elements_bound_to(&mut self, list: &Expr, name: &str) {
        let elts = match list {
            Expr::List(l) => &l.elts,
            Expr::Tuple(t) => &t.elts,
            Expr::Set(s) => &s.elts,
            _ => return,
        };
        for e in elts.iter() {
            if self.in_candidate || !self.is_candidate(e) {
                continue;
            }
            let pos = self.pos(e);
            if self.sink_positions.contains(&pos) {
                continue;
            }
            let lowered = self.lower(e, 0);
            self.push_candidate(lowered, pos, Some(name.to_string()), None);
            self.sink_positions.insert(pos);
        }
    }

    /// Record `arg` as a sink, and as a candidate when it is not one already. A name bound in
    /// this scope stands for its binding: the address is where that value is written.
    fn sink_arg(&mut self, arg: &Expr, kind: SinkKind, expr: Option<StrExpr>) {
        if let (Expr::Name(n), None) = (arg, &expr) {
            let at = self.pos(arg);
            let bound = self
                .facts
                .bindings
                .iter()
                .rev()
                .find(|b| b.name == n.id.as_str() && b.scope == self.scope && b.pos < at)
                .map(|b| (b.pos, b.value.clone()));
            if let Some((pos, value)) = bound {
                self.facts.sinks.push(crate::engine::ir::Sink { pos, kind });
                if !self.facts.candidates.iter().any(|c| c.pos == pos) {
                    self.push_candidate(value, pos, Some(n.id.to_string()), None);
                }
                return;
            }
        }
        let pos = self.pos(arg);
        self.facts.sinks.push(crate::engine::ir::Sink { pos, kind });
        if expr.is_some() || !self.is_candidate(arg) {
            let lowered = expr.unwrap_or_else(|| self.lower(arg, 0));
            self.push_candidate(lowered, pos, None, self.facts.uses.len().checked_sub(1));
            // Not a candidate a second time when it is visited.
            self.sink_positions.insert(pos);
        }
    }

    /// `subprocess.run(["docker", "exec", "comfyui", …])`, `os.system("docker compose exec …")`.
    fn exec(&mut self, c: &ast::ExprCall) {
        let Some(first) = c.arguments.args.first() else {
            return;
        };
        let words: Vec<String> = {
            // The text of each word, as far as this file tells (one evaluator for all of them).
            let evaluator = crate::engine::solve::Evaluator::new(&self.facts);
            let text = |e: &Expr| {
                evaluator
                    .eval(&self.lower(e, 0), self.scope, self.pos(e))
                    .display()
            };
            match first {
                Expr::List(l) => l.elts.iter().map(text).collect(),
                Expr::Tuple(t) => t.elts.iter().map(text).collect(),
                other => text(other).split_whitespace().map(str::to_string).collect(),
            }
        };
        // An HTTP command-line tool (`rules/sinks/http.toml` `[shell]`) run from code: a request.
        let program = words
            .first()
            .map(|w| w.rsplit('/').next().unwrap_or(w).to_string())
            .unwrap_or_default();
        if let Some((tool, _)) = crate::rules::sinks().shell.tool(&program) {
            let id = self.facts.uses.len() - 1;
            let credentialed = has_credential(first, self.rules, self.ctx);
            if let Some(u) = self.facts.uses.get_mut(id) {
                u.client = Some(tool.client.clone());
                u.credentialed |= credentialed;
            }
            // One command string: the URL is inside it.
            if !matches!(first, Expr::List(_) | Expr::Tuple(_)) && self.is_candidate(first) {
                let pos = self.pos(first);
                let expr = StrExpr::UrlIn(Box::new(self.lower(first, 0)));
                self.push_candidate(expr, pos, None, Some(id));
                self.sink_positions.insert(pos);
            }
            return;
        }
        if let Some((container, command)) = super::docker_exec(&words) {
            if self.rules.services.iter().any(|s| {
                s.containers
                    .as_ref()
                    .is_some_and(|re| re.is_match(&container))
            }) {
                self.facts.execs.push(ExecSite {
                    pos: self.pos(first),
                    container,
                    command,
                    function: self.function.clone(),
                    scope: self.scope,
                });
            }
        }
    }

    /// Record the lines a statement covers; a compound statement covers its header only.
    fn record_span(&mut self, stmt: &Stmt) {
        let start = self.pos(stmt).line;
        let body_start = match stmt {
            Stmt::FunctionDef(s) => s.body.first().map(|b| b.start()),
            Stmt::ClassDef(s) => s.body.first().map(|b| b.start()),
            Stmt::If(s) => s.body.first().map(|b| b.start()),
            Stmt::For(s) => s.body.first().map(|b| b.start()),
            Stmt::While(s) => s.body.first().map(|b| b.start()),
            Stmt::With(s) => s.body.first().map(|b| b.start()),
            Stmt::Try(s) => s.body.first().map(|b| b.start()),
            Stmt::Match(s) => s.cases.first().map(|c| c.start()),
            _ => None,
        };
        let end = match body_start {
            Some(b) => self
                .index
                .pos(b.to_usize())
                .line
                .saturating_sub(1)
                .max(start),
            None => self.index.pos(stmt.end().to_usize()).line,
        };
        self.facts.stmt_spans.push((start, end));
    }

    fn function_def(&mut self, f: &ast::StmtFunctionDef) {
        for d in &f.decorator_list {
            self.visit_expr(&d.expression);
        }
        let qual = match &self.class {
            Some((c, _)) => format!("{c}.{}", f.name),
            None => f.name.to_string(),
        };
        let scope = self
            .facts
            .push_scope(self.scope, ScopeKind::Function, &qual);
        let saved = (
            self.scope,
            self.function.take(),
            self.consumer.take(),
            self.class.clone(),
        );
        let method = self.class.is_some()
            && !f
                .decorator_list
                .iter()
                .any(|d| dotted(&d.expression).is_some_and(|n| n == "staticmethod"));
        self.facts.functions.push(FunctionDef {
            name: qual.clone(),
            scope,
            params: f
                .parameters
                .posonlyargs
                .iter()
                .chain(f.parameters.args.iter())
                .chain(f.parameters.kwonlyargs.iter())
                .map(|p| p.parameter.name.to_string())
                .collect(),
            returns: Vec::new(),
            method,
        });
        let saved_fn = self.current_fn.replace(self.facts.functions.len() - 1);
        self.function = Some(qual);
        let params = &f.parameters;
        for p in params
            .posonlyargs
            .iter()
            .chain(params.args.iter())
            .chain(params.kwonlyargs.iter())
        {
            let pname = p.parameter.name.to_string();
            let pos = self.pos(&p.parameter);
            let default = p.default.as_deref();
            let lowered_default = default.map(|e| self.lower(e, 0));
            let value = StrExpr::Input {
                kind: InputKind::Param,
                name: pname.clone(),
                default: lowered_default.clone().map(Box::new),
            };
            self.bind(
                scope,
                pname.clone(),
                value,
                default.map_or(pos, |e| self.pos(e)),
            );
            if let (Some(e), Some(lowered)) = (default, lowered_default) {
                if self.is_candidate(e) {
                    self.add_candidate(e, lowered, Some(pname), scope);
                }
            }
        }
        self.scope = scope;
        // Methods see class attributes through `self.` only: keep the class for `self.x = …`.
        for s in &f.body {
            self.visit_stmt(s);
        }
        (self.scope, self.function, self.consumer, self.class) = saved;
        self.current_fn = saved_fn;
    }
}

/// `json.load`, `tomllib.load`, `toml.load`, `yaml.safe_load` and their `loads` forms.
fn is_config_loader(callee: &str) -> bool {
    matches!(
        callee,
        "json.load"
            | "json.loads"
            | "tomllib.load"
            | "tomllib.loads"
            | "toml.load"
            | "toml.loads"
            | "yaml.safe_load"
            | "yaml.load"
    )
}

/// `cfg["comfyui"]["base_url"]` / `cfg.get("comfyui", {}).get("base_url")` → (`cfg`, keys).
fn config_keys(expr: &Expr) -> Option<(String, Vec<String>)> {
    let mut keys = Vec::new();
    let mut cur = expr;
    for _ in 0..16 {
        match cur {
            Expr::Subscript(s) => {
                keys.push(str_lit(&s.slice)?.to_string());
                cur = &s.value;
            }
            Expr::Call(c) => match &*c.func {
                Expr::Attribute(a) if a.attr.as_str() == "get" => {
                    keys.push(str_lit(c.arguments.args.first()?)?.to_string());
                    cur = &a.value;
                }
                _ => return None,
            },
            Expr::Name(n) if !keys.is_empty() => {
                keys.reverse();
                return Some((n.id.to_string(), keys));
            }
            _ => return None,
        }
    }
    None
}

/// `print(…)`, `logging.info(…)`, `logger.warning(…)`, `self.log.debug(…)`, `warnings.warn(…)`.
fn is_log_call(name: &str) -> bool {
    let (head, last) = name.rsplit_once('.').unwrap_or(("", name));
    if head.is_empty() {
        return matches!(last, "print" | "pprint");
    }
    if !matches!(
        last,
        "debug"
            | "info"
            | "warning"
            | "warn"
            | "error"
            | "exception"
            | "critical"
            | "fatal"
            | "log"
            | "echo"
            | "print"
    ) {
        return false;
    }
    let owner = head.rsplit('.').next().unwrap_or(head).to_ascii_lowercase();
    owner.contains("log") || owner == "warnings" || owner == "console" || owner == "click"
}

/// `Authorization: Bearer …` / `Basic …` in a call's arguments, or `auth=`: authentication that is
/// not an Access credential (reported, never counted as one).
fn auth_scheme(c: &ast::ExprCall, ctx: &Context) -> Option<String> {
    if c.arguments
        .keywords
        .iter()
        .any(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "auth"))
    {
        return Some("basic".into());
    }
    auth_of(c.arguments.keywords.iter().map(|k| &k.value), ctx)
}

fn auth_of<'e>(values: impl Iterator<Item = &'e Expr>, ctx: &Context) -> Option<String> {
    struct Finder<'c>(Option<String>, &'c Context);
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.0.is_some() {
                return;
            }
            if matches!(expr, Expr::Name(_) | Expr::Attribute(_)) && !self.1.auth_names.is_empty() {
                if let Some(scheme) = dotted(expr).and_then(|d| self.1.auth_names.get(&d)) {
                    self.0 = Some(scheme.clone());
                    return;
                }
            }
            let text = match expr {
                Expr::StringLiteral(s) => Some(s.value.to_str()),
                Expr::FString(f) => f.value.iter().next().map(|part| match part {
                    ast::FStringPart::Literal(l) => &*l.value,
                    ast::FStringPart::FString(fs) => {
                        fs.elements.literals().next().map_or("", |l| &*l.value)
                    }
                }),
                _ => None,
            };
            let starts = |t: &str, word: &str| {
                t.as_bytes()
                    .get(..word.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(word.as_bytes()))
            };
            match text.map(str::trim_start) {
                Some(t) if starts(t, "bearer ") => self.0 = Some("bearer".into()),
                Some(t) if starts(t, "basic ") => self.0 = Some("basic".into()),
                _ => walk_expr(self, expr),
            }
        }
    }
    let mut f = Finder(None, ctx);
    for v in values {
        f.visit_expr(v);
    }
    f.0
}

/// The authentication scheme a value carries (`{"Authorization": f"Bearer {key}"}`).
fn auth_in(value: &Expr, ctx: &Context) -> Option<String> {
    auth_of(std::iter::once(value), ctx)
}

/// The `for` clauses of a comprehension or generator expression.
fn comprehension_generators(expr: &Expr) -> Option<&[ast::Comprehension]> {
    match expr {
        Expr::ListComp(c) => Some(&c.generators),
        Expr::SetComp(c) => Some(&c.generators),
        Expr::DictComp(c) => Some(&c.generators),
        Expr::Generator(c) => Some(&c.generators),
        _ => None,
    }
}

/// `if False:` / `if 0:` — a block that never runs.
fn is_false(test: &Expr) -> bool {
    match test {
        Expr::BooleanLiteral(b) => !b.value,
        Expr::NumberLiteral(n) => matches!(&n.value, ast::Number::Int(i) if i.as_u8() == Some(0)),
        _ => false,
    }
}

/// A string literal or f-string at the root (the template of `%` / `.format`).
fn is_stringish(e: &Expr) -> bool {
    matches!(e, Expr::StringLiteral(_) | Expr::FString(_)) || matches!(e, Expr::Name(_))
}

/// Does a `+` chain contain a string literal or f-string?
fn contains_string(e: &Expr) -> bool {
    match e {
        Expr::StringLiteral(_) | Expr::FString(_) => true,
        Expr::BinOp(b) if b.op == Operator::Add => {
            contains_string(&b.left) || contains_string(&b.right)
        }
        _ => false,
    }
}

impl<'a> Visitor<'a> for Walker<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return;
        }
        self.record_span(stmt);
        match stmt {
            Stmt::FunctionDef(f) => self.function_def(f),
            Stmt::ClassDef(c) => {
                for d in &c.decorator_list {
                    self.visit_expr(&d.expression);
                }
                let scope = self.facts.push_scope(self.scope, ScopeKind::Class, &c.name);
                let saved = (self.scope, self.class.clone());
                self.class = Some((c.name.to_string(), scope));
                self.scope = scope;
                for s in &c.body {
                    self.visit_stmt(s);
                }
                (self.scope, self.class) = saved;
            }
            Stmt::Assign(a) if a.targets.len() == 1 => self.assign(&a.targets[0], &a.value),
            Stmt::AnnAssign(a) if a.value.is_some() => {
                if let Some(v) = &a.value {
                    self.assign(&a.target, v);
                }
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let (local, name) = match &a.asname {
                        Some(asname) => (asname.to_string(), None),
                        None => (a.name.split('.').next().unwrap_or("").to_string(), None),
                    };
                    let module = if a.asname.is_some() {
                        a.name.to_string()
                    } else {
                        local.clone()
                    };
                    self.facts.imports.push(Import {
                        local,
                        module,
                        name,
                    });
                }
            }
            Stmt::ImportFrom(i) => {
                let module = format!(
                    "{}{}",
                    ".".repeat(i.level as usize),
                    i.module.as_ref().map_or("", |m| m.as_str())
                );
                for a in &i.names {
                    let local = a.asname.as_ref().unwrap_or(&a.name).to_string();
                    self.facts.imports.push(Import {
                        local,
                        module: module.clone(),
                        name: Some(a.name.to_string()),
                    });
                }
            }
            // Docstrings and other bare string statements are not uses.
            Stmt::Expr(e) if matches!(&*e.value, Expr::StringLiteral(_)) => {}
            // Code that never runs.
            Stmt::If(i) if is_false(&i.test) => {
                for clause in &i.elif_else_clauses {
                    for s in &clause.body {
                        self.visit_stmt(s);
                    }
                }
            }
            // `with aiohttp.ClientSession(base_url=…) as session:` binds the object.
            Stmt::With(w) => {
                for item in &w.items {
                    let saved = self.assign_target.take();
                    if let Some(Expr::Name(n)) = item.optional_vars.as_deref() {
                        self.assign_target = Some(n.id.to_string());
                    }
                    self.visit_expr(&item.context_expr);
                    self.assign_target = saved;
                    if let Some(v) = &item.optional_vars {
                        self.visit_expr(v);
                    }
                }
                for s in &w.body {
                    self.visit_stmt(s);
                }
            }
            Stmt::Return(r) => {
                if let (Some(value), Some(f)) = (&r.value, self.current_fn) {
                    let lowered = self.lower(value, 0);
                    if !matches!(lowered, StrExpr::Unknown(_)) {
                        let at = StrExpr::At(self.pos(&**value), Box::new(lowered));
                        self.facts.functions[f].returns.push(at);
                    }
                }
                walk_stmt(self, stmt);
            }
            // `for url in ["http://…", …]:` — the loop variable takes each element.
            Stmt::For(f) => {
                if let Expr::Name(n) = &*f.target {
                    let value = self.lower(&f.iter, 0);
                    if !matches!(value, StrExpr::Unknown(_)) {
                        let pos = self.pos(&*f.iter);
                        self.bind(self.scope, n.id.to_string(), value, pos);
                    }
                    match &*f.iter {
                        // The elements are sent where the loop variable is.
                        Expr::List(_) | Expr::Tuple(_) | Expr::Set(_) => {
                            self.elements_bound_to(&f.iter, n.id.as_str())
                        }
                        // `for h in HOSTS:` — what is done with `h` is done with HOSTS' elements.
                        Expr::Name(list) => {
                            let scope = self
                                .facts
                                .scope_chain(self.scope)
                                .into_iter()
                                .find(|&s| {
                                    self.facts
                                        .bindings
                                        .iter()
                                        .any(|b| b.scope == s && b.name == list.id.as_str())
                                })
                                .unwrap_or(self.scope);
                            self.facts.aliases.push(crate::engine::ir::Alias {
                                scope,
                                from: list.id.to_string(),
                                to: n.id.to_string(),
                            });
                        }
                        _ => {}
                    }
                }
                self.visit_expr(&f.target);
                self.visit_expr(&f.iter);
                for s in f.body.iter().chain(&f.orelse) {
                    self.visit_stmt(s);
                }
            }
            _ => walk_stmt(self, stmt),
        }
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return;
        }
        let looked = !self.in_candidate && !self.in_log;
        if let Expr::Call(c) = expr {
            // The callee is named and qualified once, for the candidate test and the call.
            let ctx = self.ctx;
            let name = dotted(&c.func);
            let q = name.as_deref().map(|n| ctx.qualify(n));
            if looked && self.is_candidate_call(c, q.as_deref()) && self.unrecorded(expr) {
                self.candidate(expr);
            } else {
                self.call(c, name.as_deref(), q.as_deref());
            }
        } else if looked && self.is_candidate(expr) && self.unrecorded(expr) {
            self.candidate(expr);
        } else if let Expr::Named(n) = expr {
            self.assign(&n.target, &n.value);
        } else if let Some(generators) = comprehension_generators(expr) {
            // `{h: depth(h) for h in REPLICAS}`: the variable takes each element.
            for g in generators {
                if let Expr::Name(n) = &g.target {
                    let value = self.lower(&g.iter, 0);
                    if !matches!(value, StrExpr::Unknown(_)) {
                        let pos = self.pos(&g.iter);
                        self.bind(self.scope, n.id.to_string(), value, pos);
                    }
                }
            }
            walk_expr(self, expr);
        } else {
            walk_expr(self, expr);
        }
        self.depth -= 1;
    }
}
