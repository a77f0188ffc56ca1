//! JSON output: `{"findings": […], "diagnostics": […], "summary": {…}}` (schema in the README).

use std::io::Write;

use crate::engine::finding::Report;
use crate::gate::GateResult;

/// Write the JSON straight to `w` (no intermediate string: large reports stay out of memory twice).
pub fn write(report: &Report, w: impl std::io::Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(w);
    serde_json::to_writer_pretty(&mut w, report)?;
    w.write_all(b"\n")?;
    w.flush()
}

pub fn render(report: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// `check --format json`: `{"violations": […], "summary": {…}}`.
pub fn render_gate(result: &GateResult) -> String {
    let mut s =
        serde_json::to_string_pretty(result).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
