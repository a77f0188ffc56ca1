//! Text fallback: for files that cannot be parsed or decoded, find addresses and `docker exec`
//! commands with regular expressions over the text. Findings from here carry `evidence: "text"`.
//! Lines that are plainly comments (`#`, `//`) are skipped.

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
    for m in URL.find_iter(line) {
        covered.push((m.start(), m.end()));
        push(facts, index, offset + m.start(), m.as_str());
    }
    for m in HOST_PORT.find_iter(line) {
        if !covered
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
