//! JSON output: `{"findings": […], "diagnostics": […], "summary": {…}}` (schema in the README).

use crate::finding::Report;
use crate::gate::GateResult;

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
