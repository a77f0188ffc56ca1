//! Getting to zero violations: a concrete suggested change for every `untokenized-remote`
//! violation ([`suggestion`]), and `check --fix` ([`apply`]), which applies the safe ones.
//!
//! Safe means: a Python `requests.<method>(…)` / `httpx.<method>(…)` call (or the same method on a
//! `requests.Session()` / `httpx.Client()` object) whose URL argument is a literal, a constant, or
//! an f-string / `+` / `.format` of literals and names (the scanner has already resolved its host to
//! a remote one), with no `headers=`, no `*args` and no `**kwargs`. The fix adds
//! `headers={"CF-Access-Client-Id": os.environ["CF_ACCESS_CLIENT_ID"], …}` as the call's last
//! keyword argument and `import os` when the module lacks it. The call is located on the syntax tree
//! (the same parser the scanner uses), so strings, comments and nested brackets cannot mislead it;
//! a file whose fixed text no longer parses cleanly is left untouched. Everything else stays a
//! suggestion.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use ruff_python_ast::visitor::{
    walk_except_handler, walk_expr, walk_parameter, walk_stmt, Visitor,
};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::cmd::common::fs_path;
use crate::digest::content_hash;
use crate::gate::{Check, GateResult, State};
use crate::remedy::headers_kwarg;
use crate::rules::Service;

/// What `check --fix` does with the fixes: write them, print them as a unified diff, or only say
/// what would change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FixMode {
    /// `--fix`: rewrite the files (atomically).
    #[default]
    Write,
    /// `--diff`: a unified diff on stdout, no writes.
    Diff,
    /// `--dry-run`: report what would change, no writes.
    DryRun,
}

impl FixMode {
    /// The mode the `check` flags ask for: `--diff` before `--dry-run` before `--fix`; `None` when
    /// no fix is asked for.
    pub fn from_flags(fix: bool, diff: bool, dry_run: bool) -> Option<FixMode> {
        if diff {
            Some(FixMode::Diff)
        } else if dry_run {
            Some(FixMode::DryRun)
        } else {
            fix.then_some(FixMode::Write)
        }
    }
}

/// What `check --fix` did (or, with `--diff` / `--dry-run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixSummary {
    pub mode: FixMode,
    /// Violations fixed (calls rewritten).
    pub fixed: usize,
    /// Active `untokenized-remote` violations left as suggestions.
    pub left: usize,
    /// Files rewritten (report paths) and how many calls in each.
    pub files: Vec<(String, usize)>,
    /// Files that were not fixed although they had fixable calls (report path, reason): changed
    /// since the scan, unreadable, not UTF-8, a symbolic link, or the write failed. Each is left
    /// exactly as it was, and `check` exits 2.
    pub refused: Vec<(String, String)>,
    /// `--diff`: the unified diff of every file.
    pub diff: String,
}

impl FixSummary {
    /// One line for stderr.
    pub fn line(&self) -> String {
        let files = self.files.len();
        let verb = match self.mode {
            FixMode::Write => "fixed",
            FixMode::Diff | FixMode::DryRun => "would fix",
        };
        let mut line = format!(
            "{verb} {} untokenized call{} in {} file{} (added the Access headers read from the environment); {} left as suggestion{}",
            self.fixed,
            plural(self.fixed),
            files,
            plural(files),
            self.left,
            plural(self.left),
        );
        if !self.refused.is_empty() {
            line.push_str(&format!(
                "; {} file{} refused and left untouched",
                self.refused.len(),
                plural(self.refused.len())
            ));
        }
        line
    }

