//! `check --format github`: GitHub Actions workflow commands, one per active violation
//! (`::error file=…,line=…,col=…,title=…::message`), which annotate the pull request diff.

use crate::gate::{GateResult, Severity};

/// Escape a workflow-command message (`%`, CR, LF; other control characters shown as escapes).
fn escape_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    super::escape_control(&s).into_owned()
}

/// Escape a workflow-command property (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(result: &GateResult) -> String {
    let mut out = String::new();
    for v in result.active() {
        let level = match v.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "::{level} file={},line={},col={},title={}::{}\n",
            escape_property(&v.path),
            v.line,
            v.column,
            escape_property(&format!("access-audit {}", v.rule.id())),
            escape_data(&crate::secrets::mask_line(&v.message))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_escape_commas_and_colons() {
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
    }
}
