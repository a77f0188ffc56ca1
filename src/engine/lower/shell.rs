//! Shell scripts and Dockerfiles: `curl` / `wget` / `websocat` / HTTPie / `xh` commands (with their
//! `-H` headers and `-b` cookies, so a request that sends `CF-Access-Client-Id` is tokenized),
//! `docker exec` commands, and variables assigned in the script (`COMFY=http://…`,
//! `export COMFY=…`, `: "${COMFY:=…}"`, `ENV COMFY_URL=…`, `ARG`).
//!
//! The HTTP tools are data (`[shell]` in `rules/sinks/http.toml`, [`ShellSinks`]): the command
//! names, the client each reports, which options take a value or carry a header, a cookie or the
//! URL, and how a URL written without a scheme is completed.
//!
//! A small shell lexer (quotes, escapes, `$VAR` / `${VAR:-default}` / `$(…)` expansions, line
//! continuations, comments, here-documents, command separators) turns the text into commands of
//! words; each word is kept as literal pieces and variable references, lowered to [`StrExpr`]:
//! `$NAME` is a reference to the name when the file assigns it, else an environment input;
//! `${NAME:-default}` is an environment input with its default; `$1` is a command-line argument;
//! `$(…)` is unknown (the commands inside it are analyzed too).
//!
//! Only arguments of the HTTP tools, variable assignments and Dockerfile `ENV` / `ARG` are
//! candidates: URLs in comments, `echo` messages and here-document bodies are not findings.
//! A Dockerfile is split into instructions first (continuations joined, comment lines inside them
//! dropped, `RUN <<EOF` bodies kept); `RUN`, `CMD`, `ENTRYPOINT`, `HEALTHCHECK CMD` (shell or JSON
//! form) are shell commands.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::engine::ir::{Binding, Candidate, ExecSite, FileFacts, InputKind, Pos, StrExpr, Use};
use crate::engine::source::Language;
use crate::engine::source::LineIndex;
use crate::rules::{ArgumentStyle, RuleSet, ShellArguments, ShellSinks, ShellTool};

/// Nesting bound for `$(…)` inside `$(…)`, `sh -c` strings and here-document scripts.
const MAX_DEPTH: usize = 8;

/// Extract facts from a shell script or a Dockerfile, with the embedded HTTP tools
/// (`[shell]` in `rules/sinks/http.toml`).
pub fn extract(text: &str, kind: Language, rules: &RuleSet) -> FileFacts {
    extract_with(text, kind, rules, &crate::rules::sinks().shell)
}

/// [`extract`] with these HTTP tools.
pub fn extract_with(text: &str, kind: Language, rules: &RuleSet, tools: &ShellSinks) -> FileFacts {
    let units = if kind == Language::Dockerfile {
        dockerfile_units(text)
    } else {
        let mut lexer = Lexer::new(text);
        lexer.lex(0, text.len(), 0);
        lexer.shell_strings();
        vec![Unit {
            text: text.to_string(),
            map: vec![(0, 0)],
            cmds: lexer.out,
        }]
    };
    let mut ctx = Ctx {
        rules,
        tools,
        index: LineIndex::new(text),
        facts: FileFacts::new(),
        assigned: HashSet::new(),
        last_value: HashMap::new(),
        rendered: HashMap::new(),
        shapes: HashMap::new(),
        cred_vars: HashSet::new(),
        frames: Vec::new(),
        pending_function: None,
    };
    for u in &units {
        for c in &u.cmds {
            ctx.collect_assigned(c);
        }
    }
    for u in &units {
        for c in &u.cmds {
            let start = ctx.pos(u, c.start).line;
            let end = ctx.pos(u, c.end.max(c.start)).line;
            ctx.facts.stmt_spans.push((start, end.max(start)));
            ctx.command(u, c);
        }
    }
    ctx.facts
}

// ---------------------------------------------------------------------------------------------
// Words and commands
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Part {
    Lit(String),
    Var {
        name: String,
        op: VarOp,
    },
    /// `$(…)`, `` `…` ``, `$((…))`, `<(…)`: not known statically.
    Subst,
    /// `NAME=( … )`: the raw text of an array.
    Array(String),
}

#[derive(Debug, Clone)]
enum VarOp {
    Plain,
    /// `${NAME:-default}` / `${NAME-default}`.
    Default(Vec<Part>),
    /// `${NAME:=default}` / `${NAME=default}`.
    Assign(Vec<Part>),
    /// `${NAME[@]}`, `${NAME[0]}`: an array element or all of them.
    Index,
    /// `${NAME%/}`, `${NAME:+…}`, …: roughly the variable.
    Other,
}

