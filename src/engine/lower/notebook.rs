//! Jupyter notebooks: the JSON is parsed, code cells are joined into one Python source (so names
//! defined in one cell resolve in the next) and run through the Python front end; positions are
//! mapped back to (cell, line in cell).
//!
//! - Cells are numbered from 1 among **all** cells of the notebook (markdown and raw cells count),
//!   so `cell` is the cell's position as Jupyter, VS Code and GitHub show the notebook.
//! - IPython syntax that is not Python is commented out in place, so line numbers stay: line magics
//!   and shell escapes (`%pip install …`, `!curl …`, `?obj`, `obj?`), captured escapes
//!   (`files = !ls` → `files = None #ls`), and whole cells under a non-Python cell magic
//!   (`%%bash`, `%%html`, …; `%%time` / `%%capture` keep their Python body).
//! - Every cell's source ends its last line, so one cell's trailing text never merges with the next
//!   cell's first line; a trailing backslash continuation is dropped. A cell that does not parse on
//!   its own (unclosed bracket or string) is commented out of the joined source, so it cannot swallow
//!   the cells after it, and searched as text instead (with a note).
//! - Notebooks of another kernel language (R, Julia, …) are refused (`Err`), so the caller falls
//!   back to text search.
//!
//! Positions in [`NotebookFacts::facts`] are in joined-source coordinates.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::engine::ir::{Candidate, FileFacts};
use crate::rules::RuleSet;

/// The facts of a notebook's code, and where each line of the joined source came from.
#[derive(Debug, Clone, Default)]
pub struct NotebookFacts {
    pub facts: FileFacts,
    /// `line_map[i]` = (1-based cell index, 1-based line in that cell) of joined line `i + 1`.
    /// The cell index counts all cells (markdown and raw included), in notebook order.
    pub line_map: Vec<(u32, u32)>,
    /// The shell the notebook runs (`!curl …` lines, `%%bash` / `%%sh` cells), in the same
    /// joined-line coordinates as [`NotebookFacts::facts`].
    pub shell: FileFacts,
}

/// Cell magics whose body is still Python.
const PYTHON_CELL_MAGICS: &[&str] = &[
    "time", "timeit", "capture", "prun", "debug", "memit", "mprun", "python", "python3",
];

/// `name = !cmd` / `name = %magic`: the value is replaced by `None`.
static CAPTURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*[A-Za-z_][\w.\[\], ]*=\s*)[!%]").expect("valid regex"));
/// `obj?`, `obj.method??`: IPython help.
static HELP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*[A-Za-z_][\w.]*\?{1,2}\s*$").expect("valid regex"));

/// Parse a notebook. `Err` when the JSON is not a notebook.
pub fn extract(text: &str, rules: &RuleSet) -> Result<NotebookFacts, String> {
    let root: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("invalid notebook JSON: {e}"))?;
    if let Some(lang) = kernel_language(&root) {
        if !lang.eq_ignore_ascii_case("python") {
            return Err(format!("not a Python notebook (kernel language `{lang}`)"));
        }
    }
    let cells =
        cells_of(&root).ok_or_else(|| "no `cells` array: not a Jupyter notebook".to_string())?;

    // The code of each code cell, IPython syntax neutralized.
    let mut code_cells: Vec<(u32, Vec<String>)> = Vec::new();
    let mut shell_cells: Vec<Vec<String>> = Vec::new();
    for (cell_no, text) in sources(&cells) {
        let lines = neutralize(&text);
        shell_cells.push(shell_lines(&text, lines.len()));
        code_cells.push((cell_no, lines));
    }

    let mut line_map = Vec::new();
    let mut first_line = Vec::with_capacity(code_cells.len());
    for (cell_no, lines) in &code_cells {
        first_line.push(line_map.len());
        for k in 0..lines.len() {
            line_map.push((*cell_no, u32::try_from(k + 1).unwrap_or(u32::MAX)));
        }
    }
    let join = |broken: &[bool]| {
        let mut joined = String::new();
        for (c, (_, lines)) in code_cells.iter().enumerate() {
            for line in lines {
                if broken[c] {
                    joined.push('#');
                }
                joined.push_str(line);
                joined.push('\n');
            }
        }
        joined
    };

    let mut broken = vec![false; code_cells.len()];
    let mut facts = crate::engine::lower::python::extract(&join(&broken), rules);
    if !facts.notes.is_empty() {
        // Find the cells that do not parse on their own and take them out of the joined source.
        let mut notes = Vec::new();
        for (c, (cell_no, lines)) in code_cells.iter().enumerate() {
            let mut src = lines.join("\n");
            src.push('\n');
            let parsed = crate::engine::lower::python::parse(&src);
            if let Some((_, message)) = parsed.errors.first() {
                broken[c] = true;
                notes.push(format!(
                    "cell {cell_no}: syntax error: {message}; addresses in this cell found by text search"
                ));
            }
        }
        if broken.iter().any(|&b| b) {
            facts = crate::engine::lower::python::extract(&join(&broken), rules);
            for (c, (_, lines)) in code_cells.iter().enumerate() {
                if !broken[c] {
                    continue;
                }
                let mut src = lines.join("\n");
                src.push('\n');
                let offset = u32::try_from(first_line[c]).unwrap_or(u32::MAX);
                let text_facts = crate::engine::lower::text::extract(&src, rules);
                facts
                    .candidates
                    .extend(
                        text_facts
                            .candidates
                            .into_iter()
                            .map(|mut cand: Candidate| {
                                cand.pos.line = cand.pos.line.saturating_add(offset);
                                cand
                            }),
                    );
                facts
                    .execs
                    .extend(text_facts.execs.into_iter().map(|mut e| {
                        e.pos.line = e.pos.line.saturating_add(offset);
                        e
                    }));
            }
            notes.append(&mut facts.notes);
            facts.notes = notes;
        }
    }
    let shell_text: String = shell_cells
        .iter()
        .flatten()
        .map(|l| format!("{l}\n"))
        .collect();
    let shell = crate::engine::lower::shell::extract(
        &shell_text,
        crate::engine::source::Language::Shell,
        rules,
    );
    Ok(NotebookFacts {
        facts,
        line_map,
        shell,
    })
}

