//! The constant evaluator: turns a [`StrExpr`] into the text it builds, following names through the
//! file's scopes, filling `.format` / `%` / `format!` templates and taking env and argument defaults.
//!
//! Whatever cannot be known statically becomes a *hole*: a `{name}` placeholder kept in the text
//! between private-use marker characters, so that later steps can tell a hole in the host from a
//! hole in the path. Evaluation is bounded in depth, so cycles (`A = B`, `B = A`) terminate.

use rustc_hash::FxHashMap as HashMap;
use std::cell::{Cell, OnceCell, RefCell};

use crate::engine::ir::{
    Binding, CallSite, FileFacts, FormatStyle, FunctionDef, InputKind, Pos, StrExpr,
};

/// Opens a hole in [`Value::text`].
pub const HOLE_OPEN: char = '\u{E000}';
/// Closes a hole in [`Value::text`].
pub const HOLE_CLOSE: char = '\u{E001}';

const MAX_DEPTH: usize = 24;
const MAX_LEN: usize = 4096;
/// Expressions visited for one [`Evaluator::eval`]: depth alone does not bound the work, since
/// `a = a + a + a` (or a chain of such bindings) fans out exponentially with depth.
const MAX_STEPS: usize = 20_000;
/// Sources kept for one value.
const MAX_SOURCES: usize = 256;
/// Values kept for one expression ([`Evaluator::eval_all`]): each choice (a conditional, a list a
/// loop runs over, a parameter's call sites, a function's returns) multiplies the values, so the
/// product is cut here.
pub const MAX_VALUES: usize = 16;

/// A call being evaluated: the callee's parameters take the call's arguments, evaluated where the
/// call is (call-site context, one level per call, bounded by the evaluation depth).
struct Frame<'f> {
    /// The callee's body scope.
    scope: usize,
    /// Positional arguments after the skipped `self`, keyword arguments.
    args: &'f [StrExpr],
    kwargs: &'f [(String, StrExpr)],
    /// Parameters of the callee, in order, and how many leading ones the call does not pass.
    params: &'f [String],
    offset: usize,
    caller_scope: usize,
    caller_pos: Pos,
    parent: Option<&'f Frame<'f>>,
}

/// Where part of a value came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    pub pos: Option<Pos>,
    /// For inputs: was a literal default used?
    pub has_default: bool,
    /// The file (report path) of a binding in another module; `None` for this file.
    pub file: Option<String>,
    /// The part of the value's text this source produced (byte offsets), when known.
    pub span: (usize, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A binding in the code (constant, variable, attribute).
    Binding,
    Env,
    CliArg,
    Param,
}

/// The evaluated text (holes between markers) and the sources it was built from, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Value {
    pub text: String,
    pub sources: Vec<Source>,
    /// `path:line` of the configuration entry that supplied an env var's value, if one did.
    pub env_source: Option<String>,
}

impl Value {
    /// The text with holes shown as `{name}`.
    pub fn display(&self) -> String {
        display_text(&self.text)
    }
    /// Nothing known: empty, or a single hole (`None`, an unset env var, an unknown call).
    pub fn is_unknown(&self) -> bool {
        self.text.is_empty()
            || (self.text.starts_with(HOLE_OPEN)
                && self.text.ends_with(HOLE_CLOSE)
                && self.text.matches(HOLE_OPEN).count() == 1)
    }
    fn push_hole(&mut self, label: &str) {
        self.text.push(HOLE_OPEN);
        self.text.push_str(label);
        self.text.push(HOLE_CLOSE);
    }
    fn append(&mut self, other: Value) {
        let offset = self.text.len();
        if self.text.len() < MAX_LEN {
            self.text.push_str(&other.text);
        }
        let room = MAX_SOURCES.saturating_sub(self.sources.len());
        self.sources
            .extend(other.sources.into_iter().take(room).map(|mut s| {
                if s.span != (0, 0) {
                    s.span = (s.span.0 + offset, s.span.1 + offset);
                }
                s
            }));
        if self.env_source.is_none() {
            self.env_source = other.env_source;
        }
    }
}

/// The binding name under which front ends record a command-line argument's default (`cli:server`),
/// found by any `x.server` reference.
pub fn cli_binding(field: &str) -> String {
    format!("cli:{field}")
}

/// Show holes as `{name}`.
pub fn display_text(text: &str) -> String {
    text.replace(HOLE_OPEN, "{").replace(HOLE_CLOSE, "}")
}

/// What lies outside the file being evaluated: constants of other modules of the project.
pub trait External {
    /// The value of `name` — a name imported into this file, or `module.NAME` / `module::NAME` — as
    /// its own module builds it. `depth` bounds chains of re-exports.
    fn import(&self, name: &str, depth: usize) -> Option<Value>;

    /// The values other modules pass to parameter `param` (at `index` among the positional
    /// arguments a caller writes) of `function` — a function of this file, or a class for its
    /// `__init__` — one per call site found.
    fn call_values(&self, _function: &str, _param: &str, _index: usize) -> Vec<Value> {
        Vec::new()
    }

    /// What `callee` — a function of another module, as written in this file — returns when
    /// called with these argument texts (`get_url("/prompt")` → `http://{host}/prompt`).
    fn call(&self, _callee: &str, _args: &[String], _kwargs: &[(String, String)]) -> Option<Value> {
        None
    }
}

