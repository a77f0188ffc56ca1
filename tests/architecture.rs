//! The module structure, read from the sources: every `crate::…` path (in `use` lines and inline,
//! `super::…` too; comments, doc comments, string literals and `#[cfg(test)]` modules left out)
//! is an edge from the file's module to the module it names. The rules:
//!
//! - no cycle between the top-level modules;
//! - no cycle among the engine's modules (`engine::lower::*` counted as one);
//! - the engine never uses `cmd`, `gate`, `report` or `remedy`;
//! - nothing outside `cmd` uses `cmd` but `main.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const TOP_LEVEL: &[&str] = &[
    "cli", "cmd", "config", "digest", "engine", "error", "gate", "git", "remedy", "report", "rules",
];

/// Cycles that stand today and are to be broken (each listed as the modules of the cycle, sorted).
/// A cycle not listed fails the test; so does a listed one that no longer stands, so that this
/// list only shrinks. None stands.
const KNOWN_TOP_LEVEL_CYCLES: &[&[&str]] = &[];

/// The same, among the engine's modules (`engine::lower::*` counted as one). None stands.
const KNOWN_ENGINE_CYCLES: &[&[&str]] = &[];

/// Module path → the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn src_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            src_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/engine/lower/python.rs` → `engine::lower::python`; `src/gate/mod.rs` → `gate`;
/// `src/lib.rs` → `` (the crate root); `src/main.rs` → `main`.
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().expect("file name");
    let stem = file.trim_end_matches(".rs");
    if parts.is_empty() && stem == "lib" {
        return String::new();
    }
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts.join("::")
}

