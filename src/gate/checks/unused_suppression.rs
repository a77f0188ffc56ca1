//! `unused-suppression`: its id, defaults and messages (a stale, malformed or unknown-rule
//! suppression), and its documentation (the sections below, which
//! `access-audit explain unused-suppression` prints).
//!
//! ## What it does
//!
//! Reports an `access-audit: ignore[...]` comment that suppresses nothing, names no rule id or an
//! unknown one, or gives no reason.
//!
//! ## Why is this bad?
//!
//! Stale suppressions hide the next real violation on that line.
//!
//! ## Example
//!
//! ~~~python
//! # access-audit: ignore[untokenized-remote]
//! requests.get("http://localhost:8188/queue")
//! ~~~
//!
//! ## How to fix
//!
//! Delete the comment, or name the rule and say why:
//!
//! ~~~python
//! # access-audit: ignore[untokenized-remote] staging host, not behind Access
//! requests.get("https://comfyui-staging.example.space/queue")
//! ~~~

use std::collections::BTreeSet;

use super::{Candidate, Check, Meta};
use crate::engine::suppress::Suppression;
use crate::gate::Severity;

pub const META: Meta = Meta {
    id: "unused-suppression",
    summary: "A suppression comment suppresses nothing or is malformed",
    enabled_by_default: true,
    default_severity: Severity::Error,
    source: include_str!("unused_suppression.rs"),
};

/// The violations at suppressions that are malformed, name an unknown rule id, or (`used[i]`
/// false) suppressed nothing while one of their checks is `enabled`.
pub(crate) fn candidates(
    suppressions: &[Suppression],
    used: &[bool],
    enabled: &BTreeSet<Check>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (s, used) in suppressions.iter().zip(used) {
        let unknown: Vec<&String> = s
            .rules
            .iter()
            .filter(|r| Check::from_id(r).is_none())
            .collect();
        let message = if let Some(problem) = s.problem() {
            format!("suppression {problem}")
        } else if !unknown.is_empty() {
            format!("suppression names unknown rule id(s) {unknown:?}; `access-audit explain` lists them")
        } else if !used {
            // A suppression for a check that is switched off is not stale.
            if s.rules
                .iter()
                .filter_map(|r| Check::from_id(r))
                .all(|c| !enabled.contains(&c))
            {
                continue;
            }
            format!(
                "suppression of {} suppresses nothing here: remove it",
                s.rules.join(", ")
            )
        } else {
            continue;
        };
        out.push(Candidate {
            rule: Check::UnusedSuppression,
            path: s.path.clone(),
            cell: s.cell,
            line: s.line,
            column: s.column,
            message,
            url: None,
            function: None,
            key: format!("{}|{}", s.rules.join(","), s.reason),
            suggestion: None,
        });
    }
    out
}