/// One value for one env var, from a configuration file (`path:line` in `source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverride {
    pub var: String,
    pub value: String,
    pub source: String,
}

/// A file's functions by name and by body scope.
type FnIndex<'a> = (
    HashMap<&'a str, Vec<&'a FunctionDef>>,
    HashMap<usize, &'a FunctionDef>,
);

/// Evaluates expressions of one file.
pub struct Evaluator<'a> {
    facts: &'a FileFacts,
    external: Option<&'a dyn External>,
    env_override: Vec<EnvOverride>,
    /// Bindings by scope and name; built on the first lookup so that a file with tens of thousands
    /// of bindings is not searched linearly for every reference.
    by_name: OnceCell<HashMap<usize, HashMap<&'a str, Named<'a>>>>,
    /// Expressions visited by the current [`Evaluator::eval`] (see [`MAX_STEPS`]).
    steps: Cell<usize>,
    /// The choices made by the current evaluation: (option taken, options) per choice point, in
    /// the order they were met; [`Evaluator::eval_all`] walks them like an odometer.
    choices: RefCell<Vec<(usize, usize)>>,
    cursor: Cell<usize>,
    /// The call site chosen for a function's parameters in the current evaluation, so that the
    /// host and the port of one call go together.
    site_pick: RefCell<HashMap<usize, usize>>,
    /// Call sites of each function (by body scope), built on first use.
    sites: OnceCell<HashMap<usize, Vec<(usize, usize)>>>,
    /// Parameters take the values of the function's call sites (off: they are holes, as for a
    /// function called from elsewhere).
    follow_calls: bool,
    /// Functions by name and by body scope (built on first use).
    fn_index: OnceCell<FnIndex<'a>>,
}

/// The bindings of one name in one scope, in file order.
#[derive(Default)]
struct Named<'a> {
    all: Vec<&'a Binding>,
    /// Those whose value is not `Unknown` (preferred).
    known: Vec<&'a Binding>,
    /// Positions never decrease along `all` / `known`: the last one before a use is a binary search.
    all_sorted: bool,
    known_sorted: bool,
}

fn positions_sorted(v: &[&Binding]) -> bool {
    v.windows(2).all(|w| w[0].pos <= w[1].pos)
}

impl<'a> Evaluator<'a> {
    pub fn new(facts: &'a FileFacts) -> Evaluator<'a> {
        Evaluator {
            facts,
            external: None,
            env_override: Vec::new(),
            by_name: OnceCell::new(),
            steps: Cell::new(0),
            choices: RefCell::new(Vec::new()),
            cursor: Cell::new(0),
            site_pick: RefCell::new(HashMap::default()),
            sites: OnceCell::new(),
            follow_calls: true,
            fn_index: OnceCell::new(),
        }
    }

    fn fn_index(&self) -> &FnIndex<'a> {
        self.fn_index.get_or_init(|| {
            let mut by_name: HashMap<&'a str, Vec<&'a FunctionDef>> = HashMap::default();
            let mut by_scope = HashMap::default();
            for f in &self.facts.functions {
                by_name.entry(f.name.as_str()).or_default().push(f);
                by_scope.insert(f.scope, f);
            }
            (by_name, by_scope)
        })
    }