#[derive(Debug, Clone, Default)]
struct Word {
    parts: Vec<Part>,
    /// Byte offsets in the unit's text.
    start: usize,
    end: usize,
    /// Did the word start with a quote (`"A=b"` is not an assignment)?
    quoted_start: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmdKind {
    Shell,
    /// Dockerfile `ENV` (each assignment is a binding).
    Env,
    /// Dockerfile `ARG` (a build argument with its default).
    Arg,
}

#[derive(Debug, Clone)]
struct Cmd {
    words: Vec<Word>,
    start: usize,
    end: usize,
    /// `name()` / `function name`: a function definition header.
    func_def: Option<String>,
    kind: CmdKind,
    /// Dockerfile `ENV NAME value with spaces` (legacy form): (name, value, value offset).
    assigns: Vec<(String, Vec<Part>, usize)>,
}

impl Cmd {
    fn new(start: usize) -> Cmd {
        Cmd {
            words: Vec::new(),
            start,
            end: start,
            func_def: None,
            kind: CmdKind::Shell,
            assigns: Vec::new(),
        }
    }
}

/// A piece of text lexed on its own (a shell script, or one Dockerfile instruction), with the map
/// from its byte offsets back to the file's.
struct Unit {
    text: String,
    /// (offset in `text`, offset in the file) at the start of each contiguous segment.
    map: Vec<(usize, usize)>,
    cmds: Vec<Cmd>,
}

impl Unit {
    fn file_offset(&self, at: usize) -> usize {
        let i = self
            .map
            .partition_point(|&(v, _)| v <= at)
            .saturating_sub(1);
        let (v, o) = self.map.get(i).copied().unwrap_or((0, 0));
        o + (at - v.min(at))
    }
}

fn push_lit(parts: &mut Vec<Part>, s: &str) {
    if let Some(Part::Lit(last)) = parts.last_mut() {
        last.push_str(s);
    } else {
        parts.push(Part::Lit(s.to_string()));
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    out: Vec<Cmd>,
}

const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "ash", "ssh"];

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Lexer<'a> {
        Lexer {
            s,
            b: s.as_bytes(),
            out: Vec::new(),
        }
    }

    fn ch(&self, i: usize) -> char {
        self.s[i..].chars().next().unwrap_or('\0')
    }

    /// Lex `s[from..to]` into commands.
    #[allow(unused_assignments)] // the macros reset state that the last use does not read
    fn lex(&mut self, from: usize, to: usize, depth: usize) {
        let to = to.min(self.b.len());
        let mut i = from;
        let mut cmd = Cmd::new(from);
        let mut word: Option<Word> = None;
        let mut skip_word = false;
        // (delimiter, strip leading tabs, body is a script)
        let mut heredocs: Vec<(String, bool, bool)> = Vec::new();

        macro_rules! end_word {
            ($at:expr) => {
                if let Some(mut w) = word.take() {
                    w.end = $at;
                    if skip_word {
                        skip_word = false;
                    } else {
                        cmd.words.push(w);
                    }
                }
            };
        }
        macro_rules! end_cmd {
            ($at:expr) => {
                if !cmd.words.is_empty() || cmd.func_def.is_some() {
                    if let Some(w) = cmd.words.first() {
                        cmd.start = w.start;
                    }
                    cmd.end = $at;
                    self.out.push(std::mem::replace(&mut cmd, Cmd::new($at)));
                } else {
                    cmd = Cmd::new($at);
                }
                skip_word = false;
            };
        }
        macro_rules! part {
            ($p:expr, $start:expr) => {{
                let p = $p;
                let w = word.get_or_insert_with(|| Word {
                    start: $start,
                    ..Word::default()
                });
                match p {
                    Part::Lit(s) => push_lit(&mut w.parts, &s),
                    other => w.parts.push(other),
                }
            }};
        }

        while i < to {
            let c = self.b[i];
            match c {
                b' ' | b'\t' | b'\r' => {
                    end_word!(i);
                    i += 1;
                }
                b'\n' => {
                    end_word!(i);
                    end_cmd!(i);
                    i += 1;
                    for (delim, dash, script) in std::mem::take(&mut heredocs) {
                        let body_start = i;
                        let mut body_end = to;
                        while i < to {
                            let le = self.s[i..to].find('\n').map_or(to, |k| i + k);
                            let line = &self.s[i..le];
                            let line = if dash {
                                line.trim_start_matches('\t')
                            } else {
                                line
                            };
                            let at = i;
                            i = (le + 1).min(to);
                            if line.trim_end() == delim {
                                body_end = at;
                                break;
                            }
                        }
                        if script && depth < MAX_DEPTH {
                            self.lex(body_start, body_end, depth + 1);
                        }
                    }
                    cmd = Cmd::new(i);
                }
                b'#' if word.is_none() => {
                    i = self.s[i..to].find('\n').map_or(to, |k| i + k);
                }
                b'\\' => {
                    if self.b.get(i + 1) == Some(&b'\n') {
                        i += 2;
                    } else if i + 1 < to {
                        let ch = self.ch(i + 1);
                        part!(Part::Lit(ch.to_string()), i);
                        i += 1 + ch.len_utf8();
                    } else {
                        i += 1;
                    }
                }
                b'\'' => {
                    let end = self.s[i + 1..to].find('\'').map_or(to, |k| i + 1 + k);
                    let first = word.is_none();
                    part!(Part::Lit(self.s[i + 1..end].to_string()), i);
                    if first {
                        if let Some(w) = word.as_mut() {
                            w.quoted_start = true;
                        }
                    }
                    i = (end + 1).min(to);
                }
                b'"' => {
                    let first = word.is_none();
                    let mut parts = Vec::new();
                    let next = self.double_quoted(i, to, &mut parts, depth);
                    let w = word.get_or_insert_with(|| Word {
                        start: i,
                        quoted_start: first,
                        ..Word::default()
                    });
                    if parts.is_empty() {
                        push_lit(&mut w.parts, "");
                    }
                    for p in parts {
                        match p {
                            Part::Lit(s) => push_lit(&mut w.parts, &s),
                            other => w.parts.push(other),
                        }
                    }
                    i = next;
                }
                b'$' => {
                    let (p, next) = self.dollar(i, to, depth);
                    part!(p, i);
                    i = next;
                }
                b'`' => {
                    let end = self.backtick_end(i, to);
                    if depth < MAX_DEPTH {
                        self.lex(i + 1, end, depth + 1);
                    }
                    part!(Part::Subst, i);
                    i = (end + 1).min(to);
                }
                b'&' if self.b.get(i + 1) == Some(&b'>') => {
                    end_word!(i);
                    i += 2;
                    if self.b.get(i) == Some(&b'>') {
                        i += 1;
                    }
                    skip_word = true;
                }
                b';' | b'&' | b'|' => {
                    end_word!(i);
                    end_cmd!(i);
                    i += 1;
                    while i < to && matches!(self.b[i], b'&' | b'|' | b';') {
                        i += 1;
                    }
                    cmd = Cmd::new(i);
                }
                b'(' => {
                    let array = word.as_ref().is_some_and(
                        |w| matches!(w.parts.last(), Some(Part::Lit(l)) if l.ends_with('=')),
                    );
                    if array {
                        let close = self.matching(i, to, b'(', b')');
                        part!(Part::Array(self.s[i + 1..close].to_string()), i);
                        i = (close + 1).min(to);
                        continue;
                    }
                    end_word!(i);
                    let after = self.s[i + 1..to].trim_start_matches([' ', '\t']);
                    let header = after.starts_with(')')
                        && (cmd.words.len() == 1
                            || (cmd.words.len() == 2 && lit_text(&cmd.words[0]) == "function"));
                    if header {
                        let name = cmd.words.last().map(lit_text).unwrap_or_default();
                        cmd.func_def = Some(name);
                        i = to - after.len() + 1;
                        end_cmd!(i);
                    } else {
                        end_cmd!(i);
                        i += 1;
                        cmd = Cmd::new(i);
                    }
                }
                b')' => {
                    end_word!(i);
                    end_cmd!(i);
                    i += 1;
                    cmd = Cmd::new(i);
                }
                b'<' | b'>' => {
                    // `2>file`: the digits are the descriptor, not a word.
                    let fd = word.as_ref().is_some_and(|w| {
                        matches!(&w.parts[..], [Part::Lit(l)] if l.bytes().all(|b| b.is_ascii_digit()))
                    });
                    if fd {
                        word = None;
                    } else {
                        end_word!(i);
                    }
                    let rest = &self.s[i..to];
                    if rest.starts_with("<<<") {
                        i += 3;
                        skip_word = true;
                    } else if rest.starts_with("<<") {
                        i += 2;
                        let dash = self.b.get(i) == Some(&b'-');
                        if dash {
                            i += 1;
                        }
                        while i < to && matches!(self.b[i], b' ' | b'\t') {
                            i += 1;
                        }
                        let mut delim = String::new();
                        while i < to {
                            let ch = self.ch(i);
                            if ch.is_whitespace() || ";|&<>()".contains(ch) {
                                break;
                            }
                            if !matches!(ch, '\'' | '"' | '\\') {
                                delim.push(ch);
                            }
                            i += ch.len_utf8();
                        }
                        let script = cmd.words.is_empty()
                            || cmd
                                .words
                                .first()
                                .is_some_and(|w| SHELLS.contains(&basename(&lit_text(w))));
                        if !delim.is_empty() {
                            heredocs.push((delim, dash, script));
                        }
                    } else if self.b.get(i + 1) == Some(&b'(') {
                        // Process substitution.
                        let close = self.matching(i + 1, to, b'(', b')');
                        if depth < MAX_DEPTH {
                            self.lex(i + 2, close, depth + 1);
                        }
                        part!(Part::Subst, i);
                        i = (close + 1).min(to);
                    } else {
                        i += 1;
                        while i < to && matches!(self.b[i], b'>' | b'<' | b'&' | b'|') {
                            i += 1;
                        }
                        skip_word = true;
                    }
                }
                _ => {
                    let ch = self.ch(i);
                    let mut buf = [0u8; 4];
                    part!(Part::Lit(ch.encode_utf8(&mut buf).to_string()), i);
                    i += ch.len_utf8();
                }
            }
        }
        end_word!(to);
        end_cmd!(to);
    }

    /// `sh -c 'curl …'`, `bash -lc "…"`: the string is a script too.
    fn shell_strings(&mut self) {
        let mut k = 0;
        while k < self.out.len() && k < 10_000 {
            let words = &self.out[k].words;
            k += 1;
            let Some(at) = words
                .iter()
                .position(|w| SHELLS[..6].contains(&basename(&lit_text(w))))
            else {
                continue;
            };
            let Some(flag) = words[at + 1..]
                .iter()
                .position(|w| {
                    let t = lit_text(w);
                    t.starts_with('-') && !t.starts_with("--") && t.contains('c')
                })
                .map(|p| at + 1 + p)
            else {
                continue;
            };
            let Some(script) = words.get(flag + 1) else {
                continue;
            };
            let raw = &self.s[script.start..script.end.min(self.s.len())];
            let quote = raw.as_bytes().first().copied();
            if matches!(quote, Some(b'\'' | b'"'))
                && raw.len() >= 2
                && raw.as_bytes()[raw.len() - 1] == quote.unwrap_or(0)
                && raw[1..raw.len() - 1].bytes().all(|b| Some(b) != quote)
                && !(quote == Some(b'"') && (raw.contains("$(") || raw.contains('`')))
            {
                let (from, to) = (script.start + 1, script.end - 1);
                self.lex(from, to, 1);
            }
        }
    }

    /// `"…"` starting at `i`: its parts; returns the offset after the closing quote.
    fn double_quoted(&mut self, i: usize, to: usize, parts: &mut Vec<Part>, depth: usize) -> usize {
        let mut j = i + 1;
        while j < to {
            match self.b[j] {
                b'"' => return j + 1,
                b'\\' => {
                    let next = self.b.get(j + 1).copied();
                    match next {
                        Some(b'\n') => j += 2,
                        Some(b'$' | b'`' | b'"' | b'\\') => {
                            push_lit(parts, &(next.map(char::from).unwrap_or('\\')).to_string());
                            j += 2;
                        }
                        _ => {
                            push_lit(parts, "\\");
                            j += 1;
                        }
                    }
                }
                b'$' => {
                    let (p, next) = self.dollar(j, to, depth);
                    match p {
                        Part::Lit(s) => push_lit(parts, &s),
                        other => parts.push(other),
                    }
                    j = next;
                }
                b'`' => {
                    let end = self.backtick_end(j, to);
                    if depth < MAX_DEPTH {
                        self.lex(j + 1, end, depth + 1);
                    }
                    parts.push(Part::Subst);
                    j = (end + 1).min(to);
                }
                _ => {
                    let ch = self.ch(j);
                    let mut buf = [0u8; 4];
                    push_lit(parts, ch.encode_utf8(&mut buf));
                    j += ch.len_utf8();
                }
            }
        }
        to
    }

    /// The text between `from` and `to` as the parts of one word (quotes and expansions are
    /// processed, blanks are literal): the default in `${NAME:-default}`.
    fn inner_parts(&mut self, from: usize, to: usize, depth: usize) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut j = from;
        while j < to {
            match self.b[j] {
                b'\'' => {
                    let end = self.s[j + 1..to].find('\'').map_or(to, |k| j + 1 + k);
                    push_lit(&mut parts, &self.s[j + 1..end]);
                    j = (end + 1).min(to);
                }
                b'"' => j = self.double_quoted(j, to, &mut parts, depth).min(to),
                b'$' => {
                    let (p, next) = self.dollar(j, to, depth);
                    match p {
                        Part::Lit(s) => push_lit(&mut parts, &s),
                        other => parts.push(other),
                    }
                    j = next;
                }
                b'\\' if j + 1 < to => {
                    let ch = self.ch(j + 1);
                    push_lit(&mut parts, &ch.to_string());
                    j += 1 + ch.len_utf8();
                }
                _ => {
                    let ch = self.ch(j);
                    let mut buf = [0u8; 4];
                    push_lit(&mut parts, ch.encode_utf8(&mut buf));
                    j += ch.len_utf8();
                }
            }
        }
        parts
    }

    /// An expansion starting with `$` at `i`: the part and the offset after it.
    fn dollar(&mut self, i: usize, to: usize, depth: usize) -> (Part, usize) {
        let next = if i + 1 < to { self.b[i + 1] } else { 0 };
        match next {
            b'(' => {
                if self.b.get(i + 2) == Some(&b'(') {
                    let close = self.matching(i + 1, to, b'(', b')');
                    return (Part::Subst, (close + 1).min(to));
                }
                let close = self.matching(i + 1, to, b'(', b')');
                if depth < MAX_DEPTH {
                    self.lex(i + 2, close, depth + 1);
                }
                (Part::Subst, (close + 1).min(to))
            }
            b'{' => {
                let close = self.matching(i + 1, to, b'{', b'}');
                let part = self.brace(i + 2, close, depth);
                (part, (close + 1).min(to))
            }
            b'\'' => {
                // `$'…'`: ANSI-C quoting.
                let mut j = i + 2;
                let mut lit = String::new();
                while j < to && self.b[j] != b'\'' {
                    if self.b[j] == b'\\' && j + 1 < to {
                        let e = self.ch(j + 1);
                        lit.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                        j += 1 + e.len_utf8();
                    } else {
                        let ch = self.ch(j);
                        lit.push(ch);
                        j += ch.len_utf8();
                    }
                }
                (Part::Lit(lit), (j + 1).min(to))
            }
            b'"' => (Part::Lit(String::new()), i + 1),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < to && (self.b[j].is_ascii_alphanumeric() || self.b[j] == b'_') {
                    j += 1;
                }
                (
                    Part::Var {
                        name: self.s[i + 1..j].to_string(),
                        op: VarOp::Plain,
                    },
                    j,
                )
            }
            c if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => (
                Part::Var {
                    name: char::from(c).to_string(),
                    op: VarOp::Plain,
                },
                i + 2,
            ),
            _ => (Part::Lit("$".into()), i + 1),
        }
    }

    /// The inside of `${…}` (`from..to`).
    fn brace(&mut self, from: usize, to: usize, depth: usize) -> Part {
        let inner = &self.s[from..to];
        if inner.starts_with(['#', '!']) && inner.len() > 1 {
            return Part::Subst;
        }
        let mut n = inner
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if n == 0 && inner.starts_with(['@', '*', '?', '$', '!', '#', '-']) {
            n = 1;
        }
        if n == 0 {
            return Part::Subst;
        }
        let name = inner[..n].to_string();
        let rest = &inner[n..];
        let op = if rest.is_empty() {
            VarOp::Plain
        } else if let Some(skip) = [(":-", 2), ("-", 1)]
            .iter()
            .find(|(p, _)| rest.starts_with(p))
            .map(|(_, k)| *k)
        {
            VarOp::Default(self.inner_parts(from + n + skip, to, depth))
        } else if let Some(skip) = [(":=", 2), ("=", 1)]
            .iter()
            .find(|(p, _)| rest.starts_with(p))
            .map(|(_, k)| *k)
        {
            VarOp::Assign(self.inner_parts(from + n + skip, to, depth))
        } else if rest.starts_with('[') {
            VarOp::Index
        } else {
            VarOp::Other
        };
        Part::Var { name, op }
    }

    /// The offset of the bracket closing the one at `open_at` (quotes and nesting respected), or `to`.
    fn matching(&self, open_at: usize, to: usize, open: u8, close: u8) -> usize {
        let mut depth = 0usize;
        let mut j = open_at;
        while j < to {
            match self.b[j] {
                b'\\' => j += 1,
                b'\'' if open != b'{' || depth > 1 => {
                    j = self.s[j + 1..to].find('\'').map_or(to, |k| j + 1 + k);
                }
                b'"' => {
                    let mut k = j + 1;
                    while k < to && self.b[k] != b'"' {
                        if self.b[k] == b'\\' {
                            k += 1;
                        }
                        k += 1;
                    }
                    j = k;
                }
                b if b == open => depth += 1,
                b if b == close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return j;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        to
    }

    fn backtick_end(&self, i: usize, to: usize) -> usize {
        let mut j = i + 1;
        while j < to {
            match self.b[j] {
                b'\\' => j += 2,
                b'`' => return j,
                _ => j += 1,
            }
        }
        to
    }
}

/// The literal text of a word (expansions shown as `$NAME`).
fn lit_text(w: &Word) -> String {
    render(&w.parts, &HashMap::new())
}

fn render(parts: &[Part], values: &HashMap<String, String>) -> String {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Lit(s) => out.push_str(s),
            Part::Var { name, .. } => match values.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push('$');
                    out.push_str(name);
                }
            },
            Part::Subst => out.push_str("$(…)"),
            Part::Array(raw) => {
                out.push('(');
                out.push_str(raw);
                out.push(')');
            }
        }
    }
    out
}