    /// Lines for stderr: one per refused file, one per file (`--dry-run`), then [`Self::line`].
    pub fn notes(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .refused
            .iter()
            .map(|(path, why)| format!("--fix: {path}: {why}"))
            .collect();
        if self.mode == FixMode::DryRun {
            out.extend(
                self.files.iter().map(|(path, n)| {
                    format!("{path}: would fix {n} untokenized call{}", plural(*n))
                }),
            );
        }
        out.push(self.line());
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Apply the safe fixes of the active `untokenized-remote` violations in `result`: `roots` are the
/// scanned paths (to find the files), `svc` the service whose header names to use, `scanned` the
/// digest of each file as scanned (`Report::context.hashes`). A file whose bytes differ from what
/// was scanned is refused; [`FixMode::Write`] replaces each fixed file atomically
/// ([`write_atomic`]), the other modes write nothing.
pub fn apply_with(
    result: &GateResult,
    roots: &[PathBuf],
    svc: Option<&Service>,
    scanned: &BTreeMap<String, u64>,
    mode: FixMode,
) -> FixSummary {
    let mut summary = FixSummary {
        mode,
        ..FixSummary::default()
    };
    let mut by_file: BTreeMap<&str, Vec<(u32, u32)>> = BTreeMap::new();
    for v in result
        .violations
        .iter()
        .filter(|v| v.state == State::Active && v.rule == Check::UntokenizedRemote)
    {
        by_file
            .entry(v.path.as_str())
            .or_default()
            .push((v.line, v.column));
    }
    let kwarg = headers_kwarg(svc);
    for (display, positions) in by_file {
        let total = positions.len();
        if !display.ends_with(".py") {
            summary.left += total;
            continue;
        }
        let path = fs_path(roots, display);
        let outcome = fix_file(&path, scanned.get(display).copied(), &positions, &kwarg);
        let (text, new_text, fixed) = match outcome {
            Ok(Some(t)) => t,
            Ok(None) => {
                summary.left += total;
                continue;
            }
            Err(why) => {
                summary.left += total;
                summary.refused.push((display.to_string(), why));
                continue;
            }
        };
        match mode {
            FixMode::Write => {
                if let Err(e) = write_atomic(&path, new_text.as_bytes()) {
                    summary.left += total;
                    summary.refused.push((
                        display.to_string(),
                        format!("not written: {e}; the file is unchanged"),
                    ));
                    continue;
                }
            }
            FixMode::Diff => summary
                .diff
                .push_str(&unified_diff(display, &text, &new_text)),
            FixMode::DryRun => {}
        }
        summary.fixed += fixed;
        summary.left += total - fixed;
        summary.files.push((display.to_string(), fixed));
    }
    summary
}

/// Read a file, check it is the one scanned, and fix it: `(old text, new text, calls fixed)`,
/// `None` when nothing in it is safe to fix, or why the file is refused.
fn fix_file(
    path: &Path,
    scanned: Option<u64>,
    positions: &[(u32, u32)],
    kwarg: &str,
) -> Result<Option<(String, String, usize)>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    match scanned {
        Some(h) if h == content_hash(&bytes) => {}
        Some(_) => {
            return Err(
                "changed since the scan; not fixed (run the check again to fix the new content)"
                    .into(),
            )
        }
        None => return Err("not read by the scan; not fixed".into()),
    }
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8; not fixed".to_string())?;
    Ok(fix_source(&text, positions, kwarg)
        .filter(|(_, fixed)| *fixed > 0)
        .map(|(new_text, fixed)| (text, new_text, fixed)))
}

/// A unified diff (`--- a/PATH`, `+++ b/PATH`, three lines of context) of one file.
pub fn unified_diff(display: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{display}"), &format!("b/{display}"))
        .to_string()
}

/// Replace the file at `path` with `bytes`, or create it: write a temporary file in the same
/// directory, give it the old file's permissions (a new file gets `0644` on Unix), flush it to disk
/// and rename it over `path`. A failure at any step (a full disk, say) leaves `path` as it was, and
/// a symbolic link at `path` is refused rather than followed or replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let old = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(std::io::Error::other(
                "it is a symbolic link, not written through",
            ))
        }
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".access-audit-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    match &old {
        Some(m) => tmp.as_file().set_permissions(m.permissions())?,
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))?;
            }
        }
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // The rename itself reaches the disk with the directory.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Fix the calls at these (1-based line, 1-based character column) positions in Python source.
/// Returns the new text and how many positions were fixed, or `None` when nothing is safe to fix.
pub fn fix_source(text: &str, positions: &[(u32, u32)], kwarg: &str) -> Option<(String, usize)> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let parsed = crate::engine::lower::python::parse(body);
    if !parsed.errors.is_empty() {
        return None;
    }
    let module = &parsed.module;
    let mut facts = Facts::default();
    {
        let mut c = Collector {
            facts: &mut facts,
            scope: 0,
            next_scope: 0,
        };
        for s in &module.body {
            c.visit_stmt(s);
        }
    }
    // `import os` counts only as a statement of the module itself (not one inside a function or
    // a conditional block), and only before the calls it serves.
    let os_import = module
        .body
        .iter()
        .find(|s| matches!(s, Stmt::Import(i) if i.names.iter().any(binds_os)))
        .map(|s| s.range().start().to_usize());

    // Which call each position belongs to.
    let mut chosen: HashSet<usize> = HashSet::new();
    let mut fixed = 0;
    for &(line, column) in positions {
        let Some(off) = offset_of(body, line, column) else {
            continue;
        };
        let mut matched = false;
        for (i, call) in facts.calls.iter().enumerate() {
            if call_matches(call, off, &facts) {
                chosen.insert(i);
                matched = true;
            }
        }
        if matched {
            fixed += 1;
        }
    }
    if chosen.is_empty() {
        return None;
    }

    // Insertions (offset, text), applied from the end.
    let mut edits: Vec<(usize, String)> = Vec::new();
    for &i in &chosen {
        let call = &facts.calls[i];
        let newline = line_ending(body, call.last_start);
        edits.push((call.last_end, insertion(body, call, kwarg, newline)));
    }
    let first_call = chosen
        .iter()
        .map(|&i| facts.calls[i].start)
        .min()
        .unwrap_or(0);
    if os_import.is_none_or(|at| at >= first_call) {
        let at = import_offset(body, module);
        // The import must run before the first fixed call (`import requests; requests.get(…)`).
        if at > first_call {
            return None;
        }
        // The line break of the line above (or of the first line).
        let newline = line_ending(body, at.saturating_sub(1));
        edits.push((at, format!("import os{newline}")));
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = body.to_string();
    for (at, s) in edits {
        out.insert_str(at, &s);
    }
    // Refuse anything that does not parse cleanly afterwards.
    if !crate::engine::lower::python::parse(&out).errors.is_empty() {
        return None;
    }
    Some((format!("{bom}{out}"), fixed))
}

