//! `check --format github`: GitHub Actions workflow commands, one per active violation
//! (`::error file=…,line=…,col=…,title=…::message`), which annotate the pull request diff.

use crate::gate::{GateResult, Violation};

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
    render_with(result, &|_| None)
}

/// [`render`], with `raw` giving a notebook violation's line and column in the raw `.ipynb` file
/// (where GitHub puts the annotation); the title names the cell (`explore.ipynb[cell 3]:1:18`).
pub fn render_with(result: &GateResult, raw: &dyn Fn(&Violation) -> Option<(u32, u32)>) -> String {
    let mut out = String::new();
    for v in result.active() {
        let level = v.severity.as_str();
        let (line, column, at) = match v.cell {
            Some(cell) => {
                let (l, c) = raw(v).unwrap_or((v.line, v.column));
                (
                    l,
                    c,
                    format!(" at {}[cell {cell}]:{}:{}", v.path, v.line, v.column),
                )
            }
            None => (v.line, v.column, String::new()),
        };
        out.push_str(&format!(
            "::{level} file={},line={},col={},title={}::{}\n",
            escape_property(&v.path),
            line,
            column,
            escape_property(&format!("access-audit {}{at}", v.rule.id())),
            escape_data(&crate::engine::secrets::mask_line(&v.message))
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
