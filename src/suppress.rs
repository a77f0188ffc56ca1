//! Inline suppressions: `# access-audit: ignore[rule-id, …] reason` (Python) and
//! `// access-audit: ignore[rule-id] reason` (Rust), on the line above a statement or on any of its
//! lines. A suppression without a rule id or a reason is malformed and suppresses nothing.

use std::sync::LazyLock;

use regex::Regex;

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Suppression {
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// Rule ids in the brackets (empty when missing).
    pub rules: Vec<String>,
    pub reason: String,
}

impl Suppression {
    /// Why this suppression is malformed, if it is.
    pub fn problem(&self) -> Option<&'static str> {
        if self.rules.is_empty() {
            Some("names no rule id: write `access-audit: ignore[rule-id] reason`")
        } else if self.reason.trim().is_empty() {
            Some("gives no reason: write `access-audit: ignore[rule-id] why this is safe`")
        } else {
            None
        }
    }
}

static COMMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:#|//)\s*access-audit:\s*ignore(?:\[([^\]]*)\])?(.*)$").expect("valid regex")
});

/// Every suppression comment in `text`.
pub fn find(path: &str, text: &str) -> Vec<Suppression> {
    if !text.contains("access-audit:") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(c) = COMMENT.captures(line) else {
            continue;
        };
        let start = c.get(0).map_or(0, |m| m.start());
        let rules = c
            .get(1)
            .map(|m| {
                m.as_str()
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let reason = c
            .get(2)
            .map_or("", |m| m.as_str())
            .trim()
            .trim_start_matches(['-', ':', '—'])
            .trim()
            .to_string();
        out.push(Suppression {
            path: path.to_string(),
            line: i as u32 + 1,
            column: line[..start].chars().count() as u32 + 1,
            rules,
            reason,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rule_ids_and_reason() {
        let s = find(
            "a.py",
            "x = 1  # access-audit: ignore[untokenized-remote, insecure-remote] staging only\n",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].rules, vec!["untokenized-remote", "insecure-remote"]);
        assert_eq!(s[0].reason, "staging only");
        assert!(s[0].problem().is_none());
    }

    #[test]
    fn rust_comments_and_malformed_ones() {
        let s = find(
            "a.rs",
            "// access-audit: ignore[untokenized-remote]\n// access-audit: ignore because\n",
        );
        assert_eq!(s.len(), 2);
        assert!(s[0].problem().unwrap().contains("reason"));
        assert!(s[1].problem().unwrap().contains("rule id"));
    }
}