/// The line break (`\r\n` or `\n`) that ends the line holding `offset`; for the last line
/// without one, the file's first line break, else `\n`.
fn line_ending(text: &str, offset: usize) -> &'static str {
    let from = offset.min(text.len());
    let at = text[from..]
        .find('\n')
        .map(|n| from + n)
        .or_else(|| text.find('\n'));
    match at {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The text inserted after the call's last argument.
fn insertion(text: &str, call: &CallSite, kwarg: &str, newline: &str) -> String {
    let line_start = text[..call.last_start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..call.last_start];
    let own_line = call.last_start > call.open && before.trim().is_empty();
    if own_line && text[call.open..call.last_start].contains('\n') {
        format!(",{newline}{before}{kwarg}")
    } else {
        format!(", {kwarg}")
    }
}

/// Does this `import` bind the name `os` to the `os` module (`import os`, `import os.path`,
/// `import os as os`)?
fn binds_os(a: &ast::Alias) -> bool {
    match &a.asname {
        Some(n) => n.as_str() == "os" && a.name.as_str() == "os",
        None => a.name.as_str().split('.').next() == Some("os"),
    }
}

/// Where `import os` goes: after the module docstring, the `from __future__` imports and the
/// imports that open the module, else before the first statement (below a shebang, coding cookie
/// or header comments).
fn import_offset(text: &str, module: &ast::ModModule) -> usize {
    let mut after: Option<usize> = None;
    for (i, s) in module.body.iter().enumerate() {
        let skip = match s {
            Stmt::Expr(e) if i == 0 => matches!(&*e.value, Expr::StringLiteral(_)),
            Stmt::Import(_) | Stmt::ImportFrom(_) => true,
            _ => false,
        };
        if skip {
            after = Some(s.range().end().to_usize());
        } else {
            break;
        }
    }
    match after {
        Some(end) => match text[end..].find('\n') {
            Some(n) => end + n + 1,
            None => text.len(),
        },
        None => module
            .body
            .first()
            .map(|s| {
                let start = s.range().start().to_usize();
                text[..start].rfind('\n').map_or(0, |i| i + 1)
            })
            .unwrap_or(0),
    }
}

/// Byte offset of a 1-based line and 1-based character column; `None` past the end of the line
/// or the file (the file does not hold what was reported).
fn offset_of(text: &str, line: u32, column: u32) -> Option<usize> {
    let col = (column as usize).checked_sub(1)?;
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    text[start..end]
        .char_indices()
        .nth(col)
        .map(|(i, _)| start + i)
}

/// Is the reported position `off` this call's URL, or the assignment its URL name refers to?
fn call_matches(call: &CallSite, off: usize, facts: &Facts) -> bool {
    if call.url.0 <= off && off < call.url.1 {
        return true;
    }
    // A URL bound to a name and passed along as is: the finding is at the binding.
    let Some(name) = &call.url_name else {
        return false;
    };
    facts
        .binding_of(call, name)
        .is_some_and(|a| a.range.0 <= off && off < a.range.1)
}

#[derive(Default)]
struct Facts {
    /// Local name → module (`rq` → `requests`).
    modules: HashMap<String, String>,
    /// Dotted names bound to a `requests.Session()` / `httpx.Client()`.
    sessions: HashSet<String>,
    assigns: Vec<Assign>,
    calls: Vec<CallSite>,
    /// Every binding of a plain name (assignment target, parameter, import, `def`, loop or `with`
    /// target, …): (scope, name) → offsets.
    binds: HashMap<(usize, String), Vec<usize>>,
    /// Names a scope declares `global`, and names it declares `nonlocal`.
    globals: HashSet<(usize, String)>,
    nonlocals: HashSet<(usize, String)>,
}

impl Facts {
    /// The assignment a URL name passed to `call` refers to, as Python resolves it: in the call's
    /// own scope when the name is bound there (the last binding before the call, which must be
    /// an assignment), else the module's only binding of it. `None` whenever that is unclear
    /// (a parameter, a loop variable, several module bindings, a closure): such calls are left
    /// as suggestions rather than guessed at.
    fn binding_of(&self, call: &CallSite, name: &str) -> Option<&Assign> {
        let key = (call.scope, name.to_string());
        if self.nonlocals.contains(&key) {
            return None;
        }
        let local =
            call.scope == 0 || (self.binds.contains_key(&key) && !self.globals.contains(&key));
        let (scope, at) = if local {
            let at = self
                .binds
                .get(&key)?
                .iter()
                .copied()
                .filter(|&b| b < call.start)
                .max()?;
            (call.scope, at)
        } else {
            match self.binds.get(&(0, name.to_string()))?.as_slice() {
                [only] => (0, *only),
                _ => return None,
            }
        };
        self.assigns
            .iter()
            .find(|a| a.scope == scope && a.name == name && a.range.0 <= at && at < a.range.1)
    }
}

struct Assign {
    name: String,
    range: (usize, usize),
    scope: usize,
}

/// A safe-to-fix call.
struct CallSite {
    /// Offset of the call expression.
    start: usize,
    /// The URL argument's byte range.
    url: (usize, usize),
    /// The URL argument's name when it is a plain name.
    url_name: Option<String>,
    /// Offset of `(`.
    open: usize,
    /// Start and end of the last argument.
    last_start: usize,
    last_end: usize,
    scope: usize,
}

const METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "request",
];