    /// Parameters are holes (or their defaults) instead of their call sites' values: the
    /// address a function builds for any caller.
    pub fn without_call_sites(mut self) -> Evaluator<'a> {
        self.follow_calls = false;
        self
    }

    /// Take one of `count` options at the next choice point of this evaluation.
    fn choose(&self, count: usize) -> usize {
        let i = self.cursor.get();
        self.cursor.set(i + 1);
        let mut choices = self.choices.borrow_mut();
        match choices.get_mut(i) {
            Some(c) => {
                c.1 = count;
                c.0.min(count.saturating_sub(1))
            }
            None => {
                choices.push((0, count));
                0
            }
        }
    }

    /// Every value `expr` can take (at most [`MAX_VALUES`], distinct texts), in a stable order.
    pub fn eval_all(&self, expr: &StrExpr, scope: usize, at: Pos) -> Vec<Value> {
        self.choices.borrow_mut().clear();
        let mut out: Vec<Value> = Vec::new();
        for _ in 0..MAX_VALUES * 4 {
            self.cursor.set(0);
            self.steps.set(0);
            self.site_pick.borrow_mut().clear();
            let v = self.eval_depth(expr, scope, at, 0, None);
            if !out.iter().any(|o| o.text == v.text) {
                out.push(v);
            }
            if out.len() >= MAX_VALUES || !self.advance() {
                break;
            }
        }
        self.choices.borrow_mut().clear();
        out
    }

    /// Move the odometer to the next combination of choices; `false` when all were taken.
    fn advance(&self) -> bool {
        let mut choices = self.choices.borrow_mut();
        // Choice points past the cursor were not met by the last run.
        let met = self.cursor.get().min(choices.len());
        choices.truncate(met);
        while let Some(last) = choices.last_mut() {
            if last.0 + 1 < last.1 {
                last.0 += 1;
                return true;
            }
            choices.pop();
        }
        false
    }

    /// The function whose body is `scope`.
    fn function_of(&self, scope: usize) -> Option<&'a FunctionDef> {
        self.fn_index().1.get(&scope).copied()
    }

    /// The function a call written as `callee` in `scope` reaches, and how many leading
    /// parameters the call does not pass (`self`).
    pub fn callee(&self, callee: &str, scope: usize) -> Option<(&'a FunctionDef, usize)> {
        if self.facts.functions.is_empty() {
            return None;
        }
        let fns = &self.facts.functions;
        let by_name = &self.fn_index().0;
        let method = |class: &str, name: &str| {
            let q = format!("{class}.{name}");
            by_name.get(q.as_str()).and_then(|v| v.first().copied())
        };
        match callee.rsplit_once('.') {
            None => {
                if let Some(f) = by_name
                    .get(callee)
                    .and_then(|v| v.iter().find(|f| !f.method).copied())
                {
                    return Some((f, 0));
                }
                // `Client(...)` calls `Client.__init__`.
                method(callee, "__init__").map(|f| (f, 1))
            }
            Some((recv, name)) => {
                if matches!(recv, "self" | "cls") {
                    let class = self.enclosing_class(scope)?;
                    return method(&class, name).map(|f| (f, usize::from(f.method)));
                }
                if let Some(f) = method(recv, name) {
                    return Some((f, usize::from(f.method)));
                }
                // `client.send(...)` on an object of a class of this file: the one class that
                // defines the method, unless the receiver is an imported module.
                if self
                    .facts
                    .imports
                    .iter()
                    .any(|i| i.local == recv.split('.').next().unwrap_or(recv))
                {
                    return None;
                }
                let suffix = format!(".{name}");
                let mut found = fns.iter().filter(|f| f.method && f.name.ends_with(&suffix));
                let f = found.next()?;
                found.next().is_none().then_some((f, 1))
            }
        }
    }

    /// `SETTINGS.comfy_host` where `SETTINGS = ComfySettings()` (a class of this file) →
    /// `ComfySettings.comfy_host`, when that class binds the attribute.
    fn through_instance(&self, name: &str, scope: usize, at: Pos) -> Option<String> {
        let (head, attr) = name.split_once('.')?;
        let b = self.lookup(head, scope, at)?;
        let StrExpr::Call { callee, .. } = &b.value else {
            return None;
        };
        // A Rust constructor (`Settings::default`) names its type before `::`.
        let (ty, rust) = match callee.split_once("::") {
            Some((ty, _)) => (ty, true),
            None => (callee.as_str(), false),
        };
        let is_class = rust
            || self
                .facts
                .scopes
                .iter()
                .any(|s| s.kind == crate::engine::ir::ScopeKind::Class && s.name == *callee);
        let target = format!("{ty}.{attr}");
        (is_class && self.lookup(&target, scope, at).is_some()).then_some(target)
    }

    /// The class whose method `scope` is (or is inside).
    fn enclosing_class(&self, scope: usize) -> Option<String> {
        let scopes = &self.facts.scopes;
        self.facts
            .scope_chain(scope)
            .into_iter()
            .find(|&s| scopes[s].kind == crate::engine::ir::ScopeKind::Class)
            .map(|s| scopes[s].name.clone())
    }

    /// Call sites of the function whose body is `scope`: (index into calls, parameters skipped).
    fn sites_of(&self, scope: usize) -> &[(usize, usize)] {
        let sites = self.sites.get_or_init(|| {
            let mut m: HashMap<usize, Vec<(usize, usize)>> = HashMap::default();
            for (i, c) in self.facts.calls.iter().enumerate() {
                if let Some((f, offset)) = self.callee(&c.callee, c.scope) {
                    m.entry(f.scope).or_default().push((i, offset));
                }
            }
            m
        });
        sites.get(&scope).map_or(&[], Vec::as_slice)
    }

    /// Resolve names this file does not bind through other modules.
    pub fn with_external(mut self, external: &'a dyn External) -> Evaluator<'a> {
        self.external = Some(external);
        self
    }

    /// Give env vars values from configuration files (one value per var).
    pub fn with_env(mut self, env: Vec<EnvOverride>) -> Evaluator<'a> {
        self.env_override = env;
        self
    }

    fn env_value(&self, kind: InputKind, var: &str) -> Option<&EnvOverride> {
        if kind != InputKind::Env {
            return None;
        }
        self.env_override.iter().find(|o| o.var == var)
    }

    /// A name this file does not bind: `Self::X` / `config::X` by its last segment here, else
    /// through the project's other modules.
    fn outside(&self, name: &str, scope: usize, at: Pos, depth: usize) -> Option<Value> {
        if let Some((_, last)) = name.rsplit_once("::") {
            if self.lookup(last, scope, at).is_some() {
                return Some(self.eval_depth(
                    &StrExpr::Ref(last.to_string()),
                    scope,
                    at,
                    depth + 1,
                    None,
                ));
            }
        }
        self.external?.import(name, depth + 1)
    }

    /// A call of another module's function: its return, with the arguments' texts bound to its
    /// parameters. Only address-shaped results count (a hole in the middle of a URL is better
    /// than a guess from an unrelated helper).
    #[allow(clippy::too_many_arguments)]
    fn call_outside(
        &self,
        callee: &str,
        args: &[StrExpr],
        kwargs: &[(String, StrExpr)],
        scope: usize,
        at: Pos,
        depth: usize,
        frame: Option<&Frame>,
    ) -> Option<Value> {
        let ext = self.external?;
        if depth > MAX_DEPTH / 2 {
            return None;
        }
        let text = |e: &StrExpr| self.eval_depth(e, scope, at, depth + 1, frame).text;
        let argv: Vec<String> = args.iter().map(text).collect();
        let kwv: Vec<(String, String)> = kwargs.iter().map(|(k, e)| (k.clone(), text(e))).collect();
        ext.call(callee, &argv, &kwv)
            .filter(|v| v.text.contains("://"))
    }

    /// What module-level function `function` of this file returns for these argument texts.
    pub fn eval_return(
        &self,
        function: &str,
        args: &[String],
        kwargs: &[(String, String)],
    ) -> Option<Value> {
        let (f, offset) = self.callee(function, 0)?;
        let ret = f.returns.first()?;
        let args: Vec<StrExpr> = args.iter().map(|a| StrExpr::Lit(a.clone())).collect();
        let kwargs: Vec<(String, StrExpr)> = kwargs
            .iter()
            .map(|(k, a)| (k.clone(), StrExpr::Lit(a.clone())))
            .collect();
        let frame = Frame {
            scope: f.scope,
            args: &args,
            kwargs: &kwargs,
            params: &f.params,
            offset,
            caller_scope: 0,
            caller_pos: Pos { line: 0, column: 0 },
            parent: None,
        };
        let far = Pos {
            line: u32::MAX,
            column: 0,
        };
        Some(self.eval_depth(ret, f.scope, far, 1, Some(&frame)))
    }

    fn named(&self, scope: usize, name: &str) -> Option<&Named<'a>> {
        let index = self.by_name.get_or_init(|| {
            let mut m: HashMap<usize, HashMap<&'a str, Named<'a>>> = HashMap::default();
            for b in &self.facts.bindings {
                let n = m
                    .entry(b.scope)
                    .or_default()
                    .entry(b.name.as_str())
                    .or_default();
                n.all.push(b);
                if !matches!(b.value, StrExpr::Unknown(_)) {
                    n.known.push(b);
                }
            }
            for n in m.values_mut().flat_map(|by| by.values_mut()) {
                n.all_sorted = positions_sorted(&n.all);
                n.known_sorted = positions_sorted(&n.known);
            }
            m
        });
        index.get(&scope).and_then(|by| by.get(name))
    }

    /// Evaluate `expr` as seen from `scope` at `at`.
    pub fn eval(&self, expr: &StrExpr, scope: usize, at: Pos) -> Value {
        self.steps.set(0);
        self.cursor.set(0);
        self.choices.borrow_mut().clear();
        self.site_pick.borrow_mut().clear();
        let v = self.eval_depth(expr, scope, at, 0, None);
        self.choices.borrow_mut().clear();
        v
    }

    /// The binding `name` refers to from `scope` at `at`, if any.
    pub fn lookup(&self, name: &str, scope: usize, at: Pos) -> Option<&'a Binding> {
        for s in self.facts.scope_chain(scope) {
            let Some(n) = self.named(s, name) else {
                continue;
            };
            // Bindings with a known value first, else any.
            let (found, sorted) = if n.known.is_empty() {
                (&n.all, n.all_sorted)
            } else {
                (&n.known, n.known_sorted)
            };
            if found.is_empty() {
                continue;
            }
            if s == scope {
                // Same scope: the last assignment before the use, else the first one. An
                // assignment's own value sees the one before it (`addr = f"http://{addr}"`).
                let before = if sorted {
                    let i = found.partition_point(|b| b.pos < at);
                    i.checked_sub(1).map(|i| found[i])
                } else {
                    found.iter().rev().find(|b| b.pos < at).copied()
                };
                if let Some(b) = before {
                    return Some(b);
                }
            }
            return found.first().copied();
        }
        // `args.server` where a command-line parser declares `server` (`cli:server`, see
        // [`cli_binding`]): the variable holding the parsed arguments can have any name.
        match name.rsplit_once('.') {
            Some((_, field)) if !field.is_empty() => {
                let cli = cli_binding(field);
                self.named(0, &cli).and_then(|n| n.all.first().copied())
            }
            _ => None,
        }
    }

    fn eval_depth(
        &self,
        expr: &StrExpr,
        scope: usize,
        at: Pos,
        depth: usize,
        frame: Option<&Frame>,
    ) -> Value {
        let mut v = Value::default();
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if depth > MAX_DEPTH || steps > MAX_STEPS {
            v.push_hole("…");
            return v;
        }
        let sub = |e: &StrExpr| self.eval_depth(e, scope, at, depth + 1, frame);
        match expr {
            StrExpr::Lit(s) => v.text.push_str(s),
            StrExpr::Int(i) => v.text.push_str(&i.to_string()),
            StrExpr::Concat(parts) => {
                for p in parts {
                    v.append(sub(p));
                }
            }
            StrExpr::Unknown(label) => v.push_hole(label),
            StrExpr::Choice(options) => {
                if !options.is_empty() {
                    let i = self.choose(options.len());
                    v.append(sub(&options[i]));
                }
            }
            StrExpr::Or(a, b) => {
                let first = sub(a);
                if first.is_unknown() {
                    let mut second = sub(b);
                    // Keep what the first side was made of (an env var read before the default);
                    // a call of another module that gave nothing adds nothing.
                    if !matches!(**a, StrExpr::Call { .. }) {
                        let mut sources: Vec<Source> = first
                            .sources
                            .into_iter()
                            .map(|s| Source { span: (0, 0), ..s })
                            .collect();
                        sources.append(&mut second.sources);
                        second.sources = sources;
                    }
                    v.append(second);
                } else {
                    v.append(first);
                }
            }
            StrExpr::Scoped(s, e) => {
                let far = Pos {
                    line: u32::MAX,
                    column: 0,
                };
                v.append(self.eval_depth(e, *s, far, depth + 1, frame));
            }
            StrExpr::At(pos, e) => {
                v.sources.push(Source {
                    name: String::new(),
                    kind: SourceKind::Binding,
                    pos: Some(*pos),
                    has_default: false,
                    file: None,
                    span: (0, 0),
                });
                v.append(sub(e));
                v.sources[0].span = (0, v.text.len());
            }
            StrExpr::Join { sep, parts } => {
                for (i, p) in parts.iter().enumerate() {
                    let piece = sub(p);
                    if i > 0 {
                        let ends = v.text.ends_with(sep.as_str());
                        let starts = piece.text.starts_with(sep.as_str());
                        match (ends, starts) {
                            (true, true) => {
                                v.text.truncate(v.text.len() - sep.len());
                            }
                            (false, false) if !v.text.is_empty() => v.text.push_str(sep),
                            _ => {}
                        }
                    }
                    v.append(piece);
                }
            }
            StrExpr::UrlIn(inner) => {
                let mut inner = sub(inner);
                let lower = inner.text.to_ascii_lowercase();
                let start = ["https://", "http://", "wss://", "ws://"]
                    .iter()
                    .filter_map(|s| lower.find(s))
                    .min();
                if let Some(drop) = start.filter(|&d| d > 0) {
                    inner.text.drain(..drop);
                    for s in &mut inner.sources {
                        s.span = (s.span.0.saturating_sub(drop), s.span.1.saturating_sub(drop));
                    }
                }
                v.append(inner);
            }
            StrExpr::Strip {
                inner,
                chars,
                start,
                end,
            } => {
                let mut inner = sub(inner);
                let cut = |c: char| {
                    c != HOLE_OPEN
                        && c != HOLE_CLOSE
                        && if chars.is_empty() {
                            c.is_whitespace()
                        } else {
                            chars.contains(c)
                        }
                };
                if *end {
                    let keep = inner.text.trim_end_matches(cut).len();
                    inner.text.truncate(keep);
                    for s in &mut inner.sources {
                        s.span = (s.span.0.min(keep), s.span.1.min(keep));
                    }
                }
                if *start {
                    let drop = inner.text.len() - inner.text.trim_start_matches(cut).len();
                    inner.text.drain(..drop);
                    for s in &mut inner.sources {
                        s.span = (s.span.0.saturating_sub(drop), s.span.1.saturating_sub(drop));
                    }
                }
                v.append(inner);
            }
            StrExpr::Replace { inner, from, to } => {
                let mut inner = sub(inner);
                if !from.is_empty() {
                    inner.text = inner.text.replace(from.as_str(), to);
                    let len = inner.text.len();
                    for s in &mut inner.sources {
                        s.span = (s.span.0.min(len), s.span.1.min(len));
                    }
                }
                v.append(inner);
            }
            StrExpr::Call {
                callee,
                args,
                kwargs,
            } => match self.callee(callee, scope) {
                Some((f, offset)) if !f.returns.is_empty() => {
                    let i = self.choose(f.returns.len());
                    let inner = Frame {
                        scope: f.scope,
                        args,
                        kwargs,
                        params: &f.params,
                        offset,
                        caller_scope: scope,
                        caller_pos: at,
                        parent: frame,
                    };
                    let far = Pos {
                        line: u32::MAX,
                        column: 0,
                    };
                    v.append(self.eval_depth(&f.returns[i], f.scope, far, depth + 1, Some(&inner)));
                }
                _ => match self
                    .call_outside(callee, args, kwargs, scope, at, depth, frame)
                    .or_else(|| self.outside(callee, scope, at, depth))
                {
                    Some(found) => v.append(found),
                    None => v.push_hole(&format!("{callee}()")),
                },
            },
            StrExpr::Input {
                kind,
                name,
                default,
            } => {
                let source = |has_default| Source {
                    name: name.clone(),
                    kind: kind_of(*kind),
                    pos: None,
                    has_default,
                    file: None,
                    span: (0, 0),
                };
                // A value for this env var from an env file / compose / manifest.
                if let Some(o) = self.env_value(*kind, name) {
                    v.sources.push(source(true));
                    v.text.push_str(&o.value);
                    v.env_source = Some(o.source.clone());
                    return v;
                }
                match default {
                    Some(d) => {
                        v.sources.push(source(true));
                        v.append(sub(d));
                    }
                    None => {
                        v.sources.push(source(false));
                        v.push_hole(name);
                    }
                }
            }
            StrExpr::Ref(name) => match self.lookup(name, scope, at) {
                Some(b) => {
                    let own = v.sources.len();
                    v.sources.push(Source {
                        name: name.clone(),
                        kind: SourceKind::Binding,
                        pos: Some(b.pos),
                        has_default: false,
                        file: None,
                        span: (0, 0),
                    });
                    match &b.value {
                        // A parameter: the value passed by the call being evaluated, else by any
                        // call site of the function, else its default.
                        StrExpr::Input {
                            kind: InputKind::Param,
                            name: param,
                            default,
                        } => v.append(self.param(b, param, default.as_deref(), name, depth, frame)),
                        // `X = os.environ["X"]`: the hole is named after the reference, the source is the env var.
                        StrExpr::Input {
                            kind,
                            name: input,
                            default: None,
                        } => match self.env_value(*kind, input) {
                            Some(o) => {
                                v.sources.push(Source {
                                    name: input.clone(),
                                    kind: SourceKind::Env,
                                    pos: Some(b.pos),
                                    has_default: true,
                                    file: None,
                                    span: (0, 0),
                                });
                                v.text.push_str(&o.value);
                                v.env_source = Some(o.source.clone());
                            }
                            None => {
                                v.sources.push(Source {
                                    name: input.clone(),
                                    kind: kind_of(*kind),
                                    pos: Some(b.pos),
                                    has_default: false,
                                    file: None,
                                    span: (0, 0),
                                });
                                v.push_hole(name);
                            }
                        },
                        // `client_id = str(uuid.uuid4())`: the hole is named after the variable.
                        StrExpr::Unknown(_) => v.push_hole(name),
                        value => {
                            let at = if b.scope == scope {
                                b.pos
                            } else {
                                Pos {
                                    line: u32::MAX,
                                    column: 0,
                                }
                            };
                            let got = self.eval_depth(value, b.scope, at, depth + 1, frame);
                            // `x = quote(arg)` with `quote` from another module: what it returns
                            // when that is known, else a hole named after the variable too.
                            let imported_call = matches!(value, StrExpr::Or(c, f)
                                if matches!(**c, StrExpr::Call { .. })
                                    && matches!(**f, StrExpr::Unknown(_)));
                            if imported_call && got.is_unknown() {
                                v.push_hole(name);
                            } else {
                                v.append(got);
                            }
                        }
                    }
                    v.sources[own].span = (0, v.text.len());
                    // `args.host` read through a command-line parser's field: a CLI argument.
                    if let Some(field) = b.name.strip_prefix("cli:").filter(|_| b.name != *name) {
                        v.sources.push(Source {
                            name: field.to_string(),
                            kind: SourceKind::CliArg,
                            pos: None,
                            has_default: true,
                            file: None,
                            span: (0, v.text.len()),
                        });
                    }
                }
                None => match self
                    .through_instance(name, scope, at)
                    .map(|n| self.eval_depth(&StrExpr::Ref(n), scope, at, depth + 1, frame))
                    .or_else(|| self.outside(name, scope, at, depth))
                {
                    Some(found) => v.append(found),
                    None => v.push_hole(name),
                },
            },
            StrExpr::Format {
                template,
                style,
                args,
                named,
            } => {
                let t = sub(template);
                v.sources.extend(t.sources);
                let arg = |i: usize| args.get(i).map(sub);
                let named_arg = |n: &str| {
                    named
                        .iter()
                        .find(|(k, _)| k == n)
                        .map(|(_, a)| sub(a))
                        .or_else(|| match n.parse::<usize>() {
                            Ok(i) => arg(i),
                            // Rust inline captures and Python `{name}` from the surrounding scope.
                            Err(_) => Some(sub(&StrExpr::Ref(n.to_string()))),
                        })
                };
                match style {
                    FormatStyle::Brace => fill_brace(&t.text, &mut v, arg, named_arg),
                    FormatStyle::Percent => fill_percent(&t.text, &mut v, arg, named_arg),
                }
            }
        }
        v
    }

    /// The value of parameter `param` (bound by `b` in the function's scope), read as `name`.
    fn param(
        &self,
        b: &Binding,
        param: &str,
        default: Option<&StrExpr>,
        name: &str,
        depth: usize,
        frame: Option<&Frame>,
    ) -> Value {
        let far = Pos {
            line: u32::MAX,
            column: 0,
        };
        let passed = |args: &[StrExpr], kwargs: &[(String, StrExpr)], params: &[String], offset| {
            kwargs
                .iter()
                .find(|(k, _)| k == param)
                .map(|(_, e)| e.clone())
                .or_else(|| {
                    let i = params.iter().position(|p| p == param)?;
                    args.get(i.checked_sub(offset)?).cloned()
                })
        };
        let fallback = || -> Value {
            match default {
                Some(d) => {
                    let mut v = Value::default();
                    v.sources.push(Source {
                        name: param.to_string(),
                        kind: SourceKind::Param,
                        pos: Some(b.pos),
                        has_default: true,
                        file: None,
                        span: (0, 0),
                    });
                    v.append(self.eval_depth(d, b.scope, far, depth + 1, None));
                    v.sources[0].span = (0, v.text.len());
                    v
                }
                None => {
                    let mut v = Value::default();
                    v.sources.push(Source {
                        name: param.to_string(),
                        kind: SourceKind::Param,
                        pos: Some(b.pos),
                        has_default: false,
                        file: None,
                        span: (0, 0),
                    });
                    v.push_hole(name);
                    v
                }
            }
        };
        // A value nobody knows statically keeps the parameter's name (`{prompt_id}`, not
        // `{queue_prompt()}`), with what it was made of.
        let named = |mut v: Value| {
            if v.is_unknown() {
                v.text.clear();
                v.push_hole(name);
            }
            v
        };
        // Inside a call being evaluated: that call's argument.
        if let Some(f) = frame.filter(|f| f.scope == b.scope) {
            return match passed(f.args, f.kwargs, f.params, f.offset) {
                Some(e) => {
                    named(self.eval_depth(&e, f.caller_scope, f.caller_pos, depth + 1, f.parent))
                }
                None => fallback(),
            };
        }
        let Some(func) = self.function_of(b.scope) else {
            return fallback();
        };
        let sites = if self.follow_calls {
            self.sites_of(b.scope)
        } else {
            &[]
        };
        if sites.is_empty() {
            // Called from other modules: a module-level function, or a class's `__init__`.
            let exported = match func.name.split_once('.') {
                None => Some((func.name.as_str(), 0)),
                Some((class, "__init__")) if !class.contains('.') => Some((class, 1)),
                _ => None,
            };
            if let (Some((function, offset)), Some(ext), true) =
                (exported, self.external, self.follow_calls)
            {
                let index = func.params.iter().position(|p| p == param);
                let values = index
                    .and_then(|i| i.checked_sub(offset))
                    .map_or_else(Vec::new, |i| ext.call_values(function, param, i));
                if !values.is_empty() {
                    let i = self.choose(values.len());
                    return named(values.into_iter().nth(i).unwrap_or_default());
                }
            }
            return fallback();
        }
        let pick = *self
            .site_pick
            .borrow_mut()
            .entry(b.scope)
            .or_insert_with(|| usize::MAX);
        let pick = if pick == usize::MAX {
            let p = self.choose(sites.len());
            self.site_pick.borrow_mut().insert(b.scope, p);
            p
        } else {
            pick
        };
        let (ci, offset) = sites[pick.min(sites.len() - 1)];
        let call: &CallSite = &self.facts.calls[ci];
        match passed(&call.args, &call.kwargs, &func.params, offset) {
            Some(e) => named(self.eval_depth(&e, call.scope, call.pos, depth + 1, None)),
            None => fallback(),
        }
    }
}