/// `text` with comments, string and char literals blanked out (newlines kept).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, s: &[u8]| {
        out.extend(s.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }));
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if let Some(len) = raw_string_len(rest, i == 0 || !is_ident(b[i - 1])) {
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'\'' {
            // A char literal (`'x'`, `'\n'`, `'{'`) or a lifetime (`'a`): only the first is blanked.
            let len = if rest.get(1) == Some(&b'\\') {
                rest[2..].iter().position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch = std::str::from_utf8(&rest[1..])
                    .ok()
                    .and_then(|s| s.chars().next());
                ch.map(char::len_utf8)
                    .filter(|&n| rest.get(1 + n) == Some(&b'\''))
                    .map(|n| n + 2)
            };
            let len = len.unwrap_or(1);
            blank(&mut out, &rest[..len]);
            i += len;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start of `s`.
fn raw_string_len(s: &[u8], at_token_start: bool) -> Option<usize> {
    if !at_token_start {
        return None;
    }
    let mut j = usize::from(s.first() == Some(&b'b'));
    if s.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = s[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    if s.get(j) != Some(&b'"') {
        return None;
    }
    j += 1;
    let close: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    let end = s[j..]
        .windows(close.len())
        .position(|w| w == close.as_slice())?;
    Some(j + end + close.len())
}

/// `code` without the bodies of `#[cfg(test)]` modules.
fn without_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = &rest[at + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let is_mod = trimmed.starts_with("mod ") || trimmed.starts_with("pub(crate) mod ");
        let open = trimmed.find(['{', ';']);
        match (is_mod, open) {
            (true, Some(o)) if trimmed.as_bytes()[o] == b'{' => {
                out.push_str(&rest[..at]);
                let body = &trimmed[o..];
                let mut depth = 0usize;
                let mut end = body.len();
                for (k, c) in body.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &body[end..];
            }
            _ => {
                out.push_str(&rest[..at + "#[cfg(test)]".len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A tokenizer just fine enough for paths: identifiers, `::`, and single punctuation.
fn tokens(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if is_ident(c) {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            out.push(&code[start..i]);
        } else if code[i..].starts_with("::") {
            out.push("::");
            i += 2;
        } else {
            let n = code[i..].chars().next().map_or(1, char::len_utf8);
            out.push(&code[i..i + n]);
            i += n;
        }
    }
    out
}

/// Every path the tokens from `at` spell out, `{…}` groups expanded: `a::{b, c::d}` → `a::b`,
/// `a::c::d`. Returns the paths and the index after them.
fn paths_at(toks: &[&str], mut at: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix: Vec<String> = Vec::new();
    loop {
        match toks.get(at) {
            Some(&"{") => {
                let mut out = Vec::new();
                at += 1;
                loop {
                    match toks.get(at) {
                        Some(&"}") => {
                            at += 1;
                            break;
                        }
                        Some(&",") => at += 1,
                        Some(_) => {
                            let (inner, next) = paths_at(toks, at);
                            for p in inner {
                                let mut full = prefix.clone();
                                full.extend(p.into_iter().filter(|s| s != "self"));
                                out.push(full);
                            }
                            // `x as y`, `*`: skip to the next item.
                            at = next;
                            while let Some(t) = toks.get(at) {
                                if *t == "," || *t == "}" {
                                    break;
                                }
                                at += 1;
                            }
                        }
                        None => break,
                    }
                }
                return (out, at);
            }
            Some(t) if t.bytes().all(is_ident) => {
                prefix.push(t.to_string());
                at += 1;
                if toks.get(at) == Some(&"::") {
                    at += 1;
                } else {
                    return (vec![prefix], at);
                }
            }
            _ => return (vec![prefix], at),
        }
    }
}

/// The module a path names: its longest prefix that is a module.
fn target(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// The module `super` names inside `module` (a `mod.rs` is the file of its own module).
fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_string())
}

fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    src_files(&root, &mut files);
    files.sort();
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(&root).expect("under src");
            let text = std::fs::read_to_string(f).expect("read source");
            (module_of(rel), without_test_modules(&code_only(&text)))
        })
        .collect();
    let modules: BTreeSet<String> = sources.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = Graph::new();
    for (module, code) in &sources {
        let edges = graph.entry(module.clone()).or_default();
        let toks = tokens(code);
        for i in 0..toks.len() {
            let base = match toks[i] {
                // `main.rs` names the library by its crate name.
                "crate" | "access_audit" => Vec::new(),
                "super" if i == 0 || toks[i - 1] != "::" => {
                    // A `mod.rs` or a file module: `super` is the parent module.
                    let mut base: Vec<String> = parent(module)
                        .split("::")
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect();
                    let mut j = i;
                    while toks.get(j + 1) == Some(&"::") && toks.get(j + 2) == Some(&"super") {
                        base.pop();
                        j += 2;
                    }
                    if toks.get(j + 1) != Some(&"::") {
                        continue;
                    }
                    let (paths, _) = paths_at(&toks, j + 2);
                    for p in paths {
                        let full: Vec<String> = base.iter().cloned().chain(p).collect();
                        if let Some(t) = target(&full, &modules).filter(|t| t != module) {
                            edges.insert(t);
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            if i > 0 && toks[i - 1] == "::" || toks.get(i + 1) != Some(&"::") {
                continue;
            }
            let (paths, _) = paths_at(&toks, i + 2);
            for p in paths {
                let full: Vec<String> = base.iter().cloned().chain(p).collect();
                if let Some(t) = target(&full, &modules).filter(|t| t != module) {
                    edges.insert(t);
                }
            }
        }
    }
    graph
}

/// The graph with each module mapped by `node` (`None`: left out); edges within a node dropped.
fn collapse(graph: &Graph, node: impl Fn(&str) -> Option<String>) -> Graph {
    let mut out = Graph::new();
    for (from, tos) in graph {
        let Some(f) = node(from) else { continue };
        let edges = out.entry(f.clone()).or_default();
        for t in tos.iter().filter_map(|t| node(t)) {
            if t != f {
                edges.insert(t);
            }
        }
    }
    out
}

/// The strongly connected components of more than one node (Tarjan), each sorted.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.out.push(scc);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// One cycle through the component `scc`, as `a -> b -> … -> a`, with the file-level edges that
/// make each step.
fn describe(
    scc: &[String],
    graph: &Graph,
    files: &Graph,
    node: impl Fn(&str) -> Option<String>,
) -> String {
    // A shortest path back to the start, breadth first, inside the component.
    let start = &scc[0];
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.as_str()]);
    let mut found = None;
    while let Some(v) = queue.pop_front() {
        for w in graph.get(v).into_iter().flatten() {
            if !scc.contains(w) {
                continue;
            }
            if w == start {
                found = Some(v);
                break;
            }
            if !prev.contains_key(w.as_str()) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
        if found.is_some() {
            break;
        }
    }
    let mut path = Vec::new();
    let mut v = found.expect("a cycle through the component");
    while v != start {
        path.push(v);
        v = prev[v];
    }
    path.push(start);
    path.reverse();
    path.push(start);
    let mut out = path.join(" -> ");
    for step in path.windows(2) {
        for (from, tos) in files {
            for to in tos {
                if node(from).as_deref() == Some(step[0]) && node(to).as_deref() == Some(step[1]) {
                    out.push_str(&format!("\n    {from} uses {to}"));
                }
            }
        }
    }
    out
}

fn check_cycles(
    graph: &Graph,
    files: &Graph,
    known: &[&[&str]],
    node: impl Fn(&str) -> Option<String>,
    what: &str,
) {
    let found = cycles(graph);
    let mut problems = Vec::new();
    for scc in &found {
        if !known.iter().any(|k| k.iter().eq(scc.iter())) {
            problems.push(format!(
                "a cycle among {what}: {}",
                describe(scc, graph, files, &node)
            ));
        }
    }
    for k in known {
        if !found.iter().any(|scc| k.iter().eq(scc.iter())) {
            problems.push(format!(
                "the known cycle {k:?} among {what} no longer stands as listed: update the list"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn top_level(module: &str) -> Option<String> {
    let first = module.split("::").next().unwrap_or_default();
    TOP_LEVEL.contains(&first).then(|| first.to_string())
}

fn engine_node(module: &str) -> Option<String> {
    if module == "engine" || !module.starts_with("engine::") {
        return None;
    }
    Some(module.split("::").take(2).collect::<Vec<_>>().join("::"))
}

#[test]
fn the_reader_sees_the_uses() {
    let g = graph();
    // Sanity: a `use` line, a grouped `use`, an inline path and a `super::` path are all seen.
    for (from, to) in [
        ("engine::scan", "rules"),
        ("engine::scan", "engine::walk"),
        ("engine::lower::notebook", "engine::lower::python"),
        ("cmd", "cli"),
        ("report::human", "report"),
        ("main", "cmd"),
    ] {
        assert!(
            g.get(from).is_some_and(|t| t.contains(to)),
            "{from} -> {to} not seen; {from} uses: {:?}",
            g.get(from)
        );
    }
    // Comments, strings and test modules are not uses.
    let code = without_test_modules(&code_only(
        "/// [`crate::a`]\n// crate::b\nlet s = \"crate::c\";\nlet r = r#\"crate::d\"#;\n\
         let c = '{';\nuse crate::e::{f, g::{h, i as j}};\n#[cfg(test)]\nmod tests { use crate::k; }\n",
    ));
    let toks = tokens(&code);
    let at = toks
        .iter()
        .position(|t| *t == "crate")
        .expect("the use line");
    assert_eq!(toks.iter().filter(|t| **t == "crate").count(), 1, "{code}");
    let (paths, _) = paths_at(&toks, at + 2);
    assert_eq!(
        paths,
        [&["e", "f"][..], &["e", "g", "h"], &["e", "g", "i"]]
            .map(|p| p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    );
}

#[test]
fn no_cycle_between_top_level_modules() {
    let files = graph();
    let g = collapse(&files, top_level);
    check_cycles(
        &g,
        &files,
        KNOWN_TOP_LEVEL_CYCLES,
        top_level,
        "top-level modules",
    );
}

#[test]
fn no_cycle_among_engine_modules() {
    let files = graph();
    let g = collapse(&files, engine_node);
    check_cycles(
        &g,
        &files,
        KNOWN_ENGINE_CYCLES,
        engine_node,
        "engine modules",
    );
}

#[test]
fn the_engine_uses_no_command_gate_report_or_remedy() {
    let g = graph();
    let bad: Vec<String> = g
        .iter()
        .filter(|(from, _)| from.as_str() == "engine" || from.starts_with("engine::"))
        .flat_map(|(from, tos)| {
            tos.iter()
                .filter(|t| {
                    matches!(
                        top_level(t).as_deref(),
                        Some("cmd" | "gate" | "report" | "remedy")
                    )
                })
                .map(move |t| format!("{from} uses {t}"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "the engine knows nothing of the commands:\n{}",
        bad.join("\n")
    );
}

#[test]
fn only_main_uses_the_commands() {
    let g = graph();
    let bad: Vec<String> = g
        .iter()
        .filter(|(from, _)| from.as_str() != "main" && top_level(from).as_deref() != Some("cmd"))
        .flat_map(|(from, tos)| {
            tos.iter()
                .filter(|t| top_level(t).as_deref() == Some("cmd"))
                .map(move |t| format!("{from} uses {t}"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "only main.rs runs the commands:\n{}",
        bad.join("\n")
    );
}