/// The text a value would have with defaults taken: used to tell whether it builds an address.
fn shape(parts: &[Part], values: &HashMap<String, String>) -> String {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Lit(s) => out.push_str(s),
            Part::Var {
                op: VarOp::Default(d) | VarOp::Assign(d),
                ..
            } => out.push_str(&shape(d, values)),
            Part::Var { name, .. } => match values.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str("{x}"),
            },
            Part::Subst | Part::Array(_) => out.push_str("{x}"),
        }
    }
    out
}

static PORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r":\d{2,5}(?:$|[/?#\s])").expect("valid regex"));

fn builds_address(shape: &str) -> bool {
    shape.contains("://") || PORT.is_match(shape)
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// `NAME=value` / `NAME+=value`: (name, value parts, offset of the value).
fn split_assign(w: &Word) -> Option<(String, Vec<Part>, usize)> {
    if w.quoted_start {
        return None;
    }
    let Some(Part::Lit(first)) = w.parts.first() else {
        return None;
    };
    let n = first
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if n == 0 || first.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let rest = &first[n..];
    let eq = if rest.starts_with('=') {
        1
    } else if rest.starts_with("+=") {
        2
    } else {
        return None;
    };
    let mut value = Vec::new();
    let tail = &first[n + eq..];
    if !tail.is_empty() {
        value.push(Part::Lit(tail.to_string()));
    }
    value.extend(w.parts[1..].iter().cloned());
    Some((first[..n].to_string(), value, w.start + n + eq))
}

// ---------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------

static HEREDOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<<-?\s*["']?([A-Za-z_][A-Za-z0-9_]*)["']?"#).expect("valid regex")
});

