//! Escaping of text that comes from a scanned repository (file names, addresses, messages) for
//! where it is shown: a terminal or CI log ([`control`]), Markdown text ([`markdown`]), a Markdown
//! table cell ([`cell`]) and an inline code span ([`code`]). Every format uses these, so one file
//! name is escaped the same way in every report.

use std::borrow::Cow;

/// `s` with every control character (newline, carriage return, ANSI escape, …) and Unicode
/// bidirectional override shown as an escape (`\n`, `\x1b`, `\u{202e}`): a file name or a line of
/// source cannot start a new line in a CI log (`::error …` workflow commands), recolour or rewrite
/// the terminal, or reorder what is shown.
pub fn control(s: &str) -> Cow<'_, str> {
    let hostile = |c: char| {
        c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
    };
    if !s.chars().any(hostile) {
        return Cow::Borrowed(s);
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
    Cow::Owned(out)
}

/// Text for Markdown prose: control characters escaped, and the characters that would end a cell
/// or a span, start a link, an image, a heading or HTML, or emphasize (`|`, `` ` ``, `[`, `]`,
/// `<`, `>`, `*`, `_`, `!`, `\`, `#`) backslash-escaped or replaced, so text from a scanned
/// repository cannot inject Markdown or HTML into a report.
pub fn markdown(s: &str) -> String {
    let s = control(s);
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

/// A Markdown table cell: line breaks become spaces (a cell is one line), other control
/// characters are escaped ([`control`]) and `|` is backslash-escaped (it would end the cell, also
/// inside a code span).
pub fn cell(s: &str) -> String {
    control(&s.replace(['\n', '\r'], " ")).replace('|', "\\|")
}

/// Inline code, safe for any value: control characters escaped, and a backtick fence longer than
/// any run of backticks in the value (so it cannot close the span and inject Markdown).
pub fn code(s: &str) -> String {
    let s = control(s);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        format!("`{s}`")
    } else {
        let fence = "`".repeat(longest + 1);
        format!("{fence} {s} {fence}")
    }
}

/// Inline code in a table cell: [`code`], then [`cell`].
pub fn code_cell(s: &str) -> String {
    cell(&code(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(control("a.py"), "a.py");
        assert!(matches!(control("a.py"), Cow::Borrowed(_)));
        assert_eq!(
            control("x\n::error file=a::pwned\x1b[2J\u{202e}.py"),
            "x\\n::error file=a::pwned\\x1b[2J\\u{202e}.py"
        );
        assert_eq!(control("a\tb\rc\u{7f}\u{2028}"), "a\\tb\\rc\\x7f\\u{2028}");
    }

    #[test]
    fn markdown_text_cannot_inject() {
        assert_eq!(
            markdown("a|b`c<img>[x](y)"),
            "a\\|b\\`c&lt;img&gt;\\[x\\](y)"
        );
        assert_eq!(markdown("# *x* _y_ !\\"), "\\# \\*x\\* \\_y\\_ \\!\\\\");
        assert_eq!(markdown("a\nb"), "a\\\\nb");
    }

    #[test]
    fn a_cell_stays_one_cell_on_one_line() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("a\nb\r\nc"), "a b  c");
        assert_eq!(cell("x\x1b[2J|"), "x\\x1b[2J\\|");
        assert_eq!(cell("\u{202e}evil"), "\\u{202e}evil");
        for hostile in ["a|b", "a\nb", "a\rb", "a\u{2028}b", "a\x00b"] {
            let c = cell(hostile);
            assert!(!c.contains(['\n', '\r', '\u{2028}', '\0']), "{c:?}");
            assert!(!c.replace("\\|", "").contains('|'), "{c:?}");
        }
    }

    #[test]
    fn code_spans_cannot_be_closed() {
        assert_eq!(code("a.py"), "`a.py`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("``x"), "``` ``x ```");
        assert_eq!(code("a\nb"), "`a\\nb`");
        assert_eq!(code_cell("a|b`c"), "`` a\\|b`c ``");
        assert_eq!(code_cell("x.py"), "`x.py`");
    }
}