fn kind_of(k: InputKind) -> SourceKind {
    match k {
        InputKind::Env => SourceKind::Env,
        InputKind::CliArg => SourceKind::CliArg,
        InputKind::Param => SourceKind::Param,
    }
}

/// Fill a `{}` template.
fn fill_brace(
    template: &str,
    out: &mut Value,
    arg: impl Fn(usize) -> Option<Value>,
    named: impl Fn(&str) -> Option<Value>,
) {
    let mut next = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.text.push('}');
            }
            '{' => {
                let mut field = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    field.push(c);
                }
                if !closed {
                    out.text.push('{');
                    out.text.push_str(&field);
                    continue;
                }
                // `name!r:spec` → `name`; `name.attr` / `name[0]` keep the base name.
                let name = field.split([':', '!']).next().unwrap_or("").trim();
                let base = name.split(['.', '[']).next().unwrap_or("");
                let value = if name.is_empty() {
                    next += 1;
                    arg(next - 1)
                } else if base != name {
                    None
                } else {
                    named(name)
                };
                match value {
                    Some(v) => out.append(v),
                    None => out.push_hole(if name.is_empty() { "?" } else { name }),
                }
            }
            c => out.text.push(c),
        }
    }
}

/// Fill a `%s` template.
fn fill_percent(
    template: &str,
    out: &mut Value,
    arg: impl Fn(usize) -> Option<Value>,
    named: impl Fn(&str) -> Option<Value>,
) {
    let mut next = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.text.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.text.push('%');
            continue;
        }
        let mut key = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let k: String = chars.by_ref().take_while(|&c| c != ')').collect();
            key = Some(k);
        }
        // flags, width, precision, length modifier
        while chars
            .peek()
            .is_some_and(|c| "#0- +.*0123456789hlL".contains(*c))
        {
            chars.next();
        }
        let conv = chars.next();
        if conv.is_none() {
            out.text.push('%');
            break;
        }
        let value = match &key {
            Some(k) => named(k),
            None => {
                next += 1;
                arg(next - 1)
            }
        };
        match value {
            Some(v) => out.append(v),
            None => out.push_hole(key.as_deref().unwrap_or("?")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ir::{Binding, FileFacts};

    fn lit(s: &str) -> StrExpr {
        StrExpr::Lit(s.into())
    }
    fn at(line: u32) -> Pos {
        Pos { line, column: 1 }
    }

    fn facts_with(bindings: Vec<(&str, StrExpr, u32)>) -> FileFacts {
        let mut f = FileFacts::new();
        for (name, value, line) in bindings {
            f.bindings.push(Binding {
                scope: 0,
                name: name.into(),
                value,
                pos: at(line),
            });
        }
        f
    }

    #[test]
    fn exponential_fan_out_is_bounded() {
        // `a0 = 'x'; a1 = a0 + … + a0; …; a11 = a10 + … + a10` (8 terms each) would take 8^11 steps.
        let mut bindings = vec![("a0".to_string(), lit("http://x:8188/"), 1)];
        for i in 1..=11u32 {
            let r = StrExpr::Ref(format!("a{}", i - 1));
            bindings.push((format!("a{i}"), StrExpr::Concat(vec![r; 8]), i + 1));
        }
        // And a self-reference: `b = b + b + b`.
        let b = StrExpr::Ref("b".into());
        bindings.push((
            "b".into(),
            StrExpr::Concat(vec![b.clone(), b.clone(), b]),
            50,
        ));
        let mut f = FileFacts::new();
        for (name, value, line) in bindings {
            f.bindings.push(Binding {
                scope: 0,
                name,
                value,
                pos: at(line),
            });
        }
        let ev = Evaluator::new(&f);
        let start = std::time::Instant::now();
        let v = ev.eval(&StrExpr::Ref("a11".into()), 0, at(99));
        assert!(v.display().starts_with("http://x:8188/"));
        assert!(v.text.len() <= 64 * MAX_LEN && v.sources.len() <= MAX_SOURCES);
        let v = ev.eval(&StrExpr::Ref("b".into()), 0, at(99));
        assert!(v.text.contains('…'));
        // The budget is per evaluation: the next one starts afresh.
        assert_eq!(ev.eval(&lit("x"), 0, at(1)).display(), "x");
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn format_with_a_module_constant() {
        let f = facts_with(vec![("server_address", lit("127.0.0.1:8188"), 1)]);
        let e = StrExpr::Format {
            template: Box::new(lit("http://{}/prompt")),
            style: FormatStyle::Brace,
            args: vec![StrExpr::Ref("server_address".into())],
            named: vec![],
        };
        let v = Evaluator::new(&f).eval(&e, 0, at(5));
        assert_eq!(v.display(), "http://127.0.0.1:8188/prompt");
        assert_eq!(v.sources[0].pos, Some(at(1)));
    }

    #[test]
    fn percent_with_tuple_and_escape() {
        let f = facts_with(vec![
            ("HOST", lit("comfyui"), 1),
            ("PORT", StrExpr::Int(8188), 2),
        ]);
        let e = StrExpr::Format {
            template: Box::new(lit("http://%s:%d/queue?x=100%%")),
            style: FormatStyle::Percent,
            args: vec![StrExpr::Ref("HOST".into()), StrExpr::Ref("PORT".into())],
            named: vec![],
        };
        assert_eq!(
            Evaluator::new(&f).eval(&e, 0, at(9)).display(),
            "http://comfyui:8188/queue?x=100%"
        );
    }

    #[test]
    fn inline_captures_and_positional_indexes() {
        let f = facts_with(vec![("host", lit("localhost"), 1)]);
        let e = StrExpr::Format {
            template: Box::new(lit("http://{host}:{0}/history/{prompt_id:?}{{x}}")),
            style: FormatStyle::Brace,
            args: vec![StrExpr::Int(8188)],
            named: vec![],
        };
        assert_eq!(
            Evaluator::new(&f).eval(&e, 0, at(9)).display(),
            "http://localhost:8188/history/{prompt_id}{x}"
        );
    }

    #[test]
    fn env_without_default_is_a_hole_named_after_the_reference() {
        let f = facts_with(vec![(
            "base",
            StrExpr::Input {
                kind: InputKind::Env,
                name: "COMFYUI_URL".into(),
                default: None,
            },
            1,
        )]);
        let e = StrExpr::Concat(vec![StrExpr::Ref("base".into()), lit("/prompt")]);
        let v = Evaluator::new(&f).eval(&e, 0, at(3));
        assert_eq!(v.display(), "{base}/prompt");
        assert!(v
            .sources
            .iter()
            .any(|s| s.kind == SourceKind::Env && s.name == "COMFYUI_URL" && !s.has_default));
    }

    #[test]
    fn env_default_is_used() {
        let f = facts_with(vec![(
            "URL",
            StrExpr::Input {
                kind: InputKind::Env,
                name: "COMFYUI_URL".into(),
                default: Some(Box::new(lit("http://comfyui:8188"))),
            },
            1,
        )]);
        let e = StrExpr::Concat(vec![StrExpr::Ref("URL".into()), lit("/prompt")]);
        let v = Evaluator::new(&f).eval(&e, 0, at(3));
        assert_eq!(v.display(), "http://comfyui:8188/prompt");
        assert!(v
            .sources
            .iter()
            .any(|s| s.kind == SourceKind::Env && s.has_default));
    }

    #[test]
    fn cycles_terminate() {
        let f = facts_with(vec![
            ("A", StrExpr::Ref("B".into()), 1),
            ("B", StrExpr::Ref("A".into()), 2),
        ]);
        let v = Evaluator::new(&f).eval(&StrExpr::Ref("A".into()), 0, at(3));
        assert!(v.display().contains('{'));
    }

    #[test]
    fn same_scope_uses_the_latest_assignment_before_the_use() {
        let f = facts_with(vec![
            ("u", lit("http://a:8188"), 1),
            ("u", lit("http://b:8188"), 5),
        ]);
        let ev = Evaluator::new(&f);
        assert_eq!(
            ev.eval(&StrExpr::Ref("u".into()), 0, at(3)).display(),
            "http://a:8188"
        );
        assert_eq!(
            ev.eval(&StrExpr::Ref("u".into()), 0, at(7)).display(),
            "http://b:8188"
        );
    }
}
