//! JSON output: `{"findings": […], "diagnostics": […], "summary": {…}}` (schema in the README).

use crate::finding::Report;

pub fn render(report: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
