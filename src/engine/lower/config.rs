//! Configuration and deployment files: `.env`, docker-compose, Kubernetes manifests / Helm values,
//! JSON and TOML config. They supply env values and host names to the code that reads them, and
//! addresses written in them are findings of their own (`evidence: "config"`).
//!
//! Each kind goes through a real parser first (a file that does not parse is an `Err`, and the
//! caller falls back to text search):
//!
//! - **dotenv**: `NAME=value`, `export NAME=value`, `'literal'` and `"escaped"` values (which may span
//!   lines), `# comments`, blank lines. Every assignment is an [`EnvEntry`].
//! - **YAML** (`yaml-rust2`, event parser, multi-document): docker-compose files give
//!   [`ComposeService`]s (`build`, `container_name`, `environment`, `ports`, `env_file`, `image`, with
//!   `<<: *anchor` merges); Kubernetes / Helm `env:` lists of `{name, value}`, `env:` / `extraEnv:`
//!   maps of `NAME: value` and `ConfigMap` `data:` give [`EnvEntry`]s.
//! - **TOML** (`toml`) and **JSON** (`serde_json`; JSON with comments and trailing commas is
//!   accepted): validated by the parser, then string values are located with a small tokenizer.
//!
//! In every kind, a string value that is (or contains) an address — `scheme://…` or `host:port` —
//! becomes a [`Candidate`] at the position of the address text itself. In YAML and dotenv (not in
//! single-quoted dotenv values, JSON or TOML), `${VAR:-default}` / `${VAR}` / `$VAR` interpolation
//! inside a value becomes an env [`StrExpr::Input`]; [`EnvEntry::value`] keeps the raw text
//! ([`substitute_defaults`] expands it). A value written for an env var also becomes a [`Binding`] of that name at the
//! candidate's position, so a finding can tell which variable it came from. Map keys, comments,
//! compose `ports:` / `expose:` and `image:` values are not addresses.
//!
//! Secrets: an env entry whose name looks like a credential (a `SECRET`, `TOKEN`, `PASSWORD`,
//! `PASSWD`, `CREDENTIAL`, `CF_ACCESS` part, a `KEY` / `APIKEY` / `PASS` / `PWD` segment, or a
//! rule's `token_env` name) or whose value has the shape of an
//! Access credential (`cfast_…`, 64 hex digits, `<32 hex>.access`, a JWT) is kept with
//! `value: ""` and `secret: true`: the value is never copied out of the file. Such values (and those
//! of secret-looking keys in YAML / JSON / TOML) never become candidates.
//!
//! Nesting is bounded ([`MAX_DEPTH`]); nothing here recurses on the input's structure without a
//! bound, and nothing panics on any input.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::engine::ir::{Binding, Candidate, FileFacts, InputKind, StrExpr};
use crate::engine::source::Language;
use crate::engine::source::LineIndex;
use crate::rules::RuleSet;

/// Deepest nesting of YAML / JSON / TOML collections accepted (deeper: `Err`, text fallback).
pub const MAX_DEPTH: usize = 256;

/// `NAME=value` from an env file, a compose `environment:` or a Kubernetes `env:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub var: String,
    /// The value as written (`${VAR:-default}` interpolation kept raw); `""` when `secret`.
    pub value: String,
    /// 1-based line of the entry.
    pub line: u32,
    /// The name or the value looks like a credential: `value` is blanked and must never be shown.
    pub secret: bool,
}

/// A docker-compose service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ComposeService {
    pub name: String,
    pub line: u32,
    /// `build:` context (or `build.context`), relative to the compose file's directory.
    pub build_context: Option<String>,
    /// `container_name:`, if set.
    pub container_name: Option<String>,
    /// `environment:` entries (list or map form).
    pub environment: Vec<EnvEntry>,
    /// `ports:` as (host port, container port).
    pub ports: Vec<(u16, u16)>,
    /// `image:`, if set.
    pub image: Option<String>,
    /// `env_file:` paths, relative to the compose file's directory.
    pub env_files: Vec<String>,
}

/// What a configuration file contributes.
#[derive(Debug, Clone, Default)]
pub struct ConfigFacts {
    /// Addresses written in the file (candidates), resolved like code.
    pub facts: FileFacts,
    /// Env values that apply to the code in this file's directory (`.env`) or to the whole
    /// project (Kubernetes / Helm `env:`).
    pub env: Vec<EnvEntry>,
    /// docker-compose services.
    pub services: Vec<ComposeService>,
    /// JSON / TOML string values by key path (`comfyui.base_url`), for code that reads the file
    /// (`json.load(…)["comfyui"]["base_url"]`). Secret-looking keys and values are left out.
    pub values: Vec<ConfigValue>,
}

/// A string value of a JSON or TOML configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigValue {
    /// Keys from the root, joined by `.` (array indexes as numbers).
    pub key: String,
    pub value: String,
    /// 1-based line of the value (first occurrence of its text).
    pub line: u32,
}

/// Values kept per file, and the longest value kept.
const MAX_VALUES: usize = 2_000;
const MAX_VALUE_LEN: usize = 512;

/// Flatten a parsed JSON (or TOML, as JSON) document into key paths.
fn json_values(text: &str, v: &serde_json::Value) -> Vec<ConfigValue> {
    fn go(
        v: &serde_json::Value,
        key: &mut Vec<String>,
        out: &mut Vec<(String, String)>,
        depth: usize,
    ) {
        if depth > 64 || out.len() >= MAX_VALUES {
            return;
        }
        match v {
            serde_json::Value::String(s) => out.push((key.join("."), s.clone())),
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    key.push(k.clone());
                    go(v, key, out, depth + 1);
                    key.pop();
                }
            }
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    key.push(i.to_string());
                    go(v, key, out, depth + 1);
                    key.pop();
                }
            }
            _ => {}
        }
    }
    let mut pairs = Vec::new();
    go(v, &mut Vec::new(), &mut pairs, 0);
    keep_values(text, pairs)
}

