//! The string IR: how a string is built, in a form shared by every language front end.
//!
//! The Python and Rust front ends lower "how this string is built" into [`StrExpr`], and the facts
//! around it (bindings, call sites, credentials, `docker exec` commands) into [`FileFacts`]. Resolution,
//! classification, token detection and reporting are written once, over this IR.

/// How a string value is built.
#[derive(Debug, Clone, PartialEq)]
pub enum StrExpr {
    /// A literal piece of text.
    Lit(String),
    /// An integer literal (`PORT = 8188`).
    Int(i64),
    /// Pieces joined in order (f-strings, `+`, `concat!`).
    Concat(Vec<StrExpr>),
    /// A name or dotted attribute path (`BASE`, `self.base`, `args.server`), resolved by scope.
    Ref(String),
    /// A value from outside the program: an env var, a CLI argument or a parameter, with its default.
    Input {
        kind: InputKind,
        name: String,
        default: Option<Box<StrExpr>>,
    },
    /// A template filled from arguments: `"{}".format(a)`, `"%s" % a`, `format!("{}", a)`.
    Format {
        template: Box<StrExpr>,
        style: FormatStyle,
        args: Vec<StrExpr>,
        named: Vec<(String, StrExpr)>,
    },
    /// Something that cannot be evaluated statically; the label is shown as `{label}`.
    Unknown(String),
    /// One of several values (`a if c else b`, the elements of a list a loop runs over): each is a
    /// possible value of the expression, and each gives its own finding.
    Choice(Vec<StrExpr>),
    /// `a or b`: `a`, unless `a` is unknown or empty at run time, then `b`.
    Or(Box<StrExpr>, Box<StrExpr>),
    /// The value returned by a call to a function of the project (`base()`, `self.url_for(p)`),
    /// evaluated with the call's arguments bound to the callee's parameters.
    Call {
        callee: String,
        args: Vec<StrExpr>,
        kwargs: Vec<(String, StrExpr)>,
    },
    /// An expression evaluated in another scope than the one it is bound in (`self.url = f"…"` in
    /// `__init__` is bound on the class, but its names are `__init__`'s).
    Scoped(usize, Box<StrExpr>),
    /// A value written at a position of its own (an element of a list): when it is part of an
    /// address, that position is where the address came from.
    At(Pos, Box<StrExpr>),
    /// Path pieces joined with a separator without doubling it (`posixpath.join`, `"/".join([...])`,
    /// `Url::join`).
    Join { sep: String, parts: Vec<StrExpr> },
    /// `s.rstrip("/")`, `s.strip()`, `trim_end_matches('/')`: characters cut from the ends.
    Strip {
        inner: Box<StrExpr>,
        chars: String,
        start: bool,
        end: bool,
    },
    /// The URL inside a command line (`os.system("curl -s https://…")`): the text from the first
    /// `http://`, `https://`, `ws://` or `wss://` on.
    UrlIn(Box<StrExpr>),
    /// `s.replace(from, to)` with literal arguments.
    Replace {
        inner: Box<StrExpr>,
        from: String,
        to: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Env,
    CliArg,
    Param,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatStyle {
    /// `{}` / `{0}` / `{name}` / `{name:spec}`, `{{` escapes (Python `.format`, Rust `format!`).
    Brace,
    /// `%s` / `%d` / `%(name)s`, `%%` escapes (Python `%`).
    Percent,
}

/// A lexical scope. Scope 0 is the module (file); others nest through `parent`.
#[derive(Debug, Clone)]
pub struct Scope {
    pub parent: Option<usize>,
    pub kind: ScopeKind,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Class,
    Function,
}

/// A source position, 1-based line and column (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// `name = value` in a scope.
#[derive(Debug, Clone)]
pub struct Binding {
    pub scope: usize,
    pub name: String,
    pub value: StrExpr,
    pub pos: Pos,
}

/// A string-building expression: a literal, f-string, format call, concatenation, env read with a
/// default, `format!`. Only the outermost one of a nested group is recorded.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub expr: StrExpr,
    pub pos: Pos,
    pub scope: usize,
    /// Enclosing function (`Class.method`, `fn_name`), if any.
    pub function: Option<String>,
    /// The name this expression is assigned to, when it is the right-hand side of a binding.
    pub bound_to: Option<String>,
    /// The call (index into [`FileFacts::uses`]) this expression is passed to directly.
    pub consumer: Option<usize>,
}

/// A place that consumes strings: a call (Python) or a statement / builder chain (Rust).
#[derive(Debug, Clone, Default)]
pub struct Use {
    pub scope: usize,
    /// HTTP / WebSocket client library that makes the request, or the helper called.
    pub client: Option<String>,
    /// Does the call carry an Access credential (headers, cookie, session, helper)?
    pub credentialed: bool,
    /// Authentication the call carries that is not an Access credential (`bearer`, `basic`).
    pub auth: Option<String>,
    /// Names passed along as-is (`requests.post(url)`, `client.get(&url)`).
    pub names: Vec<String>,
    /// Functions called, as written (`comfy_get`, `helpers.get`, `api::get`), for token helpers
    /// defined in other files.
    pub callees: Vec<String>,
}

/// An import: `from settings import COMFY_URL as URL`, `import config`, `use crate::config::URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The name bound in this file (`URL`, `config`).
    pub local: String,
    /// The module: dotted for Python with leading dots for relative imports (`.settings`),
    /// `::`-separated for Rust (`crate::config`).
    pub module: String,
    /// The imported name, or `None` when the module itself is bound (`import config`).
    pub name: Option<String>,
}

