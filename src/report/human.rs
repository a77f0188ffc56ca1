//! `check` output for people: violations grouped by rule, each with a code frame of the offending
//! statement (credential values masked), then a one-line verdict.

use std::fmt::Write;

use super::escape_control;
use crate::engine::secrets;
use crate::gate::{Check, GateResult, Severity};

/// Render active violations. `source` returns a file's text by report path.
pub fn render(result: &GateResult, source: &dyn Fn(&str) -> Option<String>, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for rule in Check::ALL {
        let group: Vec<_> = result.active().filter(|v| v.rule == rule).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{}",
            paint(
                "1",
                &format!("{} ({}) — {}", rule.id(), group.len(), rule.summary())
            )
        );
        let _ = writeln!(out);
        for v in group {
            let label = v.severity.as_str();
            let code = match v.severity {
                Severity::Error => "1;31",
                Severity::Warning => "1;33",
            };
            let _ = writeln!(
                out,
                "{}: {}",
                paint(code, &format!("{label}[{}]", v.rule.id())),
                escape_control(&secrets::mask_line(&v.message))
            );
            let cell = v.cell.map(|c| format!("[cell {c}]")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  --> {}{cell}:{}:{}",
                escape_control(&v.path),
                v.line,
                v.column
            );
            // A notebook's frame shows the cell's source, not the raw JSON.
            let text = source(&v.path).and_then(|t| match v.cell {
                Some(c) => super::notebook_cell_source(&t, c),
                None => Some(t),
            });
            if let Some(text) = text {
                let last = v.end_line.clamp(v.line, v.line + 4);
                let width = last.to_string().len();
                let _ = writeln!(out, "{:width$} |", "");
                for (i, l) in text
                    .lines()
                    .enumerate()
                    .skip(v.line as usize - 1)
                    .take((last - v.line + 1) as usize)
                {
                    let shown: String = secrets::mask_line(l).chars().take(200).collect();
                    let _ = writeln!(
                        out,
                        "{:>width$} | {}",
                        i + 1,
                        escape_control(shown.trim_end())
                    );
                    if i + 1 == v.line as usize {
                        let pad = " ".repeat(v.column.saturating_sub(1) as usize);
                        let _ = writeln!(out, "{:width$} | {pad}{}", "", paint(code, "^"));
                    }
                }
            }
            let _ = writeln!(out, "   = help: access-audit explain {}", v.rule.id());
            if let Some(fix) = &v.suggestion {
                let _ = writeln!(out, "   = fix: {}", escape_control(fix));
            }
            let _ = writeln!(out);
        }
    }
    let s = &result.summary;
    let verdict = if s.active == 0 {
        paint("1;32", "No violations.")
    } else {
        let mut parts = vec![format!(
            "{} error{}",
            s.errors,
            if s.errors == 1 { "" } else { "s" }
        )];
        if s.warnings > 0 {
            parts.push(format!(
                "{} warning{}",
                s.warnings,
                if s.warnings == 1 { "" } else { "s" }
            ));
        }
        paint(
            if s.errors > 0 { "1;31" } else { "1;33" },
            &format!(
                "Found {} violation{} ({}).",
                s.active,
                if s.active == 1 { "" } else { "s" },
                parts.join(", ")
            ),
        )
    };
    let mut extra = vec![format!("{} files scanned", s.files_scanned)];
    if s.suppressed > 0 {
        extra.push(format!("{} suppressed inline", s.suppressed));
    }
    if s.baselined > 0 {
        extra.push(format!("{} in the baseline", s.baselined));
    }
    let _ = writeln!(out, "{verdict} {}.", extra.join(", "));
    out
}