fn dockerfile_units(text: &str) -> Vec<Unit> {
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut off = 0;
    for l in text.split_inclusive('\n') {
        lines.push((off, l.trim_end_matches('\n').trim_end_matches('\r')));
        off += l.len();
    }
    let continues = |l: &str| l.trim_end().ends_with('\\');
    let mut units = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        let (o, l) = lines[k];
        k += 1;
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut unit = Unit {
            text: String::new(),
            map: Vec::new(),
            cmds: Vec::new(),
        };
        let add = |unit: &mut Unit, o: usize, l: &str| {
            unit.map.push((unit.text.len(), o));
            unit.text.push_str(l);
            unit.text.push('\n');
        };
        add(&mut unit, o, l);
        let mut cont = continues(l);
        while cont && k < lines.len() {
            let (o, l) = lines[k];
            k += 1;
            let lt = l.trim_start();
            if lt.is_empty() || lt.starts_with('#') {
                continue;
            }
            add(&mut unit, o, l);
            cont = continues(l);
        }
        let delims: Vec<String> = HEREDOC
            .captures_iter(&unit.text)
            .filter_map(|c| c.get(1).map(|m| m.as_str().to_string()))
            .collect();
        for d in delims {
            while k < lines.len() {
                let (o, l) = lines[k];
                k += 1;
                add(&mut unit, o, l);
                if l.trim() == d {
                    break;
                }
            }
        }
        instruction(&mut unit);
        units.push(unit);
    }
    units
}