/// `docker exec` / `docker compose exec` run from code.
#[derive(Debug, Clone)]
pub struct ExecSite {
    pub pos: Pos,
    pub container: String,
    pub command: String,
    pub function: Option<String>,
    pub scope: usize,
}

/// `let b = <something built from a>`: taint flows from `from` to `to` (Rust request builders).
#[derive(Debug, Clone)]
pub struct Alias {
    pub scope: usize,
    pub from: String,
    pub to: String,
}

/// A function (or method) of the file: what its parameters are called and what it returns.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    /// `name`, or `Class.name` for a method.
    pub name: String,
    /// The scope of its body (its parameters are bound there).
    pub scope: usize,
    /// Parameter names in order (with `self` / `cls` for methods).
    pub params: Vec<String>,
    /// The expressions it returns.
    pub returns: Vec<StrExpr>,
    /// A method: a call through an instance skips the first parameter.
    pub method: bool,
}

/// A call of a function, as written, with its arguments lowered: caller values flow into the
/// callee's parameters through it.
#[derive(Debug, Clone)]
pub struct CallSite {
    /// The callee as written (`probe`, `self._call`, `Client`).
    pub callee: String,
    pub scope: usize,
    pub pos: Pos,
    pub args: Vec<StrExpr>,
    pub kwargs: Vec<(String, StrExpr)>,
    /// The [`Use`] this call is recorded as.
    pub use_id: usize,
}

/// Everything one front end extracted from one file.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    pub scopes: Vec<Scope>,
    pub bindings: Vec<Binding>,
    pub candidates: Vec<Candidate>,
    pub uses: Vec<Use>,
    pub execs: Vec<ExecSite>,
    pub aliases: Vec<Alias>,
    /// Per-file problems worth telling the user (syntax errors the parser recovered from, …).
    pub notes: Vec<String>,
    /// Imports, for cross-file resolution.
    pub imports: Vec<Import>,
    /// Functions defined in this file whose body adds an Access credential (token helpers).
    pub credential_fns: Vec<String>,
    /// Line ranges of statements (for compound statements: the header only), used to match an
    /// inline suppression to every line of the statement a finding is in.
    pub stmt_spans: Vec<(u32, u32)>,
    /// Functions defined in this file (for values through parameters and returns).
    pub functions: Vec<FunctionDef>,
    /// Calls of functions with their arguments.
    pub calls: Vec<CallSite>,
    /// Arguments that are an address by where they go: a service's client-library constructor,
    /// or the base URL / host of an HTTP client object.
    pub sinks: Vec<Sink>,
    /// Request paths sent through an HTTP client object: (object as written, path literal).
    pub object_paths: Vec<(String, String)>,
}