struct Collector<'f> {
    facts: &'f mut Facts,
    scope: usize,
    next_scope: usize,
}

fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => dotted(&a.value).map(|d| format!("{d}.{}", a.attr.id)),
        _ => None,
    }
}

/// A literal, or built from names / attributes (constants) and literals only.
fn is_constant_url(expr: &Expr) -> bool {
    match expr {
        Expr::StringLiteral(_) | Expr::Name(_) => true,
        Expr::Attribute(_) => dotted(expr).is_some(),
        Expr::FString(f) => f.value.elements().all(|e| match e {
            ast::InterpolatedStringElement::Literal(_) => true,
            ast::InterpolatedStringElement::Interpolation(i) => {
                i.format_spec.is_none()
                    && matches!(&*i.expression, Expr::Name(_) | Expr::Attribute(_))
                    && dotted(&i.expression).is_some()
            }
        }),
        Expr::BinOp(b) => {
            matches!(b.op, ast::Operator::Add)
                && is_constant_url(&b.left)
                && is_constant_url(&b.right)
        }
        Expr::Call(c) => {
            // "https://{}/prompt".format(HOST)
            matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "format" && matches!(&*a.value, Expr::StringLiteral(_)))
                && c.arguments.keywords.is_empty()
                && c.arguments.args.iter().all(is_constant_url)
        }
        _ => false,
    }
}