/// Lex one Dockerfile instruction into commands.
fn instruction(unit: &mut Unit) {
    let text = unit.text.clone();
    let kw_len = text
        .bytes()
        .take_while(|b| !b.is_ascii_whitespace())
        .count();
    let keyword = text[..kw_len].to_ascii_uppercase();
    let skip_blank = |mut p: usize| {
        while p < text.len() && matches!(text.as_bytes()[p], b' ' | b'\t') {
            p += 1;
        }
        p
    };
    let skip_flags = |mut p: usize| loop {
        p = skip_blank(p);
        if text[p..].starts_with("--") {
            p += text[p..]
                .find(|c: char| c.is_whitespace())
                .unwrap_or(text.len() - p);
        } else {
            return p;
        }
    };
    let mut p = skip_blank(kw_len);
    let mut keyword = keyword.as_str();
    if keyword == "ONBUILD" {
        let n = text[p..]
            .bytes()
            .take_while(|b| !b.is_ascii_whitespace())
            .count();
        let inner = text[p..p + n].to_ascii_uppercase();
        p = skip_blank(p + n);
        keyword = match inner.as_str() {
            "RUN" => "RUN",
            "ENV" => "ENV",
            "ARG" => "ARG",
            "CMD" => "CMD",
            "ENTRYPOINT" => "ENTRYPOINT",
            "HEALTHCHECK" => "HEALTHCHECK",
            _ => "",
        };
    }
    let mut lexer = Lexer::new(&text);
    match keyword {
        "RUN" | "CMD" | "ENTRYPOINT" | "HEALTHCHECK" => {
            if keyword == "RUN" || keyword == "HEALTHCHECK" {
                p = skip_flags(p);
            }
            if keyword == "HEALTHCHECK" {
                let n = text[p..]
                    .bytes()
                    .take_while(|b| !b.is_ascii_whitespace())
                    .count();
                if !text[p..p + n].eq_ignore_ascii_case("CMD") {
                    return;
                }
                p = skip_blank(p + n);
            }
            if text[p..].starts_with('[') {
                if let Some(cmd) = exec_form(&text, p) {
                    unit.cmds.push(cmd);
                    return;
                }
            }
            lexer.lex(p, text.len(), 0);
            lexer.shell_strings();
            unit.cmds = lexer.out;
        }
        "ENV" | "ARG" => {
            lexer.lex(p, text.len(), 0);
            let words: Vec<Word> = lexer.out.into_iter().flat_map(|c| c.words).collect();
            let Some(first) = words.first() else { return };
            let mut cmd = Cmd::new(first.start);
            cmd.end = words.last().map_or(first.end, |w| w.end);
            cmd.kind = if keyword == "ENV" {
                CmdKind::Env
            } else {
                CmdKind::Arg
            };
            if keyword == "ENV" && split_assign(first).is_none() && words.len() > 1 {
                // `ENV NAME value with spaces`.
                let mut value = Vec::new();
                for (k, w) in words[1..].iter().enumerate() {
                    if k > 0 {
                        push_lit(&mut value, " ");
                    }
                    for part in &w.parts {
                        match part {
                            Part::Lit(s) => push_lit(&mut value, s),
                            other => value.push(other.clone()),
                        }
                    }
                }
                cmd.assigns.push((lit_text(first), value, words[1].start));
            } else {
                for w in &words {
                    if let Some(a) = split_assign(w) {
                        cmd.assigns.push(a);
                    }
                }
            }
            cmd.words = words;
            unit.cmds.push(cmd);
        }
        _ => {}
    }
}

