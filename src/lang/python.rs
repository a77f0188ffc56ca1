//! Python front end: `ruff_python_parser` (Python 3.8–3.14, PEP 701 f-strings, t-strings, with error
//! recovery) → [`FileFacts`].
//!
//! Two passes over the syntax tree. The first collects file-wide context: imports, objects made by
//! client libraries (`session = requests.Session()`), names that carry an Access credential (a headers
//! dict, a session whose headers were updated, a function whose body adds the header) and argparse
//! arguments. The second records bindings, string-building candidates, calls and `docker exec`s.
//!
//! The parser sits behind [`parse`] alone, so it can be swapped without touching the extraction.

use std::collections::{HashMap, HashSet};

use ruff_python_ast::visitor::{walk_expr, walk_stmt, Visitor};
use ruff_python_ast::{self as ast, Expr, Operator, Stmt};
use ruff_text_size::Ranged;

use crate::ir::{
    Binding, Candidate, ExecSite, FileFacts, FormatStyle, Import, InputKind, Pos, ScopeKind,
    StrExpr, Use,
};
use crate::rules::RuleSet;
use crate::source::LineIndex;

/// Client libraries recognised at a call's root module.
const CLIENTS: &[(&str, &str)] = &[
    ("requests", "requests"),
    ("httpx", "httpx"),
    ("aiohttp", "aiohttp"),
    ("urllib.request", "urllib.request"),
    ("urllib3", "urllib3"),
    ("websocket", "websocket-client"),
    ("websockets", "websockets"),
    ("http.client", "http.client"),
];

const SUBPROCESS: &[&str] = &[
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "os.system",
    "os.popen",
    "asyncio.create_subprocess_exec",
    "asyncio.create_subprocess_shell",
];

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
    let mut ctx = Context::default();
    // Two rounds so that a name assigned from a credential name is one too.
    for _ in 0..2 {
        let mut pre = PrePass {
            rules,
            ctx: &mut ctx,
            function_depth: 0,
        };
        for stmt in &parsed.module.body {
            pre.visit_stmt(stmt);
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
        depth: 0,
    };
    for stmt in &parsed.module.body {
        walker.visit_stmt(stmt);
    }
    let mut facts = walker.facts;
    facts.credential_fns = ctx.credential_fns.iter().cloned().collect();
    facts.credential_fns.sort();
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
    imports: HashMap<String, String>,
    /// Variable → dotted constructor (`session` → `requests.Session`).
    objects: HashMap<String, String>,
    /// Names (variables, objects, functions) that carry an Access credential.
    credentialed: HashSet<String>,
    /// Functions whose body adds an Access credential.
    credential_fns: HashSet<String>,
    /// Variables holding a parsed JSON / TOML / YAML file (`cfg = json.load(f)`).
    config_vars: HashSet<String>,
    /// argparse destinations → default expression (if any).
    cli_args: HashMap<String, Option<Expr>>,
}

impl Context {
    /// `a.b.c` with the root import expanded (`req.get` → `requests.get`).
    fn qualify(&self, dotted: &str) -> String {
        // `self.session.post` → the object `self.session` was made by `requests.Session`.
        let mut prefix = dotted;
        while let Some((head, _)) = prefix.rsplit_once('.') {
            if let Some(ctor) = self.objects.get(head) {
                return format!("{ctor}{}", &dotted[head.len()..]);
            }
            prefix = head;
        }
        let (root, rest) = dotted.split_once('.').map_or((dotted, ""), |(r, s)| (r, s));
        let base = self
            .imports
            .get(root)
            .or_else(|| self.objects.get(root))
            .map_or(root, |s| s.as_str());
        if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}.{rest}")
        }
    }
}

/// `a.b.c` for a chain of names and attributes.
fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => dotted(&a.value).map(|d| format!("{d}.{}", a.attr.id)),
        _ => None,
    }
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

