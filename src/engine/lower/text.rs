//! Text fallback: for files that cannot be parsed or decoded, find addresses and `docker exec`
//! commands with regular expressions over the text. Findings from here carry `evidence: "text"`.
//! Lines that are plainly comments (`#`, `//`) are skipped, and so is a value a test asserts
//! (`expect(url).toBe("http://…")`, `assert.equal(url, "http://…")`): an expectation is not a
//! request.

use std::sync::LazyLock;

use regex::Regex;

use crate::engine::ir::{Candidate, ExecSite, FileFacts, StrExpr};
use crate::engine::source::LineIndex;
use crate::rules::RuleSet;

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:https?|wss?)://[^\s'"`<>()\[\]{},;\\]+"#).expect("valid regex")
});
static HOST_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*):\d{2,5}\b").expect("valid regex")
});
/// The text before a string that a test asserts: a matcher's or an assertion's argument.
static ASSERTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:\.(?:toBe|toEqual|toStrictEqual|toContain|toMatch|toHaveBeenCalledWith|toHaveBeenLastCalledWith|toHaveBeenNthCalledWith|equals?|eql|deepEqual|strictEqual|deepStrictEqual|include|contains?)|\bassert(?:Equals?|\.\w+)?)\s*\((?:(?:[^()]|\([^()]*\))*,)?\s*[`'"]$"#,
    )
    .expect("valid regex")
});
static DOCKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bdocker(?:-compose)?\b[^\n]*\bexec\b[^\n]*").expect("valid regex")
});

/// Extract facts from text alone.
pub fn extract(text: &str, rules: &RuleSet) -> FileFacts {
    let mut facts = FileFacts::new();
    let index = LineIndex::new(text);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !(trimmed.starts_with('#') || trimmed.starts_with("//")) {
            scan_line(line, offset, &index, rules, &mut facts);
        }
        offset += line.len();
    }
    facts
}

fn scan_line(line: &str, offset: usize, index: &LineIndex, rules: &RuleSet, facts: &mut FileFacts) {
    let mut covered: Vec<(usize, usize)> = Vec::new();
    let asserted = |start: usize| ASSERTED.is_match(&line[..start]);
    for m in URL.find_iter(line) {
        covered.push((m.start(), m.end()));
        if !asserted(m.start()) {
            push(facts, index, offset + m.start(), m.as_str());
        }
    }
    for m in HOST_PORT.find_iter(line) {
        if !asserted(m.start())
            && !covered
                .iter()
                .any(|&(s, e)| m.start() >= s && m.start() < e)
        {
            push(facts, index, offset + m.start(), m.as_str());
        }
    }
    if let Some(m) = DOCKER.find(line) {
        let words: Vec<String> = m
            .as_str()
            .split(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '[' | ']' | '(' | ')')
            })
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        if let Some((container, command)) = super::docker_exec(&words) {
            if rules.services.iter().any(|s| {
                s.containers
                    .as_ref()
                    .is_some_and(|re| re.is_match(&container))
            }) {
                facts.execs.push(ExecSite {
                    pos: index.pos(offset + m.start()),
                    container,
                    command,
                    function: None,
                    scope: 0,
                });
            }
        }
    }
}

fn push(facts: &mut FileFacts, index: &LineIndex, at: usize, text: &str) {
    let text = text.trim_end_matches(['.', ':']);
    facts.candidates.push(Candidate {
        expr: StrExpr::Lit(text.to_string()),
        pos: index.pos(at),
        scope: 0,
        function: None,
        bound_to: None,
        consumer: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<String> {
        let rules = RuleSet::load(None).expect("embedded rules load");
        extract(text, &rules)
            .candidates
            .iter()
            .map(|c| match &c.expr {
                StrExpr::Lit(s) => s.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_value_a_test_asserts_is_no_use() {
        let text =
            "expect(buildUrl(w, \"/prompt\")).toBe(\"http://worker.example.com:9000/prompt\");\n\
                    assert.equal(url, 'https://comfy.example.com/queue');\n\
                    expect(u).toEqual(`ws://10.0.0.2:8188/ws`);\n\
                    const api = fetch(\"https://comfy.example.com/prompt\");\n";
        assert_eq!(urls(text), vec!["https://comfy.example.com/prompt"]);
    }
}