/// `RUN ["curl", "-f", "http://…"]`: the JSON exec form.
fn exec_form(text: &str, p: usize) -> Option<Cmd> {
    let body = text[p..].trim_end();
    let items: Vec<String> = serde_json::from_str(&body.replace("\\\n", "")).ok()?;
    let mut cmd = Cmd::new(p);
    cmd.end = p + body.len();
    let mut cursor = p;
    for item in items {
        let quoted = serde_json::to_string(&item).unwrap_or_default();
        let start = text[cursor..].find(&quoted).map_or(cursor, |k| cursor + k);
        cursor = (start + quoted.len()).min(text.len());
        cmd.words.push(Word {
            parts: vec![Part::Lit(item)],
            start,
            end: cursor,
            quoted_start: true,
        });
    }
    Some(cmd)
}

// ---------------------------------------------------------------------------------------------
// From commands to facts
// ---------------------------------------------------------------------------------------------

struct Ctx<'a> {
    rules: &'a RuleSet,
    /// The HTTP command-line tools and how their words are read.
    tools: &'a ShellSinks,
    index: LineIndex<'a>,
    facts: FileFacts,
    /// Names assigned anywhere in the file (`$NAME` is then a reference, else an env input).
    assigned: HashSet<String>,
    /// The value last bound to each name (for `X="$X/more"`).
    last_value: HashMap<String, StrExpr>,
    /// The text last bound to each name (for `-H "$HEADER"`).
    rendered: HashMap<String, String>,
    /// The text last bound to each name with defaults taken (to tell whether a value builds an
    /// address).
    shapes: HashMap<String, String>,
    /// Variables (and arrays) holding an Access credential header or cookie.
    cred_vars: HashSet<String>,
    /// Enclosing `{ … }` blocks: the function each one is the body of, if any.
    frames: Vec<Option<String>>,
    pending_function: Option<String>,
}

/// Words before the command name that do not change which command runs.
const PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "time", "nohup", "exec", "command",
    "builtin", "{", "}", "sudo", "env", "timeout", "xargs", "watch", "stdbuf", "nice",
];