fn keep_values(text: &str, pairs: Vec<(String, String)>) -> Vec<ConfigValue> {
    pairs
        .into_iter()
        .filter(|(k, v)| {
            v.len() <= MAX_VALUE_LEN
                && !is_secret_name(k.rsplit('.').next().unwrap_or(k))
                && !is_secret_value(v)
        })
        .map(|(key, value)| {
            let line = text
                .find(&value)
                .map_or(1, |i| text[..i].matches('\n').count() as u32 + 1);
            ConfigValue { key, value, line }
        })
        .collect()
}

/// Read a configuration file. `Err` when it does not parse (the caller falls back to text).
pub fn extract(
    text: &str,
    kind: Language,
    path: &str,
    rules: &RuleSet,
) -> Result<ConfigFacts, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Out::new(text, rules);
    let mut cfg = ConfigFacts::default();
    match kind {
        Language::Dotenv => cfg.env = dotenv(text, &mut out)?,
        Language::Yaml => yaml(text, path, &mut out, &mut cfg)?,
        Language::Json => {
            json(text, &mut out)?;
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
                cfg.values = json_values(text, &v);
            }
        }
        Language::Toml => {
            toml_file(text, &mut out)?;
            // One flattening for both: TOML's value tree as JSON.
            if let Ok(Ok(v)) = text.parse::<toml::Value>().map(serde_json::to_value) {
                cfg.values = json_values(text, &v);
            }
        }
        other => return Err(format!("not a configuration file ({})", other.as_str())),
    }
    cfg.facts = out.facts;
    Ok(cfg)
}

// ---------------------------------------------------------------------------------------------
// Shared: addresses in values, secrets, interpolation.

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:https?|wss?)://(?:\$\{[^}\s'"]*\}|[^\s'"`<>()\[\]{},;\\])+"#)
        .expect("valid regex")
});
/// What may follow a `${…}` group in a URL (`${BASE:-http://comfyui:8188}/prompt`).
static URL_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(?:\$\{[^}\s'"]*\}|[^\s'"`<>()\[\]{},;\\])*"#).expect("valid regex")
});
static HOST_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^a-z0-9_.:/@$-])((?:localhost|\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*):\d{2,5})(?:$|[^a-z0-9_.:-])",
    )
    .expect("valid regex")
});
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{1,3}(?:\.\d{1,3}){3}$").expect("valid regex"));
static CREDENTIAL_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"cfast_[A-Za-z0-9]{40}|\b[0-9a-f]{32}\.access\b|^\s*[0-9a-fA-F]{64}\s*$|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.",
    )
    .expect("valid regex")
});
static ENV_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").expect("valid regex"));
static UPPER_ENV_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z_][A-Z0-9_]*$").expect("valid regex"));

/// Does a variable or key name look like it holds a credential?
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if [
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "CF_ACCESS",
        "CLOUDFLARE_ACCESS",
    ]
    .iter()
    .any(|w| upper.contains(w))
    {
        return true;
    }
    // `KEY` only as a whole segment: `API_KEY`, `apiKey` (→ `APIKEY`), not `KEYCLOAK_URL`.
    let camel_split: String = name
        .chars()
        .flat_map(|c| {
            if c.is_ascii_uppercase() {
                vec!['_', c]
            } else {
                vec![c]
            }
        })
        .collect();
    camel_split
        .to_ascii_uppercase()
        .split(['_', '-', '.'])
        .chain(upper.split(['_', '-', '.']))
        .any(|seg| matches!(seg, "KEY" | "APIKEY" | "PASS" | "PWD"))
}

/// Does a value have the shape of an Access credential (or a JWT)?
pub fn is_secret_value(value: &str) -> bool {
    CREDENTIAL_VALUE.is_match(value)
}

/// Byte ranges of the addresses in `value`: URLs, then `host:port` outside them (the host must
/// hold a letter or be an IPv4 address, so `8189:8188` is not one). With `interpolate`, a URL that
/// is the default of `${VAR:-…}` is widened to the whole `${…}` (and what follows it).
fn address_spans(value: &str, interpolate: bool) -> Vec<Range<usize>> {
    let groups = if interpolate && value.contains("${") {
        interp_groups(value)
    } else {
        Vec::new()
    };
    let mut spans: Vec<Range<usize>> = Vec::new();
    for m in URL.find_iter(value) {
        let s = m.as_str().trim_end_matches(['.', ':', ',']);
        if s.len() <= m.as_str().find("://").unwrap_or(0) + 3 {
            continue;
        }
        let mut r = m.start()..m.start() + s.len();
        if let Some(g) = groups.iter().find(|g| g.start < r.start && r.start < g.end) {
            r.start = g.start;
            if r.end <= g.end {
                let tail = URL_TAIL.find(&value[g.end..]).map_or(0, |t| t.end());
                r.end = g.end + tail;
            }
        }
        if spans.last().is_some_and(|l| r.start < l.end) {
            continue;
        }
        spans.push(r);
    }
    let urls = spans.clone();
    for c in HOST_PORT.captures_iter(value) {
        let Some(m) = c.get(1) else { continue };
        if urls.iter().any(|u| m.start() < u.end && u.start < m.end()) {
            continue;
        }
        let host = m.as_str().rsplit_once(':').map_or("", |(h, _)| h);
        if host.chars().any(|ch| ch.is_ascii_alphabetic()) || IPV4.is_match(host) {
            spans.push(m.range());
        }
    }
    spans.sort_by_key(|r| r.start);
    spans
}