/// Does `expr` contain an Access credential: a credential header / cookie literal, a credentialed
/// name, or a call to a helper?
fn has_credential(expr: &Expr, rules: &RuleSet, ctx: &Context) -> bool {
    struct Finder<'b> {
        rules: &'b RuleSet,
        ctx: &'b Context,
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.found {
                return;
            }
            match expr {
                Expr::StringLiteral(s) if self.rules.is_credential_literal(s.value.to_str()) => {
                    self.found = true
                }
                Expr::FString(f) => {
                    for part in f.value.iter() {
                        let lit = match part {
                            ast::FStringPart::Literal(l) => Some(l.value.to_string()),
                            ast::FStringPart::FString(fs) => {
                                fs.elements.literals().next().map(|l| l.value.to_string())
                            }
                        };
                        if lit.is_some_and(|l| self.rules.is_credential_literal(&l)) {
                            self.found = true;
                        }
                    }
                    walk_expr(self, expr);
                }
                Expr::Name(n) if self.ctx.credentialed.contains(n.id.as_str()) => self.found = true,
                Expr::Attribute(a) if self.ctx.credentialed.contains(a.attr.as_str()) => {
                    self.found = true
                }
                Expr::Call(c) => {
                    if let Some(d) = dotted(&c.func) {
                        let last = d.rsplit('.').next().unwrap_or(&d);
                        if self.rules.helper_functions.contains(last)
                            || self.ctx.credentialed.contains(last)
                        {
                            self.found = true;
                            return;
                        }
                    }
                    walk_expr(self, expr);
                }
                _ => walk_expr(self, expr),
            }
        }
    }
    let mut f = Finder {
        rules,
        ctx,
        found: false,
    };
    f.visit_expr(expr);
    f.found
}