/// An argument that is an address because of where it is passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sink {
    /// The position of the argument expression (its candidate's position).
    pub pos: Pos,
    pub kind: SinkKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkKind {
    /// A client library of this service (by service id): whatever it is passed is its address.
    Client(String),
    /// The base URL of an HTTP client object (`httpx.Client(base_url=…)`), held by this name: the
    /// service's when the requests made through the object use its API paths.
    Base(String),
}

impl FileFacts {
    pub fn new() -> FileFacts {
        FileFacts {
            scopes: vec![Scope {
                parent: None,
                kind: ScopeKind::Module,
                name: String::new(),
            }],
            ..Default::default()
        }
    }

    pub fn push_scope(&mut self, parent: usize, kind: ScopeKind, name: &str) -> usize {
        self.scopes.push(Scope {
            parent: Some(parent),
            kind,
            name: name.to_string(),
        });
        self.scopes.len() - 1
    }

    /// `scope` itself followed by its ancestors (innermost first).
    pub fn scope_chain(&self, scope: usize) -> Vec<usize> {
        let mut out = vec![scope];
        let mut cur = scope;
        while let Some(p) = self.scopes.get(cur).and_then(|s| s.parent) {
            out.push(p);
            cur = p;
        }
        out
    }
}

impl StrExpr {
    /// Visit every `Ref` name in this expression.
    pub fn refs<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            StrExpr::Ref(n) => out.push(n),
            StrExpr::Concat(parts) | StrExpr::Choice(parts) | StrExpr::Join { parts, .. } => {
                parts.iter().for_each(|p| p.refs(out))
            }
            StrExpr::Or(a, b) => {
                a.refs(out);
                b.refs(out);
            }
            StrExpr::Call { args, kwargs, .. } => {
                args.iter().for_each(|a| a.refs(out));
                kwargs.iter().for_each(|(_, a)| a.refs(out));
            }
            StrExpr::Scoped(_, e)
            | StrExpr::At(_, e)
            | StrExpr::Replace { inner: e, .. }
            | StrExpr::Strip { inner: e, .. } => e.refs(out),
            StrExpr::Input {
                default: Some(d), ..
            } => d.refs(out),
            StrExpr::Format {
                template,
                args,
                named,
                style,
            } => {
                template.refs(out);
                args.iter().for_each(|a| a.refs(out));
                named.iter().for_each(|(_, a)| a.refs(out));
                // Inline captures: `format!("{host}/prompt")`.
                if let (StrExpr::Lit(t), FormatStyle::Brace) = (&**template, style) {
                    for field in t
                        .split('{')
                        .skip(1)
                        .filter_map(|p| p.split_once('}').map(|(f, _)| f))
                    {
                        let name = field.split([':', '!']).next().unwrap_or("").trim();
                        let is_ident = name
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_alphabetic() || c == '_')
                            && name.chars().all(|c| c.is_alphanumeric() || c == '_');
                        if is_ident && !named.iter().any(|(k, _)| k == name) {
                            out.push(name);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// `os.getenv("X") or "d"`, `env::var("X").unwrap_or("d")`: an input without a default gets `d`;
    /// anything else is returned as is.
    pub fn or_default(self, default: impl FnOnce() -> StrExpr) -> StrExpr {
        match self {
            StrExpr::Input {
                kind,
                name,
                default: None,
            } => StrExpr::Input {
                kind,
                name,
                default: Some(Box::new(default())),
            },
            other => other,
        }
    }
}
