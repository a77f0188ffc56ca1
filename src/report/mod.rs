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
}

/// `s` with every control character (newline, carriage return, ANSI escape, …) and Unicode
/// bidirectional override shown as an escape (`\n`, `\x1b`, `\u{202e}`): a file name or a line of
/// source cannot start a new line in a CI log (`::error …` workflow commands), recolour or rewrite
/// the terminal, or reorder what is shown.
pub fn escape_control(s: &str) -> std::borrow::Cow<'_, str> {
    let hostile = |c: char| {
        c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
    };
    if !s.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hostile(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hostile(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Text for inside a Markdown table cell or a code span: control characters escaped, and the
/// characters that would end the cell or the span, start a link, an image or HTML, or emphasize
/// (`|`, `` ` ``, `[`, `]`, `<`, `>`, `*`, `_`, `!`, `\`) backslash-escaped or replaced, so text
/// from a scanned repository cannot inject Markdown or HTML into a report.
pub fn escape_markdown(s: &str) -> String {
    let s = escape_control(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' | '[' | ']' | '*' | '_' | '!' | '\\' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("a.py"), "a.py");
        assert_eq!(
            escape_control("x\n::error file=a::pwned\x1b[2J\u{202e}.py"),
            "x\\n::error file=a::pwned\\x1b[2J\\u{202e}.py"
        );
        assert_eq!(
            escape_markdown("a|b`c<img>[x](y)"),
            "a\\|b\\`c&lt;img&gt;\\[x\\](y)"
        );
    }
}