impl Ctx<'_> {
    fn pos(&self, unit: &Unit, at: usize) -> Pos {
        self.index.pos(unit.file_offset(at))
    }

    fn function(&self) -> Option<String> {
        self.frames.iter().rev().find_map(|f| f.clone())
    }

    fn collect_assigned(&mut self, c: &Cmd) {
        for (name, _, _) in &c.assigns {
            self.assigned.insert(name.clone());
        }
        for w in &c.words {
            if let Some((name, _, _)) = split_assign(w) {
                self.assigned.insert(name);
            }
            collect_assign_ops(&w.parts, &mut self.assigned);
        }
    }

    fn header_is_credential(&self, h: &str) -> bool {
        if self.rules.is_credential_literal(h) {
            return true;
        }
        h.split_once(':').is_some_and(|(n, v)| {
            n.trim().eq_ignore_ascii_case("cookie") && self.rules.is_credential_literal(v)
        })
    }

    /// A variable's value, lowered; `self_name` is the name being assigned (`X="$X/more"`).
    fn var_expr(&self, name: &str, op: &VarOp, self_name: Option<&str>) -> StrExpr {
        if matches!(name, "?" | "$" | "!" | "#" | "-") {
            return StrExpr::Unknown(format!("${name}"));
        }
        let default = match op {
            VarOp::Default(d) | VarOp::Assign(d) => Some(Box::new(self.expr(d, self_name))),
            _ => None,
        };
        if name.bytes().all(|b| b.is_ascii_digit()) || name == "@" || name == "*" {
            return StrExpr::Input {
                kind: InputKind::CliArg,
                name: format!("${name}"),
                default,
            };
        }
        let is_self = self_name == Some(name);
        if !is_self && self.assigned.contains(name) {
            return StrExpr::Ref(name.to_string());
        }
        if is_self && default.is_none() {
            if let Some(prev) = self.last_value.get(name) {
                return prev.clone();
            }
        }
        StrExpr::Input {
            kind: InputKind::Env,
            name: name.to_string(),
            default,
        }
    }

    fn expr(&self, parts: &[Part], self_name: Option<&str>) -> StrExpr {
        let mut out: Vec<StrExpr> = parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => StrExpr::Lit(s.clone()),
                Part::Var { name, op } => self.var_expr(name, op, self_name),
                Part::Subst => StrExpr::Unknown("$(…)".into()),
                Part::Array(_) => StrExpr::Unknown("(…)".into()),
            })
            .collect();
        match out.len() {
            0 => StrExpr::Lit(String::new()),
            1 => out.pop().unwrap_or(StrExpr::Lit(String::new())),
            _ => StrExpr::Concat(out),
        }
    }

    /// `name=value` at `at` (the value's offset).
    fn bind(&mut self, unit: &Unit, name: &str, parts: &[Part], at: usize, arg: bool) {
        let pos = self.pos(unit, at);
        let mut value = self.expr(parts, Some(name));
        if arg {
            // A build argument: `--build-arg` overrides the default.
            value = StrExpr::Input {
                kind: InputKind::Env,
                name: name.to_string(),
                default: Some(Box::new(value)),
            };
        }
        let text = render(parts, &self.rendered);
        if parts.iter().any(|p| match p {
            Part::Array(raw) => self.array_has_credential(raw),
            _ => false,
        }) || self.header_is_credential(&text)
        {
            self.cred_vars.insert(name.to_string());
        }
        let value_shape = shape(parts, &self.shapes);
        if builds_address(&value_shape) {
            self.facts.candidates.push(Candidate {
                expr: value.clone(),
                pos,
                scope: 0,
                function: self.function(),
                bound_to: Some(name.to_string()),
                consumer: None,
            });
        }
        self.facts.bindings.push(Binding {
            scope: 0,
            name: name.to_string(),
            value: value.clone(),
            pos,
        });
        self.rendered.insert(name.to_string(), text);
        self.shapes.insert(name.to_string(), value_shape);
        self.last_value.insert(name.to_string(), value);
    }

    /// `H=(-H "CF-Access-Client-Id: $ID" -H …)`.
    fn array_has_credential(&self, raw: &str) -> bool {
        raw.split(['"', '\''])
            .any(|piece| self.header_is_credential(piece.trim()))
    }

    /// `${NAME:=default}` in any word assigns NAME.
    fn assign_ops(&mut self, unit: &Unit, w: &Word) {
        let mut found = Vec::new();
        find_assign_ops(&w.parts, &mut found);
        for (name, default) in found {
            let value = vec![Part::Var {
                name: name.clone(),
                op: VarOp::Default(default),
            }];
            self.bind(unit, &name, &value, w.start, false);
        }
    }

    fn command(&mut self, unit: &Unit, c: &Cmd) {
        match c.kind {
            CmdKind::Env | CmdKind::Arg => {
                for (name, parts, at) in &c.assigns {
                    self.bind(unit, name, parts, *at, c.kind == CmdKind::Arg);
                }
                return;
            }
            CmdKind::Shell => {}
        }
        if let Some(name) = &c.func_def {
            self.pending_function = Some(name.clone());
            return;
        }
        let words = &c.words;
        for w in words {
            self.assign_ops(unit, w);
        }
        let mut k = 0;
        // `function name {`
        if words.first().is_some_and(|w| lit_text(w) == "function") && words.len() >= 2 {
            let name = lit_text(&words[1]);
            if words.last().is_some_and(|w| lit_text(w) == "{") {
                self.frames.push(Some(name));
            } else {
                self.pending_function = Some(name);
            }
            return;
        }
        {
            // Leading assignments and prefix words.
            while let Some(w) = words.get(k) {
                if let Some((name, parts, at)) = split_assign(w) {
                    self.bind(unit, &name, &parts, at, false);
                    k += 1;
                    continue;
                }
                let t = lit_text(w);
                match t.as_str() {
                    "{" => {
                        self.frames.push(self.pending_function.take());
                    }
                    "}" => {
                        self.frames.pop();
                    }
                    _ => {}
                }
                if !PREFIXES.contains(&t.as_str()) {
                    break;
                }
                k += 1;
                // Options of `sudo`, `env`, `timeout`, `xargs`…, and `timeout`'s duration.
                while words
                    .get(k)
                    .is_some_and(|w| lit_text(w).starts_with('-') && lit_text(w).len() > 1)
                {
                    k += 1;
                }
                if matches!(t.as_str(), "timeout" | "watch")
                    && words.get(k).is_some_and(|w| {
                        lit_text(w)
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_ascii_digit())
                    })
                {
                    k += 1;
                }
            }
        }
        let Some(head) = words.get(k) else { return };
        let name = lit_text(head);
        let base = basename(&name);
        let args = &words[k + 1..];
        match base {
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                for w in args {
                    if let Some((name, parts, at)) = split_assign(w) {
                        self.bind(unit, &name, &parts, at, false);
                    }
                }
            }
            "docker" | "docker-compose" | "podman" => {
                let texts: Vec<String> = words[k..]
                    .iter()
                    .map(|w| render(&w.parts, &self.rendered))
                    .map(|t| {
                        if basename(&name) == "podman" && t == name {
                            "docker".to_string()
                        } else {
                            t
                        }
                    })
                    .collect();
                if let Some((container, command)) = super::docker_exec(&texts) {
                    let known = self.rules.services.iter().any(|s| {
                        s.containers
                            .as_ref()
                            .is_some_and(|re| re.is_match(&container))
                    });
                    if known {
                        self.facts.execs.push(ExecSite {
                            pos: self.pos(unit, head.start),
                            container,
                            command,
                            function: self.function(),
                            scope: 0,
                        });
                    }
                }
            }
            _ => {
                let tools = self.tools;
                if let Some((tool, grammar)) = tools.tool(base) {
                    self.http(unit, tool, grammar, args);
                }
            }
        }
    }

    /// An HTTP client command: its URL arguments become candidates consumed by one [`Use`].
    fn http(&mut self, unit: &Unit, tool: &ShellTool, grammar: &ShellArguments, args: &[Word]) {
        let (urls, credentialed) = match grammar.style {
            ArgumentStyle::Options => self.options(grammar, args),
            ArgumentStyle::RequestItems => self.request_items(grammar, args),
        };
        if urls.is_empty() {
            return;
        }
        let default_scheme = format!("{}://", tool.default_scheme);
        let mut names = Vec::new();
        let mut cands = Vec::new();
        for w in urls {
            let mut refs = Vec::new();
            for p in &w.parts {
                if let Part::Var { name, .. } = p {
                    refs.push(name.clone());
                }
            }
            names.extend(refs.iter().cloned());
            // A bare `$URL` is passed along as-is: the binding is the finding, this is its use.
            if let [Part::Var {
                op: VarOp::Plain, ..
            }] = &w.parts[..]
            {
                continue;
            }
            let mut expr = self.expr(&w.parts, None);
            if let Some(Part::Lit(first)) = w.parts.first() {
                if !first.contains("://") {
                    let prefix = if first.starts_with(':') && tool.port_means_localhost {
                        // HTTPie's `:8188/prompt` is localhost.
                        format!("{default_scheme}localhost")
                    } else if first
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '[')
                        && tool.host_gets_scheme
                    {
                        default_scheme.clone()
                    } else {
                        String::new()
                    };
                    if !prefix.is_empty() {
                        expr = match expr {
                            StrExpr::Concat(mut v) => {
                                v.insert(0, StrExpr::Lit(prefix));
                                StrExpr::Concat(v)
                            }
                            other => StrExpr::Concat(vec![StrExpr::Lit(prefix), other]),
                        };
                    }
                }
            }
            cands.push((expr, self.pos(unit, w.start)));
        }
        names.sort();
        names.dedup();
        let consumer = self.facts.uses.len();
        self.facts.uses.push(Use {
            scope: 0,
            client: Some(tool.client.clone()),
            credentialed,
            names,
            ..Use::default()
        });
        let function = self.function();
        for (expr, pos) in cands {
            self.facts.candidates.push(Candidate {
                expr,
                pos,
                scope: 0,
                function: function.clone(),
                bound_to: None,
                consumer: Some(consumer),
            });
        }
    }

    /// Is this option value (a header or cookie) a credential?
    fn value_is_credential(&self, w: Option<&Word>, text: &str, cookie: bool) -> bool {
        if let Some(w) = w {
            let via_var = w
                .parts
                .iter()
                .any(|p| matches!(p, Part::Var { name, .. } if self.cred_vars.contains(name)));
            if via_var && w.parts.len() == 1 {
                return true;
            }
        }
        if cookie {
            self.rules.is_credential_literal(text)
        } else {
            self.header_is_credential(text)
        }
    }

    /// curl-like options (`style = "options"`): the URL words and whether a credential is sent.
    fn options<'w>(&self, spec: &ShellArguments, args: &'w [Word]) -> (Vec<&'w Word>, bool) {
        let mut urls = Vec::new();
        let mut cred = false;
        let mut i = 0;
        let mut end_opts = false;
        while i < args.len() {
            let w = &args[i];
            let t = render(&w.parts, &self.rendered);
            let is_lit_start = matches!(w.parts.first(), Some(Part::Lit(_)));
            if !end_opts && t == "--" {
                end_opts = true;
                i += 1;
                continue;
            }
            if !end_opts && is_lit_start && t.starts_with("--") {
                let (opt, inline) = match t.split_once('=') {
                    Some((o, v)) => (o.to_string(), Some(v.to_string())),
                    None => (t.clone(), None),
                };
                if spec.long_takes_value(&opt) {
                    let (vw, vt) = match inline {
                        Some(v) => (None, v),
                        None => {
                            i += 1;
                            let vw = args.get(i);
                            (
                                vw,
                                vw.map(|v| render(&v.parts, &self.rendered))
                                    .unwrap_or_default(),
                            )
                        }
                    };
                    if spec.is_header_long(&opt) && self.value_is_credential(vw, &vt, false) {
                        cred = true;
                    }
                    if spec.is_cookie_long(&opt) && self.value_is_credential(vw, &vt, true) {
                        cred = true;
                    }
                    if spec.is_url_long(&opt) {
                        if let Some(v) = vw {
                            urls.push(v);
                        }
                    }
                }
                i += 1;
                continue;
            }
            if !end_opts && is_lit_start && t.starts_with('-') && t.len() > 1 {
                for (k, ch) in t[1..].char_indices() {
                    if !spec.short_takes_value(ch) {
                        continue;
                    }
                    let rest = &t[1 + k + ch.len_utf8()..];
                    let (vw, vt) = if rest.is_empty() {
                        i += 1;
                        let vw = args.get(i);
                        (
                            vw,
                            vw.map(|v| render(&v.parts, &self.rendered))
                                .unwrap_or_default(),
                        )
                    } else {
                        (None, rest.to_string())
                    };
                    if spec.header_short == Some(ch) && self.value_is_credential(vw, &vt, false) {
                        cred = true;
                    }
                    if spec.cookie_short == Some(ch) && self.value_is_credential(vw, &vt, true) {
                        cred = true;
                    }
                    break;
                }
                i += 1;
                continue;
            }
            // `"${HEADERS[@]}"`: an array of options.
            let array = matches!(&w.parts[..], [Part::Var { op: VarOp::Index, name }]
                if t.starts_with('$') || self.cred_vars.contains(name));
            if let [Part::Var { name, .. }] = &w.parts[..] {
                if self.cred_vars.contains(name) {
                    cred = true;
                }
            }
            if !array && (spec.positional_urls || t.contains("://") || t.starts_with('$')) {
                urls.push(w);
            }
            i += 1;
        }
        (urls, cred)
    }

    /// HTTPie-like request items (`style = "request-items"`):
    /// `http [flags] [METHOD] URL [Header:value | field=value …]`.
    fn request_items<'w>(&self, spec: &ShellArguments, args: &'w [Word]) -> (Vec<&'w Word>, bool) {
        let mut url = None;
        let mut cred = false;
        let mut i = 0;
        while i < args.len() {
            let w = &args[i];
            let t = render(&w.parts, &self.rendered);
            i += 1;
            if t.starts_with('-') && t.len() > 1 && url.is_none() {
                if !t.contains('=') && takes_value_alone(spec, &t) {
                    i += 1;
                }
                continue;
            }
            if url.is_none() {
                let method = !t.is_empty() && t.bytes().all(|b| b.is_ascii_uppercase());
                if !method {
                    url = Some(w);
                }
                continue;
            }
            // A request item: `Name:value` is a header (not `field:=json`, `a==b`, `f=v`).
            if let Some(colon) = t.find(':') {
                let before = &t[..colon];
                let after = &t[colon + 1..];
                if !before.contains('=') && !after.starts_with('=') && !before.contains('@') {
                    let header = format!("{before}: {after}");
                    if self.value_is_credential(Some(w), &header, false) {
                        cred = true;
                    }
                }
            }
        }
        (url.into_iter().collect(), cred)
    }
}

/// Does the option word `t`, written alone (`-a`, `--auth`), take the next word as its value?
fn takes_value_alone(spec: &ShellArguments, t: &str) -> bool {
    let mut short = t.strip_prefix('-').unwrap_or_default().chars();
    match (short.next(), short.next()) {
        (Some(c), None) => spec.short_takes_value(c),
        _ => spec.long_takes_value(t),
    }
}

fn collect_assign_ops(parts: &[Part], out: &mut HashSet<String>) {
    let mut found = Vec::new();
    find_assign_ops(parts, &mut found);
    out.extend(found.into_iter().map(|(n, _)| n));
}

fn find_assign_ops(parts: &[Part], out: &mut Vec<(String, Vec<Part>)>) {
    for p in parts {
        if let Part::Var { name, op } = p {
            match op {
                VarOp::Assign(d) => {
                    out.push((name.clone(), d.clone()));
                    find_assign_ops(d, out);
                }
                VarOp::Default(d) => find_assign_ops(d, out),
                _ => {}
            }
        }
    }
}