impl Collector<'_> {
    /// Record a binding of `name` in the current scope.
    fn bind(&mut self, name: &str, at: usize) {
        self.facts
            .binds
            .entry((self.scope, name.to_string()))
            .or_default()
            .push(at);
    }

    fn client_module(&self, name: &str) -> Option<&str> {
        self.facts
            .modules
            .get(name)
            .map(String::as_str)
            .filter(|m| matches!(*m, "requests" | "httpx"))
    }

    fn is_session_ctor(&self, expr: &Expr) -> bool {
        let Expr::Call(c) = expr else { return false };
        let Some(d) = dotted(&c.func) else {
            return false;
        };
        let Some((root, ctor)) = d.rsplit_once('.') else {
            return false;
        };
        match self.client_module(root) {
            Some("requests") => matches!(ctor, "Session" | "session"),
            Some("httpx") => matches!(ctor, "Client" | "AsyncClient"),
            _ => false,
        }
    }

    fn call(&mut self, c: &ast::ExprCall) {
        let Some(d) = dotted(&c.func) else { return };
        let Some((receiver, method)) = d.rsplit_once('.') else {
            return;
        };
        if !METHODS.contains(&method) {
            return;
        }
        if self.client_module(receiver).is_none() && !self.facts.sessions.contains(receiver) {
            return;
        }
        let args = &c.arguments;
        if args
            .keywords
            .iter()
            .any(|k| k.arg.is_none() || k.arg.as_ref().is_some_and(|a| a.as_str() == "headers"))
        {
            return;
        }
        if args.args.iter().any(|a| matches!(a, Expr::Starred(_))) {
            return;
        }
        let index = usize::from(method == "request");
        let url = args.args.get(index).or_else(|| {
            args.keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "url"))
                .map(|k| &k.value)
        });
        let Some(url) = url else { return };
        if !is_constant_url(url) {
            return;
        }
        let last = args
            .args
            .iter()
            .map(|a| a.range())
            .chain(args.keywords.iter().map(|k| k.range()))
            .max_by_key(|r| r.end());
        let Some(last) = last else { return };
        self.facts.calls.push(CallSite {
            start: c.range().start().to_usize(),
            url: (url.range().start().to_usize(), url.range().end().to_usize()),
            url_name: match url {
                Expr::Name(n) => Some(n.id.to_string()),
                _ => None,
            },
            open: args.range.start().to_usize(),
            last_start: last.start().to_usize(),
            last_end: last.end().to_usize(),
            scope: self.scope,
        });
    }
}

