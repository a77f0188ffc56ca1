//! Output formats, one module each. Every format renders an already sorted [`crate::engine::finding::Report`],
//! so output is deterministic.

pub mod escape;
pub mod github;
pub mod human;
pub mod json;
pub mod markdown;
pub mod printer;
pub mod sarif;
pub mod table;
pub(crate) mod template;

pub use escape::{control as escape_control, markdown as escape_markdown};

/// How findings are rolled up in the table and the Markdown report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GroupBy {
    /// One row per finding, grouped by group.
    #[default]
    Group,
    /// One entry per file (script), as a hand-written audit does.
    File,
}

/// Options shared by the human-readable formats.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub group_by: GroupBy,
    /// `Some("2026-01-02")` prints a date; `None` prints none (reports stay byte-for-byte stable).
    pub date: Option<String>,
    /// Display name of what was scanned (shown in the report title line).
    pub target: String,
    /// The configured protected domains (`--domain`, `protected-domains`); the report names these,
    /// else the remote hosts the scan found.
    pub domains: Vec<String>,
    /// Columns the table must fit (the terminal's, or `COLUMNS`); `None`: a fixed default.
    pub width: Option<usize>,
}

/// Where a finding is, as people read it: `path:line:column`, and for a notebook
/// `explore.ipynb[cell 3]:1:18` (the line within the cell, as Jupyter shows it).
pub fn location(f: &crate::engine::finding::Finding) -> String {
    let path = escape_control(&f.path);
    match f.cell {
        Some(cell) => format!("{path}[cell {cell}]:{}:{}", f.line, f.column),
        None => format!("{path}:{}:{}", f.line, f.column),
    }
}

/// The source of a notebook's cell `cell` (1-based, every cell counted, as Jupyter numbers them):
/// what a code frame shows instead of the raw JSON.
pub fn notebook_cell_source(text: &str, cell: u32) -> Option<String> {
    let root: serde_json::Value = serde_json::from_str(text).ok()?;
    let c = notebook_cells(&root)
        .into_iter()
        .nth(cell.checked_sub(1)? as usize)?;
    let src = c.get("source").or_else(|| c.get("input"))?;
    Some(match src {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => parts.iter().filter_map(|p| p.as_str()).collect(),
        _ => return None,
    })
}

/// nbformat 4 `cells`, or nbformat 3 `worksheets[*].cells`.
fn notebook_cells(root: &serde_json::Value) -> Vec<&serde_json::Value> {
    if let Some(cells) = root.get("cells").and_then(|c| c.as_array()) {
        return cells.iter().collect();
    }
    root.get("worksheets")
        .and_then(|w| w.as_array())
        .map(|ws| {
            ws.iter()
                .filter_map(|w| w.get("cells").and_then(|c| c.as_array()))
                .flatten()
                .collect()
        })
        .unwrap_or_default()
}

/// Where (cell, line in the cell, column) is in the raw `.ipynb` text: (line, column), 1-based.
/// SARIF uses it, so code scanning points at the right line of the file. `None` when the cell or
/// line cannot be found (the caller keeps the cell position).
pub fn notebook_raw_position(text: &str, cell: u32, line: u32, column: u32) -> Option<(u32, u32)> {
    let root: serde_json::Value = serde_json::from_str(text).ok()?;
    let cells = notebook_cells(&root);
    let key = regex::Regex::new(r#""(source|input)"\s*:\s*"#).ok()?;
    // The `source` key of each cell in order: a raw `"source":` (quotes unescaped) is a key.
    let mut at = 0;
    let mut target = None;
    for (i, c) in cells.iter().enumerate() {
        let has = c.get("source").or_else(|| c.get("input")).is_some();
        if !has {
            continue;
        }
        let m = key.find_at(text, at)?;
        at = m.end();
        if i + 1 == cell as usize {
            target = Some((m.end(), c.get("source").or_else(|| c.get("input"))?));
            break;
        }
    }
    let (start, src) = target?;
    let offset = match src {
        // One JSON string: the line is inside it; the raw line is where the string starts.
        serde_json::Value::String(_) => start,
        serde_json::Value::Array(parts) => {
            let mut pos = start;
            let mut found = None;
            for (k, p) in parts.iter().enumerate() {
                let encoded = serde_json::to_string(p.as_str()?).ok()?;
                let rel = text[pos..].find(&encoded)?;
                pos += rel;
                if k + 1 == line as usize {
                    found = Some(pos);
                    break;
                }
                pos += encoded.len();
            }
            found?
        }
        _ => return None,
    };
    let raw_line = text[..offset].matches('\n').count() + 1;
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let raw_col = text[line_start..offset].chars().count() + 1 + column as usize;
    Some((u32::try_from(raw_line).ok()?, u32::try_from(raw_col).ok()?))
}

/// A check result with every notebook violation moved to its raw `.ipynb` line (for SARIF).
pub fn with_raw_notebook_lines(
    result: &crate::gate::GateResult,
    source: &dyn Fn(&str) -> Option<String>,
) -> crate::gate::GateResult {
    let mut out = result.clone();
    for v in out.violations.iter_mut() {
        let Some(cell) = v.cell else { continue };
        if let Some((line, column)) =
            source(&v.path).and_then(|text| notebook_raw_position(&text, cell, v.line, v.column))
        {
            v.end_line = line + v.end_line.saturating_sub(v.line);
            v.line = line;
            v.column = column;
        }
    }
    out
}

#[cfg(test)]
mod notebook_tests {
    use super::*;

    const NB: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "metadata": {},
   "source": ["# Title\n", "text"]
  },
  {
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {},
   "outputs": [{"name": "stdout", "output_type": "stream", "text": ["import requests\n"]}],
   "source": [
    "import requests\n",
    "r = requests.get(\"https://comfy.example.dev/prompt\")"
   ]
  }
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}"##;

    #[test]
    fn cell_source_and_raw_position() {
        assert_eq!(
            notebook_cell_source(NB, 2).unwrap(),
            "import requests\nr = requests.get(\"https://comfy.example.dev/prompt\")"
        );
        assert_eq!(notebook_cell_source(NB, 1).unwrap(), "# Title\ntext");
        assert!(notebook_cell_source(NB, 3).is_none());
        assert!(notebook_cell_source("not json", 1).is_none());
        // Cell 2, line 2 is raw line 15 (not the output's copy of line 1 on line 12).
        let (line, col) = notebook_raw_position(NB, 2, 2, 5).unwrap();
        assert_eq!(line, 15);
        assert_eq!(
            NB.lines().nth(14).unwrap().trim_start(),
            "\"r = requests.get(\\\"https://comfy.example.dev/prompt\\\")\""
        );
        assert_eq!(col, 4 + 1 + 5);
        assert_eq!(notebook_raw_position(NB, 2, 1, 1).unwrap().0, 14);
        assert!(notebook_raw_position(NB, 2, 9, 1).is_none());
    }
}