/// The index of the `}` that closes the `{` at `open` (nested braces counted).
fn closing_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut level = 0usize;
    for (j, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => level += 1,
            b'}' => {
                level = level.saturating_sub(1);
                if level == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Byte ranges of the top-level `${…}` groups in `s` (nested `${…}` in defaults included).
fn interp_groups(s: &str) -> Vec<Range<usize>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'$' {
            i += 2;
            continue;
        }
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            match closing_brace(bytes, i + 1) {
                Some(e) => {
                    out.push(i..e + 1);
                    i = e + 1;
                }
                None => break,
            }
            continue;
        }
        i += 1;
    }
    out
}

/// `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `$VAR`, `$$` → env inputs.
fn interp(s: &str) -> StrExpr {
    interp_depth(s, 0)
}

fn interp_depth(s: &str, depth: usize) -> StrExpr {
    if !s.contains('$') || depth > 8 {
        return StrExpr::Lit(s.to_string());
    }
    let mut parts: Vec<StrExpr> = Vec::new();
    let mut lit = String::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let c = bytes[i];
        if c != b'$' {
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            lit.push(ch);
            i += ch.len_utf8().max(1);
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => {
                lit.push('$');
                i += 2;
            }
            Some(b'{') => {
                // Find the matching `}` (defaults may nest `${…}`).
                let Some(end) = closing_brace(bytes, i + 1) else {
                    lit.push_str(&s[i..]);
                    break;
                };
                let inner = &s[i + 2..end];
                let name_len = inner
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(inner.len());
                let (name, rest) = inner.split_at(name_len);
                if name.is_empty() {
                    lit.push_str(&s[i..=end]);
                } else {
                    let default = rest
                        .strip_prefix(":-")
                        .or_else(|| rest.strip_prefix('-'))
                        .map(|d| Box::new(interp_depth(d, depth + 1)));
                    if !lit.is_empty() {
                        parts.push(StrExpr::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(StrExpr::Input {
                        kind: InputKind::Env,
                        name: name.to_string(),
                        default,
                    });
                }
                i = end + 1;
            }
            Some(&b) if b.is_ascii_alphabetic() || b == b'_' => {
                let rest = &s[i + 1..];
                let len = rest
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(rest.len());
                if !lit.is_empty() {
                    parts.push(StrExpr::Lit(std::mem::take(&mut lit)));
                }
                parts.push(StrExpr::Input {
                    kind: InputKind::Env,
                    name: rest[..len].to_string(),
                    default: None,
                });
                i += 1 + len;
            }
            _ => {
                lit.push('$');
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        parts.push(StrExpr::Lit(lit));
    }
    match parts.len() {
        0 => StrExpr::Lit(String::new()),
        1 => parts.pop().unwrap_or(StrExpr::Lit(String::new())),
        _ => StrExpr::Concat(parts),
    }
}

/// A compose / dotenv value with its `${VAR:-default}` interpolation replaced by the defaults
/// (`$$` → `$`); `None` when a variable without a default is left (`${VAR}`, `$VAR`). For env values
/// kept raw in [`EnvEntry::value`].
pub fn substitute_defaults(s: &str) -> Option<String> {
    fn go(e: &StrExpr, out: &mut String) -> bool {
        match e {
            StrExpr::Lit(l) => {
                out.push_str(l);
                true
            }
            StrExpr::Concat(parts) => parts.iter().all(|p| go(p, out)),
            StrExpr::Input {
                default: Some(d), ..
            } => go(d, out),
            _ => false,
        }
    }
    let mut out = String::new();
    go(&interp(s), &mut out).then_some(out)
}

/// The facts being built, with the text they point into.
struct Out<'a> {
    text: &'a str,
    index: LineIndex<'a>,
    facts: FileFacts,
    /// Env vars the rules name as holding an Access credential (`token_env`).
    token_env: Vec<String>,
}

impl<'a> Out<'a> {
    fn new(text: &'a str, rules: &RuleSet) -> Out<'a> {
        Out {
            text,
            index: LineIndex::new(text),
            facts: FileFacts::new(),
            token_env: rules
                .services
                .iter()
                .flat_map(|s| s.access.token_env.iter().map(|t| t.to_ascii_uppercase()))
                .collect(),
        }
    }

    /// An env entry, blanked when it looks like a credential.
    fn env_entry(&self, var: &str, value: &str, line: u32) -> EnvEntry {
        env_entry(var, value, line, &self.token_env)
    }

    /// Push a candidate for each address in `value`, whose source text starts at byte `start` and
    /// spans about `raw_len` bytes (escapes and quotes may make it differ from `value`). With `env`
    /// (`var`, `value`), the value was written for that env var: it is also bound to its name. With
    /// `interpolate`, `${VAR:-default}` / `$VAR` in the value are env inputs.
    fn push_addresses(
        &mut self,
        value: &str,
        start: usize,
        raw_len: usize,
        env: Option<(&str, &str)>,
        interpolate: bool,
    ) {
        let spans = address_spans(value, interpolate);
        let expr = |s: &str| {
            if interpolate {
                interp(s)
            } else {
                StrExpr::Lit(s.to_string())
            }
        };
        if spans.is_empty() {
            return;
        }
        let mut from = start.min(self.text.len());
        let limit = floor_boundary(
            self.text,
            start.saturating_add(raw_len.max(value.len()) * 2 + 256),
        );
        let mut bound = false;
        for span in spans {
            let m = &value[span];
            let at = self
                .text
                .get(from..limit.max(from))
                .and_then(|w| w.find(m))
                .map(|i| from + i);
            let offset = match at {
                Some(o) => {
                    from = o + m.len();
                    o
                }
                None => start.min(self.text.len()),
            };
            let pos = self.index.pos(offset);
            self.facts.candidates.push(Candidate {
                expr: expr(m),
                pos,
                scope: 0,
                function: None,
                // A configuration value is a definition: folded away when code uses it.
                bound_to: Some(env.map_or(String::new(), |(var, _)| var.to_string())),
                consumer: None,
            });
            if let (Some((var, v)), false) = (env, bound) {
                bound = true;
                self.facts.bindings.push(Binding {
                    scope: 0,
                    name: var.to_string(),
                    value: expr(v),
                    pos,
                });
            }
        }
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn env_entry(var: &str, value: &str, line: u32, token_env: &[String]) -> EnvEntry {
    let secret = is_secret_name(var)
        || is_secret_value(value)
        || token_env.iter().any(|t| t.eq_ignore_ascii_case(var));
    EnvEntry {
        var: var.to_string(),
        value: if secret {
            String::new()
        } else {
            value.to_string()
        },
        line,
        secret,
    }
}

// ---------------------------------------------------------------------------------------------
// dotenv

fn dotenv(text: &str, out: &mut Out) -> Result<Vec<EnvEntry>, String> {
    let mut env = Vec::new();
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let line_no = out.index.pos(pos).line;
        let line = &text[pos..line_end];
        let indent = line.len() - line.trim_start().len();
        let mut s = line.trim_start();
        let mut at = pos + indent;
        if s.trim_end().is_empty() || s.starts_with('#') {
            pos = line_end + 1;
            continue;
        }
        for prefix in ["export ", "export\t"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                let skipped = s.len() - rest.trim_start().len();
                at += skipped;
                s = &s[skipped..];
                break;
            }
        }
        let name_len = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .unwrap_or(s.len());
        let name = &s[..name_len];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Err(format!("line {line_no}: expected NAME=value"));
        }
        let after = s[name_len..].trim_start_matches([' ', '\t']);
        let Some(rest) = after.strip_prefix('=') else {
            let after = after.trim_end();
            if after.is_empty() || after.starts_with('#') {
                // A bare `NAME`: declared without a value.
                pos = line_end + 1;
                continue;
            }
            return Err(format!("line {line_no}: expected `=` after `{name}`"));
        };
        let value_ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let vstart = at + (s.len() - rest.len()) + value_ws;
        // Single-quoted values are literal; others expand `${VAR}` (as python-dotenv does).
        let (value, content_start, raw_len, next, expand) = match bytes.get(vstart) {
            Some(&q @ (b'\'' | b'`')) => {
                let close = text[vstart + 1..]
                    .find(q as char)
                    .map(|i| vstart + 1 + i)
                    .ok_or_else(|| format!("line {line_no}: unterminated {} quote", q as char))?;
                let v = text[vstart + 1..close].to_string();
                let next = text[close..].find('\n').map_or(text.len(), |i| close + i);
                (v, vstart + 1, close - vstart - 1, next, false)
            }
            Some(b'"') => {
                let mut v = String::new();
                let mut chars = text[vstart + 1..].char_indices();
                let mut close = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '"' => {
                            close = Some(vstart + 1 + i);
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, 'n')) => v.push('\n'),
                            Some((_, 't')) => v.push('\t'),
                            Some((_, 'r')) => v.push('\r'),
                            Some((_, e @ ('"' | '\\' | '\'' | '$'))) => v.push(e),
                            Some((_, e)) => {
                                v.push('\\');
                                v.push(e);
                            }
                            None => v.push('\\'),
                        },
                        c => v.push(c),
                    }
                }
                let close =
                    close.ok_or_else(|| format!("line {line_no}: unterminated double quote"))?;
                let next = text[close..].find('\n').map_or(text.len(), |i| close + i);
                (v, vstart + 1, close - vstart - 1, next, true)
            }
            _ => {
                let raw = &text[vstart.min(line_end)..line_end];
                let cut = raw
                    .char_indices()
                    .find(|&(i, c)| c == '#' && (i == 0 || raw[..i].ends_with([' ', '\t'])))
                    .map_or(raw.len(), |(i, _)| i);
                let v = raw[..cut].trim_end().to_string();
                let len = v.len();
                (v, vstart, len, line_end, true)
            }
        };
        let entry = out.env_entry(name, &value, line_no);
        if !entry.secret {
            out.push_addresses(&value, content_start, raw_len, Some((name, &value)), expand);
        }
        env.push(entry);
        pos = next + 1;
    }
    Ok(env)
}

