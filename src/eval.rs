//! The constant evaluator: turns a [`StrExpr`] into the text it builds, following names through the
//! file's scopes, filling `.format` / `%` / `format!` templates and taking env and argument defaults.
//!
//! Whatever cannot be known statically becomes a *hole*: a `{name}` placeholder kept in the text
//! between private-use marker characters, so that later steps can tell a hole in the host from a
//! hole in the path. Evaluation is bounded in depth, so cycles (`A = B`, `B = A`) terminate.

use std::cell::{Cell, OnceCell};
use std::collections::HashMap;

use crate::ir::{Binding, FileFacts, FormatStyle, InputKind, Pos, StrExpr};

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
    fn push_hole(&mut self, label: &str) {
        self.text.push(HOLE_OPEN);
        self.text.push_str(label);
        self.text.push(HOLE_CLOSE);
    }
    fn append(&mut self, other: Value) {
        if self.text.len() < MAX_LEN {
            self.text.push_str(&other.text);
        }
        let room = MAX_SOURCES.saturating_sub(self.sources.len());
        self.sources.extend(other.sources.into_iter().take(room));
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
}

/// One value for one env var, from a configuration file (`path:line` in `source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverride {
    pub var: String,
    pub value: String,
    pub source: String,
}

/// Evaluates expressions of one file.
pub struct Evaluator<'a> {
    facts: &'a FileFacts,
    external: Option<&'a dyn External>,
    env_override: Option<EnvOverride>,
    /// Bindings by scope and name; built on the first lookup so that a file with tens of thousands
    /// of bindings is not searched linearly for every reference.
    by_name: OnceCell<HashMap<usize, HashMap<&'a str, Named<'a>>>>,
    /// Expressions visited by the current [`Evaluator::eval`] (see [`MAX_STEPS`]).
    steps: Cell<usize>,
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
            env_override: None,
            by_name: OnceCell::new(),
            steps: Cell::new(0),
        }
    }

    /// Resolve names this file does not bind through other modules.
    pub fn with_external(mut self, external: &'a dyn External) -> Evaluator<'a> {
        self.external = Some(external);
        self
    }

    /// Give one env var a value from a configuration file.
    pub fn with_env(mut self, env: Option<EnvOverride>) -> Evaluator<'a> {
        self.env_override = env;
        self
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
                ));
            }
        }
        self.external?.import(name, depth + 1)
    }

    fn named(&self, scope: usize, name: &str) -> Option<&Named<'a>> {
        let index = self.by_name.get_or_init(|| {
            let mut m: HashMap<usize, HashMap<&'a str, Named<'a>>> = HashMap::new();
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
        self.eval_depth(expr, scope, at, 0)
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
                // Same scope: the last assignment before the use, else the first one.
                let before = if sorted {
                    let i = found.partition_point(|b| b.pos <= at);
                    i.checked_sub(1).map(|i| found[i])
                } else {
                    found.iter().rev().find(|b| b.pos <= at).copied()
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

    fn eval_depth(&self, expr: &StrExpr, scope: usize, at: Pos, depth: usize) -> Value {
        let mut v = Value::default();
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if depth > MAX_DEPTH || steps > MAX_STEPS {
            v.push_hole("…");
            return v;
        }
        match expr {
            StrExpr::Lit(s) => v.text.push_str(s),
            StrExpr::Int(i) => v.text.push_str(&i.to_string()),
            StrExpr::Concat(parts) => {
                for p in parts {
                    v.append(self.eval_depth(p, scope, at, depth + 1));
                }
            }
            StrExpr::Unknown(label) => v.push_hole(label),
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
                };
                // A value for this env var from an env file / compose / manifest.
                if let Some(o) = self
                    .env_override
                    .as_ref()
                    .filter(|o| *kind == InputKind::Env && o.var == *name)
                {
                    v.sources.push(source(true));
                    v.text.push_str(&o.value);
                    v.env_source = Some(o.source.clone());
                    return v;
                }
                match default {
                    Some(d) => {
                        v.sources.push(source(true));
                        v.append(self.eval_depth(d, scope, at, depth + 1));
                    }
                    None => {
                        v.sources.push(source(false));
                        v.push_hole(name);
                    }
                }
            }
            StrExpr::Ref(name) => match self.lookup(name, scope, at) {
                Some(b) => {
                    v.sources.push(Source {
                        name: name.clone(),
                        kind: SourceKind::Binding,
                        pos: Some(b.pos),
                        has_default: false,
                        file: None,
                    });
                    // `X = os.environ["X"]`: the hole is named after the reference, the source is the env var.
                    match &b.value {
                        StrExpr::Input {
                            kind,
                            name: input,
                            default: None,
                        } => match self
                            .env_override
                            .as_ref()
                            .filter(|o| *kind == InputKind::Env && o.var == *input)
                        {
                            Some(o) => {
                                v.sources.push(Source {
                                    name: input.clone(),
                                    kind: SourceKind::Env,
                                    pos: Some(b.pos),
                                    has_default: true,
                                    file: None,
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
                                });
                                v.push_hole(name);
                            }
                        },
                        // `client_id = str(uuid.uuid4())`: the hole is named after the variable.
                        StrExpr::Unknown(_) => v.push_hole(name),
                        _ => {
                            let at = if b.scope == scope {
                                b.pos
                            } else {
                                Pos {
                                    line: u32::MAX,
                                    column: 0,
                                }
                            };
                            v.append(self.eval_depth(&b.value, b.scope, at, depth + 1));
                        }
                    }
                }
                None => match self.outside(name, scope, at, depth) {
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
                let t = self.eval_depth(template, scope, at, depth + 1);
                v.sources.extend(t.sources);
                let arg = |i: usize| {
                    args.get(i)
                        .map(|a| self.eval_depth(a, scope, at, depth + 1))
                };
                let named_arg = |n: &str| {
                    named
                        .iter()
                        .find(|(k, _)| k == n)
                        .map(|(_, a)| self.eval_depth(a, scope, at, depth + 1))
                        .or_else(|| match n.parse::<usize>() {
                            Ok(i) => arg(i),
                            // Rust inline captures and Python `{name}` from the surrounding scope.
                            Err(_) => Some(self.eval_depth(
                                &StrExpr::Ref(n.to_string()),
                                scope,
                                at,
                                depth + 1,
                            )),
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
    use crate::ir::{Binding, FileFacts};

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