/// The source of each code cell: (1-based cell index among all cells, source).
fn sources(cells: &[&Value]) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if cell.get("cell_type").and_then(Value::as_str) != Some("code") {
            continue;
        }
        let Some(src) = cell.get("source").or_else(|| cell.get("input")) else {
            continue;
        };
        out.push((u32::try_from(i + 1).unwrap_or(u32::MAX), source_text(src)));
    }
    out
}

fn parse_cells(text: &str) -> Option<Vec<(u32, String)>> {
    let root: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    Some(sources(&cells_of(&root)?))
}

/// The code cells of a notebook, in cell coordinates: (1-based cell index, code with IPython-only
/// syntax commented out, line for line). Empty when `text` is not a notebook.
pub fn code_cells(text: &str) -> Vec<(u32, String)> {
    parse_cells(text)
        .unwrap_or_default()
        .into_iter()
        .map(|(cell, src)| {
            let mut code = neutralize(&src).join("\n");
            code.push('\n');
            (cell, code)
        })
        .collect()
}

/// The code cells' sources as written (for the credential search, in cell coordinates).
pub fn raw_code_cells(text: &str) -> Vec<(u32, String)> {
    parse_cells(text).unwrap_or_default()
}

/// The size in bytes of a notebook's code: the size limit applies to it, not to the outputs
/// (images, tables) a notebook also stores. `None` when `text` is not a notebook.
pub fn code_size(text: &str) -> Option<u64> {
    Some(
        parse_cells(text)?
            .iter()
            .map(|(_, src)| src.len() as u64)
            .sum(),
    )
}

/// nbformat 4 `cells`, or nbformat 3 `worksheets[*].cells`.
fn cells_of(root: &Value) -> Option<Vec<&Value>> {
    if let Some(cells) = root.get("cells").and_then(Value::as_array) {
        return Some(cells.iter().collect());
    }
    let sheets = root.get("worksheets")?.as_array()?;
    let mut out = Vec::new();
    for s in sheets {
        out.extend(s.get("cells")?.as_array()?.iter());
    }
    Some(out)
}

fn kernel_language(root: &Value) -> Option<&str> {
    let meta = root.get("metadata")?;
    meta.get("kernelspec")
        .and_then(|k| k.get("language"))
        .and_then(Value::as_str)
        .or_else(|| {
            meta.get("language_info")
                .and_then(|l| l.get("name"))
                .and_then(Value::as_str)
        })
        .filter(|l| !l.is_empty())
}

/// `source` is a string or a list of strings (each usually ending with `\n`).
fn source_text(src: &Value) -> String {
    match src {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// The cell's shell, line for line (`count` lines): `!cmd` lines with the `!` blanked (columns
/// kept), the body of a `%%bash` / `%%sh` / `%%script bash` cell; every other line empty.
fn shell_lines(src: &str, count: usize) -> Vec<String> {
    let src = src.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = src.lines().collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let shell_cell = first.is_some_and(|f| {
        let magic = lines[f].trim_start();
        magic.starts_with("%%bash")
            || magic.starts_with("%%sh")
            || magic.starts_with("%%script bash")
            || magic.starts_with("%%script sh")
    });
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let t = l.trim_start();
            if shell_cell {
                if Some(k) == first {
                    String::new()
                } else {
                    l.to_string()
                }
            } else if let Some(cmd) = t.strip_prefix('!') {
                format!("{} {cmd}", &l[..l.len() - t.len()])
            } else {
                String::new()
            }
        })
        .collect();
    out.resize(count, String::new());
    out
}

/// The cell's lines with IPython-only syntax commented out (line count unchanged).
fn neutralize(src: &str) -> Vec<String> {
    let src = src.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    // A non-Python cell magic: the whole cell is another language.
    if let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) {
        if let Some(magic) = lines[first].trim_start().strip_prefix("%%") {
            let name = magic.split_whitespace().next().unwrap_or("");
            let whole = !PYTHON_CELL_MAGICS.contains(&name);
            for (k, line) in lines.iter_mut().enumerate() {
                if k == first || (whole && k > first) {
                    line.insert(0, '#');
                }
            }
        }
    }
    for line in &mut lines {
        let t = line.trim_start();
        if t.starts_with('#') {
            continue;
        }
        let indent = line.len() - t.len();
        if t.starts_with(['%', '!', '?']) {
            // `%pip install x` → `#pip install x`: same length, same line.
            let rest = &t[1..];
            *line = format!("{}#{rest}", &line[..indent]);
        } else if let Some(m) = CAPTURE.captures(line) {
            let head = m.get(1).map_or("", |g| g.as_str()).to_string();
            let rest = line[head.len() + 1..].to_string();
            *line = format!("{head}None #{rest}");
        } else if HELP.is_match(line) {
            line.insert(0, '#');
        }
    }
    // A trailing backslash would join the next cell's first line to this one.
    if let Some(last) = lines.last_mut() {
        let trimmed = last.trim_end();
        if trimmed.ends_with('\\') && !trimmed.trim_start().starts_with('#') {
            let keep = trimmed.len() - 1;
            last.truncate(keep);
        }
    }
    lines
}
