//! Output formats, one module each. Every format renders an already sorted [`crate::finding::Report`],
//! so output is deterministic.

pub mod github;
pub mod human;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod table;

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
pub fn location(f: &crate::finding::Finding) -> String {
    match f.cell {
        Some(cell) => format!("{}[cell {cell}]:{}:{}", f.path, f.line, f.column),
        None => format!("{}:{}:{}", f.path, f.line, f.column),
    }
}