fn body_has_credential(body: &[Stmt], rules: &RuleSet, ctx: &Context) -> bool {
    struct Body<'b> {
        rules: &'b RuleSet,
        ctx: &'b Context,
        found: bool,
    }
    impl<'a> Visitor<'a> for Body<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if !self.found && has_credential(expr, self.rules, self.ctx) {
                self.found = true;
            }
        }
    }
    let mut b = Body {
        rules,
        ctx,
        found: false,
    };
    for s in body {
        b.visit_stmt(s);
    }
    b.found
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
                        self.ctx.credentialed.insert(local);
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
                        self.ctx.credentialed.insert(local);
                    }
                }
            }
            Stmt::FunctionDef(f) => {
                if body_has_credential(&f.body, self.rules, self.ctx) {
                    self.ctx.credentialed.insert(f.name.to_string());
                    self.ctx.credential_fns.insert(f.name.to_string());
                }
                self.function_depth += 1;
                walk_stmt(self, stmt);
                self.function_depth -= 1;
                return;
            }
            Stmt::Assign(a) => {
                let cred = has_credential(&a.value, self.rules, self.ctx);
                let ctor = match &*a.value {
                    Expr::Call(c) => dotted(&c.func).map(|d| self.ctx.qualify(&d)),
                    _ => None,
                };
                for t in &a.targets {
                    self.target_facts(t, cred, ctor.as_deref());
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    let cred = has_credential(v, self.rules, self.ctx);
                    let ctor = match &**v {
                        Expr::Call(c) => dotted(&c.func).map(|d| self.ctx.qualify(&d)),
                        _ => None,
                    };
                    self.target_facts(&a.target, cred, ctor.as_deref());
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let (Expr::Call(c), Some(var)) = (&item.context_expr, &item.optional_vars) {
                        if let (Some(d), Expr::Name(n)) = (dotted(&c.func), &**var) {
                            let q = self.ctx.qualify(&d);
                            self.ctx.objects.insert(n.id.to_string(), q);
                            if has_credential(&item.context_expr, self.rules, self.ctx) {
                                self.ctx.credentialed.insert(n.id.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(c) = expr {
            if let Some(d) = dotted(&c.func) {
                // session.headers.update({...}) / session.cookies.set(...)
                let parts: Vec<&str> = d.split('.').collect();
                if parts.len() >= 3
                    && matches!(parts[parts.len() - 2], "headers" | "cookies")
                    && c.arguments
                        .args
                        .iter()
                        .chain(c.arguments.keywords.iter().map(|k| &k.value))
                        .any(|a| has_credential(a, self.rules, self.ctx))
                {
                    self.ctx.credentialed.insert(parts[0].to_string());
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
    fn target_facts(&mut self, target: &Expr, cred: bool, ctor: Option<&str>) {
        match target {
            Expr::Name(n) if ctor.is_some_and(is_config_loader) => {
                self.ctx.config_vars.insert(n.id.to_string());
            }
            Expr::Name(n) => {
                if cred {
                    self.ctx.credentialed.insert(n.id.to_string());
                }
                if let Some(ctor) = ctor {
                    self.ctx.objects.insert(n.id.to_string(), ctor.to_string());
                }
            }
            Expr::Attribute(a) => {
                if cred {
                    self.ctx.credentialed.insert(a.attr.to_string());
                }
                if let (Some(ctor), Some(d)) = (ctor, dotted(target)) {
                    self.ctx.objects.insert(d, ctor.to_string());
                }
            }
            // session.headers["CF-Access-Client-Id"] = ...
            Expr::Subscript(s) => {
                if let (Some(d), true) = (
                    dotted(&s.value),
                    has_credential(&s.slice, self.rules, self.ctx),
                ) {
                    if let Some(root) = d.split('.').next() {
                        self.ctx.credentialed.insert(root.to_string());
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
    let kw = |name: &str| {
        c.arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
    };
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
    crate::eval::cli_binding(dest)
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
    depth: usize,
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
        let text: String = text.chars().take(40).collect();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
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
                    StrExpr::Ref(name)
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
            Expr::BoolOp(b) if b.op == ast::BoolOp::Or && b.values.len() == 2 => {
                // `os.getenv("X") or "http://…"`: the literal is the default.
                match self.lower(&b.values[0], d) {
                    StrExpr::Unknown(_) => self.lower(&b.values[1], d),
                    first => first.or_default(|| self.lower(&b.values[1], d)),
                }
            }
            Expr::If(i) => self.lower(&i.body, d),
            Expr::Subscript(s) => {
                if let (Some(base), Some(key)) = (dotted(&s.value), str_lit(&s.slice)) {
                    if self.ctx.qualify(&base) == "os.environ" {
                        return StrExpr::Input {
                            kind: InputKind::Env,
                            name: key.to_string(),
                            default: None,
                        };
                    }
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
        let kw = |name: &str| {
            c.arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        };
        // "…".format(...)
        if let Expr::Attribute(a) = &*c.func {
            match a.attr.as_str() {
                "format" if is_stringish(&a.value) => {
                    return StrExpr::Format {
                        template: Box::new(self.lower(&a.value, d)),
                        style: FormatStyle::Brace,
                        args: args.iter().map(|e| self.lower(e, d)).collect(),
                        named: c
                            .arguments
                            .keywords
                            .iter()
                            .filter_map(|k| {
                                Some((k.arg.as_ref()?.to_string(), self.lower(&k.value, d)))
                            })
                            .collect(),
                    }
                }
                "rstrip" | "strip" | "lstrip" | "lower" | "removesuffix" => {
                    return self.lower(&a.value, d)
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
        match q.as_str() {
            "str" | "int" if args.len() == 1 => self.lower(&args[0], d),
            "urllib.parse.urljoin" | "urljoin" if args.len() == 2 => {
                StrExpr::Concat(vec![self.lower(&args[0], d), self.lower(&args[1], d)])
            }
            _ => StrExpr::Unknown(self.label(expr)),
        }
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
            Expr::Call(c) => match &*c.func {
                Expr::Attribute(a) if a.attr.as_str() == "format" => is_stringish(&a.value),
                _ => {
                    self.is_env_call(expr)
                        && c.arguments.args.len() + c.arguments.keywords.len() >= 2
                }
            },
            _ => false,
        }
    }

    fn is_env_call(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Call(c) => dotted(&c.func).is_some_and(|d| is_env_read(&self.ctx.qualify(&d))),
            _ => false,
        }
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
        let name = match target {
            Expr::Name(n) => Some((n.id.to_string(), self.scope)),
            Expr::Attribute(_) => dotted(target).and_then(|d| {
                let class_scope = self.class.as_ref().map(|(_, s)| *s);
                match (d.split_once('.'), class_scope) {
                    (Some(("self" | "cls", _)), Some(cs)) => Some((d, cs)),
                    _ => None,
                }
            }),
            _ => None,
        };
        let Some((name, scope)) = name else {
            self.visit_expr(value);
            return;
        };
        let pos = self.pos(value);
        let lowered = self.lower(value, 0);
        self.bind(scope, name.clone(), lowered.clone(), pos);
        if self.facts.scopes[scope].kind == ScopeKind::Class && !name.contains('.') {
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
            self.bind(parent, format!("{class}.{name}"), lowered.clone(), pos);
        }
        if !self.in_candidate && self.is_candidate(value) {
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
    }

    fn call(&mut self, c: &ast::ExprCall) {
        let name = dotted(&c.func);
        let q = name.as_deref().map(|n| self.ctx.qualify(n));
        let args: Vec<&Expr> = c
            .arguments
            .args
            .iter()
            .chain(c.arguments.keywords.iter().map(|k| &k.value))
            .collect();
        let root = name
            .as_deref()
            .and_then(|n| n.split('.').next())
            .unwrap_or("");
        let last = name
            .as_deref()
            .and_then(|n| n.rsplit('.').next())
            .unwrap_or("");
        let helper = self.rules.helper_functions.contains(last)
            || (self.ctx.credentialed.contains(last) && !self.ctx.objects.contains_key(last))
            || (name.as_deref().is_some_and(|n| n.contains('.'))
                && self.ctx.credentialed.contains(root)
                && self.ctx.imports.contains_key(root));
        let credentialed = helper
            || (self.ctx.credentialed.contains(root) && name.as_deref().is_some_and(|n| n.contains('.')))
            // Credentials travel in keyword arguments (`headers=`, `cookies=`, `**kwargs`) or a dict
            // passed positionally; the URL argument itself is not evidence.
            || c.arguments.keywords.iter().any(|k| has_credential(&k.value, self.rules, self.ctx))
            || c.arguments.args.iter().skip(1).chain(c.arguments.args.first().filter(|a| matches!(a, Expr::Dict(_))))
                .any(|a| matches!(a, Expr::Dict(_) | Expr::Name(_) | Expr::Starred(_)) && has_credential(a, self.rules, self.ctx));
        let client = q.as_deref().and_then(|q| {
            CLIENTS
                .iter()
                .find(|(module, _)| q == *module || q.starts_with(&format!("{module}.")))
                .map(|(_, client)| client.to_string())
        });
        let client = client.or_else(|| helper.then(|| last.to_string()));
        let names = args.iter().filter_map(|a| dotted(a)).collect();
        self.facts.uses.push(Use {
            scope: self.scope,
            client,
            credentialed,
            names,
            callees: name.iter().cloned().collect(),
        });
        let id = self.facts.uses.len() - 1;

        if let Some(q) = &q {
            if SUBPROCESS.contains(&q.as_str()) {
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
        let kw = |names: &[&str]| {
            c.arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| names.contains(&a.as_str())))
                .map(|k| &k.value)
        };
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
                self.facts.candidates.push(Candidate {
                    expr,
                    pos,
                    scope: self.scope,
                    function: self.function.clone(),
                    bound_to: None,
                    consumer: Some(id),
                });
            }
        }

        let saved = (self.consumer, self.in_candidate);
        self.consumer = None;
        self.visit_expr(&c.func);
        self.consumer = Some(id);
        // Log and print messages are text, not uses of an address.
        if is_log_call(name.as_deref().unwrap_or("")) {
            self.in_candidate = true;
        }
        for a in c.arguments.args.iter() {
            self.visit_expr(a);
        }
        for k in c.arguments.keywords.iter() {
            if !skip.is_some_and(|d| std::ptr::eq(d, &k.value)) {
                self.visit_expr(&k.value);
            }
        }
        (self.consumer, self.in_candidate) = saved;
    }

    /// `subprocess.run(["docker", "exec", "comfyui", …])`, `os.system("docker compose exec …")`.
    fn exec(&mut self, c: &ast::ExprCall) {
        let Some(first) = c.arguments.args.first() else {
            return;
        };
        let words: Vec<String> = match first {
            Expr::List(l) => l.elts.iter().map(|e| self.literal_word(e)).collect(),
            Expr::Tuple(t) => t.elts.iter().map(|e| self.literal_word(e)).collect(),
            other => match self.literal_text(other) {
                Some(s) => s.split_whitespace().map(str::to_string).collect(),
                None => return,
            },
        };
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

    fn literal_text(&self, e: &Expr) -> Option<String> {
        let v = crate::eval::Evaluator::new(&self.facts).eval(
            &self.lower(e, 0),
            self.scope,
            self.pos(e),
        );
        Some(v.display())
    }

    fn literal_word(&self, e: &Expr) -> String {
        self.literal_text(e).unwrap_or_default()
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
    let owner = head.rsplit('.').next().unwrap_or(head).to_ascii_lowercase();
    let logger =
        owner.contains("log") || owner == "warnings" || owner == "console" || owner == "click";
    logger
        && matches!(
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
        )
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
        if !self.in_candidate && self.is_candidate(expr) {
            let lowered = self.lower(expr, 0);
            self.add_candidate(expr, lowered, None, self.scope);
            let saved = self.in_candidate;
            self.in_candidate = true;
            walk_expr(self, expr);
            self.in_candidate = saved;
        } else if let Expr::Call(c) = expr {
            self.call(c);
        } else if let Expr::Named(n) = expr {
            self.assign(&n.target, &n.value);
        } else {
            walk_expr(self, expr);
        }
        self.depth -= 1;
    }
}