impl<'a> Visitor<'a> for Collector<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(i) => {
                for a in &i.names {
                    let module = a.name.as_str();
                    let local = a.asname.as_ref().map_or_else(
                        || module.split('.').next().unwrap_or("").to_string(),
                        |n| n.to_string(),
                    );
                    let full = if a.asname.is_some() { module } else { &local };
                    self.facts.modules.insert(local.clone(), full.to_string());
                    self.bind(&local, stmt.range().start().to_usize());
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    let local = a.asname.as_ref().unwrap_or(&a.name);
                    self.bind(local.as_str(), stmt.range().start().to_usize());
                }
            }
            Stmt::Global(g) => {
                for n in &g.names {
                    self.facts.globals.insert((self.scope, n.to_string()));
                }
            }
            Stmt::Nonlocal(g) => {
                for n in &g.names {
                    self.facts.nonlocals.insert((self.scope, n.to_string()));
                }
            }
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {
                let name = match stmt {
                    Stmt::FunctionDef(f) => f.name.as_str(),
                    Stmt::ClassDef(c) => c.name.as_str(),
                    _ => "",
                };
                self.bind(name, stmt.range().start().to_usize());
                let outer = self.scope;
                self.next_scope += 1;
                self.scope = self.next_scope;
                walk_stmt(self, stmt);
                self.scope = outer;
                return;
            }
            Stmt::Assign(a) => {
                let session = self.is_session_ctor(&a.value);
                for t in &a.targets {
                    if let Some(name) = dotted(t) {
                        if session {
                            self.facts.sessions.insert(name.clone());
                        }
                        if matches!(t, Expr::Name(_)) {
                            self.facts.assigns.push(Assign {
                                name,
                                range: (a.range.start().to_usize(), a.range.end().to_usize()),
                                scope: self.scope,
                            });
                        }
                    }
                }
            }
            Stmt::AnnAssign(a) => {
                if let (Expr::Name(n), Some(v)) = (&*a.target, &a.value) {
                    if self.is_session_ctor(v) {
                        self.facts.sessions.insert(n.id.to_string());
                    }
                    self.facts.assigns.push(Assign {
                        name: n.id.to_string(),
                        range: (a.range.start().to_usize(), a.range.end().to_usize()),
                        scope: self.scope,
                    });
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(name) = item.optional_vars.as_deref().and_then(dotted) {
                        if self.is_session_ctor(&item.context_expr) {
                            self.facts.sessions.insert(name);
                        }
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(c) => self.call(c),
            Expr::Name(n) if matches!(n.ctx, ast::ExprContext::Store) => {
                self.bind(n.id.as_str(), n.range.start().to_usize());
            }
            _ => {}
        }
        walk_expr(self, expr);
    }

    fn visit_parameter(&mut self, parameter: &'a ast::Parameter) {
        self.bind(parameter.name.as_str(), parameter.range.start().to_usize());
        walk_parameter(self, parameter);
    }

    fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.bind(name.as_str(), h.range.start().to_usize());
        }
        walk_except_handler(self, handler);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KW: &str = "headers=H";

    fn fix(src: &str, pos: &[(u32, u32)]) -> Option<String> {
        fix_source(src, pos, KW).map(|(t, _)| t)
    }

    #[test]
    fn single_line_call() {
        let src = "import requests\nrequests.get(\"https://x.example/prompt\", timeout=5)\n";
        let out = fix(src, &[(2, 14)]).unwrap();
        assert_eq!(
            out,
            "import requests\nimport os\nrequests.get(\"https://x.example/prompt\", timeout=5, headers=H)\n"
        );
    }

    #[test]
    fn multi_line_call_with_trailing_comma() {
        let src = "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\nimport requests\n\ndef f():\n    r = requests.post(\n        \"https://x.example/prompt\",\n        json={\"a\": (1, \")\")},  # )\n    )\n";
        let out = fix(src, &[(7, 9)]).unwrap();
        assert!(out.starts_with("\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\nimport requests\nimport os\n"), "{out}");
        assert!(
            out.contains("json={\"a\": (1, \")\")},\n        headers=H,  # )\n    )"),
            "{out}"
        );
    }

    #[test]
    fn name_bound_url_and_session() {
        let src = "import os\nimport requests\ns = requests.Session()\nURL = \"https://x.example/queue\"\ns.get(URL)\n";
        let out = fix(src, &[(4, 7)]).unwrap();
        assert!(out.ends_with("s.get(URL, headers=H)\n"), "{out}");
        assert_eq!(out.matches("import os").count(), 1);
    }

    #[test]
    fn a_name_resolves_to_its_own_binding() {
        // The finding is at the module constant (line 2): only `remote` uses it.
        let src = "import requests\nURL = \"https://x.example/q\"\ndef local():\n    URL = \"http://127.0.0.1:8188/q\"\n    requests.get(URL)\ndef param(URL):\n    requests.get(URL)\ndef loop():\n    for URL in []:\n        requests.get(URL)\ndef remote():\n    requests.get(URL)\n";
        let out = fix(src, &[(2, 7)]).unwrap();
        assert_eq!(out.matches("headers=H").count(), 1, "{out}");
        assert!(
            out.ends_with("def remote():\n    requests.get(URL, headers=H)\n"),
            "{out}"
        );
        // The finding at the function's own binding: only that call.
        let out = fix(src, &[(4, 11)]).unwrap();
        assert!(
            out.contains(
                "    URL = \"http://127.0.0.1:8188/q\"\n    requests.get(URL, headers=H)\n"
            ),
            "{out}"
        );
        assert_eq!(out.matches("headers=H").count(), 1, "{out}");
        // Rebound later in the module: the call uses the second binding, not the reported one.
        let src = "import requests\nURL = \"https://x.example/q\"\nURL = \"http://127.0.0.1:8188/q\"\nrequests.get(URL)\n";
        assert_eq!(fix(src, &[(2, 7)]), None);
        // A function reading a name the module binds twice is ambiguous: left alone.
        let src = "import requests\nURL = \"https://x.example/q\"\nif X:\n    URL = \"https://y.example/q\"\ndef f():\n    requests.get(URL)\n";
        assert_eq!(fix(src, &[(2, 7)]), None);
        // `global` makes the module binding the one.
        let src = "import requests\nURL = \"https://x.example/q\"\ndef f():\n    global URL\n    requests.get(URL)\n";
        assert!(fix(src, &[(2, 7)])
            .unwrap()
            .contains("requests.get(URL, headers=H)"));
    }

    #[test]
    fn positions_outside_the_text_fix_nothing() {
        let src = "import requests\nrequests.get(\"https://x.example/p\")\n";
        // Past the end of the line (it used to land on the end of the file), past the last line,
        // a zero column.
        for pos in [(2, 200), (9, 1), (2, 0)] {
            assert_eq!(fix(src, &[pos]), None, "{pos:?}");
        }
        assert_eq!(offset_of("ab\ncd", 2, 2), Some(4));
        assert_eq!(offset_of("ab\ncd", 1, 3), None);
    }

    #[test]
    fn the_import_goes_before_the_first_fixed_call_or_nothing_is_done() {
        let src = "import requests; requests.get(\"https://x.example/p\")\n";
        assert_eq!(fix(src, &[(1, 31)]), None);
        let src =
            "import json\nimport os.path\nimport requests\nrequests.get(\"https://x.example/p\")\n";
        let out = fix(src, &[(4, 14)]).unwrap();
        assert_eq!(out.matches("import os").count(), 1, "{out}");
        let src = "import requests\nimport json as os\nrequests.get(\"https://x.example/p\")\n";
        let out = fix(src, &[(3, 14)]).unwrap();
        assert!(out.contains("import json as os\nimport os\n"), "{out}");
    }

    #[test]
    fn write_atomic_replaces_refuses_links_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.py");
        write_atomic(&p, b"one\n").unwrap();
        write_atomic(&p, b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two\n");
        #[cfg(unix)]
        {
            let target = dir.path().join("target.py");
            std::fs::write(&target, "keep\n").unwrap();
            let link = dir.path().join("link.py");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            let e = write_atomic(&link, b"x").unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{e}");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
        }
        // A directory that does not exist: an error, nothing created.
        assert!(write_atomic(&dir.path().join("no/such/f.py"), b"x").is_err());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".access-audit-"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn each_insertion_uses_the_line_break_of_its_line() {
        // A LF file with one CRLF line elsewhere stays LF where it is edited.
        let src = "import requests\n# note\r\nrequests.get(\n    \"https://x.example/p\",\n    timeout=5,\n)\n";
        let out = fix(src, &[(4, 5)]).unwrap();
        assert_eq!(
            out,
            "import requests\nimport os\n# note\r\nrequests.get(\n    \"https://x.example/p\",\n    timeout=5,\n    headers=H,\n)\n"
        );
        assert_eq!(line_ending("a\r\nb", 3), "\r\n");
        assert_eq!(line_ending("a\nb", 0), "\n");
        assert_eq!(line_ending("", 0), "\n");
    }

    #[test]
    fn unsafe_calls_are_left() {
        for src in [
            "import requests\nrequests.get(\"https://x.example/p\", headers={})\n",
            "import requests\nrequests.get(\"https://x.example/p\", **kw)\n",
            "import aiohttp\naiohttp.ClientSession().get(\"https://x.example/p\")\n",
            "import requests\nrequests.get(build(\"https://x.example/p\"))\n",
        ] {
            assert_eq!(fix(src, &[(2, 14)]), None, "{src}");
        }
    }
}
