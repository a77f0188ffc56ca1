//! [`Printer`]: one output format, as the commands use it. A scan or report command prints a
//! [`Report`] (table, Markdown, JSON); `check` prints a [`GateResult`] (human, JSON, SARIF, GitHub
//! workflow commands, Markdown). Each format is a struct holding what it needs besides the input
//! (render options, colour, a way to read the scanned files), so a command picks the printer for
//! the asked format once and prints through it.

use std::io::Write;

use super::{github, human, json, markdown, sarif, table, RenderOptions};
use crate::engine::finding::Report;
use crate::gate::GateResult;
use crate::rules::RuleSet;

/// An output format for `T` (a [`Report`] or a [`GateResult`]).
pub trait Printer<T: ?Sized> {
    /// The whole output as text.
    fn print(&self, input: &T) -> String;

    /// Write the output to `w` and flush it; a format may stream instead of building the text.
    fn write(&self, input: &T, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(self.print(input).as_bytes())?;
        w.flush()
    }
}

/// A file's text by its report path (for code frames and notebook positions).
pub type Source<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The terminal table (`--format table`).
pub struct Table<'a> {
    pub opts: &'a RenderOptions,
    pub color: bool,
}

impl Printer<Report> for Table<'_> {
    fn print(&self, report: &Report) -> String {
        table::render(report, self.opts, self.color)
    }
}

/// The Markdown impact report (`--format markdown`, `report`).
pub struct Markdown<'a> {
    pub rules: &'a RuleSet,
    pub opts: &'a RenderOptions,
}

impl Printer<Report> for Markdown<'_> {
    fn print(&self, report: &Report) -> String {
        markdown::render(report, self.rules, self.opts)
    }
}

/// JSON, of a report or of a check result.
pub struct Json;

impl Printer<Report> for Json {
    fn print(&self, report: &Report) -> String {
        json::render(report)
    }

    /// Streamed: a large report is not held in memory twice.
    fn write(&self, report: &Report, w: &mut dyn Write) -> std::io::Result<()> {
        json::write(report, w)
    }
}

impl Printer<GateResult> for Json {
    fn print(&self, result: &GateResult) -> String {
        json::render_gate(result)
    }
}

/// `check` for people: violations with code frames.
pub struct Human<'a> {
    pub source: Source<'a>,
    pub color: bool,
}

impl Printer<GateResult> for Human<'_> {
    fn print(&self, result: &GateResult) -> String {
        human::render(result, self.source, self.color)
    }
}

/// SARIF 2.1.0; notebook violations point at their raw `.ipynb` line, where code scanning shows
/// them.
pub struct Sarif<'a> {
    pub source: Source<'a>,
    pub version: &'a str,
}

impl Printer<GateResult> for Sarif<'_> {
    fn print(&self, result: &GateResult) -> String {
        sarif::render(
            &super::with_raw_notebook_lines(result, self.source),
            self.version,
        )
    }
}

/// GitHub Actions workflow commands; a notebook annotation goes on its raw `.ipynb` line.
pub struct Github<'a> {
    pub source: Source<'a>,
}

impl Printer<GateResult> for Github<'_> {
    fn print(&self, result: &GateResult) -> String {
        github::render_with(result, &|v| {
            let text = (self.source)(&v.path)?;
            super::notebook_raw_position(&text, v.cell?, v.line, v.column)
        })
    }
}

/// `check --format markdown`: the violations as a table.
pub struct CheckMarkdown;

impl Printer<GateResult> for CheckMarkdown {
    fn print(&self, result: &GateResult) -> String {
        markdown::render_gate(result)
    }
}
