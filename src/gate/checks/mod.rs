//! The checks the gate runs, one module per check (as ruff keeps a rule): each owns its id, its
//! defaults, the violations it builds and its documentation. This module owns the list of them
//! ([`Check`]), what they have in common ([`Meta`]) and the violation they produce before the gate
//! suppresses, fingerprints and baselines it (`Candidate`).
//!
//! A check's documentation is its module doc comment, from `## What it does` on, in four fixed
//! sections (`What it does`, `Why is this bad?`, `Example`, `How to fix`); [`Check::doc`] reads it
//! from the module's own source, so `access-audit explain ID` and rustdoc show the same text.

pub mod hardcoded_secret;
pub mod insecure_remote;
pub mod unresolved_address;
pub mod untokenized_remote;
pub mod unused_suppression;

use serde::{Deserialize, Serialize};

use super::fingerprint::normalize_url;
use super::Severity;
use crate::engine::finding::Finding;

/// What every check declares in its own module.
pub struct Meta {
    pub id: &'static str,
    /// One line, for lists and SARIF `shortDescription`.
    pub summary: &'static str,
    pub enabled_by_default: bool,
    pub default_severity: Severity,
    /// The module's source: its doc comment is the check's documentation.
    source: &'static str,
}

/// A check the gate runs. Its documentation (what it does, why, example, fix) is [`Check::doc`],
/// which `access-audit explain ID` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// A remote address used without an Access credential.
    UntokenizedRemote,
    /// An Access credential value written in source.
    HardcodedSecret,
    /// `http://` / `ws://` to a remote address.
    InsecureRemote,
    /// An address only known at run time (off by default).
    UnresolvedAddress,
    /// A suppression comment that suppresses nothing or is malformed.
    UnusedSuppression,
}

impl Check {
    pub const ALL: [Check; 5] = [
        Check::UntokenizedRemote,
        Check::HardcodedSecret,
        Check::InsecureRemote,
        Check::UnresolvedAddress,
        Check::UnusedSuppression,
    ];

    /// The declarations of the check's module.
    pub fn meta(self) -> &'static Meta {
        match self {
            Check::UntokenizedRemote => &untokenized_remote::META,
            Check::HardcodedSecret => &hardcoded_secret::META,
            Check::InsecureRemote => &insecure_remote::META,
            Check::UnresolvedAddress => &unresolved_address::META,
            Check::UnusedSuppression => &unused_suppression::META,
        }
    }

    pub fn id(self) -> &'static str {
        self.meta().id
    }

    pub fn from_id(id: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn enabled_by_default(self) -> bool {
        self.meta().enabled_by_default
    }

    pub fn default_severity(self) -> Severity {
        self.meta().default_severity
    }

    /// One line, for lists and SARIF `shortDescription`.
    pub fn summary(self) -> &'static str {
        self.meta().summary
    }

    /// The documentation `explain ID` prints: the check module's doc comment from
    /// `## What it does` on (what it does, why, an example, how to fix it).
    pub fn doc(self) -> String {
        doc_comment(self.meta().source)
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// The module doc comment (`//!` lines) at the top of `source`, from its first `## ` heading on.
fn doc_comment(source: &str) -> String {
    let mut out = String::new();
    let lines = source
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .skip_while(|l| !l.starts_with("## "));
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A violation before suppressions, fingerprints and the baseline; `key` identifies what is wrong
/// (normalized URL, secret kind and value hash) independently of the line.
pub(crate) struct Candidate {
    pub rule: Check,
    pub path: String,
    pub cell: Option<u32>,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub url: Option<String>,
    pub function: Option<String>,
    pub key: String,
    pub suggestion: Option<String>,
}

impl Candidate {
    /// A violation at a finding, identified by its normalized URL.
    fn at_finding(f: &Finding, rule: Check, message: String) -> Candidate {
        Candidate {
            rule,
            path: f.path.clone(),
            cell: f.cell,
            line: f.line,
            column: f.column,
            message,
            url: f.url.clone(),
            function: f.function.clone(),
            key: normalize_url(f.url.as_deref().unwrap_or("")),
            suggestion: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_an_id_and_documentation_in_the_fixed_sections() {
        const SECTIONS: [&str; 4] = [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## How to fix",
        ];
        for c in Check::ALL {
            assert_eq!(Check::from_id(c.id()), Some(c));
            let doc = c.doc();
            let headings: Vec<&str> = doc.lines().filter(|l| l.starts_with("## ")).collect();
            assert_eq!(headings, SECTIONS, "{}:\n{doc}", c.id());
        }
    }

    #[test]
    fn doc_comment_starts_at_the_first_heading() {
        let source = "//! Owns this.\n//!\n//! ## What it does\n//!\n//!     indented\n\nuse x;\n";
        assert_eq!(doc_comment(source), "## What it does\n\n    indented\n");
    }
}