// ---------------------------------------------------------------------------------------------
// YAML

#[derive(Debug)]
enum Kind {
    /// Value, and whether it was a plain (unquoted) scalar.
    Scalar(String, bool),
    Seq(Vec<usize>),
    Map(Vec<(usize, usize)>),
    /// `*anchor`: the anchor id.
    Alias(usize),
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    /// 1-based line.
    line: u32,
    /// 0-based column, in characters.
    col: u32,
    parent: Option<usize>,
    /// The key node when this node is a mapping value.
    key: Option<usize>,
    is_key: bool,
}

#[derive(Debug, Default)]
struct Yaml {
    nodes: Vec<Node>,
    docs: Vec<usize>,
    anchors: HashMap<usize, usize>,
}

const MAX_ALIAS_HOPS: usize = 16;

impl Yaml {
    fn parse(text: &str) -> Result<Yaml, String> {
        let mut y = Yaml::default();
        let mut parser = Parser::new_from_str(text);
        // (container, pending key)
        let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
        loop {
            let (ev, mark) = parser.next_token().map_err(|e| {
                let m = e.marker();
                format!("line {} column {}: {}", m.line(), m.col() + 1, e.info())
            })?;
            let (kind, anchor, opens) = match ev {
                Event::StreamEnd => break,
                Event::Scalar(v, style, anchor, _) => {
                    (Kind::Scalar(v, style == TScalarStyle::Plain), anchor, false)
                }
                Event::Alias(id) => (Kind::Alias(id), 0, false),
                Event::SequenceStart(anchor, _) => (Kind::Seq(Vec::new()), anchor, true),
                Event::MappingStart(anchor, _) => (Kind::Map(Vec::new()), anchor, true),
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                    continue;
                }
                _ => continue,
            };
            let id = y.nodes.len();
            y.nodes.push(Node {
                kind,
                line: mark.line() as u32,
                col: mark.col() as u32,
                parent: None,
                key: None,
                is_key: false,
            });
            if anchor > 0 {
                y.anchors.insert(anchor, id);
            }
            match stack.last_mut() {
                None => y.docs.push(id),
                Some((parent, pending)) => {
                    let parent = *parent;
                    y.nodes[id].parent = Some(parent);
                    let mut as_key = false;
                    let mut pair = None;
                    if let Kind::Map(_) = y.nodes[parent].kind {
                        match pending.take() {
                            None => {
                                *pending = Some(id);
                                as_key = true;
                            }
                            Some(k) => pair = Some(k),
                        }
                    }
                    match (&mut y.nodes[parent].kind, pair) {
                        (Kind::Seq(items), _) => items.push(id),
                        (Kind::Map(pairs), Some(k)) => pairs.push((k, id)),
                        _ => {}
                    }
                    y.nodes[id].is_key = as_key;
                    y.nodes[id].key = pair;
                }
            }
            if opens {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "nesting deeper than {MAX_DEPTH} levels at line {}",
                        mark.line()
                    ));
                }
                stack.push((id, None));
            }
        }
        Ok(y)
    }

    /// Follow aliases.
    fn resolve(&self, mut id: usize) -> usize {
        for _ in 0..MAX_ALIAS_HOPS {
            match self.nodes.get(id).map(|n| &n.kind) {
                Some(Kind::Alias(a)) => match self.anchors.get(a) {
                    Some(&target) if target != id => id = target,
                    _ => return id,
                },
                _ => return id,
            }
        }
        id
    }

    fn scalar(&self, id: usize) -> Option<&str> {
        match &self.nodes.get(self.resolve(id))?.kind {
            Kind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// A scalar's value, `None` for YAML null (`~`, `null`, empty).
    fn value(&self, id: usize) -> Option<&str> {
        match &self.nodes.get(self.resolve(id))?.kind {
            Kind::Scalar(s, true) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL") => {
                None
            }
            Kind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    fn is_map(&self, id: usize) -> bool {
        matches!(self.nodes[self.resolve(id)].kind, Kind::Map(_))
    }

    /// A mapping's (key, value) pairs, own keys first, then those merged in with `<<:` (a key
    /// already seen is not repeated).
    fn entries(&self, map: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.entries_into(map, &mut out, &mut seen, 0);
        out
    }

    fn entries_into<'s>(
        &'s self,
        map: usize,
        out: &mut Vec<(usize, usize)>,
        seen: &mut HashSet<&'s str>,
        depth: usize,
    ) {
        if depth > MAX_ALIAS_HOPS {
            return;
        }
        let Kind::Map(pairs) = &self.nodes[self.resolve(map)].kind else {
            return;
        };
        let mut merges = Vec::new();
        for &(k, v) in pairs {
            match self.scalar(k) {
                Some("<<") => merges.push(v),
                Some(name) => {
                    if seen.insert(name) {
                        out.push((k, v));
                    }
                }
                // A complex key (`? [a, b]`): kept, never looked up by name.
                None => out.push((k, v)),
            }
        }
        for m in merges {
            match &self.nodes[self.resolve(m)].kind {
                Kind::Seq(items) => {
                    for &i in items {
                        self.entries_into(i, out, seen, depth + 1);
                    }
                }
                _ => self.entries_into(m, out, seen, depth + 1),
            }
        }
    }

    /// `map[key]` as (key node, value node).
    fn get_kv(&self, map: usize, key: &str) -> Option<(usize, usize)> {
        self.entries(map)
            .into_iter()
            .find(|&(k, _)| self.scalar(k) == Some(key))
    }

    fn get(&self, map: usize, key: &str) -> Option<usize> {
        self.get_kv(map, key).map(|(_, v)| v)
    }

    /// A sequence's items (aliases followed).
    fn items(&self, id: usize) -> &[usize] {
        match &self.nodes[self.resolve(id)].kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    /// Key names of this node and its ancestors, innermost first (bounded).
    fn key_path(&self, id: usize) -> Vec<&str> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        let mut steps = 0;
        while let Some(c) = cur {
            if steps > MAX_DEPTH + 1 {
                break;
            }
            steps += 1;
            if let Some(k) = self.nodes[c].key.and_then(|k| self.scalar(k)) {
                out.push(k);
            }
            cur = self.nodes[c].parent;
        }
        out
    }
}

fn is_compose_name(path: &str) -> bool {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    (name.starts_with("docker-compose") || name.starts_with("compose"))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

const COMPOSE_SERVICE_KEYS: &[&str] = &[
    "image",
    "build",
    "environment",
    "ports",
    "container_name",
    "depends_on",
    "command",
    "volumes",
    "env_file",
    "networks",
];

/// What the YAML walk learned about particular value nodes.
#[derive(Default)]
struct NodeNotes {
    /// Value node → the env var it is written for, and the env value (for `K=V` list items).
    env: HashMap<usize, (String, String)>,
    /// Value nodes of secret-looking env entries.
    secret: HashSet<usize>,
    /// See [`Out::token_env`].
    token_env: Vec<String>,
}

impl NodeNotes {
    fn env_entry(&self, var: &str, value: &str, line: u32) -> EnvEntry {
        env_entry(var, value, line, &self.token_env)
    }
}

fn yaml(text: &str, path: &str, out: &mut Out, cfg: &mut ConfigFacts) -> Result<(), String> {
    let y = Yaml::parse(text)?;
    let mut notes = NodeNotes {
        token_env: out.token_env.clone(),
        ..Default::default()
    };
    let mut doc_bounds: Vec<(usize, usize)> = Vec::new();
    for (i, &root) in y.docs.iter().enumerate() {
        let end = y.docs.get(i + 1).copied().unwrap_or(y.nodes.len());
        doc_bounds.push((root, end));
    }
    for &(root, end) in &doc_bounds {
        if let Some(services) = compose_services(&y, root, path, &mut notes) {
            cfg.services.extend(services);
        } else {
            cfg.env.extend(manifest_env(&y, root, end, &mut notes));
        }
    }
    // Every string scalar that is (or holds) an address.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // (line, column, byte offset) of the last scalar located: scalars come in document order, so
    // on a long line the next one is found from there (linear on one-line flow documents).
    let mut cursor: (u32, u32, usize) = (0, 0, 0);
    for (id, node) in y.nodes.iter().enumerate() {
        let Kind::Scalar(value, _) = &node.kind else {
            continue;
        };
        if node.is_key || notes.secret.contains(&id) || !value.contains(':') {
            continue;
        }
        if address_spans(value, true).is_empty() {
            continue;
        }
        let keys = y.key_path(id);
        if keys
            .iter()
            .take(3)
            .any(|k| matches!(*k, "ports" | "expose"))
            || keys
                .first()
                .is_some_and(|k| *k == "image" || is_secret_name(k))
        {
            continue;
        }
        let (from_byte, skip) = if cursor.0 == node.line && cursor.1 <= node.col {
            (cursor.2, node.col - cursor.1)
        } else {
            let ls = line_starts
                .get((node.line as usize).saturating_sub(1))
                .copied()
                .unwrap_or(text.len());
            (ls, node.col)
        };
        let rest = text.get(from_byte..).unwrap_or("");
        let start = from_byte
            + rest
                .char_indices()
                .nth(skip as usize)
                .map_or(rest.len(), |(i, _)| i);
        cursor = (node.line, node.col, start);
        let env = notes.env.get(&id).map(|(k, v)| (k.as_str(), v.as_str()));
        out.push_addresses(value, start, value.len(), env, true);
    }
    Ok(())
}

/// The services of a docker-compose document, or `None` when it is not one.
fn compose_services(
    y: &Yaml,
    root: usize,
    path: &str,
    notes: &mut NodeNotes,
) -> Option<Vec<ComposeService>> {
    if !y.is_map(root) {
        return None;
    }
    let services = y.get(root, "services")?;
    if !y.is_map(services) {
        return None;
    }
    let entries = y.entries(services);
    let looks_like = entries
        .iter()
        .any(|&(_, v)| y.is_map(v) && COMPOSE_SERVICE_KEYS.iter().any(|k| y.get(v, k).is_some()));
    if !is_compose_name(path) && !looks_like {
        return None;
    }
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = y.scalar(k) else { continue };
        let mut svc = ComposeService {
            name: name.to_string(),
            line: y.nodes[k].line,
            ..Default::default()
        };
        if y.is_map(v) {
            if let Some(b) = y.get(v, "build") {
                svc.build_context = if y.is_map(b) {
                    Some(
                        y.get(b, "context")
                            .and_then(|c| y.value(c))
                            .unwrap_or(".")
                            .to_string(),
                    )
                } else {
                    y.value(b).map(str::to_string)
                };
            }
            svc.container_name = y
                .get(v, "container_name")
                .and_then(|c| y.value(c))
                .map(str::to_string);
            svc.image = y
                .get(v, "image")
                .and_then(|c| y.value(c))
                .map(str::to_string);
            if let Some(env) = y.get(v, "environment") {
                svc.environment = compose_environment(y, env, notes);
            }
            if let Some(ports) = y.get(v, "ports") {
                for &p in y.items(ports) {
                    if y.is_map(p) {
                        let target = y.get(p, "target").and_then(|t| y.value(t));
                        let published = y.get(p, "published").and_then(|t| y.value(t));
                        if let (Some(t), Some(pb)) = (target, published) {
                            svc.ports.extend(port_pairs(pb, t));
                        }
                    } else if let Some(s) = y.value(p) {
                        svc.ports.extend(short_port(s));
                    }
                }
            }
            if let Some(files) = y.get(v, "env_file") {
                if let Some(s) = y.value(files) {
                    svc.env_files.push(s.to_string());
                }
                for &f in y.items(files) {
                    let p = if y.is_map(f) {
                        y.get(f, "path")
                    } else {
                        Some(f)
                    };
                    if let Some(s) = p.and_then(|p| y.value(p)) {
                        svc.env_files.push(s.to_string());
                    }
                }
            }
        }
        out.push(svc);
    }
    Some(out)
}

fn compose_environment(y: &Yaml, env: usize, notes: &mut NodeNotes) -> Vec<EnvEntry> {
    let mut out = Vec::new();
    if y.is_map(env) {
        for (k, v) in y.entries(env) {
            let (Some(var), Some(value)) = (y.scalar(k), y.value(v)) else {
                continue;
            };
            let e = notes.env_entry(var, value, y.nodes[k].line);
            note(notes, y.resolve(v), &e, value);
            out.push(e);
        }
    } else {
        for &item in y.items(env) {
            let Some((var, value)) = y.scalar(item).and_then(|s| s.split_once('=')) else {
                continue;
            };
            let item = y.resolve(item);
            let e = notes.env_entry(var.trim(), value, y.nodes[item].line);
            note(notes, item, &e, value);
            out.push(e);
        }
    }
    out
}

fn note(notes: &mut NodeNotes, node: usize, e: &EnvEntry, value: &str) {
    if e.secret {
        notes.secret.insert(node);
    } else {
        notes
            .env
            .entry(node)
            .or_insert_with(|| (e.var.clone(), value.to_string()));
    }
}

/// Short syntax: `8188`, `8189:8188`, `127.0.0.1:8189:8188`, `8189:8188/tcp`, ranges.
fn short_port(s: &str) -> Vec<(u16, u16)> {
    let Some(s) = substitute_defaults(s.trim()) else {
        return Vec::new();
    };
    let s = s.split('/').next().unwrap_or("");
    let Some((rest, container)) = s.rsplit_once(':') else {
        return port_pairs(s, s);
    };
    let host = match rest.rsplit_once(':') {
        // `[::1]:8189`? the host port is after the last colon, unless inside brackets.
        Some((_, h)) if !rest.ends_with(']') => h,
        Some(_) => return Vec::new(),
        None if rest.contains('.') || rest.ends_with(']') => return Vec::new(),
        None => rest,
    };
    if host.is_empty() {
        return Vec::new();
    }
    port_pairs(host, container)
}

/// `8189`/`8188` or ranges `8000-8002`/`9000-9002` → pairs.
fn port_pairs(host: &str, container: &str) -> Vec<(u16, u16)> {
    let range = |s: &str| -> Option<(u16, u16)> {
        let s = s.trim();
        match s.split_once('-') {
            Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
            None => {
                let p = s.parse().ok()?;
                Some((p, p))
            }
        }
    };
    let (Some((h0, h1)), Some((c0, c1))) = (range(host), range(container)) else {
        return Vec::new();
    };
    if h1 < h0 || c1 < c0 {
        return Vec::new();
    }
    if c0 == c1 {
        return vec![(h0, c0)];
    }
    if h1 - h0 == c1 - c0 && c1 - c0 <= 1024 {
        return (0..=c1 - c0).map(|i| (h0 + i, c0 + i)).collect();
    }
    Vec::new()
}

/// Kubernetes / Helm `env:` lists and maps, `extraEnv:`, and `ConfigMap` `data:` in one document.
fn manifest_env(y: &Yaml, root: usize, end: usize, notes: &mut NodeNotes) -> Vec<EnvEntry> {
    let mut out: Vec<EnvEntry> = Vec::new();
    let mut push = |e: EnvEntry, node: usize, value: &str, notes: &mut NodeNotes| {
        note(notes, node, &e, value);
        if !out.contains(&e) {
            out.push(e);
        }
    };
    if y.is_map(root) && y.get(root, "kind").and_then(|k| y.value(k)) == Some("ConfigMap") {
        if let Some(data) = y.get(root, "data") {
            for (k, v) in y.entries(data) {
                if let (Some(var), Some(value)) = (y.scalar(k), y.value(v)) {
                    if ENV_NAME.is_match(var) {
                        let e = notes.env_entry(var, value, y.nodes[k].line);
                        push(e, v, value, notes);
                    }
                }
            }
        }
    }
    for id in root..end.min(y.nodes.len()) {
        if !matches!(y.nodes[id].kind, Kind::Map(_)) {
            continue;
        }
        let Kind::Map(pairs) = &y.nodes[id].kind else {
            continue;
        };
        for &(k, v) in pairs {
            let Some(key) = y.scalar(k) else { continue };
            if !matches!(key, "env" | "extraEnv" | "extraEnvVars" | "envVars") {
                continue;
            }
            for &item in y.items(v) {
                if !y.is_map(item) {
                    continue;
                }
                let Some((nk, nv)) = y.get_kv(item, "name") else {
                    continue;
                };
                let Some(var) = y.value(nv) else { continue };
                // `valueFrom:` (a secret or field reference) has no value here.
                let Some(vnode) = y.get(item, "value") else {
                    continue;
                };
                let value = y.value(vnode).unwrap_or("");
                let e = notes.env_entry(var, value, y.nodes[nk].line);
                push(e, y.resolve(vnode), value, notes);
            }
            if y.is_map(v) {
                for (ek, ev) in y.entries(v) {
                    let (Some(var), Some(value)) = (y.scalar(ek), y.value(ev)) else {
                        continue;
                    };
                    if UPPER_ENV_NAME.is_match(var) {
                        let e = notes.env_entry(var, value, y.nodes[ek].line);
                        push(e, y.resolve(ev), value, notes);
                    }
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// JSON

fn json(text: &str, out: &mut Out) -> Result<(), String> {
    let owned;
    let src = match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => text,
        Err(e) => {
            // JSON with comments and trailing commas (VS Code settings, tsconfig): blank them out,
            // byte for byte, so positions stay the same.
            owned = strip_jsonc(text);
            if serde_json::from_str::<serde::de::IgnoredAny>(&owned).is_err() {
                return Err(e.to_string());
            }
            &owned
        }
    };
    enum Frame {
        Object(Option<String>),
        Array,
    }
    let bytes = src.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "nesting deeper than {MAX_DEPTH} levels at line {}",
                        out.index.pos(i).line
                    ));
                }
                stack.push(if bytes[i] == b'{' {
                    Frame::Object(None)
                } else {
                    Frame::Array
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b'"' => {
                let (value, close) = json_string(src, i);
                let next = src[close + 1..].bytes().find(|b| !b.is_ascii_whitespace());
                if next == Some(b':') {
                    if let Some(Frame::Object(key)) = stack.last_mut() {
                        *key = Some(value);
                    }
                } else {
                    let secret_key = match stack.last() {
                        Some(Frame::Object(Some(k))) => is_secret_name(k),
                        _ => false,
                    };
                    if !secret_key {
                        out.push_addresses(&value, i + 1, close.saturating_sub(i + 1), None, false);
                    }
                }
                i = close;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The JSON string starting with the quote at `open`: (decoded value, index of the closing quote).
fn json_string(src: &str, open: usize) -> (String, usize) {
    let mut v = String::new();
    let mut chars = src[open + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (v, open + 1 + i),
            '\\' => match chars.next() {
                Some((_, 'n')) => v.push('\n'),
                Some((_, 't')) => v.push('\t'),
                Some((_, 'r')) => v.push('\r'),
                Some((_, 'b')) => v.push('\u{8}'),
                Some((_, 'f')) => v.push('\u{c}'),
                Some((_, 'u')) => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    let mut code = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                    if (0xd800..0xdc00).contains(&code) {
                        let rest = chars.as_str();
                        if let Some(low) = rest
                            .strip_prefix("\\u")
                            .and_then(|r| r.get(..4))
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .filter(|l| (0xdc00..0xe000).contains(l))
                        {
                            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                            for _ in 0..6 {
                                chars.next();
                            }
                        }
                    }
                    v.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                Some((_, c)) => v.push(c),
                None => {}
            },
            c => v.push(c),
        }
    }
    (v, src.len().saturating_sub(1))
}

/// Blank `//` and `/* */` comments and trailing commas with spaces (byte for byte).
fn strip_jsonc(text: &str) -> String {
    let mut b = text.as_bytes().to_vec();
    let mut i = 0;
    let mut last_sig: Option<usize> = None; // last significant byte outside strings/comments
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                last_sig = Some(i.min(b.len() - 1));
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    b[i] = b' ';
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = i;
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                let end = (i + 2).min(b.len());
                for x in &mut b[start..end] {
                    if *x != b'\n' {
                        *x = b' ';
                    }
                }
                i = end;
                continue;
            }
            b'}' | b']' => {
                if let Some(p) = last_sig.filter(|&p| b[p] == b',') {
                    b[p] = b' ';
                }
                last_sig = Some(i);
            }
            c if c.is_ascii_whitespace() => {}
            _ => last_sig = Some(i),
        }
        i += 1;
    }
    // Only ASCII bytes were written over whole comments: still UTF-8, unless a comment was cut
    // inside a multi-byte character (it cannot be: comments end at ASCII bytes).
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

// ---------------------------------------------------------------------------------------------
// TOML

fn toml_file(text: &str, out: &mut Out) -> Result<(), String> {
    if let Err(e) = text.parse::<toml::Table>() {
        let line = e.span().map(|s| out.index.pos(s.start).line);
        let msg = e.message().trim().replace('\n', "; ");
        return Err(match line {
            Some(l) => format!("line {l}: {msg}"),
            None => msg,
        });
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut line_start = true;
    let mut depth = 0usize;
    let mut key = String::new();
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line_start = depth == 0;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = text[i..].find('\n').map_or(text.len(), |n| i + n);
                continue;
            }
            _ => {}
        }
        let at_line_start = std::mem::replace(&mut line_start, false);
        match b {
            b'[' if at_line_start && depth == 0 => {
                // A table header: skip the line.
                i = text[i..].find('\n').map_or(text.len(), |n| i + n);
            }
            b'[' | b'{' => {
                depth = (depth + 1).min(MAX_DEPTH + 1);
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' | b'\'' => {
                let (value, content, end) = toml_string(text, i);
                let next = text[end..].bytes().find(|c| !matches!(c, b' ' | b'\t'));
                if matches!(next, Some(b'=' | b'.')) {
                    key = value;
                } else if !is_secret_name(&key) {
                    out.push_addresses(&value, content.start, content.len(), None, false);
                }
                i = end.max(i + 1);
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                let len = text[i..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'))
                    .unwrap_or(text.len() - i);
                let word = &text[i..i + len];
                let next = text[i + len..].bytes().find(|c| !matches!(c, b' ' | b'\t'));
                if matches!(next, Some(b'=' | b'.')) {
                    key = word.to_string();
                }
                i += len.max(1);
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// The TOML string starting at `open`: (value, byte range of its content, index after it).
fn toml_string(text: &str, open: usize) -> (String, Range<usize>, usize) {
    let q = text.as_bytes()[open] as char;
    let triple: String = std::iter::repeat_n(q, 3).collect();
    let multi = text[open..].starts_with(&triple);
    let mut start = open + if multi { 3 } else { 1 };
    if multi {
        if text[start..].starts_with("\r\n") {
            start += 2;
        } else if text[start..].starts_with('\n') {
            start += 1;
        }
    }
    let mut v = String::new();
    let mut chars = text[start..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let here = start + i;
        if c == q && (!multi || text[here..].starts_with(&triple)) {
            // `""""` closes on the last three quotes.
            let mut close = here;
            if multi {
                while text[close + 1..].starts_with(&triple) {
                    v.push(q);
                    close += 1;
                }
            }
            let end = close + if multi { 3 } else { 1 };
            return (v, start..close, end);
        }
        if c == '\\' && q == '"' {
            match chars.next() {
                Some((_, 'n')) => v.push('\n'),
                Some((_, 't')) => v.push('\t'),
                Some((_, 'r')) => v.push('\r'),
                Some((_, 'b')) => v.push('\u{8}'),
                Some((_, 'f')) => v.push('\u{c}'),
                Some((_, 'e')) => v.push('\u{1b}'),
                Some((_, u @ ('u' | 'U'))) => {
                    let n = if u == 'u' { 4 } else { 8 };
                    let hex: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                    let code = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                    v.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                Some((_, '\n' | '\r' | ' ' | '\t')) if multi => {
                    // Line-ending backslash: trim the whitespace that follows.
                    while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
                        chars.next();
                    }
                }
                Some((_, c)) => v.push(c),
                None => {}
            }
            continue;
        }
        if c == '\n' && !multi {
            return (v, start..here, here);
        }
        v.push(c);
    }
    (v, start..text.len(), text.len())
}
